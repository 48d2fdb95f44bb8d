package engine

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/internal/sandbox"
)

// migrate runs the class's __migrate hook on each live object of h after a
// commit moved it from prev to h's current version (when changed is set:
// the version's hash differs). An object whose hook fails gets its fields
// back as they were before the hook and is pinned to the version it ran
// before (a frozen handle), with every plain table reachable from it as it
// was too (see snapshot); the failure is reported and the next commit of
// the class tries again. Objects pinned by an earlier failure are migrated
// from their pinned version, or released when the new version has no hook.
// Called with the engine's lock (e.lk) held, by the commit, whose deadline
// for hooks bounds them.
func (e *Engine) migrate(hooks *commitHooks, h *handle, prev *classVersion, changed bool, report *Report) {
	hook, _ := lookup(h.cur.table, migrateHook).(*lua.LFunction)
	if hook == nil && !h.hasPinned {
		return
	}
	ctx, done := hooks.start("__migrate of " + h.name)
	defer done()
	L := e.L
	defer sandbox.Guard(L, ctx)()
	olds := make(map[*classVersion]*lua.LTable)
	oldInfo := func(cv *classVersion) *lua.LTable {
		if t := olds[cv]; t != nil {
			return t
		}
		t := L.CreateTable(0, 3)
		t.RawSetString("class", cv.table)
		t.RawSetString("version", lua.LString(cv.version.String()))
		t.RawSetString("generation", lua.LNumber(cv.version.Generation))
		olds[cv] = t
		return t
	}
	pinned := false
	for _, obj := range h.objects() {
		from := prev
		if o := handleOf(obj); o != h { // pinned by an earlier failure
			from = o.cur
			obj.Metatable = h.t
		} else if !changed {
			continue // already on the current version
		}
		if hook == nil {
			continue
		}
		saved, err := e.gen.snapshot(obj)
		if err == nil {
			top := L.GetTop()
			L.Push(hook)
			L.Push(obj)
			L.Push(oldInfo(from))
			err = sandbox.PCall(L, 2, 0)
			L.SetTop(top)
			if err == nil {
				report.Migrated++
				continue
			}
			restore(saved)
		}
		obj.Metatable = from.frozenHandle(h).t
		pinned = true
		se := scriptError(err, h.cur.version.Generation)
		se.Class, se.Method = h.name, migrateHook
		report.Failed = append(report.Failed, se)
	}
	if pinned != h.hasPinned {
		h.hasPinned = pinned
		if pinned {
			e.pinnedHandles++
		} else {
			e.pinnedHandles--
		}
	}
}

type field struct{ k, v lua.LValue }

// maxSnapshotFields bounds the data a __migrate hook may reach from its
// object: the fields of every table the snapshot copies, counted
// together. An object over it is not migrated (its hook does not run, the
// report says why) and keeps its version.
const maxSnapshotFields = 1 << 20

// savedTable is one table of a snapshot: its fields and metatable.
type savedTable struct {
	t      *lua.LTable
	mt     lua.LValue
	fields []field
}

// snapshot copies the object obj and every plain table reachable from its
// fields, keys and values alike, once each (cycles and shared tables are
// fine), so that restore can undo whatever a failed hook did to them.
// Instances of classes (objects with their own hooks and data), class
// tables and handles are not entered; functions are kept as values, their
// upvalues untouched. It fails when the tables hold more than
// maxSnapshotFields fields.
func (g *generation) snapshot(obj *lua.LTable) ([]savedTable, error) {
	n := 0
	return g.snapshotInto(nil, map[*lua.LTable]bool{}, obj, false, &n)
}

// snapshotInto appends to saved the tables reachable from root that seen
// does not hold yet, marking them; objects says whether instances of
// classes are entered too. n counts the fields saved, against
// maxSnapshotFields.
func (g *generation) snapshotInto(saved []savedTable, seen map[*lua.LTable]bool, root *lua.LTable, objects bool, n *int) ([]savedTable, error) {
	if seen[root] {
		return saved, nil
	}
	seen[root] = true
	todo := []*lua.LTable{root}
	for len(todo) > 0 {
		t := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		st := savedTable{t: t, mt: t.Metatable}
		t.ForEach(func(k, v lua.LValue) {
			st.fields = append(st.fields, field{k, v})
			for _, x := range [2]lua.LValue{k, v} {
				if nt, ok := x.(*lua.LTable); ok && !seen[nt] && g.plainTable(nt, objects) {
					seen[nt] = true
					todo = append(todo, nt)
				}
			}
		})
		if *n += len(st.fields); *n > maxSnapshotFields {
			return nil, fmt.Errorf("more than %d fields are reachable: too much to restore should the change fail", maxSnapshotFields)
		}
		saved = append(saved, st)
	}
	return saved, nil
}

// plainTable reports whether t is data a snapshot copies: not a class
// table or a handle, nor, unless objects is set, an object of a class.
func (g *generation) plainTable(t *lua.LTable, objects bool) bool {
	if !objects && handleOf(t) != nil {
		return false
	}
	if _, isHandle := t.RawGetString(handleKey).(*lua.LUserData); isHandle {
		return false
	}
	return g.classes[t] == nil && (g.e.gen == nil || g.e.gen.classes[t] == nil)
}

// restore gives every table of a snapshot back exactly its fields and
// metatable.
func restore(saved []savedTable) {
	var keys []lua.LValue
	for _, st := range saved {
		keys = keys[:0]
		st.t.ForEach(func(k, _ lua.LValue) { keys = append(keys, k) })
		for _, k := range keys {
			st.t.RawSet(k, lua.LNil)
		}
		for _, f := range st.fields {
			st.t.RawSet(f.k, f.v)
		}
		st.t.Metatable = st.mt
	}
}
