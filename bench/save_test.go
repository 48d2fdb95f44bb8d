package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotlua/hotlua/engine"
)

// BenchmarkSaveToNewCode measures what an author waits for: from saving
// one file of the 50-file project (written in place, as most editors do)
// to a call of its class returning the new code, through Engine.Monitor,
// its watcher and its debounce included. Beside it, the same write
// followed by a direct Engine.Reload: the floor, without the watcher.
func BenchmarkSaveToNewCode(b *testing.B) {
	files, classes := project()
	class := classes[6]
	p := modulePath(class)
	// edition i of the file answers i from its edition method.
	edition := func(i int) string {
		return fmt.Sprintf("%s\nfunction C:edition() return %d end\nreturn C\n", files[p][:len(files[p])-len("return C\n")], i)
	}
	files[p] = edition(0)
	run := func(b *testing.B, monitor bool) {
		dir := b.TempDir()
		writeFiles(b, dir, files)
		reloaded := make(chan engine.ReloadEvent, 16)
		opts := options(dir)
		opts.OnReload = func(ev engine.ReloadEvent) { reloaded <- ev }
		e, err := engine.New(opts)
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		<-reloaded // the initial load
		if monitor {
			if err := e.Monitor(); err != nil {
				b.Fatal(err)
			}
		}
		obj, err := e.New(ctx, class, 1.0, 2.0)
		if err != nil {
			b.Fatal(err)
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		for i := 1; b.Loop(); i++ {
			if err := os.WriteFile(full, []byte(edition(i)), 0o644); err != nil {
				b.Fatal(err)
			}
			if !monitor {
				if _, err := e.Reload(ctx); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case ev := <-reloaded:
				if ev.Err != nil {
					b.Fatal(ev.Err)
				}
			case <-time.After(30 * time.Second):
				b.Fatal("no reload within 30s of a save")
			}
			if v, err := obj.Call(ctx, "edition"); err != nil || v.Any() != float64(i) {
				b.Fatalf("edition = %v, %v; want %d", v, err, i)
			}
		}
	}
	b.Run("monitor", func(b *testing.B) { run(b, true) })
	b.Run("direct-reload", func(b *testing.B) { run(b, false) })
}
