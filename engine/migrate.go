package engine

import (
	"context"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/internal/sandbox"
)

// migrate runs the class's __migrate hook on each live object of h after a
// commit moved it from prev to h's current version (when changed is set:
// the version's hash differs). An object whose hook fails gets its fields
// back as they were before the hook and is pinned to the version it ran
// before (a frozen handle); the failure is reported and the next commit of
// the class tries again. Objects pinned by an earlier failure are migrated
// from their pinned version, or released when the new version has no hook.
// Called with e.mu held, after the commit; ctx bounds the hooks.
func (e *Engine) migrate(ctx context.Context, h *handle, prev *classVersion, changed bool, report *Report) {
	hook, _ := lookup(h.cur.table, migrateHook).(*lua.LFunction)
	if hook == nil && !h.hasPinned {
		return
	}
	L := e.L
	defer sandbox.Guard(L, ctx)()
	olds := make(map[*classVersion]*lua.LTable)
	oldInfo := func(cv *classVersion) *lua.LTable {
		if t := olds[cv]; t != nil {
			return t
		}
		t := L.NewTable()
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
		saved := snapshot(obj)
		top := L.GetTop()
		L.Push(hook)
		L.Push(obj)
		L.Push(oldInfo(from))
		err := sandbox.PCall(L, 2, 0)
		L.SetTop(top)
		if err == nil {
			report.Migrated++
			continue
		}
		restore(obj, saved)
		obj.Metatable = from.frozenHandle(h).t
		pinned = true
		se := scriptError(err, h.cur.version.Generation)
		se.Class, se.Method = h.name, migrateHook
		report.Failed = append(report.Failed, se)
	}
	h.hasPinned = pinned
}

type field struct{ k, v lua.LValue }

// snapshot copies a table's own fields (shallowly).
func snapshot(t *lua.LTable) []field {
	var fs []field
	t.ForEach(func(k, v lua.LValue) { fs = append(fs, field{k, v}) })
	return fs
}

// restore gives a table back exactly the fields of a snapshot.
func restore(t *lua.LTable, fs []field) {
	var keys []lua.LValue
	t.ForEach(func(k, _ lua.LValue) { keys = append(keys, k) })
	for _, k := range keys {
		t.RawSet(k, lua.LNil)
	}
	for _, f := range fs {
		t.RawSet(f.k, f.v)
	}
}
