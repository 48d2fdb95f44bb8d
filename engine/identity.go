package engine

import (
	"slices"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// This file holds how a class keeps one identity across generations; the
// package documentation ("Classes and their identity") states the model.

// classOfModule finds the class a module's returned table t stands for:
// t itself when it has an __index field of its own (idiomatic classes,
// classic, 30log, hump, Penlight), else the table under t's first field
// whose name starts with "__" that is its own __index (an instance
// dictionary, as middleclass's __instanceDict), or, in a table with a
// static table as middleclass's classes have, the __instanceDict whose
// __index is a function (the library's wrapper of an __index the class
// declares). key names that field ("" for t itself); cls is nil when t is
// no class.
func classOfModule(t *lua.LTable) (cls *lua.LTable, key string) {
	if t.RawGetString("__index") != lua.LNil {
		return t, ""
	}
	var keys []string
	_, static := t.RawGetString("static").(*lua.LTable)
	t.ForEach(func(k, v lua.LValue) {
		ks, ok := k.(lua.LString)
		d, isTable := v.(*lua.LTable)
		if !ok || !isTable || !strings.HasPrefix(string(ks), "__") {
			return
		}
		index := d.RawGetString("__index")
		if index == d || ks == instanceDict && index.Type() == lua.LTFunction && static {
			keys = append(keys, string(ks))
		}
	})
	if len(keys) == 0 {
		return nil, ""
	}
	slices.Sort(keys)
	return t.RawGetString(keys[0]).(*lua.LTable), keys[0]
}

// stabilize gives this generation's class tables the identities earlier
// generations made. Each identity (a class's name; a module's value that
// holds an instance dictionary) has one stable table for the engine's
// life: the first generation's. When this generation made a table for an
// identity that already has one, every reference to it in this
// generation's code and data is replaced by the stable table, and the
// commit moves the new table's fields and metatable into the stable one.
// So a class table is the same Lua value in every generation: objects
// that hold it (self.class), tables keyed by it and library registries
// keep working.
//
// The walk follows this generation's own values: it stops at stable
// tables and objects, and at the values of other generations (functions
// whose globals are not this generation's, reused library modules) and
// hot.persist values unless the generation reached shared state, and so
// holds the engine's lock: then it follows a kept library's state too, and
// what the load put into the persisted tables it reached. Its cost depends
// on the size of the generation (and then of that state: a library's
// registry of objects is read, each object once), not on the number of
// live objects, and it runs in prepare, before the commit. Called after
// the scripts and checks ran.
func (g *generation) stabilize() {
	g.prev = nil // only load needs it: do not keep a chain of generations
	g.subst = make(map[*lua.LTable]*lua.LTable)
	for t, id := range g.identities {
		if s := g.e.stable[id]; s != nil && s != t {
			g.subst[t] = s
		}
	}
	var walked map[*lua.LTable]madeTable
	if len(g.subst) > 0 || len(g.standIns) > 0 {
		walked = g.rebind()
	}
	sub := func(t *lua.LTable) *lua.LTable {
		if s := g.subst[t]; s != nil {
			return s
		}
		return t
	}
	for i, p := range g.pending {
		g.pending[i] = pendingObject{sub(p.obj), sub(p.mt)}
	}
	for made, stable := range g.subst {
		m, ok := walked[made]
		fs := m.fields
		if !ok { // marked seen from the start: not walked
			fs = orderedFields(made)
		}
		if cv := g.classes[made]; cv != nil && cv.table == made && cv.selfIndexed && !slices.ContainsFunc(fs, isIndexField) {
			// A Programming in Lua class, whose constructor gave the
			// stable table its __index when it first ran: the new
			// version's constructor may not have run yet.
			fs = append(slices.Clip(fs), field{lua.LString("__index"), stable})
		}
		g.merges = append(g.merges, identityMerge{stable: stable, next: tableOf(fs, made.Metatable), size: len(fs)})
	}
	for t, id := range g.identities {
		if g.e.stable[id] == nil {
			g.newIdentities = append(g.newIdentities, identityTable{id, t})
		}
	}
	clear(g.classes)
	for _, cv := range g.order {
		cv.fresh, cv.table, cv.owner = cv.table, sub(cv.table), sub(cv.owner)
		g.classes[cv.table] = cv
		g.classes[cv.owner] = cv
	}
	// A class's bases are read as this generation made them: their stable
	// tables hold the running versions, which calls may be writing.
	made := func(t *lua.LTable) *lua.LTable {
		if cv := g.classes[t]; cv != nil && cv.table == t {
			return cv.fresh
		}
		return t
	}
	vg := g.versionGraph()
	for _, cv := range g.order {
		cv.migrates = lookupVia(cv.fresh, migrateHook, made) != lua.LNil
		if m, ok := walked[cv.fresh]; ok {
			cv.meta = withSelfFields(m.meta, cv.table, cv.selfIndexed)
		} else {
			cv.meta = metaFields(cv.fresh, cv.table, cv.selfIndexed)
		}
		cv.version = Version{Generation: g.num, Hash: vg.classHash(g, cv)}
	}
	// The tables this generation made for identities that have a stable
	// table are not needed any more: nothing of the generation refers to
	// them, and holding them would keep a second copy of every class's
	// contents for the generation's life.
	for _, cv := range g.order {
		cv.fresh = cv.table
	}
	g.subst, g.identities = nil, nil
}

// identityMerge is a table a generation made for an identity that has a
// stable table already: the commit gives the stable table exactly the made
// table's fields and metatable, as the identity walk left them. Prepare
// copies them, in the order Lua's pairs visits them, into next, a table
// private to the merge and sized for them, whose storage the commit moves
// into the stable table in one assignment (see apply): the commit, which
// holds calls up, neither reads the stable table (which calls may be
// using) nor walks any fields.
//
// The made table keeps its own fields, rebound by the walk: the walk
// rewrote every reference to it it could reach, but not all of them. It
// cannot see a callback the load gave a Go binding, a coroutine's stack,
// nor, for a load holding the engine's lock, the objects of a kept
// library's state it stops at. What those hold still works as the class's
// new version.
type identityMerge struct {
	stable *lua.LTable
	next   *lua.LTable // nil once applied
	size   int         // how many fields next has
}

// madeTable is what the identity walk found in a table of g.subst: the
// fields a handle copies (see metaFields) and its own fields, as rebound,
// in pairs order.
type madeTable struct {
	meta   []metaField
	fields []field
}

// apply gives the stable table exactly next's fields and metatable, as
// they were when the generation was prepared: whatever calls added,
// changed or removed in the stable table since is replaced too. It takes
// over next's storage (a gopher-lua table is its metatable, its array and
// its hash maps: the struct copy moves all of them), so its cost does not
// depend on the size of the class, and it allocates nothing. Called with
// the engine's lock (e.lk) held.
func (m *identityMerge) apply() {
	*m.stable = *m.next
	m.next = nil
}

// identityTable is a table that becomes the stable table of an identity new
// in its generation.
type identityTable struct {
	id string
	t  *lua.LTable
}

// instanceDict is the field of a middleclass class that holds the table its
// objects use as their metatable.
const instanceDict = lua.LString("__instanceDict")

// isIndexField reports whether f is an __index field.
func isIndexField(f field) bool { return f.k == lua.LString("__index") }

// isClassTable reports whether t is a class rather than an object: a class
// of g (a Programming in Lua class may have no __index yet), or a table
// with an __index field of its own. setmetatable(Sub, Base) extends a
// class; it does not make an object of Base.
func (g *generation) isClassTable(t *lua.LTable) bool {
	return g.classes[t] != nil || t.RawGetString("__index") != lua.LNil
}

// rebind replaces, in every value this generation reaches, the tables of
// g.subst by their stable tables (see stabilize), and the stand-ins of
// persisted tables by those tables (see standInFor). The tables of g.subst
// are rebound too, in place; it returns what it found in each of them it
// walked, their fields as rebound among it: a copy of those is what the
// commit moves into the stable table (see identityMerge).
func (g *generation) rebind() map[*lua.LTable]madeTable {
	// A table or function is queued once; the tables the walk stops at are
	// marked seen from the start.
	seenTables := make(map[*lua.LTable]bool, 4*len(g.modules))
	seenFuncs := make(map[*lua.LFunction]bool, 8*len(g.modules))
	for _, s := range g.e.stable {
		seenTables[s] = true
	}
	// A kept class library's tables are walked too: its registries hold
	// the classes this generation made (30log's), which must be the
	// stable ones, or each reload would add one. Reusing one took the
	// engine's lock (see load).
	if g.locked {
		for _, v := range g.e.persist {
			if t, ok := v.(*lua.LTable); ok {
				seenTables[t] = true
			}
		}
	}
	for _, si := range g.standIns {
		seenTables[si.table] = true
	}
	// The tables that were in the persisted tables the load reached are
	// not walked (the loop after the walk rewrites their fields).
	for t := range g.persistSeen {
		seenTables[t] = true
	}
	globals := g.L.G.Global
	var tables []*lua.LTable
	var funcs []*lua.LFunction
	// substitute returns the table t stands for: the stable table of one
	// this generation made for an identity, the table of a stand-in, or t.
	substitute := func(t *lua.LTable) *lua.LTable {
		if s := g.subst[t]; s != nil {
			return s
		}
		if si := g.standIns[t]; si != nil {
			return si.table
		}
		// Another generation's stand-in is found only in state the
		// generations share: unless the lock is held, t is not read (it
		// may be a stable table, which calls may be changing).
		if g.locked {
			if si := standInOf(t); si != nil {
				return si.table
			}
		}
		return t
	}
	// isObject reports whether t is an object. Objects of a class share
	// its handle table: remembering the last one saves a lookup per
	// object of a registry.
	var lastHandle *lua.LTable
	isObject := func(t *lua.LTable) bool {
		mt, ok := t.Metatable.(*lua.LTable)
		switch {
		case !ok:
			return false
		case mt == lastHandle:
			return true
		case handleOf(t) != nil:
			lastHandle = mt
			return true
		}
		return false
	}
	// visit returns what v stands for, and whether that is another table,
	// and queues v to be walked.
	visit := func(v lua.LValue) (lua.LValue, bool) {
		switch x := v.(type) {
		case *lua.LTable:
			// A table seen is not read again: a stable table (marked seen
			// from the start) or a made one whose metatable the walk
			// rewrote to one holds fields calls may be writing.
			if !seenTables[x] {
				if isObject(x) {
					// The walk stops at objects, which stand for no other
					// table. They stay out of the seen set, so that a
					// registry of a million objects is only read.
					return v, false
				}
				seenTables[x] = true
				tables = append(tables, x)
			}
			if s := substitute(x); s != x {
				return s, true
			}
		case *lua.LFunction:
			if !seenFuncs[x] {
				seenFuncs[x] = true
				funcs = append(funcs, x)
			}
		}
		return v, false
	}
	for f := range g.subst {
		visit(f)
	}
	for _, v := range g.modules {
		visit(v)
	}
	visit(globals)
	for _, fns := range g.handlers {
		for _, fn := range fns {
			visit(fn)
		}
	}
	for _, fn := range g.checks {
		visit(fn)
	}
	for _, v := range g.newPersist {
		visit(v)
	}
	// The load's views of persisted tables hold what it changed in them:
	// the commit writes their fields, which must be the stable classes and
	// the persisted tables themselves.
	for _, si := range g.standIns {
		if si.view != nil {
			visit(si.view)
		}
	}
	// What the load hung into the persisted tables it reached is its own:
	// a table it made (s.refs = {q = q}), a function of its own.
	ownValue := func(v lua.LValue) {
		switch x := v.(type) {
		case *lua.LTable:
			visit(x) // the tables that were there are marked seen
		case *lua.LFunction:
			if x.Env == globals {
				visit(x)
			}
		}
	}
	for _, st := range g.persistPre {
		st.t.ForEach(func(k, v lua.LValue) { ownValue(k); ownValue(v) })
	}
	var changes []tableChange
	// rebindField finds what the field k, v of the table walked stands
	// for, notes it in changes if that differs, and returns it.
	rebindField := func(k, v lua.LValue) (lua.LValue, lua.LValue) {
		nk, kChanged := visit(k)
		nv, vChanged := visit(v)
		if kChanged || vChanged {
			changes = append(changes, tableChange{k, nk, nv})
		}
		return nk, nv
	}
	rebindEach := func(k, v lua.LValue) { rebindField(k, v) }
	walked := make(map[*lua.LTable]madeTable, len(g.subst))
	for len(tables) > 0 || len(funcs) > 0 {
		if n := len(funcs); n > 0 {
			x := funcs[n-1]
			funcs = funcs[:n-1]
			own := x.Env == globals
			for _, uv := range x.Upvalues {
				if uv == nil {
					continue
				}
				// A function of another generation is followed only to its
				// closures and to the tables this one made (a library's
				// constructor closing over the class it just made), unless
				// the engine's lock is held: then the state it holds (a
				// kept library's registries) is walked too.
				v := uv.Value()
				if t, isTable := v.(*lua.LTable); own || g.locked || !isTable || g.subst[t] != nil || g.standIns[t] != nil {
					if nv, changed := visit(v); changed {
						uv.SetValue(nv)
					}
				}
			}
			continue
		}
		x := tables[len(tables)-1]
		tables = tables[:len(tables)-1]
		if mt, ok := x.Metatable.(*lua.LTable); ok {
			if mt.Metatable == standInMark {
				continue // a stand-in, replaced where it was found
			}
			if nmt, changed := visit(mt); changed {
				x.Metatable = nmt
			}
		}
		changes = changes[:0]
		if _, isMade := g.subst[x]; isMade {
			fs := orderedFields(x)
			var meta []metaField
			for i, f := range fs {
				fs[i].k, fs[i].v = rebindField(f.k, f.v)
				meta = appendMetaField(meta, fs[i].k, fs[i].v)
			}
			walked[x] = madeTable{meta, fs}
		} else {
			x.ForEach(rebindEach)
		}
		applyChanges(x, changes)
	}
	// In the persisted tables the load reached (holding the lock), a class
	// this generation made and its top level stored there (reg[Dog] = x)
	// is the stable class too, and a stand-in its table. Only what the
	// load put there was walked.
	for _, st := range g.persistPre {
		changes = changes[:0]
		st.t.ForEach(func(k, v lua.LValue) {
			nk, nv := k, v
			if t, ok := k.(*lua.LTable); ok {
				nk = substitute(t)
			}
			if t, ok := v.(*lua.LTable); ok {
				nv = substitute(t)
			}
			if nk != k || nv != v {
				changes = append(changes, tableChange{k, nk, nv})
			}
		})
		applyChanges(st.t, changes)
	}
	// And what require returns at run time is the stable table, as
	// package.loaded's (a table the walk rewrote) is.
	for m, v := range g.modules {
		if t, ok := v.(*lua.LTable); ok {
			g.modules[m] = substitute(t)
		}
	}
	// So is what hot.persist keeps under the keys this load made.
	for k, v := range g.newPersist {
		if t, ok := v.(*lua.LTable); ok {
			g.newPersist[k] = substitute(t)
		}
	}
	return walked
}

// tableChange is a field of a table the identity walk rewrites: k becomes
// nk, with the value nv.
type tableChange struct{ k, nk, nv lua.LValue }

// applyChanges writes changes into t. A change of key (a registry keyed
// by the class this generation made, rekeyed by the stable one) rebuilds
// the table: gopher-lua never forgets a key once set, even when its value
// is set to nil (it stays in the table's key order), so rekeying in place
// would keep every generation's made class, and through its functions
// that whole generation, alive for as long as the registry lives. The
// rebuilt table iterates in the same order; its storage replaces t's, so
// t stays the same Lua value.
func applyChanges(t *lua.LTable, changes []tableChange) {
	rekeyed := false
	for _, c := range changes {
		if c.nk != c.k {
			rekeyed = true
			break
		}
		t.RawSet(c.k, c.nv)
	}
	if !rekeyed {
		return
	}
	byKey := make(map[lua.LValue]tableChange, len(changes))
	for _, c := range changes {
		byKey[c.k] = c
	}
	fs := orderedFields(t)
	for i, f := range fs {
		if c, ok := byKey[f.k]; ok {
			fs[i] = field{c.nk, c.nv}
		}
	}
	*t = *tableOf(fs, t.Metatable)
}

// adoptIdentities makes g's class tables the stable ones, in the commit
// (called with the engine's lock (e.lk) held). First the versions objects
// may stay on are copied aside (see keepVersionsAside); then each table g
// made for an identity that already had one is merged into it: the stable
// table gets exactly its fields and its metatable. Identities new in g
// take g's table. The cost is the number of classes (and the size of the
// classes kept aside), not the number of objects.
func (e *Engine) adoptIdentities(g, old *generation) {
	if old != nil && len(g.merges) > 0 {
		e.keepVersionsAside(g, old)
	}
	for i := range g.merges {
		g.merges[i].apply()
	}
	for _, n := range g.newIdentities {
		e.stable[n.id] = n.t
	}
	g.merges, g.newIdentities = nil, nil
}

// keepVersionsAside copies the running version of a class out of its
// stable table, before the commit gives the table g's version, wherever
// objects may stay on it: for every class under ManualSwap (objects move
// when the host says so), else for the classes whose new version has a
// __migrate hook (an object whose hook fails stays on the version it ran,
// which is also the hook's old.class) and their bases. The versions of old
// point at the copies; a copy's references to another class copied refer
// to that copy. Classes without a hook are not copied: with none, the
// commit copies nothing.
func (e *Engine) keepVersionsAside(g, old *generation) {
	stays := make(map[*lua.LTable]bool)
	for _, cv := range g.order {
		h := e.handles[cv.name]
		if h == nil || !(e.opts.ManualSwap || cv.migrates) {
			continue
		}
		for c, depth := h.cur, 0; c != nil && !stays[c.table] && depth < 32; c, depth = c.gen.baseOf(c.table), depth+1 {
			stays[c.table], stays[c.owner] = true, true
		}
	}
	kept := make(map[*lua.LTable]*lua.LTable, len(stays))
	for _, m := range g.merges {
		if stays[m.stable] {
			kept[m.stable] = newTable(m.size)
		}
	}
	if len(kept) == 0 {
		return
	}
	keep := func(v lua.LValue) lua.LValue {
		if t, ok := v.(*lua.LTable); ok && kept[t] != nil {
			return kept[t]
		}
		return v
	}
	for s, k := range kept {
		s.ForEach(func(key, v lua.LValue) { k.RawSet(key, keep(v)) })
		k.Metatable = keep(s.Metatable)
	}
	for _, cv := range old.order {
		if k := kept[cv.table]; k != nil {
			stable := cv.table
			cv.table, cv.owner = k, keep(cv.owner).(*lua.LTable)
			cv.meta = metaFields(k, stable, cv.selfIndexed)
			if cv.frozen != nil {
				cv.frozen.point(cv)
			}
		}
	}
}

// tableOf returns a new table of the fields fs, which pairs visits in
// that order, and the metatable mt.
func tableOf(fs []field, mt lua.LValue) *lua.LTable {
	t := newTable(len(fs))
	for _, f := range fs {
		t.RawSet(f.k, f.v)
	}
	t.Metatable = mt
	return t
}

// orderedFields copies a table's own fields in the order pairs visits them.
func orderedFields(t *lua.LTable) []field {
	var fs []field
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		fs = append(fs, field{k, v})
	}
	return fs
}

// ownFields copies a table's own fields.
func ownFields(t *lua.LTable) []field {
	var fs []field
	t.ForEach(func(k, v lua.LValue) { fs = append(fs, field{k, v}) })
	return fs
}
