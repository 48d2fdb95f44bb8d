package sandbox

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Guard bounds the calls L makes until done is called: when ctx can be
// cancelled or has a deadline, Guard installs a context derived from it with
// [lua.LState.SetContext], so the VM stops at the next instruction once ctx
// is done, and registers the call with a heap watchdog that cancels it when
// the Go heap grows by more than [Limits.MaxMemoryBytes]. When ctx can never
// be cancelled (context.Background), Guard does nothing and the VM runs
// without the per-instruction context check, and without the memory bound.
//
// Call done exactly once; it restores the context L had before, so nested
// Guards (a Go function called from Lua calling back into Lua) must end in
// reverse order. Guard and done must be called from the goroutine that owns L.
func Guard(L *lua.LState, ctx context.Context) (done func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	prev := L.Context()
	c := &callContext{limit: uint64(dataOf(L).lim.MaxMemoryBytes), baseline: math.MaxUint64}
	c.Context, c.cancel = context.WithCancel(ctx)
	c.done = c.Context.Done()
	L.SetContext(c)
	watch.add(c)
	return func() {
		watch.remove(c)
		c.cancel()
		if prev != nil {
			L.SetContext(prev)
		} else {
			L.RemoveContext()
		}
	}
}

// callContext is the context of one guarded call. Its Err reports why the
// watchdog stopped the call, since the VM raises Err().Error() as the Lua error.
type callContext struct {
	context.Context
	cancel   context.CancelFunc
	done     <-chan struct{} // the Context's Done, read once
	baseline uint64          // lowest heap bytes sampled during the call; guarded by watchdog.mu once added
	limit    uint64          // heap growth allowed
	reason   atomic.Pointer[error]
}

// Done returns the channel the call's context closes. The VM calls it
// before every instruction: a field read, not the cancel context's
// atomic load.
func (c *callContext) Done() <-chan struct{} { return c.done }

// Err returns the reason the watchdog gave, or the parent's error.
func (c *callContext) Err() error {
	if r := c.reason.Load(); r != nil {
		return *r
	}
	return c.Context.Err()
}

// stop cancels the call with reason.
func (c *callContext) stop(reason error) {
	c.reason.CompareAndSwap(nil, &reason)
	c.cancel()
}

// pollInterval is how often the watchdog reads the heap size while guarded calls run.
const pollInterval = 2 * time.Millisecond

// watchdog polls the heap while at least one guarded call runs. It is safe
// for concurrent use.
type watchdog struct {
	mu      sync.Mutex
	calls   map[*callContext]struct{}
	running bool
}

var watch watchdog

func (w *watchdog) add(c *callContext) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.calls == nil {
		w.calls = map[*callContext]struct{}{}
	}
	w.calls[c] = struct{}{}
	if !w.running {
		w.running = true
		go w.run()
	}
}

func (w *watchdog) remove(c *callContext) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.calls, c)
}

// over returns the calls whose limit the heap exceeds, and whether any
// call is left to watch. A call's baseline follows the heap down, so
// garbage the call started with and a collection reclaimed is not allowance.
func (w *watchdog) over(heap uint64) ([]*callContext, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.calls) == 0 {
		w.running = false
		return nil, false
	}
	var over []*callContext
	for c := range w.calls {
		c.baseline = min(c.baseline, heap)
		if heap > c.baseline+c.limit {
			over = append(over, c)
		}
	}
	return over, true
}

// run polls until no call is left and stops the calls over their limit.
// It does not confirm with a garbage collection: a collection has to wait
// for the allocating instruction to finish (a large copy cannot be
// preempted), and measured, waiting let a doubling loop reach eight times
// the limit instead of two.
func (w *watchdog) run() {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for range t.C {
		over, any := w.over(heapBytes())
		if !any {
			return
		}
		for _, c := range over {
			c.stop(fmt.Errorf("sandbox: memory limit exceeded (the heap grew by more than %d bytes during the call)", c.limit))
		}
	}
}
