package engine

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/bindings"
	"github.com/hotlua/hotlua/internal/sandbox"
)

// Options configures an Engine. The zero value of each field is its default.
// An Options is a plain value: New copies it.
type Options struct {
	// Roots are the script roots. Module names come from paths relative to
	// their root: "units/enemy.lua" is module "units.enemy". Required.
	Roots []string
	// Bindings are the Go functions and values every generation sees.
	// Default: an empty registry.
	Bindings *bindings.Registry
	// Logger receives reload results and hook errors. Default: slog.Default(),
	// or, when the environment has HOTLUA_DEBUG=1, a debug-level text logger
	// on stderr.
	Logger *slog.Logger
	// ManualSwap leaves live objects on the version they have when a reload
	// commits; the host moves them with [Object.SetClass], after asking
	// [Engine.UpdatedClass]. Default: false, every live object follows.
	ManualSwap bool
	// Trusted opts out of the sandbox: scripts get every standard library
	// (io, os, debug, package ...) and may change them. Default: false,
	// scripts run sandboxed (see the package documentation).
	Trusted bool
	// Limits bounds what scripts may do: string sizes, call depth, value
	// stack, pattern work, script size, memory growth during a guarded
	// call. The zero value of each field is its default.
	Limits Limits
	// QuarantineAfter is how many calls in a row of one method of a class
	// may hit their context's deadline before the method is quarantined:
	// until the next commit, calls to it fail at once with ErrQuarantined,
	// so one bad method does not stall every tick. Default: 3; negative
	// turns quarantine off.
	QuarantineAfter int
	// LoadTimeout bounds the run of the scripts' top-level code and checks
	// during a reload, and, separately, of the hooks a commit runs
	// ("unload" and "reload" handlers, __migrate), which hold calls up.
	// Default: 10s.
	LoadTimeout time.Duration
	// Debounce is the quiet period that closes a batch of file changes
	// seen by [Engine.Monitor] when every changed script parses. Default:
	// 15ms.
	Debounce time.Duration
	// Settle is the quiet period that closes a batch with a script that
	// is empty, missing or does not parse: most often a save still being
	// written (truncated, then written), or a file deleted and created
	// again. Default: 100ms; never shorter than Debounce.
	Settle time.Duration
	// MaxWait bounds how long a continuous stream of changes delays a
	// reload. Default: 1s.
	MaxWait time.Duration
	// FollowExternalSymlinks lets a script be a symbolic link that leads
	// out of its root. Default: false, such a script fails the load with
	// an error naming it; links that stay inside the root (a Kubernetes
	// ConfigMap's ..data) are always followed.
	FollowExternalSymlinks bool
	// DeferCommit makes automatic reloads (Monitor, SetPollInterval) stop
	// once prepared: the host commits them at a safe point of its loop with
	// [Engine.CommitPending]. A newer prepared reload replaces an older one;
	// a manual Reload commits at once and drops a prepared one. Default:
	// false, automatic reloads commit as soon as they are prepared.
	DeferCommit bool
	// NeverHoldCalls makes a reload hold calls up only for its commit and
	// for the moments it reads a persisted value or copies a persisted
	// table: a load whose scripts reach what the running calls use and cannot work
	// on a copy of (a persisted object or function, a class library whose
	// registries the running calls share: see the package documentation)
	// fails there with an error naming it, instead of holding calls until
	// it is prepared. So with a class library that has module state
	// (30log, middleclass 3), every reload that requires it fails until
	// the library's source changes. Default: false, such a load holds
	// them, and its report says how long (Report.Held).
	NeverHoldCalls bool
	// Stdout and Stderr receive what sandboxed scripts write: print,
	// io.write and io.stdout:write go to Stdout, io.stderr:write to Stderr.
	// They are called on the goroutine that runs the script (a call's, or
	// a reload's while it runs the new scripts' top level beside the
	// calls), one write at a time: the engine (or all the engines of a
	// Shards) serializes them, so they need not be safe for concurrent
	// use. Default: os.Stdout, where gopher-lua's print writes, and
	// os.Stderr. A trusted engine's scripts use Lua's own io.
	Stdout, Stderr io.Writer
	// OnReload, when set, is told about every reload, committed or failed,
	// manual or automatic. It runs on the reloading goroutine (the
	// watcher's, for automatic reloads) once the engine's locks are
	// released: it may call the engine, except Close, Monitor,
	// SetPollInterval, PauseReloads and ResumeReloads, which wait for the
	// watcher's goroutine (call those from another goroutine).
	OnReload func(ReloadEvent)
}

// Engine runs Lua classes for Go objects and reloads them.
//
// An Engine is safe for concurrent use: every method may be called from any
// goroutine. Lua code of one engine runs one call at a time; a reload's
// commit happens between two calls, so each call runs entirely on one
// version.
type Engine struct {
	opts   Options
	roots  []string
	log    *slog.Logger
	bind   *bindings.Registry
	protos *protoCache // shared by the engines of a Shards

	reloading engineLock    // one reload at a time; held while compiling and preparing
	parked    *parkedReload // guarded by reloading
	lk        engineLock    // serializes Lua execution, commits and the fields below but retired
	closed    atomic.Bool   // set by Close, with the lock held; read without it
	gen       *generation   // written by a commit with both locks held
	L         *lua.LState
	handles   map[string]*handle           // class name -> its automatic handle
	stable    map[string]*lua.LTable       // class identity -> its table for the engine's life (see stabilize)
	retiredMu sync.Mutex                   // guards retired, which a commit appends to under lk and retire trims after it
	retired   []retiredGeneration          // replaced generations, watched weakly (see Generations)
	methodEnv *lua.LTable                  // the globals of hot.method's callbacks: none
	persist   map[string]lua.LValue        // hot.persist
	hashes    map[string][sha256.Size]byte // script path -> content hash, of the current generation; written with both locks held
	errsMu    sync.Mutex                   // guards errs, which reloads write while calls run
	errs      []error                      // recent reload errors, oldest first
	strikes   map[methodKey]int            // deadline hits in a row, by method; cleared by a commit
	// pinnedHandles counts the handles whose hasPinned is set: a failed
	// migration left objects on an old version.
	pinnedHandles int

	genNum  atomic.Uint64 // the current generation's number, readable without the lock
	failing atomic.Bool   // the last reload failed (see reportRestored)

	watching watching
}

// Limits bounds what scripts may do; see the fields for each default.
type Limits = sandbox.Limits

// recentErrors is how many reload errors Errors remembers.
const recentErrors = 16

// New loads the scripts under opts.Roots as generation 1. It fails, with
// the script's error, if they do not all load.
func New(opts Options) (*Engine, error) { return open(opts, &protoCache{}) }

// open makes an engine whose compiled prototypes come from protos,
// which shards share.
func open(opts Options, protos *protoCache) (*Engine, error) {
	e, err := unloaded(opts, protos)
	if err != nil {
		return nil, err
	}
	if _, err := e.reloadFor(context.Background(), "initial", nil); err != nil {
		return nil, err
	}
	return e, nil
}

// unloaded makes an engine with opts and its defaults, without loading
// any generation.
func unloaded(opts Options, protos *protoCache) (*Engine, error) {
	if len(opts.Roots) == 0 {
		return nil, errors.New("engine: no script roots given")
	}
	serializeOutput(&opts)
	e := &Engine{
		protos:    protos,
		opts:      opts,
		log:       opts.Logger,
		bind:      opts.Bindings,
		handles:   make(map[string]*handle),
		stable:    make(map[string]*lua.LTable),
		methodEnv: newTable(0),
		strikes:   make(map[methodKey]int),
		persist:   make(map[string]lua.LValue),
		lk:        newEngineLock(),
		reloading: newEngineLock(),
	}
	for _, r := range opts.Roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, fmt.Errorf("engine: script root %s: %w", r, err)
		}
		if err := checkRoot(abs); err != nil {
			return nil, fmt.Errorf("engine: script root %s: %w", r, err)
		}
		e.roots = append(e.roots, abs)
	}
	if e.log == nil {
		e.log = slog.Default()
		if os.Getenv("HOTLUA_DEBUG") == "1" {
			e.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	if e.bind == nil {
		e.bind = bindings.New()
	}
	if e.opts.QuarantineAfter == 0 {
		e.opts.QuarantineAfter = 3
	}
	if e.opts.LoadTimeout <= 0 {
		e.opts.LoadTimeout = 10 * time.Second
	}
	return e, nil
}

// Report describes a committed reload. It is a plain value that nothing
// changes once returned: safe to share.
type Report struct {
	Generation uint64        // the new generation
	Previous   uint64        // the generation it replaced (0 for the first load)
	Files      []string      // scripts added, changed or removed, relative to their root
	Changed    []string      // classes whose version hash changed, sorted
	Added      []string      // classes new in this generation, sorted
	Orphaned   []Orphan      // classes no script defines any more
	Migrated   int           // objects whose __migrate hook ran and succeeded
	Failed     []error       // failed __migrate hooks; those objects keep their old version
	HookErrors []error       // errors of "unload" and "reload" handlers
	Duration   time.Duration // the whole reload, compile included, to its commit (with Options.DeferCommit, the wait for CommitPending too)
	Pause      time.Duration // how long the commit held the engine, hooks included, and for a shard the commits of the shards before it: calls waited at most this long for it
	// Held is how long the load held calls up before the commit, from the
	// moment its scripts reached what the running calls use and it could
	// not work on a copy of (HeldBy says what: "hot.persist(\"world\")"
	// for a persisted object, "the library lib.class, kept from generation
	// 1"); 0 when it loaded beside them.
	Held   time.Duration
	HeldBy string
	// Retained lists the older generations still in memory besides the one
	// this reload replaced, that something reaches ([Engine.Generations]
	// says what): each outlived a whole garbage collection since it was
	// replaced. One that only awaits a collection is not listed.
	Retained []uint64
}

// Orphan is a class that live objects may still use but that the new
// generation no longer defines. Its objects keep running the old version.
// It is a plain value.
type Orphan struct {
	Class   string
	Objects int // live objects of the class
}

// String summarizes the report on one line.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "generation %d", r.Generation)
	if len(r.Files) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(r.Files, ", "))
	}
	if len(r.Changed) > 0 {
		fmt.Fprintf(&b, "; changed %s", strings.Join(r.Changed, ", "))
	}
	if len(r.Added) > 0 {
		fmt.Fprintf(&b, "; added %s", strings.Join(r.Added, ", "))
	}
	for _, o := range r.Orphaned {
		fmt.Fprintf(&b, "; %s is no longer defined: its %d objects keep their old version", o.Class, o.Objects)
	}
	if r.Migrated > 0 {
		fmt.Fprintf(&b, "; migrated %d objects", r.Migrated)
	}
	if n := len(r.Failed); n > 0 {
		fmt.Fprintf(&b, "; %d migrations failed (first: %v)", n, r.Failed[0])
	}
	if n := len(r.HookErrors); n > 0 {
		fmt.Fprintf(&b, "; %d hook errors (first: %v)", n, r.HookErrors[0])
	}
	if n := len(r.Retained); n > 0 {
		plural := "s"
		if n == 1 {
			plural = ""
		}
		fmt.Fprintf(&b, "; %d older generation%s still in memory (Engine.Generations, or the console's :generations, says why)", n, plural)
	}
	if r.Held > 0 {
		fmt.Fprintf(&b, "; the load held calls for %v (its scripts reached %s)", r.Held.Round(time.Microsecond), r.HeldBy)
	}
	fmt.Fprintf(&b, " (%v, pause %v)", r.Duration.Round(time.Microsecond), r.Pause.Round(time.Microsecond))
	return b.String()
}

// Reload reads and compiles the scripts, runs them in a fresh state,
// validates the result and, only if all of that succeeded, commits it:
// every live object of every class runs the new version from its next call.
// On failure no class or object changes and the error is a *ScriptError
// (several, joined, for several syntax errors) naming the script by its path
// relative to its root; what the new scripts' top level changed in
// hot.persist values is not kept.
//
// Compiling and loading the fresh state happen beside running calls, until
// the new scripts reach into shared state the load cannot leave unchanged
// (a persisted object or function, a class library with module state: see
// the package documentation); from then on, and for the commit, calls
// wait. ctx bounds the load and every wait for the engine.
func (e *Engine) Reload(ctx context.Context) (*Report, error) {
	return e.reloadFor(ctx, "manual", nil)
}

// reloadFor reloads, then records and logs the outcome and tells OnReload.
func (e *Engine) reloadFor(ctx context.Context, trigger string, files []string) (*Report, error) {
	start := time.Now()
	if err := e.reloading.lock(ctx); err != nil {
		return nil, err
	}
	done := e.reloading.doing("a reload (" + trigger + ")")
	outs, err := reloadGroup(ctx, []*Engine{e}, nil, trigger, files, start)
	done()
	e.reloading.unlock()
	if errors.Is(err, errUnchanged) {
		e.reportRestored(trigger, files, start)
		return nil, nil
	}
	if outs[0].parked {
		return nil, nil
	}
	e.finish(trigger, files, start, outs[0].report, outs[0].err)
	return outs[0].report, outs[0].err
}

// outcome is what a group reload did in one engine.
type outcome struct {
	report *Report
	err    error
	parked bool // prepared, waiting for CommitPending
}

// reloadGroup compiles the scripts once, prepares the new generation in
// every engine (in parallel when there are several), and commits it in all
// of them or in none; with Options.DeferCommit an automatic reload is parked
// instead. names, when not nil, names the engines as shards in errors. It
// returns errUnchanged when an automatic reload finds nothing to do, and
// otherwise one outcome per engine, to report once the callers have released
// their locks. Called with every engine's reloading lock held.
func reloadGroup(ctx context.Context, engines []*Engine, names []string, trigger string, files []string, start time.Time) ([]outcome, error) {
	automatic := trigger == "watch" || trigger == "poll" || trigger == "deploy"
	outs := make([]outcome, len(engines))
	failAll := func(err error) ([]outcome, error) {
		for i := range outs {
			outs[i] = outcome{err: err}
		}
		return outs, nil
	}
	scripts, err := engines[0].compile(ctx, !automatic)
	if errors.Is(err, errUnchanged) {
		// The files are back to what runs: a parked reload is stale.
		for _, e := range engines {
			e.discardParked()
		}
		engines[0].log.Debug("hotlua: no script changed; nothing to reload", "trigger", trigger, "files", files)
		return nil, err
	}
	if err != nil {
		return failAll(err)
	}

	gens := make([]*generation, len(engines))
	errs := make([]error, len(engines))
	if len(engines) == 1 {
		gens[0], errs[0] = engines[0].prepare(ctx, scripts)
	} else {
		var wg sync.WaitGroup
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		for i, e := range engines {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				gens[i], errs[i] = e.prepare(ctx, scripts)
			})
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err == nil {
			continue
		}
		for _, g := range gens {
			if g != nil {
				g.discard()
			}
		}
		if names != nil {
			err = &ShardError{Shard: names[i], Err: err}
		}
		return failAll(err)
	}
	// A save still being written can look like a script that no longer
	// defines its class: look again before orphaning live objects.
	if err := settleUndefined(ctx, engines, gens, start); err != nil {
		for _, g := range gens {
			g.discard()
		}
		if errors.Is(err, errResaved) {
			return reloadGroup(ctx, engines, names, trigger, files, start)
		}
		return failAll(err)
	}

	if len(engines) == 1 {
		e := engines[0]
		e.discardParked() // superseded: this reload read every script anew
		if automatic && e.opts.DeferCommit {
			e.park(gens[0], trigger, files, start)
			outs[0].parked = true
			return outs, nil
		}
		outs[0].report, outs[0].err = e.commitPrepared(ctx, gens[0], start)
		return outs, nil
	}
	// Every shard or none: take every lock (ctx bounds the wait) before the
	// first commit.
	lockedAt := make([]time.Time, len(engines))
	olds := make([]*generation, len(engines))
	if !automatic || !engines[0].opts.DeferCommit {
		for i, e := range engines {
			err := e.lk.lock(ctx)
			lockedAt[i] = time.Now()
			if err != nil {
				for _, locked := range engines[:i] {
					locked.lk.unlock()
				}
				for _, g := range gens {
					g.discard()
				}
				if names != nil {
					err = &ShardError{Shard: names[i], Err: err}
				}
				return failAll(err)
			}
		}
	}
	for i, e := range engines {
		e.discardParked()
		if automatic && e.opts.DeferCommit {
			e.park(gens[i], trigger, files, start)
			outs[i].parked = true
			continue
		}
		// Each engine's Pause counts from its lock: its calls wait for
		// the shards before it to commit too.
		outs[i].report, olds[i], outs[i].err = e.commitHeld(gens[i], lockedAt[i])
	}
	// What a commit leaves for after its lock waits for every shard's
	// commit, so that no shard's calls wait for it.
	for i, e := range engines {
		if outs[i].err == nil && outs[i].report != nil {
			e.finishCommit(outs[i].report, olds[i], start)
			olds[i] = nil // retired now: keep it alive no longer than its own reload would
		}
	}
	return outs, nil
}

// park keeps g for CommitPending. Called with e.reloading held.
func (e *Engine) park(g *generation, trigger string, files []string, start time.Time) {
	e.parked = &parkedReload{g: g, trigger: trigger, files: files, start: start}
	e.log.Info("hotlua: reload prepared; it commits at the next CommitPending", "generation", g.num, "files", files)
}

// parkedReload is a prepared generation waiting for CommitPending.
type parkedReload struct {
	g       *generation
	trigger string
	files   []string
	start   time.Time
}

// discardParked drops a parked generation. Called with e.reloading held.
func (e *Engine) discardParked() {
	if e.parked != nil {
		e.parked.g.discard()
		e.parked = nil
	}
}

// CommitPending commits the reload that Options.DeferCommit left prepared,
// if there is one, and returns its report (nil, nil when there is none).
// Call it where the host's loop is at a safe point: between two ticks, say.
// Preparing (compiling, loading the scripts in a fresh state, checking)
// already happened off the loop; the commit holds calls for microseconds.
// While another reload is being prepared, it returns nil, nil at once
// rather than hold the loop up for that load: a later call commits
// whichever reload is prepared then.
func (e *Engine) CommitPending() (*Report, error) {
	if !e.reloading.tryLock() {
		return nil, nil
	}
	p := e.parked
	e.parked = nil
	if p == nil {
		e.reloading.unlock()
		return nil, nil
	}
	report, err := e.commitPrepared(context.Background(), p.g, p.start)
	e.reloading.unlock()
	e.finish(p.trigger, p.files, p.start, report, err)
	return report, err
}

// HasPending reports whether a prepared reload waits for CommitPending.
// It waits for a reload being prepared to end, so that its answer is
// exact: a host's loop calls CommitPending, which does not wait.
func (e *Engine) HasPending() bool {
	e.reloading.lockBackground()
	defer e.reloading.unlock()
	return e.parked != nil
}

// finish records, logs and reports the outcome of a reload.
func (e *Engine) finish(trigger string, files []string, start time.Time, report *Report, err error) {
	if errors.Is(err, ErrClosed) {
		return
	}
	e.failing.Store(err != nil)
	if err != nil {
		e.errsMu.Lock()
		e.errs = append(e.errs, err)
		if len(e.errs) > recentErrors {
			e.errs = slices.Delete(e.errs, 0, len(e.errs)-recentErrors)
		}
		e.errsMu.Unlock()
		// The first load's failure is New's error, for its caller to
		// report: no version runs to keep running.
		if gen := e.Generation(); gen > 0 {
			e.log.Error("hotlua: reload failed; the current version keeps running", "trigger", trigger, "generation", gen, "err", err)
		}
	} else {
		e.log.Info("hotlua: reloaded", "trigger", trigger, "generation", report.Generation, "report", report.String())
	}
	if e.opts.OnReload != nil {
		e.opts.OnReload(ReloadEvent{Trigger: trigger, Files: files, Generation: e.Generation(), Report: report, Err: err, Duration: time.Since(start)})
	}
}

// errUnchanged stops an automatic reload when no script's content differs
// from the current generation's.
var errUnchanged = errors.New("engine: no script changed")

// compile reads and compiles the scripts. Unless force is set, it stops
// with errUnchanged when no script differs from the running generation's.
func (e *Engine) compile(ctx context.Context, force bool) ([]*script, error) {
	srcs, err := e.protos.scan(e.roots, e.opts, force)
	if err != nil {
		return nil, err
	}
	if !force && e.unchanged(srcs) {
		return nil, errUnchanged
	}
	return e.protos.compile(ctx, srcs, e.opts.Limits)
}

// commitPrepared commits g, which prepare returned, under the engine's
// lock, which it waits for until ctx ends.
func (e *Engine) commitPrepared(ctx context.Context, g *generation, start time.Time) (*Report, error) {
	if err := e.lk.lock(ctx); err != nil {
		g.discard()
		return nil, err
	}
	return e.commitLocked(g, start, time.Now())
}

// commitLocked commits g and releases the engine's lock, which the caller
// took at locked. Report.Pause is how long it was held from then.
func (e *Engine) commitLocked(g *generation, start, locked time.Time) (*Report, error) {
	report, old, err := e.commitHeld(g, locked)
	if err != nil {
		return nil, err
	}
	return e.finishCommit(report, old, start), nil
}

// commitHeld commits g and releases the engine's lock, which the caller
// took at locked. It records the generation g replaced, returned as old
// (nil for none), among the retired before it releases the lock, so that
// Generations never misses it; the rest waits for finishCommit.
func (e *Engine) commitHeld(g *generation, locked time.Time) (report *Report, old *generation, err error) {
	if e.closed.Load() {
		e.lk.unlock()
		g.discard()
		return nil, nil, ErrClosed
	}
	report, old = e.commit(g)
	if old != nil {
		e.retiredMu.Lock()
		e.retired = append(e.retired, g.replaces)
		e.retiredMu.Unlock()
	}
	report.Pause = time.Since(locked)
	e.lk.unlock()
	return report, old, nil
}

// finishCommit does what a commit that replaced old leaves for after the
// engine's lock, since it runs no Lua and touches nothing calls share:
// it looks at the retired generations (see retire), sorts the report's
// lists and closes old's state.
func (e *Engine) finishCommit(report *Report, old *generation, start time.Time) *Report {
	if old != nil {
		report.Retained = e.retire()
	}
	slices.Sort(report.Changed)
	slices.Sort(report.Added)
	slices.SortFunc(report.Orphaned, func(a, b Orphan) int { return strings.Compare(a.Class, b.Class) })
	if old != nil {
		old.L.Close()
	}
	report.Duration = time.Since(start)
	return report
}

// unchanged reports whether srcs are exactly the current generation's scripts.
// Called with e.reloading held, which guards e.hashes against commits.
func (e *Engine) unchanged(srcs []source) bool {
	if len(srcs) != len(e.hashes) {
		return false
	}
	for _, s := range srcs {
		if h, ok := e.hashes[s.path]; !ok || h != s.hash {
			return false
		}
	}
	return true
}

// prepare loads scripts into a fresh state and runs the script-defined
// checks. It changes nothing the current generation uses, and holds up no
// call until the scripts reach shared state: from then on it holds the
// engine's lock (see generation.lockEngine) until prepare returns.
func (e *Engine) prepare(ctx context.Context, scripts []*script) (_ *generation, err error) {
	if e.isClosed() {
		return nil, ErrClosed
	}
	L := sandbox.NewState(sandbox.Config{Trusted: e.opts.Trusted, Limits: e.opts.Limits, Stdout: e.opts.Stdout, Stderr: e.opts.Stderr})
	g := newGeneration(e, e.genNum.Load()+1, L, scripts)
	defer func() {
		if err != nil {
			g.discard() // with the lock still held, if the load took it
		} else if g.locked {
			g.loaded()
		}
		g.unlockEngine()
	}()
	if err := e.bind.Install(L); err != nil {
		return nil, err
	}
	g.install()
	ctx, cancel := context.WithTimeout(ctx, e.opts.LoadTimeout)
	defer cancel()
	defer sandbox.Guard(L, ctx)()
	g.preparing = true
	defer func() { g.preparing = false }()
	L.Push(L.NewFunction(g.loadAll))
	if err := sandbox.PCall(L, 0, 0); g.lockErr != nil {
		return nil, g.lockErr
	} else if err != nil {
		return nil, scriptError(err, g.num)
	}
	for _, check := range g.checks {
		if err := runCheck(L, check, g.num); err != nil {
			return nil, err
		}
	}
	if g.undoErr != "" {
		return nil, &ScriptError{Message: g.undoErr, Generation: g.num}
	}
	g.hashes, g.files = e.scriptDiff(g)
	g.kept = g.keepLocals()
	g.stabilize()
	g.viewWrites = g.collectViewWrites()
	e.planCommit(g)
	return g, nil
}

// runCheck runs one hot.check function.
func runCheck(L *lua.LState, check *lua.LFunction, gen uint64) error {
	top := L.GetTop()
	defer L.SetTop(top)
	L.Push(check)
	if err := sandbox.PCall(L, 0, 2); err != nil {
		return scriptError(err, gen)
	}
	if L.Get(top+1) != lua.LFalse {
		return nil
	}
	msg := "check failed"
	switch m := L.Get(top + 2); m.Type() {
	case lua.LTNil:
	case lua.LTString, lua.LTNumber:
		msg += ": " + lua.LVAsString(m)
	default: // a table's reason still says what it is
		msg += ": " + m.String()
	}
	se := &ScriptError{Message: msg, Generation: gen}
	if check.Proto != nil {
		se.Path, se.Line = check.Proto.SourceName, check.Proto.LineDefined
	}
	return se
}

// commit makes g the current generation, and returns its report and the
// generation it replaced (nil for the first), whose state the caller closes
// once it released the engine's lock. Called with that lock (e.lk) held.
//
// Unless it adds classes or objects, or runs hooks, it allocates nothing:
// prepare planned it (planCommit), so that a garbage collection under way
// cannot make it wait to assist.
func (e *Engine) commit(g *generation) (report *Report, old *generation) {
	if len(e.handles) != g.handlesAtPrepare {
		// Handles were added since prepare planned. No path does that today
		// (a parked generation is discarded before another commits); the
		// check keeps a stale plan from ever being applied.
		e.planCommit(g)
	}
	defer e.lk.end(e.lk.begin(g.commitTask))
	hooks := commitHooks{e: e, task: g.commitTask.what}
	defer hooks.stop()
	old, report = e.gen, g.report
	report.Held, report.HeldBy = g.held, g.heldBy
	if old != nil {
		report.Previous = old.num
		if len(old.handlers["unload"]) > 0 {
			ctx, done := hooks.start("unload handlers")
			report.HookErrors = append(report.HookErrors, old.emit(ctx, old.L, "unload")...)
			done()
		}
	}

	swaps := g.swaps
	e.adoptIdentities(g, old)
	for i := range g.repoints {
		r := &g.repoints[i]
		if r.from == nil {
			e.handles[r.cv.name] = r.h
			if old != nil {
				report.Added = append(report.Added, r.cv.name)
			}
			continue
		}
		r.h.repoint(r.cv, r.writes)
		if r.changed || r.h.hasPinned {
			swaps = append(swaps, swap{r.h, r.from, r.changed})
		}
	}
	g.repoints, g.swaps = nil, nil
	for _, p := range g.pending {
		switch cv := g.classes[p.mt]; {
		case g.isClassTable(p.obj):
			// A class extending another (setmetatable(Sub, Base)): the
			// merge gave it its metatable; it is no object.
		case cv != nil && cv.table == p.mt:
			e.attach(p.obj, cv)
		case p.mt == nil:
			p.obj.Metatable = lua.LNil
		default:
			p.obj.Metatable = p.mt
		}
	}
	g.pending = nil
	for _, w := range g.viewWrites {
		w.apply()
	}
	for k, v := range g.newPersist {
		e.persist[k] = v
	}
	g.newPersist, g.viewWrites = nil, nil
	g.persistPre, g.persistPost, g.persistSeen = nil, nil, nil
	g.committed = true
	e.gen, e.L = g, g.L
	clear(e.strikes)
	e.hashes = g.hashes
	e.genNum.Store(g.num)

	for _, name := range g.orphans {
		report.Orphaned = append(report.Orphaned, Orphan{Class: name, Objects: len(e.handles[name].objects())})
	}
	for _, s := range swaps {
		if s.changed {
			report.Changed = append(report.Changed, s.h.name)
		}
		if !e.opts.ManualSwap {
			e.migrate(&hooks, s.h, s.prev, s.changed, report)
		}
	}
	if old != nil {
		// The last call's function (kept for busy errors) would keep the
		// old generation in memory.
		e.lk.fn.Store(nil)
		if len(g.handlers["reload"]) > 0 {
			ctx, done := hooks.start("reload handlers")
			report.HookErrors = append(report.HookErrors, g.emit(ctx, g.L, "reload", lua.LNumber(old.num))...)
			done()
		}
	}
	g.report = nil
	return report, old
}

// swap is a class whose objects a commit may migrate: its version changed,
// or objects were pinned to an old one.
type swap struct {
	h       *handle
	prev    *classVersion
	changed bool // the version hash changed (else: only pinned objects to retry)
}

// commitHooks is what the hooks of one commit share: a deadline of
// Options.LoadTimeout, from the first hook on (a hook that loops cannot
// hold calls up for longer), and the commit's description for the busy
// errors of calls that give up meanwhile.
type commitHooks struct {
	e      *Engine
	task   string // "commit of generation N"
	ctx    context.Context
	cancel context.CancelFunc
}

// start describes the commit as running what, and returns the hooks'
// context and the function that ends the description.
func (c *commitHooks) start(what string) (context.Context, func()) {
	if c.ctx == nil {
		c.ctx, c.cancel = context.WithTimeout(context.Background(), c.e.opts.LoadTimeout)
	}
	return c.ctx, c.e.lk.doing(c.task + " (" + what + ")")
}

// stop releases the deadline's timer.
func (c *commitHooks) stop() {
	if c.cancel != nil {
		c.cancel()
	}
}

// planCommit works out what g's commit does, so that the commit, which
// holds calls up, only writes: the classes g lacks (g.orphans), how the
// handle of each class of g is repointed (g.repoints), and room for the
// report's lists and the classes to migrate. Prepare calls it, with
// e.reloading held: only a commit changes handles (it adds them, never
// removes them, and repoints them) and the current generation, and
// commits hold e.reloading too. The commit calls it
// again, with the engine's lock (e.lk) held, if handles were added since.
func (e *Engine) planCommit(g *generation) {
	g.orphans = g.orphans[:0]
	for name := range e.handles {
		if g.byName[name] == nil {
			g.orphans = append(g.orphans, name)
		}
	}
	g.repoints = make([]repoint, len(g.order))
	changed, added := 0, 0
	for i, cv := range g.order {
		h := e.handles[cv.name]
		if h == nil {
			g.repoints[i] = repoint{cv: cv, h: newHandle(cv.name, cv)}
			added++
			continue
		}
		r := repoint{cv: cv, h: h, from: h.cur, changed: h.cur.version.Hash != cv.version.Hash, writes: metaWrites(h.copied, cv.meta)}
		if r.changed {
			changed++
		}
		g.repoints[i] = r
	}
	g.handlesAtPrepare = len(e.handles)
	g.swaps = withRoom[swap](changed + e.pinnedHandles)
	g.report = &Report{Generation: g.num, Files: g.files, Changed: withRoom[string](changed), Orphaned: withRoom[Orphan](len(g.orphans))}
	if e.gen != nil {
		g.report.Added = withRoom[string](added)
		g.replaces = retiredGeneration{num: e.gen.num, globals: weak.Make(e.gen.L.G.Global)}
	}
	g.commitTask = &task{what: fmt.Sprintf("commit of generation %d", g.num)}
}

// withRoom returns an empty slice with room for n elements, nil for none.
func withRoom[T any](n int) []T {
	if n == 0 {
		return nil
	}
	return make([]T, 0, n)
}

// repoint is what a commit does to the handle of one class of its
// generation, worked out by planCommit.
type repoint struct {
	cv      *classVersion
	h       *handle       // the class's handle; a new one, not yet in e.handles, when from is nil
	from    *classVersion // the version h presents until the commit
	changed bool          // cv's version hash differs from from's
	writes  []metaField   // what h.repoint writes into h's table
}

// scriptDiff returns the hashes of g's scripts, by path, and the paths
// added, changed or removed since the current generation, sorted. Called
// by prepare, with e.reloading held, so that the commit does not hash.
func (e *Engine) scriptDiff(g *generation) (map[string][sha256.Size]byte, []string) {
	hashes := make(map[string][sha256.Size]byte, len(g.scripts))
	var files []string
	for _, s := range g.scripts {
		hashes[s.path] = s.hash
		if h, ok := e.hashes[s.path]; !ok || h != s.hash {
			files = append(files, s.path)
		}
	}
	for p := range e.hashes {
		if _, ok := hashes[p]; !ok {
			files = append(files, p)
		}
	}
	slices.Sort(files)
	return hashes, files
}

// attach gives obj the handle of class version cv and tracks it. Called
// with the engine's lock (e.lk) held.
func (e *Engine) attach(obj *lua.LTable, cv *classVersion) {
	owner := e.handles[cv.name]
	target := owner
	if e.opts.ManualSwap {
		target = cv.frozenHandle(owner)
	}
	if obj.Metatable == target.t {
		return
	}
	obj.Metatable = target.t
	owner.track(obj)
}

// frozenHandle returns a handle that stays on cv, owned by the class's
// automatic handle, making it on first use.
func (cv *classVersion) frozenHandle(owner *handle) *handle {
	if cv.frozen == nil {
		cv.frozen = newHandle(cv.name, cv)
		cv.frozen.owner = owner
	}
	return cv.frozen
}

// emit calls the handlers of event registered by generation g, on L, and
// returns their errors. ctx bounds them.
func (g *generation) emit(ctx context.Context, L *lua.LState, event string, args ...lua.LValue) []error {
	if len(g.handlers[event]) == 0 {
		return nil
	}
	defer sandbox.Guard(L, ctx)()
	var errs []error
	for _, fn := range g.handlers[event] {
		top := L.GetTop()
		L.Push(fn)
		for _, a := range args {
			L.Push(a)
		}
		if err := sandbox.PCall(L, len(args), 0); err != nil {
			se := scriptError(err, g.num)
			se.Method = "hot.on(" + event + ")"
			errs = append(errs, se)
			g.e.log.Warn("hotlua: event handler failed", "event", event, "err", se)
		}
		L.SetTop(top)
	}
	return errs
}

// Emit calls the current generation's handlers of event, registered by
// scripts with hot.on(event, fn), with args converted to Lua.
func (e *Engine) Emit(ctx context.Context, event string, args ...any) error {
	return e.Do(ctx, func(L *lua.LState) error {
		lvs := make([]lua.LValue, len(args))
		for i, a := range args {
			lv, err := e.toLua(L, a)
			if err != nil {
				return err
			}
			lvs[i] = lv
		}
		return errors.Join(e.gen.emit(ctx, L, event, lvs...)...)
	})
}

// Generation returns the current generation's number: 1 after New, one
// more after each committed reload.
func (e *Engine) Generation() uint64 { return e.genNum.Load() }

// lockBackground takes the engine's lock, waiting as long as it takes: for
// bookkeeping that runs no Lua code and has no context.
func (e *Engine) lockBackground() { e.lk.lockBackground() }

func (e *Engine) isClosed() bool { return e.closed.Load() }

// Errors returns the most recent reload errors, oldest first.
func (e *Engine) Errors() []error {
	e.errsMu.Lock()
	defer e.errsMu.Unlock()
	return slices.Clone(e.errs)
}

// Close stops watching, runs the current generation's "unload" handlers
// and releases the engine. Later calls fail with ErrClosed. Close is idempotent.
func (e *Engine) Close() error {
	e.watching.stop()
	e.reloading.lockBackground()
	defer e.reloading.unlock()
	e.discardParked()
	e.lockBackground()
	defer e.lk.unlock()
	if e.closed.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.LoadTimeout)
	defer cancel()
	errs := e.gen.emit(ctx, e.L, "unload")
	e.closed.Store(true)
	e.L.Close()
	e.L = nil
	return errors.Join(errs...)
}

// Do runs fn with exclusive use of the current generation's state, as one
// call: no other call and no commit runs until fn returns. fn must not keep
// L, nor any value from it beyond what the engine's own types hold. A Lua
// error raised inside fn (by L.Call, L.RaiseError ...) is returned as a
// *ScriptError; ctx, when it can be cancelled, interrupts Lua code.
func (e *Engine) Do(ctx context.Context, fn func(L *lua.LState) error) error {
	if err := e.lk.lock(ctx); err != nil {
		return err
	}
	defer e.lk.unlock()
	if e.closed.Load() {
		return ErrClosed
	}
	defer e.lk.doing(labelOf(ctx, "Engine.Do"))()
	L := e.L
	defer sandbox.Guard(L, ctx)()
	top := L.GetTop()
	defer L.SetTop(top)
	var fnErr error
	L.Push(L.NewFunction(func(L *lua.LState) int {
		fnErr = fn(L)
		return 0
	}))
	if err := sandbox.PCall(L, 0, 0); err != nil {
		return scriptError(err, e.gen.num)
	}
	return fnErr
}

// ClassInfo describes a class of the current generation. It is a plain
// value, a snapshot.
type ClassInfo struct {
	Name    string
	Version Version
	Objects int // live objects that carry the class
}

// Classes lists the classes of the current generation, by name.
func (e *Engine) Classes() []ClassInfo {
	e.lockBackground()
	defer e.lk.unlock()
	var out []ClassInfo
	if e.closed.Load() {
		return nil
	}
	for _, cv := range e.gen.order {
		out = append(out, ClassInfo{Name: cv.name, Version: cv.version, Objects: len(e.handles[cv.name].objects())})
	}
	slices.SortFunc(out, func(a, b ClassInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Class returns the current version of the class called name.
func (e *Engine) Class(name string) (*Class, error) {
	e.lockBackground()
	defer e.lk.unlock()
	cv, err := e.classVersion(name)
	if err != nil {
		return nil, err
	}
	return &Class{e: e, cv: cv}, nil
}

// classVersion returns the current generation's class called name. Called
// with the engine's lock (e.lk) held.
func (e *Engine) classVersion(name string) (*classVersion, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	if cv := e.gen.byName[name]; cv != nil {
		return cv, nil
	}
	var defined []string // by the module of that name: a hot.class name mistyped
	for _, cv := range e.gen.order {
		if cv.module == name {
			defined = append(defined, cv.name)
		}
	}
	if len(defined) > 0 {
		return nil, fmt.Errorf("%w: %s (module %s defines %s)", ErrNoClass, name, name, strings.Join(defined, ", "))
	}
	return nil, fmt.Errorf("%w: %s", ErrNoClass, name)
}

// UpdatedClass returns the current version of c's class and true when it is
// newer than c: the Go form of Python's get_updated_class. It returns c and
// false when c is current or its class is no longer defined.
func (e *Engine) UpdatedClass(c *Class) (*Class, bool) {
	cur, err := e.Class(c.Name())
	if err != nil || cur.cv == c.cv {
		return c, false
	}
	return cur, true
}

// Objects returns the live objects of the class called name.
func (e *Engine) Objects(name string) []*Object {
	e.lockBackground()
	defer e.lk.unlock()
	h := e.handles[name]
	if h == nil || e.closed.Load() {
		return nil
	}
	var out []*Object
	for _, t := range h.objects() {
		out = append(out, &Object{e: e, t: t})
	}
	return out
}
