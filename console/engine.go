package console

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/engine"
	"github.com/hotlua/hotlua/internal/watch"
)

// ForEngine returns the Target for a hotlua engine: what a program passes
// to [Serve] or [Run] to give operators a console on its live scripts.
func ForEngine(e *engine.Engine) Target { return engineTarget{e} }

// engineTarget adapts *engine.Engine, which is safe for concurrent use, to
// Target.
type engineTarget struct{ e *engine.Engine }

func (t engineTarget) Do(ctx context.Context, fn func(L *lua.LState) error) error {
	return t.e.Do(engine.Labeled(ctx, "console evaluation"), fn)
}

func (t engineTarget) Describe(v lua.LValue) (class, version string, ok bool) {
	class, ver, ok := t.e.Describe(v)
	return class, ver.String(), ok
}

func (t engineTarget) Reload(ctx context.Context) (string, error) {
	r, err := t.e.Reload(ctx)
	if err != nil {
		return "", err
	}
	return "reloaded: " + r.String(), nil
}

func (t engineTarget) Version() string { return fmt.Sprintf("generation %d", t.e.Generation()) }

func (t engineTarget) Classes() []string {
	var out []string
	for _, c := range t.e.Classes() {
		out = append(out, fmt.Sprintf("%s %s (%d objects)", c.Name, c.Version, c.Objects))
	}
	return out
}

// Generations lists the engine's generations in memory, after a garbage
// collection so that the list is exact.
func (t engineTarget) Generations() []string {
	runtime.GC()
	var out []string
	for _, g := range t.e.Generations() {
		line := fmt.Sprintf("generation %d", g.Number)
		if g.Current {
			line += " (current)"
		} else if len(g.Holders) == 0 {
			line += ": held by something not listed (a console session, a coroutine, a nested table)"
		} else {
			line += ": held by " + strings.Join(g.Holders, "; ")
		}
		out = append(out, line)
	}
	return out
}

func (t engineTarget) Objects(L *lua.LState, class string) []*lua.LTable {
	return t.e.ObjectsInDo(L, class)
}

// maxScriptRead is the largest script ReadScript reads: far above what
// the engine loads by default (1 MiB), and far below what would hurt.
const maxScriptRead = 16 << 20

// ReadScript reads path in the first root that has it. A function's source
// name is its script's path relative to its root, with slashes, but a
// script chooses the name of a chunk it loads (loadstring(s, "ext/passwd")),
// so only what the engine would load as a script is read: a .lua file the
// engine's walk includes, whose symbolic links, resolved, lead nowhere out
// of the tree the root resolves to, and a regular file of at most
// maxScriptRead bytes, not a device such as /dev/zero, a pipe, or a huge
// file, which would never end or fill the host's memory.
func (t engineTarget) ReadScript(path string) ([]byte, error) {
	if !filepath.IsLocal(filepath.FromSlash(path)) || !watch.DefaultInclude(path) {
		return nil, fmt.Errorf("console: %s is not a script path (a .lua file under a script root)", path)
	}
	var firstErr error
	for _, root := range t.e.Roots() {
		data, err := readScript(root, filepath.FromSlash(path))
		if err == nil {
			return data, nil
		}
		firstErr = cmp.Or(firstErr, err)
	}
	return nil, firstErr
}

// readScript reads the regular file at rel under root, of at most
// maxScriptRead bytes, if it lies inside the tree root resolves to once
// its symbolic links are resolved. It opens the resolved file through an
// [os.Root] of that tree, so that a link swapped in meanwhile cannot lead
// out of it either, and looks before it opens, since opening a pipe waits
// for a writer.
func readScript(root, rel string) ([]byte, error) {
	tree, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	target, err := filepath.EvalSymlinks(filepath.Join(tree, rel))
	if err != nil {
		return nil, err
	}
	inTree, err := filepath.Rel(tree, target)
	if err != nil || !filepath.IsLocal(inTree) {
		return nil, fmt.Errorf("console: %s leads out of the script root %s (to %s)", filepath.ToSlash(rel), root, target)
	}
	r, err := os.OpenRoot(tree)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if fi, err := r.Stat(inTree); err != nil || !fi.Mode().IsRegular() {
		return nil, cmp.Or(err, fmt.Errorf("console: %s is not a regular file", target))
	}
	f, err := r.Open(inTree)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("console: %s is not a regular file", target)
	case fi.Size() > maxScriptRead:
		return nil, fmt.Errorf("console: %s is too large to show (%d bytes, max %d)", target, fi.Size(), maxScriptRead)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxScriptRead+1))
	if err == nil && len(data) > maxScriptRead {
		err = fmt.Errorf("console: %s is too large to show (more than %d bytes)", target, maxScriptRead)
	}
	return data, err
}

// Loaded reports whether data is the text of the script path the current
// generation loaded (see [engine.Engine.Loaded]).
func (t engineTarget) Loaded(ctx context.Context, path string, data []byte) (bool, error) {
	return t.e.Loaded(ctx, path, data)
}

// Limits returns the engine's limits, which console input is held to.
func (t engineTarget) Limits() engine.Limits { return t.e.Limits() }

func (t engineTarget) Errors() []string {
	var out []string
	for _, err := range t.e.Errors() {
		out = append(out, err.Error())
	}
	return out
}
