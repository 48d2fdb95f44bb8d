package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/bindings"
	"github.com/hotlua/hotlua/internal/sandbox"
)

// generation is one complete load of the script set in its own LState.
// While it is prepared, only prepare's goroutine touches it (holding
// e.reloading, and the engine's lock once it reached shared state); once
// committed, everything in it is touched only with the engine's lock held.
type generation struct {
	e   *Engine
	num uint64
	L   *lua.LState
	hot *lua.LTable
	// setmetatableFn is the generation's setmetatable, which hot.class's
	// constructors call directly.
	setmetatableFn *lua.LFunction
	// pcall makes the protected calls into L.
	pcall   sandbox.Caller
	scripts map[string]*script // by module name
	modules map[string]lua.LValue
	loading []string // modules being loaded, innermost last
	// packageLoaded is the sandbox's view package.loaded, whose own fields
	// are the names scripts added (nil when trusted: see loadedTable).
	packageLoaded *lua.LTable
	// deps lists the modules each module required while it loaded: the
	// require graph that versions its classes.
	deps map[string][]string
	// prev is the generation that was current when this one was made (nil
	// for the first); its modules may be reused (see reusable).
	prev *generation
	// libraries are the modules whose value defines no class.
	libraries map[string]bool
	// kept holds, once the generation is prepared, the library modules
	// whose value the next generation reuses when their sources did not
	// change (see keepLocals). It is not written after that, so a
	// generation being prepared reads it without the engine's lock.
	kept map[string]keptModule
	// reused marks the modules whose value is the previous generation's;
	// origin names the generation that made each such value.
	reused map[string]bool
	origin map[string]uint64
	// identities names the tables that keep one identity across
	// generations (see identity), by table.
	identities map[*lua.LTable]string
	// subst maps each table this generation made for an identity that an
	// earlier generation already had to that identity's stable table, while
	// it is prepared; merges and newIdentities are what the commit does
	// with them (see stabilize).
	subst         map[*lua.LTable]*lua.LTable
	merges        []identityMerge
	newIdentities []identityTable
	// What prepare worked out for the commit (see Engine.planCommit),
	// when the engine had handlesAtPrepare handles: the engine's classes
	// this generation lacks, what the commit does to each class's handle,
	// room for the classes it may migrate, the report it fills, the
	// generation it replaces, as retired, and its description for busy
	// errors.
	orphans          []string
	repoints         []repoint
	swaps            []swap
	report           *Report
	replaces         retiredGeneration
	commitTask       *task
	handlesAtPrepare int

	classes map[*lua.LTable]*classVersion // class table -> its definition
	byName  map[string]*classVersion
	order   []*classVersion // in definition order

	// pending lists the metatables scripts set while the generation was
	// being prepared. Their classes become known only as modules return,
	// so the commit gives these objects their handles.
	pending []pendingObject
	// newPersist holds hot.persist values first made while preparing; they
	// join the engine's store only if the generation commits.
	newPersist map[string]lua.LValue
	handlers   map[string][]*lua.LFunction // hot.on, by event
	checks     []*lua.LFunction            // hot.check
	committed  bool
	// standIns are the stand-ins hot.persist gave the load for persisted
	// tables (see standInFor); written only while it is prepared.
	standIns map[*lua.LTable]*standIn
	// standInTables maps each of those tables to its stand-in; standInMeta
	// is the stand-ins' metatable. viewWrites holds, once prepared, what the
	// load changed in its views of persisted tables (see standIn), which
	// the commit writes into them.
	standInTables map[*lua.LTable]*lua.LTable
	standInMeta   *lua.LTable
	views         map[*lua.LTable]bool
	viewWrites    []persistWrite
	// persistPre holds the persisted tables the load reached as they were
	// before it (saveForUndo), persistPost as it left them (loaded), so
	// that discarding the generation undoes its writes; persistSeen and
	// persistFields bound the copy.
	persistPre, persistPost []savedTable
	persistSeen             map[*lua.LTable]bool
	persistFields           int
	// hashes (script path -> content hash) and files (the paths that differ
	// from the current generation's) are computed by prepare for the commit.
	hashes map[string][sha256.Size]byte
	files  []string
	// preparing is set while prepare runs the generation's scripts and
	// checks, on prepare's goroutine; locked, while it holds the engine's
	// lock (see lockEngine).
	preparing, locked bool
	unlockTask        func() // ends the busy description lockEngine set
	// heldBy says what the load reached when it took the lock, at
	// heldSince; held is how long it held it (see Report.Held).
	heldBy    string
	heldSince time.Time
	held      time.Duration
	lockErr   error // why lockEngine could not take the lock, which prepare returns
	// undoErr says why the undo snapshot of a persisted table could not be
	// made: every later reach into persisted tables fails with it, and so
	// does the load, even if its scripts caught the error.
	undoErr string
	// failed, set only by Check, holds the modules whose top level failed;
	// requiring one fails with a short error. checkErrs collects Check's
	// problems.
	failed    map[string]bool
	checkErrs []error
	// discarded is set when the generation failed or was superseded before
	// it committed. Its functions may survive in persisted values; its hot
	// functions then refuse to run.
	discarded bool
}

// lockEngine takes the engine's lock for the rest of the preparation. A
// generation being prepared runs without it, beside the calls of the
// current generation, until it reaches state the two share that it
// cannot work on a copy of: a persisted object, function or userdata (see
// standIn) or a reused library module (see keepLocals). From then on it
// holds calls up; reached says what, for busy errors. With
// Options.NeverHoldCalls it raises an error instead, at the running
// script's line, or at file (a script path) when given: the library
// reached is that file as a whole.
//
// Only prepare's goroutine takes it: a function of this generation called
// later, by a call that holds the lock already, must not.
func (g *generation) lockEngine(L *lua.LState, reached, file string) {
	if g.preparing && !g.locked {
		if g.e.opts.NeverHoldCalls {
			msg := fmt.Sprintf("reaching %s would hold the running calls until this load ends, which Options.NeverHoldCalls forbids (reach it from a function or a hot.on(\"reload\") handler)", reached)
			if file != "" {
				L.Error(lua.LString(file+":1:1: "+msg), 0)
			}
			L.RaiseError("%s", msg)
		}
		g.takeLock(L)
		g.locked = true
		g.heldBy, g.heldSince = reached, time.Now()
		g.unlockTask = g.e.lk.doing(fmt.Sprintf("loading generation %d (its scripts reached %s)", g.num, reached))
		g.directViews(L)
		g.saveClassesForUndo()
	}
}

// discard releases a generation that will never commit.
func (g *generation) discard() {
	if len(g.persistPre) > 0 {
		if g.locked {
			g.undoPersist()
		} else {
			g.e.lockBackground()
			g.undoPersist()
			g.e.lk.unlock()
		}
	}
	g.discarded = true
	g.L.Close()
}

// checkAlive raises a Lua error in a discarded generation's hot functions.
func (g *generation) checkAlive(L *lua.LState) {
	if g.discarded {
		L.RaiseError("this function belongs to generation %d, which failed to load or was superseded", g.num)
	}
}

// unlockEngine releases what lockEngine took.
func (g *generation) unlockEngine() {
	if g.locked {
		g.locked = false
		g.unlockTask()
		g.held = time.Since(g.heldSince)
		g.e.lk.unlock()
	}
}

// pendingObject is a setmetatable(obj, mt) made while preparing; mt is nil
// for setmetatable(obj, nil).
type pendingObject struct{ obj, mt *lua.LTable }

func newGeneration(e *Engine, num uint64, L *lua.LState, scripts []*script) *generation {
	g := &generation{
		e:          e,
		num:        num,
		L:          L,
		scripts:    make(map[string]*script, len(scripts)),
		modules:    make(map[string]lua.LValue, len(scripts)),
		classes:    make(map[*lua.LTable]*classVersion),
		deps:       make(map[string][]string),
		prev:       e.gen, // a commit writes it with both locks held; we hold e.reloading
		libraries:  make(map[string]bool),
		reused:     make(map[string]bool),
		origin:     make(map[string]uint64),
		identities: make(map[*lua.LTable]string),
		byName:     make(map[string]*classVersion),
		newPersist: make(map[string]lua.LValue),
		handlers:   make(map[string][]*lua.LFunction),
	}
	for _, s := range scripts {
		g.scripts[s.module] = s
	}
	return g
}

// install sets the engine's globals in the generation's state: the hot
// module, require and setmetatable.
func (g *generation) install() {
	L := g.L
	g.pcall = sandbox.NewCaller(L)
	L.G.Registry.RawSetString(generationKey, &lua.LUserData{Value: g, Metatable: lua.LNil})
	g.hot = L.CreateTable(0, 16) // room for its functions and the host helpers'
	// Each acts for the generation whose state runs it: a reused library
	// module holds an earlier generation's hot. A discarded generation's
	// refuse to run (see checkAlive).
	running := func(f func(*generation, *lua.LState) int) lua.LGFunction {
		return func(L *lua.LState) int {
			if cur := generationOf(L); cur != nil && !g.discarded {
				return f(cur, L)
			}
			return f(g, L)
		}
	}
	L.SetFuncs(g.hot, map[string]lua.LGFunction{
		"class":   running((*generation).hotClass),
		"persist": running((*generation).hotPersist),
		"on":      running((*generation).hotOn),
		"check":   running((*generation).hotCheck),
		"version": running((*generation).hotVersion),
		"method":  running((*generation).hotMethod),
	})
	bindings.InstallHostHelpers(L, g.hot, bindings.Host{
		Logger:     g.e.log,
		Generation: func() uint64 { return g.num },
	})
	// Scripts get a read-only view: one module must not replace hot.persist
	// or hot.class for the others.
	g.hot = sandbox.ReadOnly(L, "hot", g.hot)
	L.SetGlobal("hot", g.hot)
	L.SetGlobal("require", L.NewFunction(g.require))
	if !g.e.opts.Trusted {
		g.packageLoaded, _ = L.GetField(L.GetGlobal("package"), "loaded").(*lua.LTable)
	}
	g.setmetatableFn = L.NewFunction(g.setmetatable)
	L.SetGlobal("setmetatable", g.setmetatableFn)
	sandbox.ResolveTables(L, resolveStandIn)
}

// loadAll runs every script as a module, in module-name order (a module
// required earlier by another is not run twice), then gives the classes
// their identities. It runs inside a protected call: errors are Lua errors.
func (g *generation) loadAll(L *lua.LState) int {
	for _, name := range slices.Sorted(maps.Keys(g.scripts)) {
		if _, done := g.modules[name]; !done {
			g.load(L, g.scripts[name])
		}
	}
	return 0
}

// load runs one module and records what it returned and what it required.
// A returned table that is a class (see classOfModule) is the class named
// after the module. A library module whose source and require graph did not
// change since the previous generation returns that generation's value
// (see reusable).
func (g *generation) load(L *lua.LState, s *script) lua.LValue {
	// A module whose top level fails unwinds through here to a pcall of
	// require, and the load goes on: it must not stay on g.loading, where
	// it would own what the requirer defines next (its classes' hashes).
	depth := len(g.loading)
	defer func() { g.loading = g.loading[:depth] }()
	g.loading = append(g.loading, s.module)
	if t := g.loadedTable(L); t != nil { // what loadedEarly finds is only what this load puts there
		dropEntry(t, s.module)
	}
	L.Push(L.NewFunctionFromProto(s.proto))
	L.Push(lua.LString(s.module))
	if g.failed == nil {
		L.Call(1, 1)
	} else if err := g.pcall.PCall(L, 1, 1); err != nil { // Check: record, and stop what required it
		g.failed[s.module] = true
		g.checkErrs = append(g.checkErrs, scriptError(err, g.num))
		L.RaiseError("module '%s' failed to load", s.module)
	}
	ret := L.Get(-1)
	L.Pop(1)
	g.loading = g.loading[:len(g.loading)-1]
	if ret == lua.LNil { // as Lua's require: what the module put in package.loaded, or true
		if ret = g.loadedEarly(L, s.module); ret == lua.LNil {
			ret = lua.LTrue
		}
	}
	if g.reusable(s.module, nil) {
		// The value, and the module locals its functions hold, are shared
		// with the running generation from now on.
		g.lockEngine(L, "the library "+s.module+", kept from generation "+strconv.FormatUint(g.prev.num, 10), s.path)
		k := g.prev.kept[s.module]
		ret = k.value
		g.reused[s.module] = true
		g.libraries[s.module] = true
		g.origin[s.module] = k.origin
		g.setModule(L, s.module, ret)
		return ret
	}
	g.setModule(L, s.module, ret)
	t, ok := ret.(*lua.LTable)
	if !ok || g.classes[t] != nil {
		if !ok {
			g.libraries[s.module] = true
		}
		return ret
	}
	cls, key := classOfModule(t)
	selfIndexed := false
	if cls == nil {
		var isClass bool
		if isClass, selfIndexed = g.prototypeClass(t); isClass {
			cls = t
		}
	}
	if cls != nil {
		if other := g.byName[s.module]; other != nil {
			// A hot.class of the module's name, made by a module loaded
			// earlier: the two would share one handle, each object running
			// whichever class registered last.
			L.Error(lua.LString(fmt.Sprintf("%s:1:1: module %s returns a class, and hot.class(%q) in module %s already defined a class of that name",
				s.path, s.module, s.module, other.module)), 0)
		}
		cv := g.register(s.module, cls, s.module)
		cv.owner, cv.selfIndexed = t, selfIndexed
		g.classes[t] = cv
		g.identities[cls] = "class " + s.module
		if key != "" {
			g.identities[t] = "module " + s.module
		}
	} else {
		g.libraries[s.module] = true
	}
	return ret
}

// loadedEarly returns what package.loaded holds for module m, which is
// loading and has not returned (so the engine recorded nothing for it):
// what was put there since its load began (load clears the name), or nil.
// When sandboxed, that is a name the scripts added to the view, a field of
// its own.
func (g *generation) loadedEarly(L *lua.LState, m string) lua.LValue {
	if t := g.loadedTable(L); t != nil {
		return t.RawGetString(m)
	}
	return lua.LNil
}

// loadedTable returns the table scripts write package.loaded's entries
// in: the sandbox's view of the engine's record, or, trusted, Lua's own
// package.loaded, looked up at each use since a script may replace it.
func (g *generation) loadedTable(L *lua.LState) *lua.LTable {
	if !g.e.opts.Trusted {
		return g.packageLoaded
	}
	pkg, _ := L.GetGlobal("package").(*lua.LTable)
	if pkg == nil {
		return nil
	}
	t, _ := pkg.RawGetString("loaded").(*lua.LTable)
	return t
}

// dropEntry removes t's field m, if it has one: a load runs for every
// module, and a table without the field is left as it is, unallocated.
func dropEntry(t *lua.LTable, m string) {
	if t.RawGetString(m) != lua.LNil {
		t.RawSetString(m, lua.LNil)
	}
}

// setModule records ret as the value of module m, for require and in
// package.loaded. Sandboxed, what a script put in the view under m goes:
// the view reads through to ret, and refuses to change it. Trusted, ret
// goes into Lua's own package.loaded, as Lua's require puts it there.
func (g *generation) setModule(L *lua.LState, m string, ret lua.LValue) {
	g.modules[m] = ret
	if loaded := sandbox.Loaded(L); loaded != nil {
		loaded.RawSetString(m, ret)
		dropEntry(g.packageLoaded, m)
	} else if t := g.loadedTable(L); t != nil {
		t.RawSetString(m, ret)
	}
}

// reusable reports whether module m may take the previous generation's
// value: that generation kept it (see keepLocals), its source is the same,
// and so is, recursively, every module it required. checking holds the
// modules the outer calls are checking (nil at first): a require cycle
// back to one of them does not decide.
func (g *generation) reusable(m string, checking map[string]bool) bool {
	if g.prev == nil {
		return false
	}
	if checking[m] { // a require cycle back to m, or m already found reusable
		return true
	}
	k, ok := g.prev.kept[m]
	if !ok || g.scripts[m] == nil || g.scripts[m].hash != k.hash {
		return false
	}
	if checking == nil {
		checking = make(map[string]bool)
	}
	checking[m] = true
	for _, d := range k.deps {
		if !g.reusable(d, checking) {
			return false
		}
	}
	return true
}

// keptModule is a library module as the generation that kept it left it:
// its value, the hash of its source, what it required, and the number of
// the generation whose run made the value.
type keptModule struct {
	value  lua.LValue
	hash   [sha256.Size]byte
	deps   []string
	origin uint64
}

// keepLocals picks the library modules whose value, with the module locals
// its functions hold, the next generation reuses while their sources do not
// change: the class libraries (their code calls setmetatable) that have
// module state (see hasModuleState), those an earlier generation kept, and
// every module such a module required. Any other module, a class library
// without state (middleclass 4, hump, Penlight) or a helper that makes no
// objects, is run afresh by every generation, as a class module is:
// loading it does not hold calls up, and its functions do not keep an old
// generation alive. Called at the end of prepare, before stabilize.
func (g *generation) keepLocals() map[string]keptModule {
	kept := make(map[string]keptModule)
	var keep func(m string, depth int)
	keep = func(m string, depth int) {
		s := g.scripts[m]
		if _, done := kept[m]; done || depth > 64 || !g.libraries[m] || s == nil {
			return
		}
		k := keptModule{value: g.modules[m], hash: s.hash, deps: slices.Clone(g.deps[m]), origin: g.num}
		if n, ok := g.origin[m]; ok {
			k.origin = n
		}
		kept[m] = k
		for _, d := range k.deps {
			keep(d, depth+1)
		}
	}
	for m := range g.libraries {
		// A reused value's state is shared with the running calls: it
		// stays kept, uninspected, while its source does not change.
		if s := g.scripts[m]; s != nil && namesSetmetatable(s.proto) && (g.reused[m] || g.hasModuleState(s, g.modules[m])) {
			keep(m, 0)
		}
	}
	return kept
}

// hasModuleState reports whether the class library s, whose value this
// generation made, keeps state a reload must not lose: a function of its
// chunk writes module locals or the tables they hold (a registry of classes
// or objects; see sandbox.ModuleStateWrite), or what its value reaches
// holds a class or an object of this generation, or a weak table.
func (g *generation) hasModuleState(s *script, v lua.LValue) bool {
	if _, writes := sandbox.ModuleStateWrite(s.proto); writes {
		return true
	}
	return g.reachesState(v)
}

// maxStateWalk bounds the values reachesState visits; a library reaching
// more is taken to have state.
const maxStateWalk = 1 << 16

// reachesState reports whether v reaches, through table fields and keys,
// metatables and the upvalues of this generation's functions, a class or
// an object of this generation, or a weak table (a metatable with a
// __mode). The walk stays in the generation's own values: it stops at the
// globals and package.loaded (which reach every module), stable tables,
// stand-ins, the values of reused modules, persisted tables and the
// functions of other generations. Called before stabilize, without the
// engine's lock unless the load took it.
func (g *generation) reachesState(v lua.LValue) bool {
	globals := g.L.G.Global
	stop := map[*lua.LTable]bool{globals: true}
	if loaded := sandbox.Loaded(g.L); loaded != nil {
		stop[loaded] = true
	}
	for _, t := range g.e.stable {
		stop[t] = true
	}
	for m := range g.reused {
		if t, ok := g.modules[m].(*lua.LTable); ok {
			stop[t] = true
		}
	}
	for t := range g.persistSeen {
		stop[t] = true
	}
	if g.locked {
		for _, p := range g.e.persist {
			if t, ok := p.(*lua.LTable); ok {
				stop[t] = true
			}
		}
	}
	return walkReach(v, maxStateWalk, func(x lua.LValue) (follow, found bool) {
		switch x := x.(type) {
		case *lua.LTable:
			if stop[x] || standInOf(x) != nil {
				return false, false
			}
			if g.classes[x] != nil || handleOf(x) != nil {
				return false, true
			}
			if mt, ok := x.Metatable.(*lua.LTable); ok && (g.classes[mt] != nil || mt.RawGetString("__mode") != lua.LNil) {
				return false, true // an object of this generation; a weak table
			}
			return true, false
		case *lua.LFunction:
			return x.Env == globals, false
		}
		return false, false
	})
}

// walkReach visits v and, each once and depth first, what it reaches: a
// table's metatable, keys and values, a function's upvalues. visit says of
// each value whether to follow it and whether the walk has found what it
// looks for, which ends it. walkReach reports whether it ended so, or by
// visiting more than limit values.
func walkReach(v lua.LValue, limit int, visit func(lua.LValue) (follow, found bool)) bool {
	seen := make(map[lua.LValue]bool)
	queue := []lua.LValue{v}
	for len(queue) > 0 {
		if len(seen) > limit {
			return true
		}
		x := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[x] {
			continue
		}
		seen[x] = true
		follow, found := visit(x)
		if found {
			return true
		}
		if !follow {
			continue
		}
		switch x := x.(type) {
		case *lua.LTable:
			queue = append(queue, x.Metatable)
			x.ForEach(func(k, v lua.LValue) { queue = append(queue, k, v) })
		case *lua.LFunction:
			for _, uv := range x.Upvalues {
				if uv != nil {
					queue = append(queue, uv.Value())
				}
			}
		}
	}
	return false
}

// namesSetmetatable reports whether a chunk names setmetatable anywhere
// (a global read, a field, a string), in any of its functions.
func namesSetmetatable(p *lua.FunctionProto) bool {
	for _, c := range p.Constants {
		if c == lua.LString("setmetatable") {
			return true
		}
	}
	return slices.ContainsFunc(p.FunctionPrototypes, namesSetmetatable)
}

// prototypeClass reports whether t, a module's value that is no class by
// classOfModule, is a class all the same, whose objects find their methods
// in it although it has no __index of its own, and whether the class
// indexes itself:
//
//   - a class as Programming in Lua writes them, whose constructor gives
//     the class its __index only when it first runs (function
//     Account:new(o) setmetatable(o, self); self.__index = self ... end):
//     t has such a method, or t was made by one (its metatable is a class
//     of this generation, through whose __index chain t finds such a
//     method: Special = Account:new()) and has methods of its own. Such a
//     class indexes itself;
//   - a table whose constructor gives each object a metatable indexing it
//     (see constructs). Such a class has no __index.
//
// An object of a class whose constructor gives no __index (setmetatable(o,
// self) alone) stays an object, methods of its own or not: no constructor
// makes it a class, and its objects would not find its methods.
func (g *generation) prototypeClass(t *lua.LTable) (isClass, selfIndexed bool) {
	if standInOf(t) != nil || handleOf(t) != nil {
		return false, false
	}
	methods, ctor, factory := ownMethods(t)
	if ctor || factory || !methods {
		return ctor || factory, ctor
	}
	if mt, ok := t.Metatable.(*lua.LTable); !ok || g.classes[mt] == nil {
		return false, false
	}
	for range lua.MaxTableGetLoop {
		mt, ok := t.Metatable.(*lua.LTable)
		if !ok {
			return false, false
		}
		if t, ok = mt.RawGetString("__index").(*lua.LTable); !ok {
			return false, false
		}
		if _, ctor, _ := ownMethods(t); ctor {
			return true, true
		}
	}
	return false, false
}

// ownMethods reports whether t has Lua functions among its own fields, and
// whether one of them is a prototype constructor or a factory of t (see
// constructs).
func ownMethods(t *lua.LTable) (methods, ctor, factory bool) {
	t.ForEach(func(_, v lua.LValue) {
		if fn, ok := v.(*lua.LFunction); ok && fn.Proto != nil {
			c, f := constructs(fn, t)
			methods, ctor, factory = true, ctor || c, factory || f
		}
	})
	return methods, ctor, factory
}

// constructs reports how fn, a function of the table t that calls
// setmetatable, makes objects of t:
//
//   - ctor: a method that sets self.__index = self (see
//     sandbox.IndexesSelf), the constructor of a Programming in Lua class.
//     A method that makes a subclass (cls.__index = cls; return
//     setmetatable(cls, self)) is none, and the objects of its class are
//     no classes;
//   - factory: it gives the objects it makes a metatable indexing t: a
//     method making self the __index of a table (function M:new(o) return
//     setmetatable(o, {__index = self}) end), or a function making t,
//     which it holds, the __index of a table (function M.new(o) return
//     setmetatable(o, {__index = M}) end), or holding a table whose
//     __index is t (local mt = {__index = M}; function M.new(o) return
//     setmetatable(o, mt) end). A helper that indexes its argument or
//     another table (a read-only proxy, defaults) is none.
func constructs(fn *lua.LFunction, t *lua.LTable) (ctor, factory bool) {
	p := fn.Proto
	if !callsSetmetatable(p) {
		return false, false
	}
	if isMethod(p) {
		if ctor, factory = sandbox.IndexesSelf(p); ctor || factory {
			return ctor, factory
		}
	}
	for _, i := range sandbox.IndexUpvalues(p) {
		if i < len(fn.Upvalues) && fn.Upvalues[i] != nil && fn.Upvalues[i].Value() == t {
			return false, true
		}
	}
	for _, uv := range fn.Upvalues {
		if uv == nil {
			continue
		}
		if mt, ok := uv.Value().(*lua.LTable); ok && mt != t && mt.RawGetString("__index") == t {
			return false, true
		}
	}
	return false, false
}

// isMethod reports whether p's first parameter is self.
func isMethod(p *lua.FunctionProto) bool {
	return p.NumParameters > 0 && len(p.DbgLocals) > 0 && p.DbgLocals[0].Name == "self"
}

// callsSetmetatable reports whether p's own code (not its nested
// functions') names setmetatable: the global, or a local copy of it (local
// setmetatable = setmetatable).
func callsSetmetatable(p *lua.FunctionProto) bool {
	return slices.Contains(p.Constants, lua.LValue(lua.LString("setmetatable"))) || slices.Contains(p.DbgUpvalues, "setmetatable")
}

func (g *generation) register(name string, t *lua.LTable, module string) *classVersion {
	cv := &classVersion{name: name, table: t, owner: t, module: module, gen: g}
	g.classes[t] = cv
	g.byName[name] = cv
	g.order = append(g.order, cv)
	return cv
}

// versionGraph is a generation's require graph indexed for versioning its
// classes: stabilize builds it once, after every module loaded, and hashes
// every class with it. Used by one goroutine, like its generation.
type versionGraph struct {
	index map[string]int32 // module name -> its index
	deps  [][]int32        // by index: the modules it required
	sums  []uint64         // by index: its script's part of a hash; 0 for a module without a script
	seen  []uint32         // by index: the walk that last reached it
	walk  uint32           // the current walk's number
	stack []int32
}

// versionGraph indexes the modules g loaded and the scripts they required.
func (g *generation) versionGraph() *versionGraph {
	vg := &versionGraph{index: make(map[string]int32, len(g.scripts))}
	at := func(m string) int32 {
		i, ok := vg.index[m]
		if !ok {
			i = int32(len(vg.deps))
			vg.index[m] = i
			vg.deps = append(vg.deps, nil)
			var part uint64
			if s := g.scripts[m]; s != nil {
				part = scriptPart(m, s.hash)
			}
			vg.sums = append(vg.sums, part)
		}
		return i
	}
	for m := range g.scripts {
		at(m)
	}
	for m, ds := range g.deps {
		i := at(m)
		deps := make([]int32, len(ds))
		for j, d := range ds {
			deps[j] = at(d)
		}
		vg.deps[i] = deps
	}
	vg.seen = make([]uint32, len(vg.deps))
	return vg
}

// scriptPart is a script's part of a class version: its content hash
// bound to its module name, so that two modules exchanging their texts
// change the sum, and mixed (the splitmix64 finalizer) so that parts do
// not add up linearly.
func scriptPart(module string, hash [sha256.Size]byte) uint64 {
	name := uint64(14695981039346656037) // FNV-1a of the name, without hash/fnv's allocations
	for i := 0; i < len(module); i++ {
		name = (name ^ uint64(module[i])) * 1099511628211
	}
	x := binary.LittleEndian.Uint64(hash[:8]) ^ name
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// classHash hashes the scripts a class was built from: the script that
// defined it, every module that script required, transitively, and the
// scripts of its base classes. A change to any of them gives the class a
// new version.
//
// The hash is the sum, modulo 2^64, of each of those scripts' parts
// (scriptPart: its content hash bound to its module name), each script
// counted once: changing any one of them, or two of them exchanging their
// texts, changes the sum, short of a 1 in 2^48 chance in the 12 hex
// digits a version shows. It costs a few instructions a script, where
// hashing the scripts' hashes again per class with SHA-256 cost about 5%
// of a 500-module reload.
func (vg *versionGraph) classHash(g *generation, cv *classVersion) string {
	vg.walk++
	var sum uint64
	visit := func(m string) {
		i, ok := vg.index[m]
		if !ok { // no script, and neither required nor requiring
			return
		}
		vg.stack = append(vg.stack[:0], i)
		for len(vg.stack) > 0 {
			i := vg.stack[len(vg.stack)-1]
			vg.stack = vg.stack[:len(vg.stack)-1]
			if vg.seen[i] == vg.walk {
				continue
			}
			vg.seen[i] = vg.walk
			sum += vg.sums[i]
			vg.stack = append(vg.stack, vg.deps[i]...)
		}
	}
	visit(cv.module)
	for base, depth := g.baseOf(cv.fresh), 0; base != nil && base != cv && depth < 32; base, depth = g.baseOf(base.fresh), depth+1 {
		visit(base.module)
	}
	var h [8]byte
	binary.BigEndian.PutUint64(h[:], sum)
	return hex.EncodeToString(h[:6])
}

// baseOf finds the class a class table inherits from: its metatable when
// that is a class, or the metatable's __index when that is one.
func (g *generation) baseOf(t *lua.LTable) *classVersion {
	mt, ok := t.Metatable.(*lua.LTable)
	if !ok {
		return nil
	}
	if cv := g.classes[mt]; cv != nil {
		return cv
	}
	if h := handleOf(t); h != nil {
		return h.cur
	}
	if idx, ok := mt.RawGetString("__index").(*lua.LTable); ok {
		return g.classes[idx]
	}
	return nil
}

// require resolves a module inside the script roots, in this generation.
// A name may use dots or, as Lua 5.1's and LÖVE's file searchers allow,
// slashes: "game/util" is module "game.util", loaded once under that name.
func (g *generation) require(L *lua.LState) int {
	name := strings.ReplaceAll(L.CheckString(1), "/", ".")
	if name == "hot" {
		L.Push(g.hot)
		return 1
	}
	if n := len(g.loading); n > 0 {
		g.deps[g.loading[n-1]] = append(g.deps[g.loading[n-1]], name)
	}
	if v, ok := g.modules[name]; ok {
		L.Push(v)
		return 1
	}
	if g.failed[name] { // its top level failed, or (in Check) it did not compile
		L.RaiseError("module '%s' failed to load", name)
	}
	s := g.scripts[name]
	if s == nil {
		if lib := library(L, name); lib != lua.LNil {
			L.Push(lib)
			return 1
		}
		L.RaiseError("module '%s' not found in the script roots", name)
	}
	for i, m := range g.loading {
		if m != name {
			continue
		}
		if v := g.loadedEarly(L, name); v != lua.LNil {
			// The guard of a require cycle: the module put its table in
			// package.loaded before requiring what requires it back.
			L.Push(v)
			return 1
		}
		next := name // what it requires on the way back to itself
		if i+1 < len(g.loading) {
			next = g.loading[i+1]
		}
		L.RaiseError("require loop: %s -> %s (set package.loaded[...] to %s's table before it requires %s, and the inner require gets it)",
			strings.Join(g.loading[i:], " -> "), name, name, next)
	}
	L.Push(g.load(L, s))
	return 1
}

// setmetatable replaces the base library's. Given a class table, it gives
// the object its class's handle (once the generation is committed; while it
// is being prepared, the commit does it), so that every object, however it
// was made, follows reloads. It acts for the generation whose state runs
// it, not the one that made it: a library module reused from an earlier
// generation keeps that generation's setmetatable in its locals.
func (g *generation) setmetatable(L *lua.LState) int {
	if cur := generationOf(L); cur != nil {
		g = cur
	}
	obj := L.CheckTable(1)
	L.CheckTypes(2, lua.LTNil, lua.LTTable)
	obj = persistedTable(L, obj)
	if mt, ok := L.Get(2).(*lua.LTable); ok {
		L.Replace(2, persistedTable(L, mt))
	}
	if cur, ok := obj.Metatable.(*lua.LTable); ok {
		protected := cur.RawGetString("__metatable") != lua.LNil
		if h := handleOf(obj); h != nil {
			protected = h.cur.table.RawGetString("__metatable") != lua.LNil
		}
		if protected {
			L.RaiseError("cannot change a protected metatable")
		}
	}
	mt, _ := L.Get(2).(*lua.LTable)
	switch cv := g.classes[mt]; {
	case g.committed && cv != nil && cv.table == mt && !g.isClassTable(obj):
		g.e.attach(obj, cv)
	case g.committed:
		obj.Metatable = L.Get(2)
	default:
		// The commit replays these in order. A live object (reached through
		// hot.persist) changes only then, if this generation commits.
		g.pending = append(g.pending, pendingObject{obj, mt})
		if handleOf(obj) == nil {
			obj.Metatable = L.Get(2)
		}
	}
	L.SetTop(0)
	L.Push(obj)
	return 1
}

// generationKey is the registry key under which a state keeps its
// generation.
const generationKey = "__hotlua_generation"

// generationOf returns the generation whose state L is (or a coroutine of).
func generationOf(L *lua.LState) *generation {
	ud, ok := L.G.Registry.RawGetString(generationKey).(*lua.LUserData)
	if !ok {
		return nil
	}
	g, _ := ud.Value.(*generation)
	return g
}

// classFieldsHint is the room a hot.class table is made with: __index,
// new and a few methods; it grows as any table does.
const classFieldsHint = 8

// hot.class(name [, base]) makes a class table named name. Its __index is
// itself; base (a class table or a class name) becomes its base through
// __index; Class.new(...) (or Class:new(...)) makes an object and calls its
// init method with the arguments.
func (g *generation) hotClass(L *lua.LState) int {
	name := L.CheckString(1)
	if g.committed || !g.preparing {
		L.RaiseError("hot.class(%q): classes are defined while scripts load, not later", name)
	}
	if _, dup := g.byName[name]; dup {
		L.RaiseError("hot.class(%q): a class of that name is already defined", name)
	}
	// Sized as a class's fields are: NewTable's room for 32 array slots
	// and 32 keys is about 9 KB a class with its metatable.
	cls := L.CreateTable(0, classFieldsHint)
	cls.RawSetString("__index", cls)
	var base *lua.LTable
	switch b := L.Get(2).(type) {
	case *lua.LNilType:
	case *lua.LTable:
		base = b
	case lua.LString:
		bcv := g.byName[string(b)]
		if bcv == nil {
			L.ArgError(2, fmt.Sprintf("no class named %q is defined yet (require its module first)", string(b)))
		}
		base = bcv.table
	default:
		L.ArgError(2, "base must be a class table or a class name")
	}
	if base != nil {
		meta := L.CreateTable(0, 1)
		meta.RawSetString("__index", base)
		cls.Metatable = meta
	}
	module := ""
	if n := len(g.loading); n > 0 {
		module = g.loading[n-1]
	}
	cv := g.register(name, cls, module)
	// The constructor finds its class through cv at each call: after a
	// reload cv.table is the class's stable table (see stabilize).
	cls.RawSetString("new", L.NewFunction(func(L *lua.LState) int { return g.construct(L, cv.table) }))
	g.identities[cls] = "class " + name
	L.Push(cls)
	return 1
}

// construct implements Class.new for hot.class classes.
func (g *generation) construct(L *lua.LState, cls *lua.LTable) int {
	first := 1
	if L.GetTop() >= 1 && L.Get(1) == cls { // Class:new(...)
		first = 2
	}
	obj := newObjectTable()
	// Not through the global setmetatable, which a script may replace to
	// spy on every constructor.
	L.Push(g.setmetatableFn)
	L.Push(obj)
	L.Push(cls)
	L.Call(2, 0)
	if init := L.GetField(obj, "init"); init != lua.LNil {
		nargs := L.GetTop() - first + 1
		L.Push(init)
		L.Push(obj)
		for i := first; i < first+nargs; i++ {
			L.Push(L.Get(i))
		}
		L.Call(nargs+1, 0)
	}
	L.Push(obj)
	return 1
}

// hot.persist(key, init) returns the value kept under key across reloads,
// making it first from init (a value, or a function called once).
//
// A generation loading beside running calls gets a stand-in for a
// persisted table (see standInFor), and takes the engine's lock for the
// rest of its load for a persisted function or userdata, whose code and
// data are the running generation's.
func (g *generation) hotPersist(L *lua.LState) int {
	key := L.CheckString(1)
	g.checkAlive(L)
	// A key this load made keeps its value for the rest of the load, even
	// if a running call makes the key meanwhile: the commit keeps the
	// load's.
	if v, ok := g.newPersist[key]; ok {
		L.Push(v)
		return 1
	}
	if v, ok := g.persisted(L, key); ok {
		switch x := v.(type) {
		case lua.LNumber, lua.LString, lua.LBool:
		case *lua.LTable:
			// Once the load holds the lock, a table it was given a
			// stand-in for is still that stand-in: the load sees one value.
			if g.preparing && (!g.locked || g.standInTables[x] != nil) {
				v = g.standInFor(L, key, x)
			}
		default:
			if g.preparing && !g.locked { // the description is made only when it locks
				g.lockEngine(L, fmt.Sprintf("hot.persist(%q)", key), "")
			}
		}
		if t, ok := v.(*lua.LTable); ok && g.locked && standInOf(t) == nil {
			g.saveForUndo(L, key, t)
		}
		L.Push(v)
		return 1
	}
	v := L.Get(2)
	if fn, ok := v.(*lua.LFunction); ok {
		L.Push(fn)
		L.Call(0, 1)
		v = L.Get(-1)
		L.Pop(1)
	}
	if g.committed {
		g.e.persist[key] = v
	} else {
		g.newPersist[key] = v
	}
	L.Push(v)
	return 1
}

// saveForUndo snapshots the persisted value v of key, the first time the
// loading generation reaches it, so that a load that fails can give every
// table reachable from it back what it held (see undoPersist). Called with
// the engine's lock held.
func (g *generation) saveForUndo(L *lua.LState, key string, v lua.LValue) {
	t, ok := v.(*lua.LTable)
	if !ok {
		return
	}
	if g.persistSeen == nil {
		g.persistSeen = make(map[*lua.LTable]bool)
	}
	if g.undoErr != "" {
		L.RaiseError("%s", g.undoErr)
	}
	saved, err := g.snapshotInto(g.persistPre, g.persistSeen, t, true, &g.persistFields)
	if err != nil {
		// The tables the failed copy marked seen are in no snapshot: no
		// later reach may write them, caught error or not.
		g.undoErr = fmt.Sprintf("hot.persist(%q) while loading: %v", key, err)
		L.RaiseError("%s", g.undoErr)
	}
	g.persistPre = saved
}

// saveClassesForUndo snapshots the fields of every stable table (the
// classes, see stabilize), once the load holds the engine's lock: from
// then on it may write them (getmetatable(obj).x = 1 of a persisted
// object), and a load that fails must leave them as they were. The
// tables in them are not entered: a class's functions and the classes it
// names are not data the load reaches by writing into it.
func (g *generation) saveClassesForUndo() {
	if g.persistSeen == nil {
		g.persistSeen = make(map[*lua.LTable]bool)
	}
	for _, t := range g.e.stable {
		if !g.persistSeen[t] {
			g.persistSeen[t] = true
			g.persistPre = append(g.persistPre, savedTable{t: t, mt: t.Metatable, fields: ownFields(t)})
		}
	}
}

// loaded records what the load left in the persisted tables it reached,
// before prepare releases the engine's lock: undoPersist then reverts
// only what the load changed and no call changed since.
func (g *generation) loaded() {
	g.persistPost = current(g.persistPre)
}

// current returns what the tables of saved hold now.
func current(saved []savedTable) []savedTable {
	out := make([]savedTable, len(saved))
	for i, st := range saved {
		out[i] = savedTable{t: st.t, mt: st.t.Metatable, fields: ownFields(st.t)}
	}
	return out
}

// undoPersist reverts the writes the load made into persisted tables, for
// a generation that will not commit: each field (and metatable) the load
// changed goes back to what it was, unless a call changed it since the
// load ended. Called with the engine's lock held.
func (g *generation) undoPersist() {
	if len(g.persistPre) == 0 {
		return
	}
	post := g.persistPost
	if post == nil { // the load failed: it is what the tables hold now
		post = current(g.persistPre)
	}
	for i, pre := range g.persistPre {
		before, after := fieldMap(pre.fields), fieldMap(post[i].fields)
		t := pre.t
		for k, v := range after {
			if b := before[k]; !sameValue(b, v) && sameValue(t.RawGet(k), v) {
				t.RawSet(k, orNil(b))
			}
		}
		for k, b := range before {
			if _, kept := after[k]; !kept && t.RawGet(k) == lua.LNil {
				t.RawSet(k, b)
			}
		}
		if post[i].mt != pre.mt && t.Metatable == post[i].mt {
			t.Metatable = pre.mt
		}
	}
	g.persistPre, g.persistPost = nil, nil
}

func fieldMap(fs []field) map[lua.LValue]lua.LValue {
	m := make(map[lua.LValue]lua.LValue, len(fs))
	for _, f := range fs {
		m[f.k] = f.v
	}
	return m
}

func orNil(v lua.LValue) lua.LValue {
	if v == nil {
		return lua.LNil
	}
	return v
}

// hot.on(event, fn) registers a handler for an event of this generation:
// "reload" (after a commit, with the previous generation number),
// "unload" (before this generation is replaced or the engine closes), or
// any name the host emits with Engine.Emit.
func (g *generation) hotOn(L *lua.LState) int {
	event := L.CheckString(1)
	fn := L.CheckFunction(2)
	g.checkAlive(L)
	g.handlers[event] = append(g.handlers[event], fn)
	return 0
}

// hot.check(fn) registers a check that must pass before this generation
// commits: fn returning false (and a message) or raising an error fails the
// reload.
func (g *generation) hotCheck(L *lua.LState) int {
	g.checks = append(g.checks, L.CheckFunction(1))
	return 0
}

// hot.version(v) returns the version ("g3:0123456789ab") of an object or a
// class, or nil.
func (g *generation) hotVersion(L *lua.LState) int {
	v := L.CheckAny(1)
	if t, ok := v.(*lua.LTable); ok {
		v = persistedTable(L, t)
	}
	if h := handleOf(v); h != nil {
		L.Push(lua.LString(h.cur.version.String()))
		return 1
	}
	if t, ok := v.(*lua.LTable); ok {
		if cv := g.classes[t]; cv != nil && cv.version.Hash != "" {
			L.Push(lua.LString(cv.version.String()))
			return 1
		}
		if mt, ok := t.Metatable.(*lua.LTable); ok {
			if cv := g.classes[mt]; cv != nil && cv.version.Hash != "" {
				L.Push(lua.LString(cv.version.String()))
				return 1
			}
		}
	}
	L.Push(lua.LNil)
	return 1
}

// library returns the library of the state called name (require "debug"
// returns debug, as in Lua), or nil: from the sandbox's package.loaded, or
// a trusted state's own.
func library(L *lua.LState, name string) lua.LValue {
	loaded := sandbox.Loaded(L)
	if loaded == nil {
		pkg, _ := L.GetGlobal("package").(*lua.LTable)
		if pkg == nil {
			return lua.LNil
		}
		if loaded, _ = pkg.RawGetString("loaded").(*lua.LTable); loaded == nil {
			return lua.LNil
		}
	}
	return loaded.RawGetString(name)
}
