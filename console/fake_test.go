package console

import (
	"context"
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// fakeTarget stands in for the engine: each Reload builds a fresh state,
// runs classScript in it and moves live objects to the new classes.
type fakeTarget struct {
	sem     chan struct{}         // held by Do and Reload
	persist map[string]lua.LValue // hot.persist, across reloads
	L       *lua.LState
	gen     int
	objects []*lua.LTable
	errs    []string
	broken  bool // the next Reload fails
}

const classScript = `
Player = {__name = "Player"}
Player.__index = Player
function Player.new(name)
	local p = setmetatable({name = name, hp = 10}, Player)
	register(p)
	return p
end
function Player:greet() return "hello " .. self.name .. " from generation " .. GEN end
`

// classFile is classScript's source name.
const classFile = "classes/player.lua"

func newFakeTarget() *fakeTarget {
	t := &fakeTarget{sem: make(chan struct{}, 1), persist: map[string]lua.LValue{}}
	if _, err := t.Reload(context.Background()); err != nil {
		panic(err)
	}
	return t
}

func (t *fakeTarget) lock(ctx context.Context) error {
	select {
	case t.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *fakeTarget) unlock() { <-t.sem }

func (t *fakeTarget) Do(ctx context.Context, fn func(L *lua.LState) error) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	defer t.unlock()
	t.L.SetContext(ctx)
	defer t.L.RemoveContext()
	return fn(t.L)
}

func (t *fakeTarget) Describe(v lua.LValue) (class, version string, ok bool) {
	tbl, ok := v.(*lua.LTable)
	if !ok {
		return "", "", false
	}
	mt, ok := tbl.Metatable.(*lua.LTable)
	if !ok {
		return "", "", false
	}
	name, ok := mt.RawGetString("__name").(lua.LString)
	if !ok {
		return "", "", false
	}
	return string(name), fmt.Sprintf("v%d", t.gen), true
}

func (t *fakeTarget) Reload(ctx context.Context) (string, error) {
	if err := t.lock(ctx); err != nil {
		return "", err
	}
	defer t.unlock()
	if t.broken {
		t.broken = false
		t.errs = append(t.errs, "classes/player.lua:3:7: '=' expected near 'end'")
		return "", errors.New("reload failed: " + t.errs[len(t.errs)-1])
	}
	L := lua.NewState()
	L.SetGlobal("GEN", lua.LNumber(t.gen+1))
	L.SetGlobal("register", L.NewFunction(func(L *lua.LState) int {
		t.objects = append(t.objects, L.CheckTable(1))
		return 0
	}))
	L.SetGlobal("break_next_reload", L.NewFunction(func(*lua.LState) int {
		t.broken = true
		return 0
	}))
	L.SetGlobal("hot", t.hot(L))
	fn, err := L.Load(strings.NewReader(classScript), classFile)
	if err != nil {
		return "", err
	}
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		return "", err
	}
	for _, o := range t.objects {
		name := o.Metatable.(*lua.LTable).RawGetString("__name").String()
		o.Metatable = L.GetGlobal(name)
	}
	if t.L != nil {
		t.L.Close()
	}
	t.L = L
	t.gen++
	return fmt.Sprintf("reloaded: generation %d, %d objects moved", t.gen, len(t.objects)), nil
}

// hot returns the fake's hot module: persist only, as the engine's.
func (t *fakeTarget) hot(L *lua.LState) *lua.LTable {
	return L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{"persist": func(L *lua.LState) int {
		key := L.CheckString(1)
		if _, ok := t.persist[key]; !ok {
			v := L.Get(2)
			if fn, ok := v.(*lua.LFunction); ok {
				L.Push(fn)
				L.Call(0, 1)
				v = L.Get(-1)
			}
			t.persist[key] = v
		}
		L.Push(t.persist[key])
		return 1
	}})
}

// locked runs f holding the state, for the methods called outside Do.
func locked[T any](t *fakeTarget, f func() T) T {
	_ = t.lock(context.Background())
	defer t.unlock()
	return f()
}

func (t *fakeTarget) Version() string {
	return locked(t, func() string { return fmt.Sprintf("generation %d", t.gen) })
}

func (t *fakeTarget) Classes() []string {
	return locked(t, t.classes)
}

func (t *fakeTarget) classes() []string {
	return []string{fmt.Sprintf("Player v%d (%d objects)", t.gen, len(t.objects))}
}

func (t *fakeTarget) Objects(_ *lua.LState, class string) []*lua.LTable {
	var out []*lua.LTable
	for _, o := range t.objects {
		if class == "" || class == o.Metatable.(*lua.LTable).RawGetString("__name").String() {
			out = append(out, o)
		}
	}
	return out
}

func (t *fakeTarget) ReadScript(path string) ([]byte, error) {
	if path != classFile {
		return nil, fmt.Errorf("%s: no such script", path)
	}
	return []byte(classScript), nil
}

func (t *fakeTarget) Errors() []string {
	return locked(t, func() []string { return append([]string(nil), t.errs...) })
}

// transcriptLine renders an event as a transcript shows it: errors with a
// "! " before every line.
func transcriptLine(e Event) string {
	if e.Kind == Error {
		return "! " + strings.ReplaceAll(e.Text, "\n", "\n! ")
	}
	return e.Text
}
