package bench

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// BenchmarkCall compares one Go-to-Lua method call, Mover:update(dt),
// through Object.Call with raw gopher-lua CallByParam on the same method:
// with the function looked up once, and with a GetField lookup on each call
// (the raw form of calling a method by name). Every variant passes dt as a
// variable and takes one result.
func BenchmarkCall(b *testing.B) {
	b.Run("engine", func(b *testing.B) {
		e, _ := newEngine(b, map[string]string{"mover.lua": moverSrc})
		obj := newObjects(b, e, "mover", 1)[0]
		b.ReportAllocs()
		for b.Loop() {
			if _, err := obj.Call(ctx, "update", lua.LNumber(dt)); err != nil {
				b.Fatal(err)
			}
		}
	})
	raw := func(b *testing.B, lookupEachCall bool) {
		L := lua.NewState()
		defer L.Close()
		self := rawObjects(b, L, rawClass(b, L, moverSrc), 1)[0]
		fn := L.GetField(self, "update")
		b.ReportAllocs()
		for b.Loop() {
			if lookupEachCall {
				fn = L.GetField(self, "update")
			}
			callRaw(b, L, fn, self)
		}
	}
	b.Run("raw-fn-once", func(b *testing.B) { raw(b, false) })
	b.Run("raw-getfield", func(b *testing.B) { raw(b, true) })
}

// eachObjects is how many objects BenchmarkCallEach updates per batch.
const eachObjects = 1000

// BenchmarkCallEach compares one batch of Mover:update(dt) over 1,000
// objects through Engine.CallEach with a raw Go loop of CallByParam, one
// protected call per object, on the same method looked up once (ns/op is
// per batch; per-object-ns/op per object).
func BenchmarkCallEach(b *testing.B) {
	b.Run("engine", func(b *testing.B) {
		e, _ := newEngine(b, map[string]string{"mover.lua": moverSrc})
		objs := newObjects(b, e, "mover", eachObjects)
		b.ReportAllocs()
		for b.Loop() {
			if err := e.CallEach(ctx, objs, "update", lua.LNumber(dt)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*eachObjects), "per-object-ns/op")
	})
	b.Run("raw-loop", func(b *testing.B) {
		L := lua.NewState()
		defer L.Close()
		objs := rawObjects(b, L, rawClass(b, L, moverSrc), eachObjects)
		fn := L.GetField(objs[0], "update")
		b.ReportAllocs()
		for b.Loop() {
			for _, self := range objs {
				callRaw(b, L, fn, self)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*eachObjects), "per-object-ns/op")
	})
}
