package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"weak"

	lua "github.com/yuin/gopher-lua"
)

// Version identifies the code a class or object runs: the generation whose
// state defined the class table, and a hash of the scripts it was built
// from: the script that defined it, every module that script required,
// transitively, and its base classes' scripts. Two versions with the same
// Hash run the same source text, short of a 1 in 2^48 chance (Hash is 12
// hex digits of a 64-bit sum). A Version is a comparable plain value.
type Version struct {
	Generation uint64
	Hash       string
}

// String returns "g<generation>:<hash>", the form shown by the console and
// by hot.version.
func (v Version) String() string { return fmt.Sprintf("g%d:%s", v.Generation, v.Hash) }

// classVersion is one generation's definition of a class.
type classVersion struct {
	name  string
	table *lua.LTable // the class table scripts see: objects' metatable
	// owner is the table scripts call the class: the module's value when
	// the objects' metatable is a table inside it (an instance
	// dictionary), else table. Engine.New calls it when it is callable.
	owner *lua.LTable
	// fresh holds, while the generation is prepared, what it defined for
	// the class when table is the stable table of an identity an earlier
	// generation made (the commit merges its fields into table: see
	// stabilize). It equals table otherwise, and once prepared.
	fresh   *lua.LTable
	module  string // the module that defined it
	version Version
	gen     *generation
	frozen  *handle // made on first use by frozenHandle
	// migrates is set when the version has a __migrate hook, its own or a
	// base's.
	migrates bool
	// selfIndexed is set for a Programming in Lua class, whose constructor
	// gives it __index = itself only when it first runs: a handle gives
	// its objects that __index from the start (see metaFields), and a
	// reload keeps it in the stable table (see stabilize).
	selfIndexed bool
	meta        []metaField // what a handle copies from table (see metaFields)
}

// handleKey is the raw key under which a handle table keeps its *handle.
// Scripts never see handle tables: getmetatable returns the class, through
// __metatable.
const handleKey = "__hotlua_handle"

// migrateHook is the optional per-class method that migrates an object to a
// new version: Class:__migrate(old), old = {class=, version=, generation=}.
const migrateHook = "__migrate"

// handle is the table that instances carry as their metatable instead of the
// class table itself. Its __index points at the current version's class, its
// metamethods are copied from it and its __metatable is the class, so for
// scripts it behaves like the class. A commit repoints handles: its cost
// depends on the number of classes, not of objects, and no instance list is
// needed for the swap.
//
// In the default automatic mode there is one handle per class name, for the
// engine's life. With Options.ManualSwap, and for objects whose migration
// failed, a handle is frozen on one version: its owner is then the class's
// automatic handle.
//
// A handle is touched only with the engine's lock held.
type handle struct {
	name string
	t    *lua.LTable
	cur  *classVersion
	// owner is the automatic handle of the same name, for a frozen handle
	// (nil for the automatic handle itself).
	owner *handle
	// copied is what the table holds besides handleKey: the meta of the
	// version it was last pointed at, as it was then (a version's meta is
	// replaced, never changed in place). Only point and repoint write the
	// table, so prepare can work out a commit's writes from copied alone.
	copied []metaField
	// instances tracks live objects weakly, so that migration hooks and
	// listings can reach them without keeping them alive.
	instances instanceList
	// hasPinned is set when a failed migration pinned an object of this
	// class to a frozen handle; the next commit's walk makes it exact.
	hasPinned bool
}

func newHandle(name string, cv *classVersion) *handle {
	if cv.meta == nil {
		cv.meta = metaFields(cv.table, cv.table, cv.selfIndexed)
	}
	h := &handle{name: name, t: newTable(len(cv.meta) + 1)}
	h.t.RawSetString(handleKey, &lua.LUserData{Value: h})
	h.point(cv)
	return h
}

// newTable returns an empty table with room for n string keys, without an
// LState: gopher-lua's CreateTable uses none. (A zero LTable, or one from
// NewTable, makes room for 32 keys at its first string key: about 2.5 KB,
// against a handle's few.)
func newTable(n int) *lua.LTable { return (*lua.LState)(nil).CreateTable(0, n) }

// metaField is a field a handle copies from its class.
type metaField struct {
	key string
	val lua.LValue
}

// metaFields lists what a handle copies from the class table t: its
// metamethods (fields whose name starts with "__", __index included) and,
// unless the class sets its own, __metatable = self (the class's stable
// table), so that getmetatable of an object is its class; and, for a
// selfIndexed class without an __index yet, __index = self. It scans the
// whole class, so prepare calls it, before the commit holds calls up.
func metaFields(t, self *lua.LTable, selfIndexed bool) []metaField {
	var meta []metaField
	t.ForEach(func(k, v lua.LValue) { meta = appendMetaField(meta, k, v) })
	return withSelfFields(meta, self, selfIndexed)
}

// appendMetaField appends the field k, v to meta when a handle copies it.
func appendMetaField(meta []metaField, k, v lua.LValue) []metaField {
	ks, ok := k.(lua.LString)
	if !ok || !strings.HasPrefix(string(ks), "__") || ks == handleKey || ks == migrateHook {
		return meta
	}
	return append(meta, metaField{string(ks), v})
}

// withSelfFields appends to meta __metatable = self and, for a
// selfIndexed class, __index = self, each unless the class sets its own.
func withSelfFields(meta []metaField, self *lua.LTable, selfIndexed bool) []metaField {
	keys := []string{"__metatable"}
	if selfIndexed {
		keys = append(keys, "__index")
	}
	for _, key := range keys {
		if !slices.ContainsFunc(meta, func(f metaField) bool { return f.key == key }) {
			meta = append(meta, metaField{key, self})
		}
	}
	return meta
}

// point makes the handle present cv: __index, metamethods, __metatable.
func (h *handle) point(cv *classVersion) {
	if cv.meta == nil {
		cv.meta = metaFields(cv.table, cv.table, cv.selfIndexed)
	}
	h.repoint(cv, metaWrites(h.copied, cv.meta))
}

// repoint makes the handle present cv by writing writes, which
// metaWrites(h.copied, cv.meta) returned.
func (h *handle) repoint(cv *classVersion, writes []metaField) {
	for _, w := range writes {
		h.t.RawSetString(w.key, w.val)
	}
	h.copied, h.cur = cv.meta, cv
}

// metaWrites returns the writes that turn a handle table holding the fields
// copied into one holding meta: the fields whose value differs, and the
// keys of copied that meta lacks, with the value nil.
func metaWrites(copied, meta []metaField) []metaField {
	var writes []metaField
	for _, c := range copied {
		if !slices.ContainsFunc(meta, func(f metaField) bool { return f.key == c.key }) {
			writes = append(writes, metaField{c.key, lua.LNil})
		}
	}
	for _, f := range meta {
		if i := slices.IndexFunc(copied, func(c metaField) bool { return c.key == f.key }); i < 0 || copied[i].val != f.val {
			writes = append(writes, f)
		}
	}
	return writes
}

// handleOf returns the handle an object carries, or nil for a plain value.
func handleOf(v lua.LValue) *handle {
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil
	}
	mt, ok := t.Metatable.(*lua.LTable)
	if !ok {
		return nil
	}
	ud, ok := mt.RawGetString(handleKey).(*lua.LUserData)
	if !ok {
		return nil
	}
	h, _ := ud.Value.(*handle)
	return h
}

// classTable returns the class table of the version the handle of ud
// points at, or nil when ud holds no handle.
func classTable(ud *lua.LUserData) *lua.LTable {
	if h, ok := ud.Value.(*handle); ok && h.cur != nil {
		return h.cur.table
	}
	return nil
}

// instanceList is a list of weak references to objects, compacted as it
// grows so that its length stays within about twice the number of live
// objects.
type instanceList struct {
	refs []weak.Pointer[lua.LTable]
	live int // entries kept by the last compaction
}

// track adds t to h's objects.
func (h *handle) track(t *lua.LTable) {
	l := &h.instances
	if len(l.refs) >= 2*l.live+64 {
		h.compact()
	}
	l.refs = append(l.refs, weak.Make(t))
}

// compact drops references to collected objects, to objects that carry
// another class now, and duplicates (an object that left and came back).
func (h *handle) compact() {
	l := &h.instances
	seen := make(map[*lua.LTable]struct{}, l.live)
	out := l.refs[:0]
	for _, r := range l.refs {
		t := r.Value()
		if t == nil || !h.owns(t) {
			continue
		}
		if _, dup := seen[t]; dup {
			continue
		}
		seen[t] = struct{}{}
		out = append(out, r)
	}
	clear(l.refs[len(out):])
	l.refs = out
	l.live = len(out)
}

// objects returns the live objects of h.
func (h *handle) objects() []*lua.LTable {
	h.compact()
	out := make([]*lua.LTable, 0, len(h.instances.refs))
	for _, r := range h.instances.refs {
		out = append(out, r.Value())
	}
	return out
}

// owns reports whether t carries h, or a frozen handle owned by h.
func (h *handle) owns(t *lua.LTable) bool {
	o := handleOf(t)
	return o == h || (o != nil && o.owner == h)
}

// Class is one version of a class, as seen from Go. Get the current version
// with [Engine.Class]; a newer one with [Engine.UpdatedClass].
//
// A Class is an immutable value, safe for concurrent use; calls through it
// are serialized by its engine.
type Class struct {
	e  *Engine
	cv *classVersion
}

// Name returns the class's stable identity: its module name
// ("units.enemy") or the name given to hot.class.
func (c *Class) Name() string { return c.cv.name }

// Version returns the version this Class value describes.
func (c *Class) Version() Version { return c.cv.version }

// String returns "name@version".
func (c *Class) String() string { return c.cv.name + "@" + c.cv.version.String() }

// Call calls the class function fn with args (a dot call: Class.fn(args...))
// and returns its first result. Use it for a script's own constructor:
// c.Call(ctx, "new", x, y) returns the new object (see [Value.Object]).
func (c *Class) Call(ctx context.Context, fn string, args ...any) (Value, error) {
	return c.e.call(ctx, c.cv.table, false, c.cv.name, fn, args)
}
