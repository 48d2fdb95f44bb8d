package bench

import (
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/hotlua/hotlua/engine"
)

func TestZZHeapProfile(t *testing.T) {
	runtime.MemProfileRate = 512
	files, _ := scaleProject(500)
	dir := t.TempDir()
	writeFiles(t, dir, files)
	e, err := engine.New(options(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	f, _ := os.Create("/tmp/heap_engine.prof")
	pprof.Lookup("heap").WriteTo(f, 0)
	f.Close()
	runtime.KeepAlive(e)
	protos := compileTrimmed(t, files)
	L := rawGeneration(t, protos)
	runtime.GC()
	f, _ = os.Create("/tmp/heap_raw.prof")
	pprof.Lookup("heap").WriteTo(f, 0)
	f.Close()
	runtime.KeepAlive(L)
	e.Close()
}
