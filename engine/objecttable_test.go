package engine

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestObjectTablesAreCompact makes many objects of six fields, through
// Engine.New and through hot.class's Class.new, and checks what each keeps
// on the heap: about 1.1 KB with room for objectFields fields, against
// 3.6 KB in the 32 fields and 32 array slots gopher-lua's NewTable makes
// room for.
func TestObjectTablesAreCompact(t *testing.T) {
	const fields = "self.x, self.y, self.vx, self.vy, self.hp, self.speed = x, y, 1, 0.5, 100, 2"
	e, _ := newEngine(t, map[string]string{
		"mover.lua": "local M = {}\nM.__index = M\nfunction M:init(x, y) " + fields + " end\nreturn M\n",
		"hotmover.lua": "local M = hot.class(\"HotMover\")\nfunction M:init(x, y) " + fields + " end\n" +
			"function M.spawn(n) local objs = {} for i = 1, n do objs[i] = M.new(i, i) end return objs end\nreturn M\n",
	})
	ctx := context.Background()
	const n = 2000
	for _, tc := range []struct {
		name string
		make func(t *testing.T) any
	}{
		{"Engine.New", func(t *testing.T) any {
			objs := make([]*Object, n)
			for i := range objs {
				o, err := e.New(ctx, "mover", float64(i), float64(i))
				if err != nil {
					t.Fatal(err)
				}
				objs[i] = o
			}
			return objs
		}},
		{"Class.new", func(t *testing.T) any {
			c, err := e.Class("HotMover")
			if err != nil {
				t.Fatal(err)
			}
			v, err := c.Call(ctx, "spawn", n)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := heapAfterGC()
			objs := tc.make(t)
			per := (float64(heapAfterGC()) - float64(before)) / n
			runtime.KeepAlive(objs)
			if per > 2048 {
				t.Errorf("an object of 6 fields keeps %.0f bytes, want at most 2048", per)
			}
			t.Logf("%.0f bytes per object", per)
		})
	}
}

// TestWideObjectsKeepEveryField checks that an object with more fields
// than its table first has room for keeps them all, as it grows.
func TestWideObjectsKeepEveryField(t *testing.T) {
	const width = 3 * objectFields
	var init strings.Builder
	for i := range width {
		fmt.Fprintf(&init, "self.f%d = %d\n", i, i)
	}
	e, _ := newEngine(t, map[string]string{"wide.lua": "local W = {}\nW.__index = W\nfunction W:init()\n" + init.String() +
		"end\nfunction W:sum() local s = 0 for i = 0, " + fmt.Sprint(width-1) + " do s = s + self[\"f\" .. i] end return s end\nreturn W\n"})
	o, err := e.New(context.Background(), "wide")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := call(t, o, "sum"), float64(width*(width-1)/2); got != want {
		t.Fatalf("sum of the fields = %v, want %v", got, want)
	}
	n := 0
	if err := e.Do(context.Background(), func(*lua.LState) error {
		o.Table().ForEach(func(lua.LValue, lua.LValue) { n++ })
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != width {
		t.Fatalf("the object has %d fields, want %d", n, width)
	}
}
