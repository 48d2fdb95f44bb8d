package console

import (
	"context"
	"fmt"

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
	return t.e.Do(ctx, fn)
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

// maxObjectLines bounds what :objects prints for one request.
const maxObjectLines = 200

func (t engineTarget) Objects(class string) []string {
	names := []string{class}
	if class == "" {
		names = names[:0]
		for _, c := range t.e.Classes() {
			names = append(names, c.Name)
		}
	}
	var objs []*engine.Object
	for _, name := range names {
		objs = append(objs, t.e.Objects(name)...)
	}
	more := len(objs) - maxObjectLines
	objs = objs[:min(len(objs), maxObjectLines)]
	var out []string
	p := &printer{style: resultStyle, describe: t.Describe}
	t.e.Do(context.Background(), func(*lua.LState) error {
		for _, o := range objs {
			out = append(out, p.format(o.Table()))
		}
		return nil
	})
	if more > 0 {
		out = append(out, fmt.Sprintf("... (%d more)", more))
	}
	return out
}

func (t engineTarget) Errors() []string {
	var out []string
	for _, err := range t.e.Errors() {
		out = append(out, err.Error())
	}
	return out
}
