package sandbox

import lua "github.com/yuin/gopher-lua"

// This file holds next, pairs and ipairs for a state with read-only
// proxies ([ReadOnly], extensible). A proxy is an empty table reading
// through its metatable's __index, and gopher-lua's pairs has no __pairs
// metamethod, so its own next would see only what scripts added. These
// iterate a proxy as the table it stands for, and any other table exactly
// as gopher-lua's do.

// A proxy stands for a chain of layers: the proxy itself (what scripts
// added), the table it reads through to, and on while that table is a
// proxy too. The layers hold disjoint keys: an extensible proxy refuses
// the names its library has, and a read-only one holds nothing. next walks
// the deepest layer (the builtins) first and the proxy last, so each key
// comes once, with the value indexing gives, and next(t, k) continues in
// the layer holding k.

// installIteration replaces next, pairs and ipairs in the globals of L
// with ones that see through the proxies recorded in d.
func installIteration(L *lua.LState, d *stateData) {
	next := L.NewFunction(func(L *lua.LState) int {
		key, value := d.next(L.CheckTable(1), L.Get(2))
		if key == lua.LNil {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(key)
		L.Push(value)
		return 2
	})
	ipairsStep := L.NewFunction(func(L *lua.LState) int {
		tb, i := L.CheckTable(1), L.CheckInt(2)+1
		v := d.get(tb, lua.LNumber(i))
		if v == lua.LNil {
			return 0
		}
		L.Push(lua.LNumber(i))
		L.Push(v)
		return 2
	})
	iterator := func(step *lua.LFunction, start lua.LValue) *lua.LFunction {
		return L.NewFunction(func(L *lua.LState) int {
			L.Push(step)
			L.Push(L.CheckTable(1))
			L.Push(start)
			return 3
		})
	}
	g := L.G.Global
	g.RawSetString("next", next)
	g.RawSetString("pairs", iterator(next, lua.LNil))
	g.RawSetString("ipairs", iterator(ipairsStep, lua.LNumber(0)))
}

// inner returns the table the proxy t reads through to, or nil when t is
// not a proxy. A table without a metatable costs one comparison.
func (d *stateData) inner(t *lua.LTable) *lua.LTable {
	if t.Metatable == lua.LNil {
		return nil
	}
	return d.proxies[t]
}

// get returns the value of key in the layer of t that holds one: t[key]
// for a proxy t, rawget(t, key) for any other table.
func (d *stateData) get(t *lua.LTable, key lua.LValue) lua.LValue {
	for layer := t; layer != nil; layer = d.inner(layer) {
		if v := layer.RawGet(key); v != lua.LNil {
			return v
		}
	}
	return lua.LNil
}

// next returns the key after key in t and its value, or nil when key is
// the last; key nil asks for the first. See the comment at the top.
func (d *stateData) next(t *lua.LTable, key lua.LValue) (lua.LValue, lua.LValue) {
	if d.inner(t) == nil {
		return t.Next(key)
	}
	layer := t
	if key == lua.LNil {
		for inner := d.inner(layer); inner != nil; inner = d.inner(layer) {
			layer = inner
		}
	} else {
		layer = d.holder(t, key)
	}
	for {
		if k, v := layer.Next(key); k != lua.LNil {
			return k, v
		}
		if layer == t {
			return lua.LNil, lua.LNil
		}
		layer, key = d.above(t, layer), lua.LNil
	}
}

// holder returns the layer of t that holds key, or t itself when none
// does: a script removed the field during the traversal, which it can do
// only to a field it added to an extensible proxy, which is t itself (the
// sandbox's proxies are one layer over their library).
func (d *stateData) holder(t *lua.LTable, key lua.LValue) *lua.LTable {
	for layer := t; layer != nil; layer = d.inner(layer) {
		if layer.RawGet(key) != lua.LNil {
			return layer
		}
	}
	return t
}

// above returns the layer of t just above layer, which is not t.
func (d *stateData) above(t, layer *lua.LTable) *lua.LTable {
	above := t
	for d.inner(above) != layer {
		above = d.inner(above)
	}
	return above
}
