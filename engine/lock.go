package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// ErrBusy is matched (errors.Is) by the error of a call that could not get
// the engine before its context ended, because other work held it: a long
// call, a console evaluation, a commit running its hooks. The error also
// matches its context's error (context.DeadlineExceeded, usually) and says
// what held the engine.
var ErrBusy = errors.New("engine: busy")

// BusyError is the error of a call that gave up waiting for the engine.
// It is a plain value, safe to share.
type BusyError struct {
	Holder string        // what held the engine: "console evaluation", "a call of units/goblin.lua:12", ...
	Held   time.Duration // how long the holder had held it, when known; else 0
	Waited time.Duration // how long the call waited
	Err    error         // the context's error
}

// Error returns "engine: busy: <holder> since <held> (waited <waited>): <context error>".
func (e *BusyError) Error() string {
	s := "engine: busy: " + e.Holder
	if e.Held > 0 {
		s += " since " + e.Held.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("%s (waited %v): %v", s, e.Waited.Round(time.Millisecond), e.Err)
}

// Is matches ErrBusy.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// Unwrap returns the context's error.
func (e *BusyError) Unwrap() error { return e.Err }

// engineLock serializes Lua execution and commits: a mutex whose waiters
// give up when their context ends. Taking it free costs a TryLock (as
// much as a sync.Mutex); a waiter that does not get it at once queues, and
// an unlock that sees waiters hands the lock to one of them directly, so
// a caller in a tight loop cannot starve the others.
//
// The holder describes itself for the busy errors of those who give up:
// calls store the function they run (one atomic store), longer work (Do,
// loads, commits) a task with its start time.
type engineLock struct {
	mu      sync.Mutex
	waiters atomic.Int32 // goroutines queued; read by unlock without qmu
	qmu     sync.Mutex   // orders queueing, giving up and handing over
	handoff chan struct{}

	fn   atomic.Pointer[lua.LFunction] // what the holder calls, for a call
	task atomic.Pointer[task]          // what the holder does, for other work
}

// task is a description of work that holds the engine, for busy errors.
type task struct {
	what  string
	since time.Time
}

func newEngineLock() engineLock { return engineLock{handoff: make(chan struct{}, 1)} }

// lock takes the lock, or fails with a *BusyError once ctx is done. A ctx
// that cannot end makes it wait as long as it takes.
func (l *engineLock) lock(ctx context.Context) error {
	if l.mu.TryLock() {
		return nil
	}
	return l.lockSlow(ctx)
}

// lockBackground takes the lock, waiting as long as it takes.
func (l *engineLock) lockBackground() { _ = l.lock(context.Background()) }

// tryLock takes the lock if it is free, without waiting.
func (l *engineLock) tryLock() bool { return l.mu.TryLock() }

func (l *engineLock) lockSlow(ctx context.Context) error {
	start := time.Now()
	l.qmu.Lock()
	l.waiters.Add(1)
	l.qmu.Unlock()
	// A holder unlocking after the count went up hands the lock over (or
	// leaves it free for this TryLock): no wake-up is lost.
	if l.mu.TryLock() {
		l.leaveQueue()
		return nil
	}
	select {
	case <-l.handoff:
		l.leaveQueue()
		return nil
	case <-ctx.Done():
	}
	err := l.busy(ctx, start)
	l.qmu.Lock()
	l.waiters.Add(-1)
	select {
	case <-l.handoff: // handed over as the context ended: pass it on
		l.qmu.Unlock()
		l.unlock()
	default:
		l.qmu.Unlock()
	}
	return err
}

func (l *engineLock) leaveQueue() {
	l.qmu.Lock()
	l.waiters.Add(-1)
	l.qmu.Unlock()
}

// busy describes the holder for a waiter that gives up.
func (l *engineLock) busy(ctx context.Context, start time.Time) error {
	err := &BusyError{Holder: "a call", Waited: time.Since(start), Err: ctx.Err()}
	if t := l.task.Load(); t != nil {
		err.Holder, err.Held = t.what, time.Since(t.since)
	} else if fn := l.fn.Load(); fn != nil {
		err.Holder = "a call of " + functionName(fn)
	}
	return err
}

// functionName names a Lua function by where it is defined.
func functionName(fn *lua.LFunction) string {
	if fn.IsG || fn.Proto == nil {
		return "a Go function"
	}
	return fmt.Sprintf("the function at %s:%d", fn.Proto.SourceName, fn.Proto.LineDefined)
}

// unlock releases the lock, handing it to a waiter when there is one.
func (l *engineLock) unlock() {
	l.mu.Unlock()
	if l.waiters.Load() == 0 {
		return
	}
	l.qmu.Lock()
	// Take the lock back to hand it over; if another goroutine got it
	// first, its unlock hands it over instead.
	if l.waiters.Load() > 0 && l.mu.TryLock() {
		l.handoff <- struct{}{} // at most one hand-over is pending: the lock is held until it is taken
	}
	l.qmu.Unlock()
}

// calling records fn as what the holder calls. Called with the lock held.
// A caller calling the same function again (a method in a loop) skips the
// store: an atomic load is a plain read, a store a locked exchange.
func (l *engineLock) calling(fn *lua.LFunction) {
	if l.fn.Load() != fn {
		l.fn.Store(fn)
	}
}

// doing records what the holder does until the returned function is called.
// Called with the lock held.
func (l *engineLock) doing(what string) (done func()) {
	prev := l.begin(&task{what: what})
	return func() { l.end(prev) }
}

// begin records t as what the holder does, from now, and returns the task
// recorded before, for end. t must not be recorded already. Called with
// the lock held; unlike doing, it allocates nothing.
func (l *engineLock) begin(t *task) (prev *task) {
	t.since = time.Now()
	return l.task.Swap(t)
}

// end records prev, which begin returned, as what the holder does.
func (l *engineLock) end(prev *task) { l.task.Store(prev) }

// labelKey is the context key of Labeled.
type labelKey struct{}

// Labeled returns ctx carrying a description of the work that a call of
// [Engine.Do] made with it does, shown to calls that give up waiting for
// the engine meanwhile ("console evaluation", say). Default: "Engine.Do".
func Labeled(ctx context.Context, what string) context.Context {
	return context.WithValue(ctx, labelKey{}, what)
}

func labelOf(ctx context.Context, def string) string {
	if s, ok := ctx.Value(labelKey{}).(string); ok && s != "" {
		return s
	}
	return def
}
