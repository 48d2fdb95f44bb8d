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
	g     *generation // the generation whose load was given the stand-in
	key   string
	table *lua.LTable
	saved bool // the load's writes into it can be undone (saveForUndo)
}

// standInMark is the metatable of every stand-in's metatable, whichever
// generation made it: it tells a stand-in from any other table. It is never
// written, so any goroutine may compare with it.
var standInMark = newTable(0)

// standInKey is the field of a stand-in's metatable that holds its standIn.
const standInKey = "__hotlua_standin"

// standInFor returns the stand-in of the persisted table t, kept under key:
// an empty table whose metatable reaches t to index it, assign into it or
// take its length; the state's pairs, next, rawget, table functions and the
// others sandbox.ResolveTables lists act on t when given it, in this
// generation and every other (a function of the running generation given
// the stand-in, a stand-in left where the identity walk does not go). The
// same table gives the same stand-in.
func (g *generation) standInFor(L *lua.LState, key string, t *lua.LTable) *lua.LTable {
	if s := g.givenStandIn(t); s != nil {
		return s
	}
	if g.standIns == nil {
		g.standIns = make(map[*lua.LTable]*standIn)
	}
	si := &standIn{g: g, key: key, table: t}
	meta := L.CreateTable(0, 4)
	meta.Metatable = standInMark
	meta.RawSetString(standInKey, &lua.LUserData{Value: si, Metatable: lua.LNil})
	meta.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.Push(L.GetTable(si.reach(L), unwrap(L, L.Get(2))))
		return 1
	}))
	meta.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.SetTable(si.reach(L), unwrap(L, L.Get(2)), unwrap(L, L.Get(3)))
		return 0
	}))
	meta.RawSetString("__len", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(L.ObjLen(si.reach(L))))
		return 1
	}))
	s := L.CreateTable(0, 0)
	s.Metatable = meta
	g.standIns[s] = si
	return s
}

// givenStandIn returns the stand-in the load was given for the persisted
// table t, or nil.
func (g *generation) givenStandIn(t *lua.LTable) *lua.LTable {
	for s, si := range g.standIns {
		if si.table == t {
			return s
		}
	}
	return nil
}

// standInOf returns what t stands for when t is a stand-in, of any
// generation, else nil.
func standInOf(t *lua.LTable) *standIn {
	meta, ok := t.Metatable.(*lua.LTable)
	if !ok || meta.Metatable != standInMark {
		return nil
	}
	ud, _ := meta.RawGetString(standInKey).(*lua.LUserData)
	if ud == nil {
		return nil
	}
	si, _ := ud.Value.(*standIn)
	return si
}

// reach returns the persisted table the stand-in stands for, first taking
// the engine's lock for the rest of the load when the loading generation
// does not hold it yet. A stand-in the walk did not replace (one a Go
// function kept) still works after the commit, in the calls that then hold
// the lock. A stand-in reaches other goroutines only through state the
// generations share, which its load holds the lock for until it is
// prepared: whoever reaches one of a generation still preparing is that
// generation's load.
func (si *standIn) reach(L *lua.LState) *lua.LTable {
	if g := si.g; g.preparing {
		if !g.locked { // the description is made once, not at every access
			g.lockEngine(L, fmt.Sprintf("hot.persist(%q)", si.key))
		}
		if !si.saved {
			g.saveForUndo(L, si.key, si.table)
			si.saved = true
		}
	}
	return si.table
}

// unwrap returns the persisted table v stands for when v is a stand-in,
// else v: a stand-in used as a key or stored as a value through another
// finds and stores the table itself (s[q] is the field keyed by q's table).
func unwrap(L *lua.LState, v lua.LValue) lua.LValue {
	if t, ok := v.(*lua.LTable); ok {
		return resolveStandIn(L, t)
	}
	return v
}

// resolveStandIn is, for sandbox.ResolveTables, the table a stand-in
// stands for, and any other table itself.
func resolveStandIn(L *lua.LState, t *lua.LTable) *lua.LTable {
	if si := standInOf(t); si != nil {
		return si.reach(L)
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
