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
// script chooses the name of a chunk it loads (loadstring(s, "x.lua")), so
// only a regular file of at most maxScriptRead bytes is read: not a device
// such as /dev/zero, a pipe, or a huge file, which would never end or fill
// the host's memory.
func (t engineTarget) ReadScript(path string) ([]byte, error) {
	if !filepath.IsLocal(filepath.FromSlash(path)) {
		return nil, fmt.Errorf("console: %s is not a script path", path)
	}
	var firstErr error
	for _, root := range t.e.Roots() {
		data, err := readScript(filepath.Join(root, filepath.FromSlash(path)))
		if err == nil {
			return data, nil
		}
		firstErr = cmp.Or(firstErr, err)
	}
	return nil, firstErr
}

// readScript reads the regular file at name, of at most maxScriptRead
// bytes. It looks before it opens, since opening a pipe waits for a writer.
func readScript(name string) ([]byte, error) {
	if fi, err := os.Stat(name); err != nil || !fi.Mode().IsRegular() {
		return nil, cmp.Or(err, fmt.Errorf("console: %s is not a regular file", name))
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("console: %s is not a regular file", name)
	case fi.Size() > maxScriptRead:
		return nil, fmt.Errorf("console: %s is too large to show (%d bytes, max %d)", name, fi.Size(), maxScriptRead)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxScriptRead+1))
	if err == nil && len(data) > maxScriptRead {
		err = fmt.Errorf("console: %s is too large to show (more than %d bytes)", name, maxScriptRead)
	}
	return data, err
}

func (t engineTarget) Errors() []string {
	var out []string
	for _, err := range t.e.Errors() {
		out = append(out, err.Error())
	}
	return out
}
