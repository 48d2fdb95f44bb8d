package engine

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/hotlua/hotlua/internal/watch"
)

// writeScripts writes files (path relative to dir -> content) under dir.
func writeScripts(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newEngine writes files into a fresh root and loads it.
func newEngine(t testing.TB, files map[string]string, opts ...func(*Options)) (*Engine, string) {
	t.Helper()
	dir := t.TempDir()
	writeScripts(t, dir, files)
	o := Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	e, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e, dir
}

// reload rewrites files and reloads, failing the test on error.
func reload(t testing.TB, e *Engine, dir string, files map[string]string) *Report {
	t.Helper()
	writeScripts(t, dir, files)
	r, err := e.Reload(context.Background())
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	return r
}

// watchReload reloads as the watcher does after a batch naming files
// (relative to the engine's only root).
func watchReload(e *Engine, files ...string) (*Report, error) {
	b := watch.Batch{}
	for _, f := range files {
		b.Changes = append(b.Changes, watch.Change{Root: e.roots[0], Path: f})
	}
	e.protos.files.noteChanges(b)
	return e.reloadFor(context.Background(), "watch", files)
}

func call(t testing.TB, o *Object, method string, args ...any) any {
	t.Helper()
	v, err := o.Call(context.Background(), method, args...)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return v.Any()
}

// callInLoop calls method on o over and over on another goroutine until
// the returned function, which waits for the loop to end, is called, or
// the test ends (a t.Fatal on the way must not leave the loop running
// past it). A failed call fails the test and ends the loop.
func callInLoop(t testing.TB, o *Object, method string) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := o.Call(context.Background(), method); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { close(done); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// heapAfterGC returns the heap in use after two collections.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
