package sandbox

import lua "github.com/yuin/gopher-lua"

// ResolveTables makes the state's functions that take tables (next, pairs,
// ipairs, rawget, rawset, rawequal, getmetatable, unpack and the table
// library's) pass their table arguments that have a metatable through
// resolve first. A host that gives scripts a stand-in for a table (an
// empty table whose metatable reaches the one it stands for, as the
// engine's hot.persist does while a reload loads) makes them act on the
// table it stands for. The table a function acts on (its first argument;
// both of rawequal's) is resolve(L, t, nil); a table given with it (a key,
// a value to store) is resolve(L, t, in), in being the table acted on:
// what in holds for it. resolve returns any other table as it is. A table
// without a metatable costs one comparison.
//
// What a function returns of the table it acted on is the table it was
// given: rawset(t, k, v) returns t, and pairs(t) and ipairs(t) return t
// with an iterator that resolves it at each step, so the table a stand-in
// resolves to never reaches the script. Call it once, after [NewState],
// from the goroutine that owns L.
func ResolveTables(L *lua.LState, resolve func(L *lua.LState, t, in *lua.LTable) *lua.LTable) {
	var wrap func(name string, v lua.LValue) lua.LValue
	steps := map[*lua.LFunction]lua.LValue{} // the iterators pairs and ipairs return, resolving
	wrap = func(name string, v lua.LValue) lua.LValue {
		fn, ok := v.(*lua.LFunction)
		if !ok || !fn.IsG {
			return v
		}
		inner := fn.GFunction
		acted := 1 // how many leading arguments are acted on
		if name == "rawequal" {
			acted = 2
		}
		iterates := name == "pairs" || name == "ipairs"
		return L.NewFunction(func(L *lua.LState) int {
			var given, in *lua.LTable
			for i := 1; i <= L.GetTop(); i++ {
				t, ok := L.Get(i).(*lua.LTable)
				if !ok {
					continue
				}
				r := t
				if t.Metatable != lua.LNil {
					if i <= acted {
						r = resolve(L, t, nil)
					} else {
						r = resolve(L, t, in)
					}
					if r != t {
						L.Replace(i, r)
					}
				}
				if i == 1 {
					in = r
					if r != t {
						given = t
					}
				}
			}
			n := inner(L)
			if given == nil {
				return n
			}
			for i := L.GetTop() - n + 1; i <= L.GetTop(); i++ {
				switch x := L.Get(i).(type) {
				case *lua.LTable:
					if x == in {
						L.Replace(i, given)
					}
				case *lua.LFunction:
					if iterates {
						step, ok := steps[x]
						if !ok {
							step = wrap("", x)
							steps[x] = step
						}
						L.Replace(i, step)
					}
				}
			}
			return n
		})
	}
	g := L.G.Global
	for _, name := range []string{"next", "pairs", "ipairs", "rawget", "rawset", "rawequal", "getmetatable", "unpack"} {
		if v := g.RawGetString(name); v != lua.LNil {
			g.RawSetString(name, wrap(name, v))
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
		lib.RawSetString(name, wrap(name, lib.RawGetString(name)))
	}
}
