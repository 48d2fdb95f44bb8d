package engine

import (
	"context"
	"runtime"
	"testing"
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
