package engine

import (
	"context"
	"testing"
	"time"
)

// With DeferCommit, the host's loop calls CommitPending at its safe point
// while the next reload may be running the new scripts' top level: the
// call returns at once, nothing committed, instead of holding the loop up
// for as long as that load runs; a later call commits it.
func TestCommitPendingDoesNotWaitForAReloadBeingPrepared(t *testing.T) {
	g, reg := newGate(t)
	e, dir := newEngine(t, map[string]string{"a.lua": "return 1\n"}, func(o *Options) {
		o.Bindings = reg
		o.DeferCommit = true
		o.LoadTimeout = time.Minute
	})
	writeScripts(t, dir, map[string]string{"a.lua": "entered()\nwhile not released() do end\nreturn 2\n"})
	deployed := make(chan error, 1)
	go func() { _, err := e.Deploy(context.Background()); deployed <- err }()
	g.waitIn(t)

	type result struct {
		r   *Report
		err error
	}
	loop := make(chan result, 1)
	go func() { r, err := e.CommitPending(); loop <- result{r, err} }()
	select {
	case res := <-loop:
		if res.r != nil || res.err != nil {
			t.Errorf("CommitPending while a reload is prepared = %v, %v; want nil, nil", res.r, res.err)
		}
	case <-time.After(20 * time.Second):
		t.Error("CommitPending still waits for the reload being prepared after 20s")
	}
	select {
	case err := <-deployed:
		t.Fatalf("the deploy ended before CommitPending returned (%v): the test proves nothing", err)
	default:
	}
	g.released.Store(true)
	if err := <-deployed; err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if r, err := e.CommitPending(); err != nil || r == nil || r.Generation != 2 {
		t.Fatalf("CommitPending once the reload is prepared = %v, %v; want generation 2", r, err)
	}
}
