// Package engine gives Go objects behavior written in Lua classes and
// reloads those classes while the program runs.
//
// # Model
//
// An [Engine] loads every .lua file under its script roots as a module
// ("units/enemy.lua" is module "units.enemy") into one gopher-lua state: a
// generation. Objects are Lua tables whose metatable stands for their
// class; Go holds them as [*Object].
//
// # Classes and their identity
//
// A class is a table that objects use as their metatable, found where a
// module returns it:
//
//   - the table a module returns, when it has an __index field of its own
//     (idiomatic Lua: Enemy.__index = Enemy ... return Enemy; and the
//     classes of rxi/classic, Yonaba/30log, vrld/hump and Penlight);
//   - otherwise the table under the returned table's first field whose name
//     starts with "__" and that is its own __index: an instance dictionary,
//     as kikito/middleclass's Class.__instanceDict (the returned table is
//     then the class's owner, what scripts call the class), whose __index
//     is the library's function when the class declares an __index;
//   - otherwise the returned table itself when it is a class as Programming
//     in Lua writes them, whose constructor gives the class its __index
//     only when it first runs (function Account:new(o) setmetatable(o,
//     self); self.__index = self; return o end): the table has such a
//     method, or it was made by one (Special = Account:new(), its
//     metatable a class whose __index chain holds such a constructor) and
//     has methods of its own. Its objects find its methods through their
//     handles before its constructor first ran, and a reload keeps the
//     __index its constructor gave it. So the one object of such a class
//     that a module returns with a method set on it is a subclass too:
//     each reload gives it the fields the new run made (keep its data in
//     hot.persist);
//   - otherwise the returned table itself when a function of it gives each
//     object it makes a metatable indexing the table: function M.new(o)
//     return setmetatable(o, {__index = M}) end, the same with a module
//     local mt = {__index = M}, or function M:new(o) return setmetatable(o,
//     {__index = self}) end. Such objects are not adopted (their metatable
//     is not the class), but they find the class's methods through the one
//     stable class table, so they run each reload's code too. Go holds
//     one as an [Object] wherever a call returns it, unless its metatable
//     has a __newindex or a __metatable, as views and proxies do
//     ([Engine.New] calls the factory when it is the class's new), though,
//     not adopted, it is not among the objects [Engine.Objects] lists;
//   - a table made by hot.class(name).
//
// The class is named after its module (or the name given to hot.class):
// that name is its identity across reloads. The engine adopts every object
// whose metatable is set to a class, by setmetatable from any generation's
// code or by [Engine.New]; setmetatable(t, Class) on a table t that has an
// __index of its own extends the class (Sub = setmetatable(Sub, Base)) and
// makes no object.
//
// A class table is the same Lua value in every generation. While a reload
// is prepared, each table the new generation made for a class (or for an
// owner) that an earlier one already had is replaced, everywhere the new
// generation's code and data refer to it, by the first generation's table;
// the commit then gives that table exactly the new fields and metatable.
// So objects that keep their class in a field (self.class == Dog), tables
// keyed by a class, and a library's registries of classes keep answering
// the same for objects made before and after a reload, and getmetatable(obj)
// is the class. The replacement walks the new generation's own values,
// before the commit: it stops at objects, and goes into other generations'
// values (a kept class library's registries) and hot.persist values (what
// the load put into them) only when the load reached that shared state and
// so holds calls up already (reading then every entry of those registries:
// 30 ms for a library that registers 300,000 objects); the commit's cost
// depends on the size of the class tables, never on the number of objects.
// A reference the walk does not reach is not replaced: a class the new top
// level stores into an object that existed before (found through such a
// registry), a callback it gives a Go binding, a local of a coroutine it
// starts. It holds the table the load made, with the new version's fields
// as the commit gave them to the class, but not the class itself.
//
// A class library with module state keeps it. A module whose returned
// value is no class and whose code calls setmetatable is a class library;
// it has module state when a function of its chunk assigns one of its
// module locals (30log's ids, a counter) or writes into a table a module
// local holds (registry[cls] = true, rawset or table.insert into it:
// 30log's _classes and _instances), or when, at the end of the load, what
// its value reaches (table fields and keys, metatables, its functions'
// upvalues) holds a class or an object of the generation, or a weak table
// (middleclass 3's root Object and its subclasses). Such a library, and
// every module it requires, still runs in the new generation if its source
// did not change, nor the source of any module it required, but require
// returns the value the previous generation's run returned: its functions
// keep the module locals they had. Such a value is shared by the
// generations, so a reload that requires it holds calls up from then on,
// as hot.persist does, and the generation that made it stays in memory
// while it is used. Editing the library gives it a fresh value and fresh
// locals: objects registered with the old ones are then unknown to it.
// A class library without module state (kikito/middleclass 4, vrld/hump's
// class, Penlight's pl.class; rxi/classic returns a class, so its module is
// a class module) is made again by every generation, as any other module
// (a helper, a mixin table, constants) and a class module are: requiring
// it holds nothing up and keeps no old generation alive, and its classes
// keep their identity as every class does. What it must keep across
// reloads belongs in hot.persist. The rule reads the code, not what it
// does, so it misses state kept some other way: a registry filled only at
// run time through an indirect path (a helper given the table, a table
// reached through a field, M.registry[k] = v, or a local alias of rawset or
// table.insert) and holding no class or object when the load ends starts
// empty in each generation; a module local assigned only what require
// returned (compat = compat or require "pl.compat") is no state.
// What the new generation's top level writes into a kept library (its
// tables, its locals: a class registered with it, a counter) is not undone
// if the reload then fails; only hot.persist values are.
//
// A library is supported when its classes are tables returned by modules
// (or reachable from them as an instance dictionary), its objects get their
// class as metatable through setmetatable, and it keeps whatever must
// outlive a reload either in module state as above (kept while its source
// does not change) or in the class tables (kept by identity). Not supported:
// classes that no module returns (a local class, or one stored only in a
// global or in another table), whose objects keep the version that made
// them; state a library keeps in globals; and weak tables (gopher-lua has
// no __mode), so a library's registries grow with every class it ever made.
// (gopher-lua also keeps a key removed from a table, t[k] = nil, in the
// table for as long as the table lives, so a table keyed by objects or
// tables keeps the memory of every key it ever held; the engine rebuilds
// the registries it rekeys, so reloads free the old generations (a loop
// over such a registry, suspended in a coroutine across the reload, may
// see keys again when it resumes), but a script's own registry of objects
// is better keyed by ids.)
// A class-keyed table made by an old generation is found by the new class
// only if it is reached through hot.persist or a reused library, and only
// from the commit on: while the new generation's top level runs, its class
// tables are still the tables it made, so t[Dog] at load time finds nothing
// an older generation stored under Dog, and what the top level stores
// there replaces, at the commit, what was stored under the class before.
// Methods, which run after the commit, see the class itself; a top level
// that must update such a table keys it by the class's name.
//
// An object's class has an owner: the table scripts call the class. When the
// owner can be called (its metatable has __call, as the five libraries'
// classes do), [Engine.New] calls it with its arguments, so each library's
// constructor convention holds (classic's new, middleclass's initialize,
// 30log's and hump's init, Penlight's _init); otherwise New makes an empty
// object and calls its init method.
//
// # Reload
//
// [Engine.Reload] is a transaction: read and compile the scripts (only the
// files whose content changed are compiled again; compiling does not hold
// up calls), run all of them in a fresh state, run the checks registered
// with hot.check, and only if all of that succeeded, commit: every live
// object of every class runs the new version from its next call. A failure
// changes nothing: the generation number stays, objects keep running the
// version they ran, and the error is a [*ScriptError] that prints as
// "path:line:col: message" with the path relative to its root.
//
// A reload reads only the files that may have changed: those the watcher
// names, or, for [Engine.Reload], those whose size, modification or change
// time or inode moved. A script is never read past Limits.MaxSourceBytes
// plus one byte, nor opened unless it is a regular file. A script that is
// a symbolic link leading out of its root fails the load, unless
// [Options].FollowExternalSymlinks allows it.
//
// A save still being written can look like a script that no longer
// defines its class. So a reload that would leave a class that live
// objects use undefined, while the script that defined it still exists,
// waits 100ms and reads the script again: if it changed, the reload starts
// over (for up to Options.MaxWait); if not, it fails with an error naming
// the script and the class ([ErrClassUndefined]). A script deleted for good
// orphans its classes: their objects keep the version they ran, and the
// report says so.
//
// The commit does not visit objects. An object's metatable is a handle
// table that belongs to its class name for the engine's life; the commit
// points each class's handle at the new class table (its __index, its
// metamethods, and __metatable so that getmetatable(obj) == Enemy still
// holds). Its cost depends on the number of classes, not of objects.
// setmetatable is replaced so that objects made by scripts the idiomatic
// way get the handle too. A handle copies the class's metamethods when a
// commit points it, so one set on a class table after its generation
// loaded (by a method at call time, or as Penlight's pl.class sets a
// default __tostring in a class's first construction) does not reach its
// objects: set metamethods at a module's top level. Methods are looked up
// in the class table at each call, so those reach them at once.
//
// After the commit, each class that changed and defines a
// __migrate(self, old) method has it called once on each of its live
// objects, where old is {class=, version=, generation=} of the version the
// object ran. If the hook fails, the object is left exactly as it was
// before the hook: its fields, and the fields and metatables of every
// plain table reachable from them (nested lists, shared tables, cycles;
// other objects, classes and the upvalues of functions are not part of
// it), and it stays pinned to the version it ran; the report lists the
// failure, and the next reload of the class migrates it again. Taking that
// snapshot costs a copy of the reachable fields per object; an object that
// reaches more than 2^20 of them is not migrated (its hook does not run)
// and the report says so.
// Then the new generation's "reload" handlers run (hot.on("reload", fn)),
// once; the old generation's "unload" handlers ran just before the commit.
//
// # What survives a reload
//
//   - Objects, with all their fields: they are data, and the engine never
//     copies or clears them.
//   - Values kept with hot.persist(key, init): the same value, every
//     generation.
//   - Functions stored in fields of objects or persisted tables: they keep
//     running the code, and seeing the module locals, of the generation
//     that made them. So do coroutines started before the reload. Each
//     such function keeps its whole generation in memory (its globals and
//     modules: hundreds of KB). [Report].Retained lists the old
//     generations something still holds (each outlived a whole garbage
//     collection since it was replaced: none is listed before one runs)
//     and [Engine.Generations] (the console's :generations) says what
//     holds them. A callback made with
//     hot.method(obj, "name") instead looks obj's method up at each call:
//     it runs the newest version and keeps no generation alive (and the
//     method may yield: coroutine.wrap of the callback works).
//
// Everything else is made again by each generation, as with Python's
// reload: module-level locals and globals, the contents of class tables
// (their identity stays), handlers registered with hot.on, checks. The
// exception is a class library with module state whose sources did not
// change (see Classes and their identity). A class no script defines any more keeps
// its objects on the last version they ran; the report says so.
//
// # Versions
//
// Every generation has a number ([Engine.Generation]); every class version
// a [Version] of its generation and a hash of the scripts it was built from:
// its module's, every module that one required (transitively: base classes,
// mixins, the class library) and its base classes'; every object runs one class version
// ([Object.Version]; hot.version(obj) in Lua). hot.generation() tells Lua
// code which generation it belongs to.
//
// # The hot module
//
// Scripts see a global hot (also require("hot")):
//
//	hot.class(name [, base])  a class table; Class.new(...) makes an object and calls its init(...)
//	hot.persist(key, init)    the value kept under key across reloads; init (a value or a function) makes the first one
//	hot.on(event, fn)         a handler: "reload" (fn(previous_generation)), "unload", or an event the host emits (Engine.Emit)
//	hot.check(fn)             a check a new generation must pass before it commits: false, "why" (or an error) fails the reload
//	hot.version(v)            the version of an object or class, "g3:0123456789ab"
//	hot.generation()          the generation of the calling code
//	hot.method(obj, name)     a function calling obj:name(...), the method looked up at each call
//
// # Manual swap
//
// The verbs of the classic "get the updated class, set it on the instance"
// reload exist too: [Engine.UpdatedClass] and [Object.SetClass]. With
// [Options].ManualSwap, a commit leaves every object on its version until
// the host moves it with SetClass.
//
// # Concurrency
//
// [Engine], [Shards], [Object], [Class] and [Value] are safe for concurrent
// use. One engine runs one call of Lua code at a time, and a commit happens
// between two calls, so a call runs entirely on one version.
//
// Waiting for the engine honours the caller's context: a call (Object.Call,
// Engine.New, Do, CallGlobal, Emit, Class.Call, Reload) that cannot get the
// engine before its context ends returns at once with a [*BusyError]
// naming what held it ("console evaluation since 1.2s", "commit of
// generation 4 (__migrate of units.goblin)", "a call of the function at
// units/goblin.lua:12"); it matches [ErrBusy] and the context's error. The
// slack past the deadline is the scheduler's wake-up, well under 50 ms on
// an idle machine. Get, Set, Classes and the other methods without a
// context wait as long as it takes. Waiters are served in turn: a
// goroutine calling in a loop cannot starve another.
//
// The engine's lock is not reentrant. Go code that runs while a call holds
// it (a binding a script calls, the fn of [Engine.Do], an Options.Stdout
// writer) must not call the engine: a method with a context waits for
// itself until the context ends and fails with a [*BusyError]; one without
// a context (Objects, Classes, Class, Generations, Object.Get ...) waits
// forever, and so does every later call. Inside Do, use the state Do
// passes ([Engine.ObjectsInDo]); elsewhere, hand the work to another
// goroutine.
//
// A reload compiles without holding calls up, and loads the new generation
// in its fresh state beside the running calls until its scripts reach into
// state the generations share and the load could not leave unchanged:
// from then on, and for the commit, it holds them (a call waiting
// meanwhile gets a busy error naming what the load reached, at its
// deadline). That is an object, a function or userdata kept in hot.persist
// or reached through a persisted table, a persisted table with a
// metatable, or holding functions or tables as keys, and a kept class
// library, one with module state (see Classes and their identity): a
// project whose classes all require a class library without module state
// (middleclass 4, hump, Penlight) reloads without holding calls up. The
// reload's [Report] says how long a load held calls (Held) and why
// (HeldBy); with [Options].NeverHoldCalls such a load fails at that point
// instead, with an error naming what it reached, so that a reload holds
// calls only for its commit and for the moments it reads a persisted value
// or copies a persisted table. Persisted tables of plain data (no
// metatable; keys that are strings, numbers or booleans; values that are
// those or tables) hold nothing up: while a generation loads beside
// calls, hot.persist gives its top level a stand-in for a persisted table
// (the same one for the rest of the load), and the first time the top
// level reaches into it (indexing, assigning, #, pairs, next, ipairs,
// rawget, rawset, rawequal, getmetatable, unpack, the table library) the
// engine copies the table, holding calls for the copy only. The load works
// on that copy, in which the tables are stand-ins in their turn (copied
// when reached); calls meanwhile see the persisted tables as they were.
// A load copies at most 16384 tables (a copy costs ten times the undo
// snapshot below): one that walks more (100k persisted records) reaches
// the rest directly, as for an object.
// When the generation commits, every field the load changed is written
// into its persisted table (a field a call changed since and the load did
// not keeps the call's value; a table whose array part, its fields 1 to
// n, the load changed gets the load's array whole, so that a sort or a
// table.remove at load time never mixes with what calls did to the array
// meanwhile); if the load or its checks fail, or the
// generation is discarded before it commits, nothing is written. So
//
//	local state = hot.persist("state", {})
//	state.count = state.count or 0
//	function Counter:bump() state.count = state.count + 1 end
//
// loads without holding any call up, and the commit replaces the
// stand-ins by the tables themselves in everything the generation holds,
// so its functions use the persisted tables. A load that reaches an object
// or another value of the first kind reaches it directly, holding calls
// from then on, and then reaches the tables of plain data themselves too
// (what it changed in their copies is written into them at that moment),
// so that it sees one version of each field however it reaches it. The
// engine first copies every table reachable from a persisted table the
// load reaches directly (bounded like the __migrate snapshot, at 2^20
// fields; past that the load fails with a clear error), so that if the load fails
// every field it changed goes back to what it was, unless a call changed
// it again since. Either way a failed reload changes nothing, persisted
// state included (reused class libraries are the exception; see Classes
// and their identity). Comparing a stand-in with == to the table itself,
// tostring and Go functions given it see the stand-in (a binding that
// converts its table argument to a Go map, slice or struct gets an empty
// one); setmetatable, hot.version and hot.method act on the table itself.
// Go functions that scripts call at their top level may
// therefore run concurrently with calls of the current generation. With
// [Options].DeferCommit, automatic reloads stop once prepared and the host
// commits them at a safe point of its loop with [Engine.CommitPending].
// A host that replaces the scripts itself, by swapping a script root that
// is a symbolic link to a new release (as package fleet does), reloads with
// [Engine.Deploy]: an automatic reload, deferred like the watcher's.
//
// A host with many worlds, rooms or matches runs one engine per world with
// [Shards]: one watcher and one compile per change for all of them, each
// shard's Lua running in parallel with the others'. A reload commits in
// every shard or in none. An object belongs to the engine that made it;
// passing it to another fails with [ErrOtherEngine].
//
// # Debugging
//
// With HOTLUA_DEBUG=1 in the environment, an engine whose Options.Logger is
// nil logs at debug level on stderr: every batch of file changes, reloads
// skipped because no script changed, and everything logged at info level.
//
// # Sandbox
//
// Scripts run with an allow-list of the standard library: base (without
// dofile, loadfile, getfenv, setfenv, module; collectgarbage does nothing to
// the heap), string, table, math, coroutine, os.time, clock, date and
// difftime, io.write and io.stdout/io.stderr writes (to [Options].Stdout
// and Stderr), a read-only package (config, empty path and cpath, loaded),
// debug.traceback and a debug.getinfo that tells only where code is; load
// and loadstring take source text only. require resolves modules of the
// roots, by dots or slashes ("game/util"), and the libraries; a module's
// chunk gets its name as "...". The builtins of the libraries are
// read-only, though scripts may add new names to string, table, math and
// package for their generation; the string metatable is locked. Builtins
// that could kill the process are capped (string.rep, format, gsub,
// table.concat, huge array indexes, pattern captures) or stop at the
// deadline (table.sort), as are pattern work, call depth, the value stack,
// script size and the source constructs gopher-lua compiles in quadratic
// time ([Options].Limits). [Check] reports every problem of a script set. A call whose context can be cancelled is stopped at
// its deadline and when the heap runs away; a call without one pays no
// per-instruction check. [Options].Trusted opts out.
package engine
