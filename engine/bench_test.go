package engine

import (
	"context"
	"fmt"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

const moverScript = `
local Mover = hot.class("Mover")
function Mover:init() self.x = 0 end
function Mover:update(dt) self.x = self.x + dt; return self.x end
function Mover.spawn(n)
  local all = {}
  for i = 1, n do all[i] = Mover.new() end
  return all
end
return Mover
`

// BenchmarkCall compares a Go call of an object's method through the engine
// with raw gopher-lua on the same function: CallByParam with the function
// looked up once, and with a GetField lookup on each call (what a host that
// calls methods by name does).
func BenchmarkCall(b *testing.B) {
	e, _ := newEngine(b, map[string]string{"mover.lua": moverScript})
	ctx := context.Background()
	obj, err := e.New(ctx, "Mover")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("engine", func(b *testing.B) {
		b.ReportAllocs()
		dt := 0.5
		for b.Loop() {
			v, err := obj.Call(ctx, "update", lua.LNumber(dt))
			if err != nil {
				b.Fatal(err)
			}
			x, _ := v.Float()
			dt = 0.5 + x*0
		}
	})
	raw := func(b *testing.B, lookupEachCall bool) {
		L := lua.NewState()
		defer L.Close()
		if err := L.DoString(`
Mover = {}
Mover.__index = Mover
function Mover:update(dt) self.x = self.x + dt; return self.x end
obj = setmetatable({x = 0}, Mover)`); err != nil {
			b.Fatal(err)
		}
		self := L.GetGlobal("obj")
		fn := L.GetField(self, "update")
		b.ReportAllocs()
		dt := 0.5
		for b.Loop() {
			if lookupEachCall {
				fn = L.GetField(self, "update")
			}
			if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, self, lua.LNumber(dt)); err != nil {
				b.Fatal(err)
			}
			x, _ := L.Get(-1).(lua.LNumber)
			L.Pop(1)
			dt = 0.5 + float64(x)*0
		}
	}
	b.Run("raw-fn-once", func(b *testing.B) { raw(b, false) })
	b.Run("raw-getfield", func(b *testing.B) { raw(b, true) })
}

// BenchmarkCommitPause measures how long calls are held while a reload
// commits, with n live objects, beside what a per-object swap would cost
// (SetMetatable from Go on each object). ns/op is the whole reload; the
// pause is reported as pause-ns/op.
func BenchmarkCommitPause(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("handles/objects=%d", n), func(b *testing.B) {
			e, dir := newEngine(b, map[string]string{"mover.lua": moverScript})
			ctx := context.Background()
			cls := mustClass(b, e, "Mover")
			all, err := cls.Call(ctx, "spawn", n)
			if err != nil {
				b.Fatal(err)
			}
			var pause int64
			i := 0
			for b.Loop() {
				i++
				writeScripts(b, dir, map[string]string{"mover.lua": moverScript + fmt.Sprintf("\n-- edit %d\n", i)})
				r, err := e.Reload(ctx)
				if err != nil {
					b.Fatal(err)
				}
				pause += r.Pause.Nanoseconds()
			}
			b.ReportMetric(float64(pause)/float64(b.N), "pause-ns/op")
			_ = all
		})
		b.Run(fmt.Sprintf("per-object-setmetatable/objects=%d", n), func(b *testing.B) {
			L := lua.NewState()
			defer L.Close()
			objs := make([]*lua.LTable, n)
			for i := range objs {
				objs[i] = L.NewTable()
			}
			mt := [2]*lua.LTable{L.NewTable(), L.NewTable()}
			i := 0
			for b.Loop() {
				i++
				for _, o := range objs {
					L.SetMetatable(o, mt[i%2])
				}
			}
		})
	}
}
