package bench

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/hotlua/hotlua/engine"
	"github.com/hotlua/hotlua/internal/sandbox"
)

// blankSrc is the class of BenchmarkCommitPause's objects: without init,
// so that a million of them stay small and quick to make.
const blankSrc = `
local Blank = {}
Blank.__index = Blank
function Blank:update(dt) return dt end
return Blank
`

// BenchmarkCommitPause reloads a changed blank.lua with 10k, 100k and 1M
// live objects of its class and reports how long calls were held for the
// commit (Report.Pause, as pause-ns/op; ns/op is the whole reload), beside
// a per-object swap: SetMetatable from Go on as many raw tables.
func BenchmarkCommitPause(b *testing.B) {
	// The 16-shard reload belongs beside these, as BenchmarkShardReload.
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			e, dir := newEngine(b, map[string]string{"blank.lua": blankSrc})
			objs := newObjects(b, e, "blank", n)
			L := lua.NewState()
			defer L.Close()
			cls := rawClass(b, L, blankSrc)
			tables := make([]*lua.LTable, n)
			for i := range tables {
				tables[i] = L.NewTable()
				L.SetMetatable(tables[i], cls)
			}
			b.Run("engine", func(b *testing.B) {
				var pause int64
				for i := 0; b.Loop(); i++ {
					writeFiles(b, dir, map[string]string{"blank.lua": fmt.Sprintf("%s-- edit %d\n", blankSrc, i)})
					r, err := e.Reload(ctx)
					if err != nil {
						b.Fatal(err)
					}
					pause += r.Pause.Nanoseconds()
				}
				b.ReportMetric(float64(pause)/float64(b.N), "pause-ns/op")
			})
			b.Run("setmetatable", func(b *testing.B) {
				mts := [2]*lua.LTable{L.NewTable(), cls}
				for i := 0; b.Loop(); i++ {
					for _, t := range tables {
						L.SetMetatable(t, mts[i%2])
					}
				}
			})
			runtime.KeepAlive(objs)
		})
	}
}

// saveObjects is how many live objects BenchmarkSaveToCommitted keeps.
const saveObjects = 100_000

// BenchmarkSaveToCommitted measures save-to-committed latency without the
// watcher's debounce: writing one changed file of the 50-file project and
// Engine.Reload committing it, with 100k live objects of its 49 classes;
// beside a full recompile, the same write and a fresh engine.New.
func BenchmarkSaveToCommitted(b *testing.B) {
	files, classes := project()
	edited := func(i int) map[string]string {
		p := modulePath(classes[6])
		return map[string]string{p: fmt.Sprintf("%s-- edit %d\n", files[p], i)}
	}
	b.Run("one-file", func(b *testing.B) {
		e, dir := newEngine(b, files)
		objs := make([]*engine.Object, saveObjects)
		for i := range objs {
			o, err := e.New(ctx, classes[i%len(classes)], float64(i%100), float64(i%100))
			if err != nil {
				b.Fatal(err)
			}
			objs[i] = o
		}
		for i := 0; b.Loop(); i++ {
			writeFiles(b, dir, edited(i))
			if _, err := e.Reload(ctx); err != nil {
				b.Fatal(err)
			}
		}
		runtime.KeepAlive(objs)
	})
	b.Run("full-recompile", func(b *testing.B) {
		dir := b.TempDir()
		writeFiles(b, dir, files)
		for i := 0; b.Loop(); i++ {
			writeFiles(b, dir, edited(i))
			e, err := engine.New(options(dir))
			if err != nil {
				b.Fatal(err)
			}
			e.Close()
		}
	})
}

// BenchmarkReload measures Engine.Reload after one file of the 50-file
// project changed (the write is not timed), beside what a raw gopher-lua
// reload without a compile cache does: parse and compile all 50 files and
// load them in a fresh state.
func BenchmarkReload(b *testing.B) {
	files, classes := project()
	b.Run("one-file", func(b *testing.B) {
		e, dir := newEngine(b, files)
		p := modulePath(classes[6])
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			writeFiles(b, dir, map[string]string{p: fmt.Sprintf("%s-- edit %d\n", files[p], i)})
			b.StartTimer()
			if _, err := e.Reload(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-full-recompile", func(b *testing.B) {
		for b.Loop() {
			rawGeneration(b, compile(b, files)).Close()
		}
	})
}

// compile parses and compiles files (path -> source) as raw gopher-lua
// does, and returns the prototypes by module name.
func compile(tb testing.TB, files map[string]string) map[string]*lua.FunctionProto {
	tb.Helper()
	protos := make(map[string]*lua.FunctionProto, len(files))
	for p, src := range files {
		chunk, err := parse.Parse(strings.NewReader(src), p)
		if err != nil {
			tb.Fatal(err)
		}
		proto, err := lua.Compile(chunk, p)
		if err != nil {
			tb.Fatal(err)
		}
		protos[moduleOf(p)] = proto
	}
	return protos
}

// rawGeneration loads compiled modules into a fresh raw gopher-lua state
// (rawState) and requires each, in module-name order.
func rawGeneration(tb testing.TB, protos map[string]*lua.FunctionProto) *lua.LState {
	tb.Helper()
	L := rawState(protos)
	requireAll(tb, L, protos)
	return L
}

// rawState returns a fresh raw gopher-lua state in which each of the
// compiled modules is a package.preload function, with a global hot that
// has hot.class (rawHotClass).
func rawState(protos map[string]*lua.FunctionProto) *lua.LState {
	L := lua.NewState()
	hot := L.NewTable()
	hot.RawSetString("class", L.NewFunction(rawHotClass))
	L.SetGlobal("hot", hot)
	preload := L.GetField(L.GetGlobal("package"), "preload").(*lua.LTable)
	for m, proto := range protos {
		preload.RawSetString(m, L.NewFunctionFromProto(proto))
	}
	return L
}

// requireAll requires every module of protos in L, in module-name order.
func requireAll(tb testing.TB, L *lua.LState, protos map[string]*lua.FunctionProto) {
	tb.Helper()
	require := L.GetGlobal("require")
	for _, m := range slices.Sorted(maps.Keys(protos)) {
		if err := L.CallByParam(lua.P{Fn: require, Protect: true}, lua.LString(m)); err != nil {
			tb.Fatal(err)
		}
	}
}

// rawHotClass is the least a raw host's hot.class(name [, base]) does: a
// class table that is its own __index, inheriting from the base table if
// there is one, with a constructor new(...) that calls init.
func rawHotClass(L *lua.LState) int {
	L.CheckString(1)
	cls := L.CreateTable(0, 8) // as the engine's: NewTable makes room for 32 slots and 32 keys
	cls.RawSetString("__index", cls)
	if base, ok := L.Get(2).(*lua.LTable); ok {
		meta := L.CreateTable(0, 1)
		meta.RawSetString("__index", base)
		cls.Metatable = meta
	}
	cls.RawSetString("new", L.NewFunction(func(L *lua.LState) int {
		obj := L.NewTable()
		obj.Metatable = cls
		if init := L.GetField(obj, "init"); init != lua.LNil {
			nargs := L.GetTop()
			L.Push(init)
			L.Push(obj)
			for i := 1; i <= nargs; i++ {
				L.Push(L.Get(i))
			}
			L.Call(nargs+1, 0)
		}
		L.Push(obj)
		return 1
	}))
	L.Push(cls)
	return 1
}

// compileTrimmed compiles files as the engine does: as compile, with every
// prototype trimmed to its length.
func compileTrimmed(tb testing.TB, files map[string]string) map[string]*lua.FunctionProto {
	protos := compile(tb, files)
	for _, p := range protos {
		sandbox.TrimProto(p)
	}
	return protos
}
