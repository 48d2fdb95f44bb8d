package engine

import (
	"context"
	"errors"
	"maps"
	"slices"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/internal/sandbox"
)

// CheckResult describes a script set that [Check] found no problem in. It
// is a plain value.
type CheckResult struct {
	Scripts int      // scripts read
	Classes []string // classes the scripts define, sorted
}

// Check reads, compiles and loads the scripts under opts.Roots as [New]
// would, in a state it then discards, and runs the checks they register
// with hot.check, reporting every problem it can find instead of the
// first: each file the source check or the compiler refuses, each module
// whose top level fails (with its error, or, for a module that requires
// a failed one, "module 'x' failed to load" where it requires it), and
// each check that fails. The problems are
// *ScriptError values, one per line, joined with [errors.Join]. No
// engine is kept; ctx and opts.LoadTimeout bound the loading. Check is
// safe for concurrent use.
func Check(ctx context.Context, opts Options) (*CheckResult, error) {
	e, err := unloaded(opts, &protoCache{})
	if err != nil {
		return nil, err
	}
	srcs, err := e.protos.scan(e.roots, e.opts, true)
	var problems []error
	if err != nil {
		if _, ok := errors.AsType[*ScriptError](err); !ok {
			return nil, err // a root that cannot be read
		}
		problems = append(problems, err)
	}
	var scripts []*script
	var refused []string // modules that did not compile: requiring one fails to load, not "not found"
	for _, s := range srcs {
		proto, err := compileSource(s, e.opts.Limits)
		if err != nil {
			problems = append(problems, err)
			refused = append(refused, s.module)
			continue
		}
		scripts = append(scripts, &script{source: s, proto: proto})
	}
	classes, err := e.checkLoad(ctx, scripts, refused)
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return &CheckResult{Scripts: len(srcs), Classes: classes}, nil
}

// checkLoad loads scripts in a fresh state, every module even after one
// fails, then runs the checks, and returns the classes defined and every
// error, joined. The modules of refused, which did not compile, count as
// failed to load.
func (e *Engine) checkLoad(ctx context.Context, scripts []*script, refused []string) ([]string, error) {
	L := sandbox.NewState(sandbox.Config{Trusted: e.opts.Trusted, Limits: e.opts.Limits, Stdout: e.opts.Stdout, Stderr: e.opts.Stderr})
	g := newGeneration(e, 1, L, scripts)
	defer g.discard()
	defer g.unlockEngine()
	if err := e.bind.Install(L); err != nil {
		return nil, err
	}
	g.install()
	g.failed = map[string]bool{}
	for _, name := range refused {
		g.failed[name] = true
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.LoadTimeout)
	defer cancel()
	defer sandbox.Guard(L, ctx)()
	g.preparing = true
	for _, name := range slices.Sorted(maps.Keys(g.scripts)) {
		if _, done := g.modules[name]; done || g.failed[name] {
			continue
		}
		s := g.scripts[name]
		L.Push(L.NewFunction(func(L *lua.LState) int { g.load(L, s); return 0 }))
		if err := sandbox.PCall(L, 0, 0); err != nil && !g.failed[name] {
			g.checkErrs = append(g.checkErrs, scriptError(err, g.num)) // load records its own
		}
	}
	for _, check := range g.checks {
		if err := runCheck(L, check, g.num); err != nil {
			g.checkErrs = append(g.checkErrs, err)
		}
	}
	var classes []string
	for _, cv := range g.order {
		classes = append(classes, cv.name)
	}
	slices.Sort(classes)
	return classes, errors.Join(g.checkErrs...)
}
