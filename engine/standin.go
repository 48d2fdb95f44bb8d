package engine

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// This file holds the stand-ins hot.persist gives the top level of a
// generation that loads beside running calls. The persisted tables belong
// to the running generation's calls, which change them without a lock a
// loading goroutine could share. A stand-in defers reaching the table to
// the moment the top level really reaches into it, so the common
//
//	local state = hot.persist("state", {})
//
// whose functions use state once they run, loads without holding any call
// up. When the top level does reach into a table of plain data (no
// metatable, no functions or userdata in it, keys that are strings,
// numbers or booleans), the stand-in copies it, holding the engine's lock
// for the copy only, and the load works on that copy, its view: the tables
// in it are stand-ins in their turn, and what the load changes is written
// into the persisted tables field by field when the generation commits,
// and never if it does not. Anything else (an object, a table holding
// functions) is reached under the engine's lock, held for the rest of the
// load, and saved for undo (see saveForUndo); from then on the load acts
// on every persisted table itself, its views written into them (see
// directViews). The walk that gives classes
// their identity (rebind) replaces every stand-in by its table in what
// the generation reaches, views included, before the commit.

// standIn is what a stand-in stands for.
type standIn struct {
	g     *generation // the generation whose load was given the stand-in
	key   string      // the hot.persist key it was reached from, for busy errors
	table *lua.LTable
	// view is, once the load reached into a table of plain data, the
	// table's fields as the load sees them; orig is what the table held
	// then. direct is set once the load reaches the table itself, holding
	// the engine's lock, after saving it for undo.
	view   *lua.LTable
	orig   map[lua.LValue]lua.LValue
	direct bool
}

// standInMark is the metatable of every stand-in's metatable, whichever
// generation made it: it tells a stand-in from any other table. It is never
// written, so any goroutine may compare with it.
var standInMark = newTable(0)

// maxStandIns bounds the stand-ins a load makes for the tables in its
// views. A view and its stand-ins cost about 2 KB a table, where the undo
// snapshot of a table reached directly costs a tenth of that: a load that
// would copy more (a top level walking 100k persisted records) reaches
// the rest directly, holding calls, within the memory it did before views.
const maxStandIns = 1 << 14

// standInKey is the field of a stand-in's metatable that holds its
// generation.
const standInKey = "__hotlua_standin"

// standInFor returns the stand-in of the persisted table t, reached from
// the hot.persist key key: an empty table whose metatable reaches t (or
// the load's view of it) to index it, assign into it or take its length;
// the state's pairs, next, rawget, table functions and the others
// sandbox.ResolveTables lists act on the same, in this generation and
// every other (a function of the running generation given the stand-in).
// The same table gives the same stand-in.
func (g *generation) standInFor(L *lua.LState, key string, t *lua.LTable) *lua.LTable {
	if s := g.standInTables[t]; s != nil {
		return s
	}
	if g.standIns == nil {
		g.standIns = make(map[*lua.LTable]*standIn)
		g.standInTables = make(map[*lua.LTable]*lua.LTable)
		g.standInMeta = g.newStandInMeta(L)
	}
	s := L.CreateTable(0, 0)
	s.Metatable = g.standInMeta
	g.standIns[s] = &standIn{g: g, key: key, table: t}
	g.standInTables[t] = s
	return s
}

// newStandInMeta makes the metatable the generation's stand-ins share.
func (g *generation) newStandInMeta(L *lua.LState) *lua.LTable {
	meta := L.CreateTable(0, 4)
	meta.Metatable = standInMark
	meta.RawSetString(standInKey, &lua.LUserData{Value: g, Metatable: lua.LNil})
	of := func(L *lua.LState) *standIn {
		si := g.standIns[L.CheckTable(1)]
		if si == nil {
			L.RaiseError("not a stand-in of a persisted table")
		}
		return si
	}
	meta.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		t, k := of(L).keyed(L)
		v := L.GetTable(t, k)
		if g.preparing { // a table the load was given a stand-in for stays that stand-in
			v = g.asStandIn(v)
		}
		L.Push(v)
		return 1
	}))
	meta.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		si := of(L)
		t, k := si.keyed(L)
		v := L.Get(3)
		if t != si.view {
			v = direct(L, v)
		}
		L.SetTable(t, k, v)
		return 0
	}))
	meta.RawSetString("__len", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(L.ObjLen(of(L).reach(L))))
		return 1
	}))
	return meta
}

// keyed returns the table the load acts on through the stand-in at
// index 1 (see reach) and the key at index 2 as that table is keyed: a
// view by stand-ins, as the load sees the tables in it, the persisted
// table by the tables themselves.
func (si *standIn) keyed(L *lua.LState) (*lua.LTable, lua.LValue) {
	t, k := si.reach(L), L.Get(2)
	if t == si.view {
		return t, si.g.asStandIn(k)
	}
	return t, direct(L, k)
}

// asStandIn returns the stand-in of v when v is a persisted table the load
// has one for, else v.
func (g *generation) asStandIn(v lua.LValue) lua.LValue {
	if t, ok := v.(*lua.LTable); ok {
		if s := g.standInTables[t]; s != nil {
			return s
		}
	}
	return v
}

// direct returns the persisted table v stands for when v is a stand-in,
// reached directly (see demote), else v: for a key or value used with a
// persisted table the load reaches directly.
func direct(L *lua.LState, v lua.LValue) lua.LValue {
	if t, ok := v.(*lua.LTable); ok {
		return persistedTable(L, t)
	}
	return v
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
	g, _ := ud.Value.(*generation)
	if g == nil {
		return nil
	}
	return g.standIns[t]
}

// reach returns the table the load acts on through the stand-in: its view
// of a table of plain data, made the first time while the load does not
// hold the engine's lock, else the persisted table itself, first taking
// the lock for the rest of the load. A load that holds it may reach the
// persisted tables in other ways too (through an object, a table of
// functions), which no view would see: it acts on the tables themselves
// (see directViews). A
// stand-in the walk did not replace (one a Go function kept) acts on the
// table itself after the load, in the calls that then hold the lock. A
// stand-in reaches other goroutines only through state the generations
// share, which its load holds the lock for until it is prepared: whoever
// reaches one of a generation still preparing is that generation's load.
func (si *standIn) reach(L *lua.LState) *lua.LTable {
	g := si.g
	switch {
	case !g.preparing || si.direct:
		return si.table
	case si.view != nil:
		return si.view
	case !g.locked:
		g.takeLock(L)
		copied, tooMany := si.copyIfPlain(L)
		g.e.lk.unlock()
		if copied {
			return si.view
		}
		if tooMany {
			g.lockEngine(L, fmt.Sprintf("hot.persist(%q), past the %d tables a load copies", si.key, maxStandIns), "")
		}
	}
	return si.demote(L)
}

// copyIfPlain makes the view of a table of plain data, and reports whether
// it did: a table with no metatable whose keys are strings, numbers or
// booleans and whose values are those or tables (in the view, their
// stand-ins), as long as the copies of the load stay within the bound of
// the undo snapshot; tooMany reports a table it did not copy because its
// stand-ins would be more than maxStandIns. Called with the engine's lock
// held.
func (si *standIn) copyIfPlain(L *lua.LState) (copied, tooMany bool) {
	t := si.table
	if t.Metatable != lua.LNil {
		return false, false
	}
	n, tables, plain := 0, 0, true
	t.ForEach(func(k, v lua.LValue) {
		n++
		switch k.(type) {
		case lua.LString, lua.LNumber, lua.LBool:
		default:
			plain = false
		}
		switch v.(type) {
		case lua.LString, lua.LNumber, lua.LBool:
		case *lua.LTable:
			tables++
		default:
			plain = false
		}
	})
	if len(si.g.standIns)+tables > maxStandIns {
		return false, plain
	}
	if !plain || si.g.persistFields+n > maxSnapshotFields {
		return false, false
	}
	si.g.persistFields += n
	si.orig = make(map[lua.LValue]lua.LValue, n)
	si.view = newTable(n)
	if si.g.views == nil {
		si.g.views = make(map[*lua.LTable]bool)
	}
	si.g.views[si.view] = true
	// In pairs order, as changes writes back: a loop over the view that
	// goes on over the table once the load holds the lock (see demote)
	// finds its fields in the same order.
	for _, f := range orderedFields(t) {
		v := f.v
		si.orig[f.k] = v
		if nt, ok := v.(*lua.LTable); ok {
			v = si.g.standInFor(L, si.key, nt)
		}
		si.view.RawSet(f.k, v)
	}
	return true, false
}

// demote makes the load act on the persisted table itself from now on:
// it takes the engine's lock for the rest of the load, saves the table for
// undo and writes into it what the load changed in its view, if it had
// one. It returns the table.
func (si *standIn) demote(L *lua.LState) *lua.LTable {
	g := si.g
	if g.preparing && !g.locked { // the description is made once, not at every access
		g.lockEngine(L, fmt.Sprintf("hot.persist(%q)", si.key), "")
	}
	if !g.preparing || si.direct {
		return si.table
	}
	if si.view != nil { // its fields are counted again by the undo snapshot
		g.persistFields -= len(si.orig)
	}
	g.saveForUndo(L, si.key, si.table)
	si.direct = true
	if si.view != nil {
		for _, w := range si.changes() {
			w.apply()
		}
		delete(g.views, si.view)
		si.view, si.orig = nil, nil
	}
	return si.table
}

// directViews demotes every stand-in the load has a view through, once it
// holds the engine's lock for the rest of the load (see lockEngine): it
// may now reach those tables directly (w.ref, where w is a persisted
// object, is a table a view was made of), and a view beside the table
// would make the load see, and the commit write, two versions of one
// field.
func (g *generation) directViews(L *lua.LState) {
	for _, si := range g.standIns {
		if si.view != nil {
			si.demote(L)
		}
	}
}

// changes returns the writes that give the persisted table what the load
// changed in the view, stand-ins in it being their tables. Fields are
// written one by one, a field the load did not change keeping whatever
// calls did to it meanwhile; but a load that changed the table's array
// part (its fields 1 to n: a sort, an insert, a remove) gives it its
// array whole, entries past the view's length cleared: merged entry by
// entry with what calls did to the array meanwhile (removing its end,
// say), it could end with holes and entries of both.
func (si *standIn) changes() []persistWrite {
	table := func(v lua.LValue) lua.LValue {
		if t, ok := v.(*lua.LTable); ok {
			if s := si.g.standIns[t]; s != nil {
				return s.table
			}
		}
		return v
	}
	viewLen, origLen := si.view.Len(), 0
	for si.orig[lua.LNumber(origLen+1)] != nil {
		origLen++
	}
	arrayLen := max(viewLen, origLen)
	array := false // the load changed the array part
	for i := 1; i <= arrayLen && !array; i++ {
		array = !sameValue(orNil(si.orig[lua.LNumber(i)]), table(si.view.RawGetInt(i)))
	}
	inArray := func(k lua.LValue) bool {
		n, ok := k.(lua.LNumber)
		return array && ok && n >= 1 && n <= lua.LNumber(arrayLen) && n == lua.LNumber(int(n))
	}
	var writes []persistWrite
	if array {
		for i := 1; i <= viewLen; i++ {
			writes = append(writes, persistWrite{t: si.table, k: lua.LNumber(i), v: table(si.view.RawGetInt(i))})
		}
		writes = append(writes, persistWrite{t: si.table, clearFrom: viewLen + 1})
	}
	for _, f := range orderedFields(si.view) {
		k, v := table(f.k), table(f.v)
		if !inArray(k) && !sameValue(si.orig[k], v) {
			writes = append(writes, persistWrite{t: si.table, k: k, v: v})
		}
	}
	for k := range si.orig {
		if !inArray(k) && si.view.RawGet(k) == lua.LNil {
			writes = append(writes, persistWrite{t: si.table, k: k, v: lua.LNil})
		}
	}
	return writes
}

// persistWrite is a field a committing generation writes into a persisted
// table: what its load changed in its view of it; with clearFrom, the
// table's array entries from clearFrom on are cleared instead.
type persistWrite struct {
	t         *lua.LTable
	k, v      lua.LValue
	clearFrom int
}

// apply makes the write. Called with the engine's lock held.
func (w persistWrite) apply() {
	if w.clearFrom == 0 {
		w.t.RawSet(w.k, w.v)
		return
	}
	for i := w.t.Len(); i >= w.clearFrom; i-- {
		w.t.RawSetInt(i, lua.LNil)
	}
}

// collectViewWrites collects what the load changed in its views of persisted
// tables, for the commit. Called at the end of prepare, after rebind
// replaced the stand-ins and the new classes in the views.
func (g *generation) collectViewWrites() []persistWrite {
	var writes []persistWrite
	for _, si := range g.standIns {
		if si.view != nil && !si.direct {
			writes = append(writes, si.changes()...)
		}
	}
	return writes
}

// persistedTable returns the table t stands for when t is a stand-in (see
// demote), and any other table itself: for what must act on the table
// itself, as setmetatable and hot.method do.
func persistedTable(L *lua.LState, t *lua.LTable) *lua.LTable {
	if si := standInOf(t); si != nil {
		return si.demote(L)
	}
	return t
}

// resolveStandIn is, for sandbox.ResolveTables, the table the load acts
// on through a stand-in t (see reach). For a table t given with the one
// acted on (in), it is what in holds for t: a view holds stand-ins, as the
// load sees them; so does a table of the load's own until the load holds
// the engine's lock, and from then on every table holds the persisted
// tables themselves, as the direct accesses do (see demote).
func resolveStandIn(L *lua.LState, t, in *lua.LTable) *lua.LTable {
	si := standInOf(t)
	switch {
	case si == nil:
		return t
	case in == nil:
		return si.reach(L)
	case si.g.views[in] || !si.g.locked:
		return t
	}
	return si.demote(L)
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
