package bench

import (
	"fmt"
	"sync"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/engine"
)

// shardNames returns n shard names.
func shardNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprint("room-", i)
	}
	return names
}

// BenchmarkShardReload reloads after a one-file change of the 50-file
// project: one engine; 16 shards (one compile, 16 fresh states from the
// shared prototypes, prepared in parallel); and 16 independent engines, each
// compiling the change itself. The target: 16 shards in less than twice one
// shard's reload plus 0.5 ms per shard.
func BenchmarkShardReload(b *testing.B) {
	files, classes := project()
	edited := modulePath(classes[0])
	edit := 0
	change := func(b *testing.B, dir string) {
		edit++
		writeFiles(b, dir, map[string]string{edited: files[edited] + fmt.Sprintf("\n-- edit %d\n", edit)})
	}
	b.Run("one-shard", func(b *testing.B) {
		e, dir := newEngine(b, files)
		for b.Loop() {
			change(b, dir)
			if _, err := e.Reload(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("16-shards", func(b *testing.B) {
		dir := b.TempDir()
		writeFiles(b, dir, files)
		s, err := engine.NewShards(options(dir), shardNames(16)...)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		for b.Loop() {
			change(b, dir)
			if _, err := s.Reload(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("16-independent-engines", func(b *testing.B) {
		dir := b.TempDir()
		writeFiles(b, dir, files)
		var engines []*engine.Engine
		for range 16 {
			e, err := engine.New(options(dir))
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			engines = append(engines, e)
		}
		for b.Loop() {
			change(b, dir)
			for _, e := range engines {
				if _, err := e.Reload(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkCallThroughput measures calls per second on one engine from 1, 2
// and 4 goroutines, each calling its own object (ns/op is per call, all
// goroutines together): one engine runs one call at a time, so more callers
// only wait for each other. Shards run the same calls, one goroutine per
// shard, in parallel.
func BenchmarkCallThroughput(b *testing.B) {
	for _, g := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("one-engine/goroutines=%d", g), func(b *testing.B) {
			e, _ := newEngine(b, map[string]string{"mover.lua": moverSrc})
			objs := newObjects(b, e, "mover", g)
			callAll(b, objs)
		})
	}
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("shards=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			writeFiles(b, dir, map[string]string{"mover.lua": moverSrc})
			s, err := engine.NewShards(options(dir), shardNames(n)...)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var objs []*engine.Object
			for _, name := range s.Names() {
				objs = append(objs, newObjects(b, s.Shard(name), "mover", 1)...)
			}
			callAll(b, objs)
		})
	}
}

// callAll calls update on every object from a goroutine of its own, b.N
// calls in all.
func callAll(b *testing.B, objs []*engine.Object) {
	per := b.N/len(objs) + 1
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, o := range objs {
		wg.Go(func() {
			step := lua.LNumber(dt)
			for range per {
				if _, err := o.Call(ctx, "update", step); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
