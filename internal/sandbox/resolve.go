package sandbox

import lua "github.com/yuin/gopher-lua"

// ResolveTables makes the state's functions that take tables (next, pairs,
// ipairs, rawget, rawset, rawequal, getmetatable, unpack and the table
// library's) pass each table argument that has a metatable through resolve
// first. A host that gives scripts a stand-in for a table (an empty table
// whose metatable reaches the one it stands for, as the engine's
// hot.persist does while a reload loads) makes them act on the table it
// stands for; resolve returns any other table as it is. A table without a
// metatable costs one comparison. Call it once, after [NewState], from the
// goroutine that owns L.
func ResolveTables(L *lua.LState, resolve func(L *lua.LState, t *lua.LTable) *lua.LTable) {
	wrap := func(v lua.LValue) lua.LValue {
		fn, ok := v.(*lua.LFunction)
		if !ok || !fn.IsG {
			return v
		}
		inner := fn.GFunction
		return L.NewFunction(func(L *lua.LState) int {
			for i := 1; i <= L.GetTop(); i++ {
				if t, ok := L.Get(i).(*lua.LTable); ok && t.Metatable != lua.LNil {
					if r := resolve(L, t); r != t {
						L.Replace(i, r)
					}
				}
			}
			return inner(L)
		})
	}
	g := L.G.Global
	for _, name := range []string{"next", "pairs", "ipairs", "rawget", "rawset", "rawequal", "getmetatable", "unpack"} {
		if v := g.RawGetString(name); v != lua.LNil {
			g.RawSetString(name, wrap(v))
		}
	}
	lib, ok := g.RawGetString("table").(*lua.LTable)
	if !ok {
		return
	}
	if inner := dataOf(L).proxies[lib]; inner != nil {
		lib = inner // the library behind the sandbox's read-only proxy
	}
	var names []string
	lib.ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); ok {
			names = append(names, string(s))
		}
	})
	for _, name := range names {
		lib.RawSetString(name, wrap(lib.RawGetString(name)))
	}
}
