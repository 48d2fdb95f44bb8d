package main

import (
	"context"
	"log/slog"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/engine"
)

// ticker calls the scripts' global tick(dt), when the current generation
// defines one. It is used by one goroutine.
type ticker struct {
	e       *engine.Engine
	log     *slog.Logger
	every   time.Duration
	gen     uint64 // the generation last looked at
	defined bool   // whether gen defines a global function tick
	called  bool   // whether tick has run in gen
	lastErr string // the last error logged, not logged again until it changes
}

// runTicks calls tick(dt) every period until ctx is done.
func runTicks(ctx context.Context, e *engine.Engine, period time.Duration, log *slog.Logger) {
	t := &ticker{e: e, log: log, every: period}
	clock := time.NewTicker(period)
	defer clock.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-clock.C:
			t.tick(ctx, now.Sub(last).Seconds())
			last = now
		}
	}
}

// tick calls tick(dt) if the current generation defines it, which it looks
// up once per generation.
func (t *ticker) tick(ctx context.Context, dt float64) {
	if gen := t.e.Generation(); gen != t.gen {
		defined := false
		err := t.e.Do(ctx, func(L *lua.LState) error {
			_, defined = L.GetGlobal("tick").(*lua.LFunction)
			return nil
		})
		if err != nil {
			return
		}
		t.gen, t.defined, t.called = gen, defined, false
	}
	if !t.defined {
		return
	}
	// A tick that overruns its period many times over is stopped, so that
	// a runaway tick neither holds the engine forever nor escapes
	// quarantine.
	tctx, cancel := context.WithTimeout(ctx, max(10*t.every, time.Second))
	defer cancel()
	if _, err := t.e.CallGlobal(tctx, "tick", dt); err != nil {
		if ctx.Err() == nil && err.Error() != t.lastErr {
			t.log.Error("hotlua: tick failed; repeats are not logged until it changes", "err", err)
			t.lastErr = err.Error()
		}
		return
	}
	t.lastErr = ""
	if !t.called {
		t.log.Info("hotlua: calling tick(dt)", "generation", t.gen, "every", t.every)
		t.called = true
	}
}
