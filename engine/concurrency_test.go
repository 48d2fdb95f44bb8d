package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

const probeScript = `
local P = hot.class("Probe")
function P:init() self.n = 0 end
function P:first() return "%[1]s" end
function P:second() return "%[1]s" end
function P:probe()
  self.n = self.n + 1
  local a = self:first()
  local s = 0
  for i = 1, 300 do s = s + i end
  return a .. "/" .. self:second()
end
return P
`

// TestCallsDuringReloadsRunOnOneVersion calls methods from several
// goroutines while reloads alternate between two versions: every call must
// see one version from start to end, and no increment may be lost.
func TestCallsDuringReloadsRunOnOneVersion(t *testing.T) {
	e, dir := newEngine(t, map[string]string{"probe.lua": fmt.Sprintf(probeScript, "v0")})
	ctx := context.Background()
	obj, err := e.New(ctx, "Probe")
	if err != nil {
		t.Fatal(err)
	}
	const workers, callsEach, reloads = 4, 300, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range callsEach {
				v, err := obj.Call(ctx, "probe")
				if err != nil {
					errs <- err
					return
				}
				s, _ := v.Str()
				if a, b, _ := strings.Cut(s, "/"); a != b {
					errs <- fmt.Errorf("one call saw two versions: %s", s)
					return
				}
			}
		})
	}
	for i := range reloads {
		reload(t, e, dir, map[string]string{"probe.lua": fmt.Sprintf(probeScript, fmt.Sprintf("v%d", i%2+1))})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n, _ := obj.Get("n"); n.Any() != float64(workers*callsEach) {
		t.Fatalf("n = %v, want %d: a field update was lost", n, workers*callsEach)
	}
	if g := e.Generation(); g != reloads+1 {
		t.Fatalf("generation = %d, want %d", g, reloads+1)
	}
}

// TestMemoryFlatAcrossReloads reloads many times with live objects and
// checks that old generations are released.
func TestMemoryFlatAcrossReloads(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 reloads")
	}
	e, dir := newEngine(t, map[string]string{"units/enemy.lua": enemyV1, "probe.lua": fmt.Sprintf(probeScript, "v0")})
	ctx := context.Background()
	var objs []*Object
	for range 100 {
		o, _ := e.New(ctx, "units.enemy")
		o.Set("hp", 5)
		objs = append(objs, o)
	}
	const total = 1000
	var at100 uint64
	for i := 1; i <= total; i++ {
		// Alternate the content so that every reload is a real change.
		reload(t, e, dir, map[string]string{"probe.lua": fmt.Sprintf(probeScript, fmt.Sprintf("v%d", i%2))})
		call(t, objs[i%len(objs)], "damage", 0)
		if i == 100 {
			at100 = heapAfterGC()
		}
	}
	end := heapAfterGC()
	// One generation holds a few hundred KB; a leak of one per reload would
	// add hundreds of MB over 900 reloads.
	if end > at100+8<<20 {
		t.Fatalf("heap grew from %d KB after 100 reloads to %d KB after %d", at100>>10, end>>10, total)
	}
	t.Logf("heap after 100 reloads: %d KB; after %d: %d KB", at100>>10, total, end>>10)
}
