package engine

import (
	"fmt"
	"maps"
	"runtime/metrics"
	"slices"
	"weak"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/internal/sandbox"
)

// A generation stays in memory, after a newer one committed, for as long as
// anything reaches one of its functions: each function keeps the globals of
// the generation that made it, and through them all of that generation's
// modules (about 560 KB for the demo's scripts). Functions stored in
// objects' fields or in hot.persist values, and reused library modules, do
// that. hot.method makes a callback that keeps no generation alive.

// retiredGeneration is a generation a commit replaced, watched weakly.
type retiredGeneration struct {
	num     uint64
	globals weak.Pointer[lua.LTable]
	gcs     uint64 // garbage collections completed when it was replaced
}

// gcCycles returns how many garbage collections have completed.
func gcCycles() uint64 {
	sample := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// retained reports whether r is still in memory because something reaches
// it: it outlived a whole garbage collection that started after it was
// replaced (the one running then may have marked it already), so its
// weak pointer would have been cleared otherwise. now is gcCycles().
func (r retiredGeneration) retained(now uint64) bool {
	return r.globals.Value() != nil && now >= r.gcs+2
}

// GenerationInfo describes a generation still in memory. It is a plain
// value, a snapshot.
type GenerationInfo struct {
	Number  uint64
	Current bool
	// Holders says what keeps an old generation alive, one line each:
	// "units.goblin.onHit: 3 objects" (objects whose field holds one of its
	// functions), "hot.persist(\"cb\")", "library module lib.class" (the
	// generation made a library module that later ones keep), "state of
	// library module lib.reg" (a kept library's registry holds functions
	// the generation's modules gave it).
	// Something else (a coroutine, a nested table) may hold it too.
	Holders []string
}

// retire stamps the newest retired generation, which the commit that just
// released the engine's lock recorded, with the collections completed so
// far, and forgets the generations the garbage collector freed. It returns
// the numbers of the older ones something still reaches (see retained),
// nil for none. It runs after the lock: reading a weak pointer of every
// retired generation can take microseconds each while a collection marks,
// and calls need not wait for it.
func (e *Engine) retire() (alive []uint64) {
	e.retiredMu.Lock()
	defer e.retiredMu.Unlock()
	now := gcCycles()
	newest := len(e.retired) - 1
	e.retired[newest].gcs = now
	for _, r := range e.retired[:newest] {
		if r.retained(now) {
			alive = append(alive, r.num)
		}
	}
	e.retired = slices.DeleteFunc(e.retired, func(r retiredGeneration) bool { return r.globals.Value() == nil })
	return alive
}

// Generations lists the generations in memory: the current one, and each
// old one that something still reaches, with what reaches it. A generation
// nothing reaches is listed until the garbage collector frees it: call
// runtime.GC first for an exact list. It looks at every live object's
// fields and through the state of every kept library module, holding calls
// up meanwhile, so its cost grows with their size: it is for operators
// (the console's :generations), not for a loop.
func (e *Engine) Generations() []GenerationInfo {
	e.lockBackground()
	defer e.lk.unlock()
	if e.isClosed() {
		return nil
	}
	byGlobals := make(map[*lua.LTable]uint64)
	holders := make(map[uint64]map[string]int)
	e.retiredMu.Lock()
	retired := slices.Clone(e.retired)
	e.retiredMu.Unlock()
	for _, r := range retired {
		if g := r.globals.Value(); g != nil {
			byGlobals[g] = r.num
			holders[r.num] = make(map[string]int)
		}
	}
	origin := func(v lua.LValue) (uint64, bool) {
		if f, ok := v.(*lua.LFunction); ok && f.Env != nil {
			n, ok := byGlobals[f.Env]
			return n, ok
		}
		return 0, false
	}
	for name, h := range e.handles {
		for _, obj := range h.objects() {
			obj.ForEach(func(k, v lua.LValue) {
				if n, ok := origin(v); ok {
					holders[n][fmt.Sprintf("%s.%s: %%d objects", name, lua.LVAsString(k))]++
				}
			})
		}
	}
	for key, v := range e.persist {
		found := func(v lua.LValue) {
			if n, ok := origin(v); ok {
				holders[n][fmt.Sprintf("hot.persist(%q)", key)] = 0
			}
		}
		found(v)
		if t, ok := v.(*lua.LTable); ok && handleOf(t) == nil {
			t.ForEach(func(_, v lua.LValue) { found(v) })
		}
	}
	for m, n := range e.gen.origin {
		if holders[n] != nil {
			holders[n]["library module "+m] = 0
		}
		for _, held := range heldByLibrary(e.gen.modules[m], n, origin) {
			holders[held]["state of library module "+m] = 0
		}
	}
	out := []GenerationInfo{{Number: e.gen.num, Current: true}}
	for _, n := range slices.Sorted(maps.Keys(holders)) {
		info := GenerationInfo{Number: n}
		for _, line := range slices.Sorted(maps.Keys(holders[n])) {
			if c := holders[n][line]; c > 0 {
				line = fmt.Sprintf(line, c)
			}
			info.Holders = append(info.Holders, line)
		}
		out = append(out, info)
	}
	return out
}

// heldByLibrary returns the old generations (other than its own, made)
// whose functions the state of a kept library module, of value v, holds:
// a registry that later generations' modules added to. It follows the
// module's tables and its own functions' upvalues, and stops at objects
// (reported by their class), at other generations' functions, and after
// maxStateWalk values, as it holds calls up.
func heldByLibrary(v lua.LValue, made uint64, origin func(lua.LValue) (uint64, bool)) []uint64 {
	found := make(map[uint64]bool)
	walkReach(v, maxStateWalk, func(x lua.LValue) (follow, _ bool) {
		switch x := x.(type) {
		case *lua.LTable:
			return handleOf(x) == nil, false
		case *lua.LFunction:
			n, old := origin(x)
			if old && n != made {
				found[n] = true
			}
			return old && n == made, false // the library's own
		}
		return false, false
	})
	return slices.Sorted(maps.Keys(found))
}

// hot.method(obj, name) returns a function that calls obj:name(...) with
// its arguments, looking the method up at each call: a callback to store
// in a field or a persisted table that runs the newest version of the
// method and keeps no generation alive. It is a Lua function (see
// methodCallbackProto), so the method may yield: coroutine.wrap of the
// callback works.
func (g *generation) hotMethod(L *lua.LState) int {
	obj := L.CheckTable(1)
	name := L.CheckString(2)
	// A stand-in (a persisted object, at a loading top level) is given up
	// at the first call, which holds the engine's lock: from then on the
	// callback holds the object itself, not the stand-in's generation.
	si := standInOf(obj)
	find := &lua.LFunction{IsG: true, Env: g.e.methodEnv, GFunction: func(L *lua.LState) int {
		if si != nil {
			obj, si = si.demote(L), nil
		}
		fn, ok := L.GetField(obj, name).(*lua.LFunction)
		if !ok {
			// Level 3: the line that called the callback, not its own.
			L.Error(lua.LString(fmt.Sprintf("hot.method: the object has no method %q", name)), 3)
		}
		L.Push(fn)
		L.Push(obj)
		return 2
	}}
	// Its one upvalue, find, is made closed: an upvalue closed by a return
	// would keep the state it was open in, and so its generation.
	uv := &lua.Upvalue{}
	uv.SetValue(find)
	L.Push(&lua.LFunction{Env: g.e.methodEnv, Proto: methodCallbackProto, Upvalues: []*lua.Upvalue{uv}})
	return 1
}

// methodCallbackProto is the function of hot.method's callbacks: it asks
// its upvalue for the method and the object, then calls the method from
// Lua. A Go function calling it would stand between a yield in the method
// and the coroutine running the callback, which the sandbox refuses.
var methodCallbackProto = sandbox.CompileBuiltin("local find\nreturn function(...) local method, self = find() return method(self, ...) end\n",
	"hot.method", "a callback made by hot.method: it calls the object's method, looked up by name at each call").FunctionPrototypes[0]
