package engine

import (
	"context"
	"crypto/sha256"
	"maps"
	"slices"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/internal/sandbox"
)

// Roots returns the script roots, as the engine resolved them from
// Options.Roots. Tools such as the console read a script's source through
// them: a function's source name is its path relative to its root.
func (e *Engine) Roots() []string { return append([]string(nil), e.roots...) }

// Limits returns the limits the engine's states and scripts are held to,
// as Options.Limits gave them (a zero field is its default). Safe for
// concurrent use.
func (e *Engine) Limits() Limits { return e.opts.Limits }

// ObjectsInDo returns the tables of the live objects of the class called
// name, or of every class (in the order of their names) when name is "",
// for code running inside [Engine.Do] with the state L that Do passed: Do
// holds the engine, so [Engine.Objects] would wait for itself there. It returns nil for any
// other state, and must not be called outside Do.
func (e *Engine) ObjectsInDo(L *lua.LState, name string) []*lua.LTable {
	if L != e.L || e.closed.Load() {
		return nil
	}
	if name != "" {
		if h := e.handles[name]; h != nil {
			return h.objects()
		}
		return nil
	}
	var out []*lua.LTable
	for _, name := range slices.Sorted(maps.Keys(e.handles)) { // the same order each time
		out = append(out, e.handles[name].objects()...)
	}
	return out
}

// Loaded reports whether data is the text the current generation loaded
// for the script at path (relative to its root, slash-separated, as a
// function's source name has it): false when the file changed since, as
// after a save that failed to reload, or when the generation has no such
// script. A console showing a method's source lines from the file says so.
// It waits for the engine as a call does, bounded by ctx; do not call it
// inside [Engine.Do], which holds the engine. Safe for concurrent use.
func (e *Engine) Loaded(ctx context.Context, path string, data []byte) (bool, error) {
	if err := e.lk.lock(ctx); err != nil {
		return false, err
	}
	defer e.lk.unlock()
	if e.closed.Load() {
		return false, ErrClosed
	}
	s := e.gen.scripts[ModuleName(path)]
	return s != nil && s.path == path && s.hash == sha256.Sum256(sandbox.SkipShebang(data)), nil
}
