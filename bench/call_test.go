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
