package engine

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hotlua/hotlua/internal/sandbox"
	"github.com/hotlua/hotlua/internal/watch"
)

// ErrClassUndefined is wrapped by the error of a reload that would have
// left live objects' class undefined while the script that defined it
// still exists (see [Engine.Reload]).
var ErrClassUndefined = errors.New("engine: a script no longer defines a class that live objects use")

// errResaved makes reloadGroup start again: a script looked at by
// settleUndefined changed meanwhile.
var errResaved = errors.New("engine: a script changed while the reload looked at it")

// settleWait is how long a reload waits before it looks again at a script
// that seems to no longer define a class with live objects.
const settleWait = 100 * time.Millisecond

// waitToSettle waits settleWait, or until ctx ends. Tests replace it.
var waitToSettle = func(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(settleWait):
		return nil
	}
}

// undefinedClass is a class with live objects that a prepared generation
// no longer defines, although the script that defined it is still there.
type undefinedClass struct {
	class   string
	objects int
	script  source // as the reload read it
}

// settleUndefined refuses to let a half-written save orphan a class. When
// a prepared generation lacks a class that live objects use, and the script
// that defined it still exists, it waits settleWait and reads the script
// again: errResaved when it changed (the caller starts again, until
// Options.MaxWait after start), or else an error naming the script and the
// class. A script deleted for good orphans its classes, as the report
// says. Called with the engines' reloading locks held.
func settleUndefined(ctx context.Context, engines []*Engine, gens []*generation, start time.Time) error {
	var found []undefinedClass
	for i, e := range engines {
		undefined, err := e.undefinedClasses(ctx, gens[i])
		if err != nil {
			return err
		}
		for _, u := range undefined {
			if !slices.ContainsFunc(found, func(f undefinedClass) bool { return f.class == u.class }) {
				found = append(found, u)
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	e := engines[0]
	if err := waitToSettle(ctx); err != nil {
		return fmt.Errorf("engine: reload stopped while waiting for %s to settle: %w", found[0].script.path, err)
	}
	maxWait := e.opts.MaxWait
	if maxWait <= 0 {
		maxWait = time.Second
	}
	var errs []error
	for _, u := range found {
		data, _, err := watch.ReadFile(filepath.Join(u.script.root, filepath.FromSlash(u.script.path)), sourceLimit(e.opts.Limits))
		still := err == nil && sha256.Sum256(sandbox.SkipShebang(data)) == u.script.hash // hashed as scanned
		if !still && time.Since(start) < maxWait {
			return errResaved
		}
		what := "it did not change when read again"
		if !still {
			what = "it kept changing"
		}
		errs = append(errs, &ScriptError{
			Path: u.script.path,
			Message: fmt.Sprintf("no longer defines class %s, which %d live objects use (%s): the reload is not committed; "+
				"define the class again, or delete the script to retire it", u.class, u.objects, what),
			Err: ErrClassUndefined,
		})
	}
	return joinErrors(errs)
}

// undefinedClasses lists the classes with live objects that g does not
// define although g still has the script that defined them. The candidates
// are among the classes prepare found g lacks (g.orphans), and are found
// without the engine's lock: only commits change handles, and the caller
// holds e.reloading, as commits do. Only counting their objects takes the
// lock, so a reload that keeps every class does not hold calls up here.
func (e *Engine) undefinedClasses(ctx context.Context, g *generation) ([]undefinedClass, error) {
	var candidates []*handle
	for _, name := range g.orphans {
		h := e.handles[name]
		if h.cur == nil || h.cur.module == "" || g.scripts[h.cur.module] == nil {
			continue // not a module's class, or its script was deleted for good
		}
		candidates = append(candidates, h)
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	slices.SortFunc(candidates, func(a, b *handle) int { return strings.Compare(a.name, b.name) })
	if err := e.lk.lock(ctx); err != nil {
		return nil, err
	}
	defer e.lk.unlock()
	var out []undefinedClass
	for _, h := range candidates {
		if n := len(h.objects()); n > 0 {
			out = append(out, undefinedClass{class: h.name, objects: n, script: g.scripts[h.cur.module].source})
		}
	}
	return out, nil
}
