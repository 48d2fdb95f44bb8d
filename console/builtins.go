package console

import (
	"fmt"
	"slices"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// installBuiltins sets the session's own globals: print, help, obj and
// objects.
func (s *Session) installBuiltins(L *lua.LState) {
	L.SetFuncs(s.builtins, map[string]lua.LGFunction{
		"print":   s.print,
		"help":    s.helpFn,
		"obj":     s.objFn,
		"objects": s.objectsFn,
	})
}

// objFn is obj(id): the live object the console showed as #id.
func (s *Session) objFn(L *lua.LState) int {
	id := L.CheckInt(1)
	t := s.objectByID(L, id)
	if t == nil {
		L.RaiseError("%s", noLiveObject(id))
	}
	L.Push(t)
	return 1
}

// objectByID returns the live object numbered id, or nil. A number not
// given yet is looked for after numbering every live object, as :objects
// does, so that obj(12) works before anything was listed.
func (s *Session) objectByID(L *lua.LState, id int) *lua.LTable {
	if t := s.ns.ids.lookup(id); t != nil {
		return t
	}
	s.liveObjects(L, "")
	return s.ns.ids.lookup(id)
}

// objectsFn is objects([class]): a list of the live objects of class, or of
// every class, ordered by their numbers.
func (s *Session) objectsFn(L *lua.LState) int {
	list := L.NewTable()
	for _, o := range s.liveObjects(L, L.OptString(1, "")) {
		list.Append(o)
	}
	L.Push(list)
	return 1
}

// liveObjects returns the live objects of class ("" for all), numbered and
// in the order of their numbers.
func (s *Session) liveObjects(L *lua.LState, class string) []*lua.LTable {
	objs := s.target.Objects(L, class)
	s.ns.ids.sortByID(objs)
	return objs
}

// standardLibraries are the global tables a printer shows as <library
// NAME>, when the program has them.
var standardLibraries = []string{"string", "table", "math", "os", "io", "coroutine", "debug", "package", "hot", "channel"}

// libraries maps the library tables of L's globals to their names.
func libraries(L *lua.LState) map[*lua.LTable]string {
	m := make(map[*lua.LTable]string, len(standardLibraries))
	for _, name := range standardLibraries {
		if t, ok := L.GetGlobal(name).(*lua.LTable); ok {
			m[t] = name
		}
	}
	return m
}

// What the sandbox takes away, by library ("" for base functions), so that
// the console can say so instead of "attempt to call a nil value".
var sandboxRemoved = map[string][]string{
	"":   {"dofile", "loadfile", "getfenv", "setfenv", "module", "io", "debug", "package"},
	"os": {"exit", "execute", "getenv", "remove", "rename", "tmpname", "setlocale"},
}

// bindRemoved puts, in the session's builtins, a stand-in for each name the
// sandbox removed from the current generation: calling or indexing it
// fails with "NAME is not available in the sandbox". A program that has
// the name (a trusted engine) sees its own.
func (s *Session) bindRemoved(L *lua.LState) {
	for _, name := range sandboxRemoved[""] {
		if L.G.Global.RawGetString(name) != lua.LNil {
			s.builtins.RawSetString(name, lua.LNil)
			continue
		}
		s.builtins.RawSetString(name, removedValue(L, name))
	}
	osLib, ok := L.G.Global.RawGetString("os").(*lua.LTable)
	if !ok || !slices.ContainsFunc(sandboxRemoved["os"], func(n string) bool { return L.GetField(osLib, n) == lua.LNil }) {
		s.builtins.RawSetString("os", lua.LNil)
		return
	}
	// os, as the console sees it: the program's, with stand-ins for what
	// the sandbox removed.
	proxy, meta := L.NewTable(), L.NewTable()
	meta.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		key := L.CheckString(2)
		if v := L.GetField(osLib, key); v != lua.LNil || !slices.Contains(sandboxRemoved["os"], key) {
			L.Push(v)
			return 1
		}
		L.Push(removedValue(L, "os."+key))
		return 1
	}))
	meta.RawSetString("__newindex", osLib)
	meta.RawSetString("__library", lua.LString("os"))
	L.SetMetatable(proxy, meta)
	s.builtins.RawSetString("os", proxy)
}

// removedValue is a stand-in for a name the sandbox removed: a table that
// raises "name is not available in the sandbox" when it is called or
// indexed.
func removedValue(L *lua.LState, name string) lua.LValue {
	fail := L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s is not available in the sandbox", name)
		return 0
	})
	t, meta := L.NewTable(), L.NewTable()
	meta.RawSetString("__call", fail)
	meta.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s.%s is not available in the sandbox", name, L.CheckString(2))
		return 0
	}))
	meta.RawSetString("__removed", lua.LString(name))
	L.SetMetatable(t, meta)
	return t
}

// metaString returns the string its metatable keeps under key ("" if
// none): "__removed" names a stand-in made by removedValue, "__library" the
// library a console proxy such as its os stands for.
func metaString(v lua.LValue, key string) string {
	if t, ok := v.(*lua.LTable); ok {
		if meta, ok := t.Metatable.(*lua.LTable); ok {
			if n, ok := meta.RawGetString(key).(lua.LString); ok {
				return string(n)
			}
		}
	}
	return ""
}

// summary formats an object on one line for :objects, cut to width.
func summary(p *printer, o *lua.LTable, width int) string {
	line := p.format(o)
	if r := []rune(line); len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return strings.ReplaceAll(line, "\n", " ")
}

// noLiveObject is the error of :bind for an unknown number.
func noLiveObject(id int) string {
	return fmt.Sprintf("no live object #%d (:objects lists them with their numbers)", id)
}
