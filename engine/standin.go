package engine

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// This file holds the stand-ins hot.persist gives the top level of a
// generation that loads beside running calls. The persisted tables belong
// to the running generation's calls, which change them without a lock a
// loading goroutine could share; so a load reaches into one only with the
// engine's lock, and holds it from then on (see lockEngine). A stand-in
// defers that to the moment the top level really reaches into the table:
// the common
//
//	local state = hot.persist("state", {})
//
// whose functions use state once they run, loads without holding any call
// up. The walk that gives classes their identity (rebind) replaces every
// stand-in by its table in what the generation reaches, before the commit.

// standIn is what a stand-in stands for.
type standIn struct {
	key   string
	table *lua.LTable
	saved bool // the load's writes into it can be undone (saveForUndo)
}

// standInFor returns the stand-in of the persisted table t, kept under key:
// an empty table whose metatable reaches t to index it, assign into it or
// take its length; the state's pairs, next, rawget, table functions and the
// others sandbox.ResolveTables lists act on t when given it. The same table
// gives the same stand-in.
func (g *generation) standInFor(L *lua.LState, key string, t *lua.LTable) *lua.LTable {
	for s, si := range g.standIns {
		if si.table == t {
			return s
		}
	}
	if g.standInMeta == nil {
		g.standIns = make(map[*lua.LTable]*standIn)
		g.standInMeta = L.CreateTable(0, 3)
		g.standInMeta.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
			L.Push(L.GetTable(g.reach(L, L.CheckTable(1)), L.Get(2)))
			return 1
		}))
		g.standInMeta.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
			L.SetTable(g.reach(L, L.CheckTable(1)), L.Get(2), g.unwrap(L, L.Get(3)))
			return 0
		}))
		g.standInMeta.RawSetString("__len", L.NewFunction(func(L *lua.LState) int {
			L.Push(lua.LNumber(L.ObjLen(g.reach(L, L.CheckTable(1)))))
			return 1
		}))
	}
	s := L.CreateTable(0, 0)
	s.Metatable = g.standInMeta
	g.standIns[s] = &standIn{key: key, table: t}
	return s
}

// reach returns the persisted table the stand-in s stands for, first
// taking the engine's lock for the rest of the load when the loading
// generation does not hold it yet. A stand-in the walk did not replace
// (one stored in a class library's registry) still works after the
// commit, in the calls that then hold the lock.
func (g *generation) reach(L *lua.LState, s *lua.LTable) *lua.LTable {
	si := g.standIns[s]
	if g.preparing {
		g.lockEngine(L, fmt.Sprintf("hot.persist(%q)", si.key))
		if !si.saved {
			g.saveForUndo(L, si.key, si.table)
			si.saved = true
		}
	}
	return si.table
}

// unwrap returns the persisted table v stands for when v is a stand-in,
// else v.
func (g *generation) unwrap(L *lua.LState, v lua.LValue) lua.LValue {
	if t, ok := v.(*lua.LTable); ok && g.isStandIn(t) {
		return g.reach(L, t)
	}
	return v
}

// isStandIn reports whether t is one of g's stand-ins.
func (g *generation) isStandIn(t *lua.LTable) bool {
	return g.standInMeta != nil && t.Metatable == g.standInMeta
}

// resolveStandIn is, for sandbox.ResolveTables, the table a stand-in
// stands for, and any other table itself.
func (g *generation) resolveStandIn(L *lua.LState, t *lua.LTable) *lua.LTable {
	if g.isStandIn(t) {
		return g.reach(L, t)
	}
	return t
}

// persisted reads the value kept under key. A load running beside calls
// takes the engine's lock for the read only.
func (g *generation) persisted(L *lua.LState, key string) (lua.LValue, bool) {
	if !g.preparing || g.locked {
		v, ok := g.e.persist[key]
		return v, ok
	}
	g.takeLock(L)
	v, ok := g.e.persist[key]
	g.e.lk.unlock()
	return v, ok
}

// takeLock takes the engine's lock for prepare's goroutine, within the
// load's context; a load that cannot get it fails with the busy error.
func (g *generation) takeLock(L *lua.LState) {
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if err := g.e.lk.lock(ctx); err != nil {
		g.lockErr = err
		L.RaiseError("%v", err)
	}
}
