package engine

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// A reload of shards waits for the reload already running only until its
// context ends, as Engine.Reload does.
func TestShardsReloadDeadlineHoldsWhileAReloadRuns(t *testing.T) {
	g, reg := newGate(t)
	dir := t.TempDir()
	writeScripts(t, dir, map[string]string{"a.lua": "return 1\n"})
	s, err := NewShards(Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler), Bindings: reg, LoadTimeout: time.Minute}, "one", "two")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeScripts(t, dir, map[string]string{"a.lua": "entered()\nwhile not released() do end\nreturn 2\n"})
	slow := make(chan error, 1)
	go func() { _, err := s.Reload(context.Background()); slow <- err }()
	g.waitIn(t)

	probe := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := s.Reload(ctx)
		probe <- err
	}()
	select {
	case err := <-probe:
		if !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shards.Reload during a reload: %v, want ErrBusy and context.DeadlineExceeded", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("Shards.Reload with a 200ms deadline still waits for the running reload after 20s")
	}
	select {
	case err := <-slow:
		t.Fatalf("the running reload ended before the probe did (%v): the test proves nothing", err)
	default:
	}
	g.released.Store(true)
	if err := <-slow; err != nil {
		t.Fatalf("the held reload failed: %v", err)
	}
	if n := s.Shard("two").Generation(); n != 2 {
		t.Fatalf("shard two at generation %d after the held reload, want 2", n)
	}
}

// A reload of shards one of which was closed commits in none of them, and
// says so instead of returning no error.
func TestShardsReloadWithAClosedShardFails(t *testing.T) {
	dir := t.TempDir()
	writeScripts(t, dir, map[string]string{"a.lua": "return 1\n"})
	s, err := NewShards(Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler)}, "one", "two")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Shard("one").Close()
	writeScripts(t, dir, map[string]string{"a.lua": "return 2\n"})
	reports, err := s.Reload(context.Background())
	var se *ShardError
	if !errors.As(err, &se) || se.Shard != "one" || !errors.Is(err, ErrClosed) {
		t.Fatalf("Shards.Reload with shard one closed = %v, %v; want a *ShardError of shard one matching ErrClosed", reports, err)
	}
	if n := s.Shard("two").Generation(); n != 1 {
		t.Fatalf("shard two at generation %d, want 1: a reload commits in every shard or in none", n)
	}
}
