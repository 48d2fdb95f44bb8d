package bench

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/engine"
)

// memoryBatch is how many objects one op of BenchmarkMemoryObject makes.
const memoryBatch = 10_000

// BenchmarkMemoryObject reports the heap each live Mover keeps (B/object,
// from HeapAlloc after a collection, over batches of 10k in a fresh engine
// or state each, so that the engine's list of its objects grows as it
// would): made from Go by Engine.New and held as *Object, beside raw tables
// made from Go (setmetatable and init) and held as *lua.LTable; and made in
// Lua by Mover.new (kept in a Lua table), by the engine and by raw
// gopher-lua. The runtime's record of each weak reference the engine keeps
// to an object lives outside the heap: HeapAlloc does not count it.
func BenchmarkMemoryObject(b *testing.B) {
	// measure calls setup (not measured) for each batch, then the mk it
	// returns, whose result it measures, then done.
	measure := func(b *testing.B, setup func() (mk func() any, done func())) {
		var total float64
		for b.Loop() {
			mk, done := setup()
			total += retained(mk)
			done()
		}
		b.ReportMetric(total/float64(b.N*memoryBatch), "B/object")
	}
	dir := b.TempDir()
	writeFiles(b, dir, map[string]string{"mover.lua": moverSrc})
	fresh := func(b *testing.B) *engine.Engine {
		e, err := engine.New(options(dir))
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	b.Run("engine-go", func(b *testing.B) {
		measure(b, func() (func() any, func()) {
			e := fresh(b)
			return func() any { return newObjects(b, e, "mover", memoryBatch) }, func() { e.Close() }
		})
	})
	b.Run("raw-go", func(b *testing.B) {
		measure(b, func() (func() any, func()) {
			L := lua.NewState()
			cls := rawClass(b, L, moverSrc)
			return func() any { return rawObjects(b, L, cls, memoryBatch) }, L.Close
		})
	})
	b.Run("engine-lua", func(b *testing.B) {
		measure(b, func() (func() any, func()) {
			e := fresh(b)
			cls, err := e.Class("mover")
			if err != nil {
				b.Fatal(err)
			}
			return func() any {
				if _, err := cls.Call(ctx, "spawn", memoryBatch); err != nil {
					b.Fatal(err)
				}
				return nil
			}, func() { e.Close() }
		})
	})
	b.Run("raw-lua", func(b *testing.B) {
		measure(b, func() (func() any, func()) {
			L := lua.NewState()
			spawn := L.GetField(rawClass(b, L, moverSrc), "spawn")
			return func() any {
				if err := L.CallByParam(lua.P{Fn: spawn, Protect: true}, lua.LNumber(memoryBatch)); err != nil {
					b.Fatal(err)
				}
				return nil
			}, L.Close
		})
	})
}

// generations is how many engines or states one op of
// BenchmarkMemoryGeneration keeps alive at once.
const generations = 4

// BenchmarkMemoryGeneration reports the heap one generation keeps with its
// prototypes shared (B/generation), for the 50-file project and for
// mover.lua alone. The engine offers no way to hold two generations, so
// its figure is what an engine keeps (B/engine) less what its compiled
// prototypes alone keep (B/protos): one generation plus what an engine
// keeps once (class handles, its bindings registry, the scripts' text).
// Beside it, a raw gopher-lua state that loads the same prototypes,
// compiled once and trimmed as the engine's are.
func BenchmarkMemoryGeneration(b *testing.B) {
	files, _ := project()
	for _, p := range []struct {
		name  string
		files map[string]string
	}{{"files=50", files}, {"files=1", map[string]string{"mover.lua": moverSrc}}} {
		b.Run(p.name+"/engine", func(b *testing.B) {
			dir := b.TempDir()
			writeFiles(b, dir, p.files)
			var perEngine, perProtos float64
			for b.Loop() {
				var es []*engine.Engine
				perEngine += retained(func() any {
					for range generations {
						e, err := engine.New(options(dir))
						if err != nil {
							b.Fatal(err)
						}
						es = append(es, e)
					}
					return es
				}) / generations
				for _, e := range es {
					e.Close()
				}
				perProtos += retained(func() any {
					ps := make([]map[string]*lua.FunctionProto, generations)
					for i := range ps {
						ps[i] = compileTrimmed(b, p.files)
					}
					return ps
				}) / generations
			}
			n := float64(b.N)
			b.ReportMetric(perEngine/n, "B/engine")
			b.ReportMetric(perProtos/n, "B/protos")
			b.ReportMetric((perEngine-perProtos)/n, "B/generation")
		})
		b.Run(p.name+"/raw", func(b *testing.B) {
			protos := compileTrimmed(b, p.files)
			var total float64
			for b.Loop() {
				var states []*lua.LState
				total += retained(func() any {
					for range generations {
						states = append(states, rawGeneration(b, protos))
					}
					return states
				}) / generations
				for _, L := range states {
					L.Close()
				}
			}
			b.ReportMetric(total/float64(b.N), "B/generation")
		})
	}
}
