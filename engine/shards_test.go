package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

const versionedScript = `
local V = hot.class("V")
function V:init() self.n = 0 end
function V:first() return "%[1]s" end
function V:second() return "%[1]s" end
function V:bump()
  self.n = self.n + 1
  local a = self:first()
  for i = 1, 50 do end
  return a .. "/" .. self:second()
end
%[2]s
return V
`

// TestStressCallsAndReloads calls methods on shared objects from 8
// goroutines while 1,000 reloads alternate between two good versions and a
// broken one (it loads, but its check fails).
func TestStressCallsAndReloads(t *testing.T) {
	reloads := 1000
	if testing.Short() {
		reloads = 100
	}
	good := []string{fmt.Sprintf(versionedScript, "good1", ""), fmt.Sprintf(versionedScript, "good2", "")}
	broken := fmt.Sprintf(versionedScript, "BROKEN", `hot.check(function() return false, "not this one" end)`)
	e, dir := newEngine(t, map[string]string{"v.lua": good[0]})
	ctx := context.Background()
	objs := make([]*Object, 4)
	for i := range objs {
		o, err := e.New(ctx, "V")
		if err != nil {
			t.Fatal(err)
		}
		objs[i] = o
	}

	stop := make(chan struct{})
	var calls [8]int
	var wg sync.WaitGroup
	errs := make(chan error, len(calls))
	for w := range calls {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v, err := objs[(w+i)%len(objs)].Call(ctx, "bump")
				if err != nil {
					errs <- err
					return
				}
				calls[w]++
				s, _ := v.Str()
				a, b, _ := strings.Cut(s, "/")
				if a != b || a == "BROKEN" {
					errs <- fmt.Errorf("call saw %q", s)
					return
				}
			}
		})
	}
	failed := 0
	for i := range reloads {
		src := good[i%2]
		if i%3 == 2 {
			src = broken
		}
		writeScripts(t, dir, map[string]string{"v.lua": src})
		if _, err := e.Reload(ctx); err != nil {
			if src != broken {
				t.Fatalf("reload %d of a good version failed: %v", i, err)
			}
			failed++
		} else if src == broken {
			t.Fatalf("reload %d of the broken version committed", i)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for _, n := range calls {
		total += n
	}
	sum := 0.0
	for _, o := range objs {
		n, _ := o.Get("n")
		f, _ := n.Float()
		sum += f
	}
	if int(sum) != total {
		t.Fatalf("objects counted %v calls, callers made %d: a field update was lost", sum, total)
	}
	if want := uint64(reloads - failed + 1); e.Generation() != want {
		t.Fatalf("generation = %d, want %d", e.Generation(), want)
	}
	t.Logf("%d calls during %d reloads (%d refused)", total, reloads, failed)
}

func TestShardsReloadAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	writeScripts(t, dir, map[string]string{"v.lua": fmt.Sprintf(versionedScript, "one", "")})
	s, err := NewShards(Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler)}, "a", "b", "c")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	objs := map[string]*Object{}
	for _, name := range s.Names() {
		o, err := s.Shard(name).New(ctx, "V")
		if err != nil {
			t.Fatal(err)
		}
		objs[name] = o
	}
	// Shard b alone fails the next version's check: only its persisted
	// state says so.
	if err := s.Shard("b").Do(ctx, func(L *lua.LState) error {
		return L.DoString(`hot.persist("is_b", true)`)
	}); err != nil {
		t.Fatal(err)
	}
	writeScripts(t, dir, map[string]string{"v.lua": fmt.Sprintf(versionedScript, "two", `hot.check(function() return not hot.persist("is_b", false), "shard b refuses" end)`)})
	_, err = s.Reload(ctx)
	var se *ShardError
	if !errors.As(err, &se) || se.Shard != "b" || !strings.Contains(err.Error(), "shard b refuses") {
		t.Fatalf("err = %v, want a ShardError of shard b", err)
	}
	for name, o := range objs {
		if v, _ := o.Call(ctx, "first"); v.Any() != "one" || s.Shard(name).Generation() != 1 {
			t.Fatalf("shard %s runs %v at generation %d after a failed group reload", name, v, s.Shard(name).Generation())
		}
	}

	writeScripts(t, dir, map[string]string{"v.lua": fmt.Sprintf(versionedScript, "three", "")})
	reports, err := s.Reload(ctx)
	if err != nil || len(reports) != 3 {
		t.Fatalf("reports %v, err %v", reports, err)
	}
	for name, o := range objs {
		if v, _ := o.Call(ctx, "first"); v.Any() != "three" || s.Shard(name).Generation() != 2 {
			t.Fatalf("shard %s runs %v at generation %d", name, v, s.Shard(name).Generation())
		}
	}
	if _, err := objs["a"].Call(ctx, "bump"); err != nil {
		t.Fatal(err)
	}
	if _, err := objs["a"].Call(ctx, "bump", objs["b"]); !errors.Is(err, ErrOtherEngine) {
		t.Fatalf("passing shard b's object to shard a: err = %v, want ErrOtherEngine", err)
	}
}

func TestDeferCommitWaitsForSafePoint(t *testing.T) {
	events := make(chan ReloadEvent, 4)
	e, dir := newEngine(t, map[string]string{"v.lua": fmt.Sprintf(versionedScript, "one", "")}, func(o *Options) {
		o.DeferCommit = true
		o.Debounce = 20 * time.Millisecond
		o.OnReload = func(ev ReloadEvent) { events <- ev }
	})
	<-events // the initial load
	ctx := context.Background()
	obj, _ := e.New(ctx, "V")
	if err := e.Monitor(); err != nil {
		t.Fatal(err)
	}
	saveAtomically(t, dir, "v.lua", fmt.Sprintf(versionedScript, "two", ""))
	deadline := time.Now().Add(10 * time.Second)
	for !e.HasPending() {
		if time.Now().After(deadline) {
			t.Fatal("no reload prepared within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if v, _ := obj.Call(ctx, "first"); v.Any() != "one" || e.Generation() != 1 {
		t.Fatalf("a prepared reload committed before the safe point: %v", v)
	}
	r, err := e.CommitPending()
	if err != nil || r == nil || r.Generation != 2 {
		t.Fatalf("CommitPending = %v, %v", r, err)
	}
	if v, _ := obj.Call(ctx, "first"); v.Any() != "two" {
		t.Fatalf("after CommitPending the object runs %v", v)
	}
	if ev := <-events; ev.Trigger != "watch" || ev.Generation != 2 {
		t.Fatalf("event = %+v", ev)
	}
	if r, err := e.CommitPending(); r != nil || err != nil {
		t.Fatalf("second CommitPending = %v, %v; want nothing pending", r, err)
	}
}

// One watcher reloads every shard on a save, and Close stops it.
func TestShardsMonitor(t *testing.T) {
	dir := t.TempDir()
	writeScripts(t, dir, map[string]string{"v.lua": fmt.Sprintf(versionedScript, "one", "")})
	events := make(chan ReloadEvent, 8)
	s, err := NewShards(Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler), Debounce: 20 * time.Millisecond,
		OnReload: func(ev ReloadEvent) {
			if ev.Trigger == "watch" {
				events <- ev
			}
		}}, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Monitor(); err != nil {
		t.Fatal(err)
	}
	saveAtomically(t, dir, "v.lua", fmt.Sprintf(versionedScript, "two", ""))
	for range 2 {
		if ev := nextEvent(t, events); ev.Err != nil || ev.Generation != 2 {
			t.Fatalf("event = %+v", ev)
		}
	}
	s.Close()
	if err := s.Monitor(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Monitor after Close = %v, want ErrClosed", err)
	}
}
