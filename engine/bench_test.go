package engine

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
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

// BenchmarkCallParallel measures call throughput on one engine from 1, 2
// and 4 goroutines (each on its own object): Lua runs one call at a time,
// so throughput stays about flat while callers wait for each other.
func BenchmarkCallParallel(b *testing.B) {
	e, _ := newEngine(b, map[string]string{"mover.lua": moverScript})
	for _, g := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			b.SetParallelism(max(1, g/runtime.GOMAXPROCS(0)))
			ctx := context.Background()
			b.RunParallel(func(pb *testing.PB) {
				obj, err := e.New(ctx, "Mover")
				if err != nil {
					b.Error(err)
					return
				}
				dt := lua.LNumber(0.5)
				for pb.Next() {
					if _, err := obj.Call(ctx, "update", dt); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkShardsParallel runs the same calls spread over N shards, one
// goroutine per shard: shards run Lua in parallel.
func BenchmarkShardsParallel(b *testing.B) {
	dir := b.TempDir()
	writeScripts(b, dir, map[string]string{"mover.lua": moverScript})
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("shards=%d", n), func(b *testing.B) {
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprint("s", i)
			}
			s, err := NewShards(Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler)}, names...)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			objs := make([]*Object, n)
			for i, name := range names {
				objs[i], _ = s.Shard(name).New(ctx, "Mover")
			}
			per := b.N / n
			b.ResetTimer()
			var wg sync.WaitGroup
			for _, o := range objs {
				wg.Go(func() {
					dt := lua.LNumber(0.5)
					for range per {
						o.Call(ctx, "update", dt)
					}
				})
			}
			wg.Wait()
		})
	}
}

// classSource returns a class script of about lines lines.
func classSource(name string, lines int, edit int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "local C = hot.class(%q)\nC.edit = %d\n", name, edit)
	for i := 0; sb.Len() < lines*40; i++ {
		fmt.Fprintf(&sb, "function C:m%d(a, b)\n  local x = a * %d + (b or 0)\n  if x > 10 then return self:m0(x - 1, 0) end\n  return x\nend\n", i, i)
	}
	sb.WriteString("return C\n")
	return sb.String()
}

// BenchmarkShardReload reloads 16 shards after a one-file change (one
// compile, 16 fresh states from the shared prototypes) beside one shard's
// reload and 16 independent engines each reloading (16 compiles). The
// target: 16 shards in less than twice one shard plus 0.5 ms per shard.
func BenchmarkShardReload(b *testing.B) {
	files := map[string]string{}
	for i := range 10 {
		files[fmt.Sprintf("units/c%d.lua", i)] = classSource(fmt.Sprint("C", i), 300, 0)
	}
	names := make([]string, 16)
	for i := range names {
		names[i] = fmt.Sprint("s", i)
	}
	edit := 0
	change := func(b *testing.B, dir string) {
		edit++
		writeScripts(b, dir, map[string]string{"units/c0.lua": classSource("C0", 300, edit)})
	}
	b.Run("one-shard", func(b *testing.B) {
		e, dir := newEngine(b, files)
		for b.Loop() {
			change(b, dir)
			if _, err := e.Reload(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("16-shards", func(b *testing.B) {
		dir := b.TempDir()
		writeScripts(b, dir, files)
		s, err := NewShards(Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler)}, names...)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		for b.Loop() {
			change(b, dir)
			if _, err := s.Reload(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("16-independent-engines", func(b *testing.B) {
		dir := b.TempDir()
		writeScripts(b, dir, files)
		var engines []*Engine
		for range names {
			e, err := New(Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			engines = append(engines, e)
		}
		for b.Loop() {
			change(b, dir)
			for _, e := range engines {
				if _, err := e.Reload(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
