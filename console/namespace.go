package console

import (
	"runtime"
	"slices"
	"sync"
	"weak"

	lua "github.com/yuin/gopher-lua"
)

// namespaceKey is the hot.persist key under which a program keeps its
// console namespace, so that it is one per engine and survives reloads.
const namespaceKey = "hotlua.console"

// namespace is what every console session of one program shares: the
// console's variables and the ids of the objects it has shown. Its fields
// are used only inside Target.Do, which serializes them.
type namespace struct {
	vars *lua.LTable // x = 1 at the console; its metatable reads the globals
	ids  *objectIDs
}

func newNamespace(L *lua.LState) *namespace {
	ns := &namespace{vars: L.NewTable(), ids: newObjectIDs()}
	L.SetMetatable(ns.vars, L.NewTable())
	return ns
}

// sharedNamespace returns the program's namespace: the one kept with
// hot.persist when the program has the hot module, else nil.
func sharedNamespace(L *lua.LState) *namespace {
	hot, ok := L.GetGlobal("hot").(*lua.LTable)
	if !ok {
		return nil
	}
	persist, ok := L.GetField(hot, "persist").(*lua.LFunction)
	if !ok {
		return nil
	}
	first := L.NewFunction(func(L *lua.LState) int {
		ud := L.NewUserData()
		ud.Value = newNamespace(L)
		L.Push(ud)
		return 1
	})
	if err := L.CallByParam(lua.P{Fn: persist, NRet: 1, Protect: true}, lua.LString(namespaceKey), first); err != nil {
		return nil
	}
	got := L.Get(-1)
	L.Pop(1)
	if ud, ok := got.(*lua.LUserData); ok {
		if ns, ok := ud.Value.(*namespace); ok {
			return ns
		}
	}
	return nil
}

// objectIDs gives each object the console shows a short number that stays
// the same for the object's life, without keeping it alive. It is safe for
// concurrent use.
type objectIDs struct {
	mu     sync.Mutex
	next   int
	byObj  map[weak.Pointer[lua.LTable]]int
	byID   map[int]weak.Pointer[lua.LTable]
	forget func(weak.Pointer[lua.LTable])
}

func newObjectIDs() *objectIDs {
	r := &objectIDs{byObj: map[weak.Pointer[lua.LTable]]int{}, byID: map[int]weak.Pointer[lua.LTable]{}}
	r.forget = func(w weak.Pointer[lua.LTable]) {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.byID, r.byObj[w])
		delete(r.byObj, w)
	}
	return r
}

// id returns t's number, giving it the next one on first sight.
func (r *objectIDs) id(t *lua.LTable) int {
	w := weak.Make(t)
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, ok := r.byObj[w]; ok {
		return id
	}
	r.next++
	r.byObj[w], r.byID[r.next] = r.next, w
	runtime.AddCleanup(t, r.forget, w)
	return r.next
}

// lookup returns the live object numbered id, or nil.
func (r *objectIDs) lookup(id int) *lua.LTable {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id].Value()
}

// sortByID orders objects by their numbers, giving numbers to those that
// have none in the order given.
func (r *objectIDs) sortByID(objs []*lua.LTable) {
	for _, o := range objs {
		r.id(o)
	}
	slices.SortFunc(objs, func(a, b *lua.LTable) int { return r.id(a) - r.id(b) })
}
