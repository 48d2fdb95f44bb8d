package bench

import (
	"fmt"
	"testing"

	"github.com/dop251/goja"
	lua "github.com/yuin/gopher-lua"
)

// tickObjects is how many objects one tick updates.
const tickObjects = 10_000

// BenchmarkTick updates 10k objects once per op, each with update(dt), and
// reports ns/object: through Object.Call from a Go loop (the engine), raw
// gopher-lua from a Go loop (GetField and CallByParam per object, the raw
// form of calling by name), raw gopher-lua from a Lua loop
// (objs[i]:update(dt)), plain Go structs (the floor), and goja, from a Go
// loop calling the method looked up once and from a JS loop.
func BenchmarkTick(b *testing.B) {
	perObject := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tickObjects), "ns/object")
	}
	b.Run("engine", func(b *testing.B) {
		e, _ := newEngine(b, map[string]string{"mover.lua": moverSrc})
		objs := newObjects(b, e, "mover", tickObjects)
		for b.Loop() {
			for _, o := range objs {
				if _, err := o.Call(ctx, "update", lua.LNumber(dt)); err != nil {
					b.Fatal(err)
				}
			}
		}
		perObject(b)
	})
	b.Run("raw-go-loop", func(b *testing.B) {
		L := lua.NewState()
		defer L.Close()
		objs := rawObjects(b, L, rawClass(b, L, moverSrc), tickObjects)
		for b.Loop() {
			for _, t := range objs {
				callRaw(b, L, L.GetField(t, "update"), t)
			}
		}
		perObject(b)
	})
	b.Run("raw-lua-loop", func(b *testing.B) {
		L := lua.NewState()
		defer L.Close()
		cls := rawClass(b, L, moverSrc)
		list := L.NewTable()
		for _, t := range rawObjects(b, L, cls, tickObjects) {
			list.Append(t)
		}
		tick := L.GetField(cls, "tick")
		for b.Loop() {
			if err := L.CallByParam(lua.P{Fn: tick, Protect: true}, list, lua.LNumber(dt)); err != nil {
				b.Fatal(err)
			}
		}
		perObject(b)
	})
	b.Run("go-structs", func(b *testing.B) {
		objs := make([]*mover, tickObjects)
		for i := range objs {
			objs[i] = &mover{x: float64(i), y: float64(i), vx: 1, vy: 0.5, hp: 100, speed: 2}
		}
		for b.Loop() {
			for _, m := range objs {
				m.update(dt)
			}
		}
		perObject(b)
	})
	gojaTick := func(b *testing.B, jsLoop bool) {
		vm := goja.New()
		if _, err := vm.RunString(moverJS); err != nil {
			b.Fatal(err)
		}
		list, err := vm.RunString(fmt.Sprintf(`const objs = []; for (let i = 0; i < %d; i++) objs.push(new Mover(i, i)); objs`, tickObjects))
		if err != nil {
			b.Fatal(err)
		}
		var objs []goja.Value
		if err := vm.ExportTo(list, &objs); err != nil {
			b.Fatal(err)
		}
		update, _ := goja.AssertFunction(objs[0].ToObject(vm).Get("update"))
		tick, _ := goja.AssertFunction(vm.Get("tick"))
		for b.Loop() {
			if jsLoop {
				if _, err := tick(nil, list, vm.ToValue(dt)); err != nil {
					b.Fatal(err)
				}
				continue
			}
			for _, o := range objs {
				if _, err := update(o, vm.ToValue(dt)); err != nil {
					b.Fatal(err)
				}
			}
		}
		perObject(b)
	}
	b.Run("goja-go-loop", func(b *testing.B) { gojaTick(b, false) })
	b.Run("goja-js-loop", func(b *testing.B) { gojaTick(b, true) })
}
