// Package sandbox builds the *lua.LState each reload generation runs in and
// bounds the calls made into it, so that a bad script gets a clear Lua error
// and the host process survives.
//
// # Use
//
// The engine calls [NewState], adds its own globals (the hot module, a
// require that resolves inside the script roots, a setmetatable wrapper
// calling the original), checks each script with [CheckSource] before
// compiling it and [CheckProto] on the compiled prototype, and makes every
// call into Lua with
//
//	done := sandbox.Guard(L, ctx) // ctx with a deadline
//	L.Push(fn)                    // then the arguments
//	err := sandbox.PCall(L, nargs, nret)
//	done()
//
// # Allow-list
//
// A state from NewState has only these globals, each safe for the reason
// given:
//
//   - assert, error, ipairs, next, pairs, rawequal, rawget, select,
//     tonumber, tostring, type, _G, _VERSION, _GOPHER_LUA_VERSION: they
//     compute on values the script already has. next, pairs and ipairs
//     are the sandbox's, which see through the library proxies (below).
//   - getmetatable, setmetatable, rawset: the metatables of _G, of the
//     libraries and of strings are locked (__metatable), and rawset refuses
//     the library proxies, so no script changes what the others see there.
//   - unpack: bounded by the value stack ("too many results to unpack",
//     which pcall catches; gopher-lua's "registry overflow" escapes it).
//   - pcall, xpcall: render no traceback (see Limits); xpcall calls its
//     handler after the failed call has unwound, with the error value.
//   - load, loadstring: source text only (a string or, as in Lua 5.1, a
//     reader function), which must pass CheckSource (no "\27Lua"
//     bytecode, size, nesting, operator chains, compile time) and
//     CheckProto (concatenations); the chunk runs with the state's globals,
//     or with the table given as a fourth argument (Lua 5.2's env, in place
//     of setfenv, which serpent's safe load uses).
//     A chunk name is at most [MaxChunkNameBytes] (4096) long: gopher-lua
//     repeats it whole in every error and traceback line of the chunk.
//   - print, io.write, io.stdout:write, io.stderr:write: write strings to
//     the host's writers ([Config.Stdout], [Config.Stderr]; default the
//     process's stdout and stderr, where gopher-lua's print writes), on the
//     script's own time, at most Limits.MaxStringBytes a call (the text is
//     built whole first, and arguments repeating one large string would
//     build far more in one instruction); the files' flush and setvbuf do
//     nothing, and io.type tells them apart. There is nothing else of io: no open,
//     read, lines, popen, stdin, close.
//   - string (without dump), table, math: read-through proxies (see
//     below); the builtins that loop in Go over their input are capped or
//     check the deadline (see Limits); math.random draws from a generator
//     of the state's own, which math.randomseed seeds. coroutine: resume runs under the
//     caller's deadline, and yield raises Lua 5.1's "attempt to yield
//     across metamethod/C-call boundary" inside a call made from Go (a
//     builtin such as pcall, table.sort, string.gsub's function or
//     tostring's __tostring; a metamethod the VM calls such as __index,
//     __add, __concat, __eq, __lt; a for-loop iterator), where gopher-lua's
//     yield corrupts the coroutine ("register underflow", nil pointer
//     dereferences). The check walks 4 Go frames, about 1 µs a yield.
//     yield itself is a small Lua function around the Go one, which it
//     never tail-calls: gopher-lua loses a coroutine's last frame when a
//     yielding Go function is tail-called from it, so a body ending in
//     `return coroutine.yield(x)` failed at its next resume. resume (and
//     a wrapped coroutine's function) refuses, as Lua 5.1 does, a
//     coroutine that is resuming another ("cannot resume non-suspended
//     coroutine": gopher-lua ran it, nesting the Go stack at each turn of
//     the cycle until Go's fatal stack overflow ended the process) and
//     resumes nested more than 200 deep ("C stack overflow"); status
//     calls every coroutine of such a chain "normal".
//   - os: time, clock, date (format length capped) and difftime only; they
//     read the clock.
//   - package: config (Lua 5.1's "/\n;\n?\n!\n-\n"), path and cpath
//     (empty: nothing is searched on disk) and loaded, a view of the
//     libraries and of the modules the host records ([Loaded]), all
//     read-only (a script may add a new name to package or to loaded, as
//     to string: a module sets package.loaded[...] = M to guard a require
//     cycle). require is
//     the host's, resolving inside its roots and to these libraries; there
//     is no loadlib, preload or seeall.
//   - debug: traceback (bounded as PCall's) and getinfo, which answers
//     only source, short_src, what, currentline, linedefined and
//     lastlinedefined: nothing reaches a function up the stack, locals,
//     upvalues, the registry, metatables or hooks.
//   - collectgarbage: "count" answers the Go heap in KiB; "collect",
//     "step", "stop" and "restart" do nothing and "setpause" and
//     "setstepmul" answer 200, Lua's defaults: the heap is the host's, and
//     a full collection per call from a script's loop would stall it.
//
// Absent: dofile, loadfile, getfenv, setfenv, module, require (the host
// adds its own), newproxy, os.exit and the rest of os, and channel.
//
// # What scripts cannot change
//
// The globals string, table and math are empty proxies of the real library
// tables: a script may add a field the library lacks (function
// string:split, function table.random), which stays in that proxy, that is
// in this state only (the engine makes a state per generation, so a reload
// drops what a removed script added); assigning or removing a builtin
// raises "cannot assign string.rep: the sandbox's builtins are read-only".
// package takes new names the same way. coroutine, os, io and debug are
// fully read-only proxies: assigning a field raises "cannot assign os.x:
// library tables are read-only in the sandbox". rawset on any of them is
// refused and their metatables are locked.
//
// gopher-lua's pairs has no __pairs metamethod, so the state's next, pairs
// and ipairs are the sandbox's: over a proxy (a library, package.loaded,
// io.stdout, a host's [ReadOnly] table) they iterate the table it stands
// for, the builtins first and then what scripts added, each key once, with
// the value indexing gives, and next(t, k) continues after k (a script may
// remove a field it added while it iterates). So `for k, v in pairs(string)
// do stringx[k] = v end` copies working functions and pairs(package.loaded)
// lists the libraries and modules. Any other table iterates as with
// gopher-lua's (raw, whatever its __index); the cost is one comparison for
// a table without a metatable and one map lookup for one with. rawget,
// rawequal and # stay raw: a proxy holds only what scripts added to it, so
// rawget(string, "format") is nil and #string is 0.
//
// The string
// metatable indexes the string proxy: getmetatable("") returns false and
// setmetatable("", mt) fails, so ("x"):rep(3) always means the sandbox's
// string.rep, and ("a,b"):split(",") finds an added string.split. The
// metatable of _G is locked too, so setmetatable(_G, nil) fails and cannot
// remove anything the host put there (the host may still set one from Go).
// A script can still rebind a global name (string = {}) for the other
// scripts sharing its globals; the engine decides whether scripts share them.
//
// A state from NewState with [Config.Trusted] has every standard library,
// writable, but keeps the capped builtins below, pcall, xpcall, load and
// the next, pairs and ipairs that see through a host's [ReadOnly] tables,
// and has no os.exit. (In a trusted state too, an xpcall handler runs after
// the unwinding: debug.traceback there shows the xpcall's caller, not the
// error's origin.)
//
// # Lua 5.1's results
//
// Where gopher-lua's builtins give other results than Lua 5.1's on input
// real code passes them, the sandbox has its own, checked against lua5.1
// (testdata/builtins.golden, testdata/patterns.golden): tonumber reads
// "1e3" and "12345678901234567890" (a JSON decoder's numbers) and, with a
// base, a sign and base 16's "0x" as C's strtoul does, math.huge is
// infinity and math.modf(math.huge) is math.huge and 0, string.upper and
// lower change ASCII letters only (Go's case mapping rewrote every byte
// that is not UTF-8 as three), string.char refuses codes past 255,
// table.remove(t, 0) removes nothing, unpack reads t[0] and the keys of a
// sparse table, table.foreachi reads #t once, string.format prints inf
// and nan as C does, os.date is C's strftime in the C locale (gopher-lua's
// gave %a as "mon" on every day, %x as the time, and *t's yday as 0; a nil
// time is now, and a time whose year - 1900, C's tm_year, does not fit in
// C's int gives nil), patterns have %f and follow Lua 5.1 (see Limits),
// and table.foreach and foreachi exist. string.format's %s calls
// __tostring, as LuaJIT's and Lua 5.2's do; tonumber("-ff", 16) is -255,
// as in Lua 5.2 (5.1's strtoul wraps it to 2^64 - 255), and tonumber in a
// base neither saturates at 2^64 as strtoul does nor reads "12\0z" as 12
// as Lua 5.1 does (nil); a "\0" in a pattern is a character to match
// (Lua 5.1's matcher ends a pattern with special characters there);
// os.date prints a year past 2^31 - 1 as it is (glibc wraps %Y there),
// and in local time near those limits follows the UTC bounds. Still
// gopher-lua's: numbers print in Go's shortest form (0.1 + 0.2 is 0.30000000000000004, not 0.3, and
// tostring(math.huge) is "+Inf", not "inf", though string.format("%g")
// gives "inf"), goto is a reserved word, #t of a table filled by index may
// be its far border, and builtins do not take numeric strings for numbers.
//
// # Limits
//
// Each field of [Limits] is documented with its default. The limits, and
// why each is needed with gopher-lua v1.1.2:
//
//   - Strings built by builtins: string.rep, string.format, string.gsub and
//     table.concat raise "string.rep: result too large (max 16777216
//     bytes)" instead of allocating; string.rep("x", 1e10) otherwise ends the
//     process with a fatal out-of-memory error. gsub also builds its result
//     in one pass (gopher-lua's copies the subject once per replacement).
//   - string.format accepts only Lua 5.1's conversions (% flags "-+ #0",
//     at most two width and two precision digits, one of c d i o u x X e E f
//     g G q s, or %%): anything else raises "invalid option '%[' to
//     'format'". gopher-lua's hands the format to Go's fmt.Sprintf, where
//     `string.format(("%[1]s"):rep(4096), ("x"):rep(8e6))` ends the process
//     and %v, %T and %p dump tables and leak Go types and addresses. Each
//     conversion is bounded before it is formatted (%q up to four times its
//     input), and conversions follow C's printf as Lua 5.1's do (%c one
//     byte, %g six significant digits, %q Lua's quoting).
//   - os.date refuses formats longer than [MaxDateFormatBytes] (256): a
//     format of 8 MB of "%c" would expand into hundreds of megabytes in one
//     uninterruptible call.
//   - Patterns: string.find, match, gmatch and gsub run the sandbox's own
//     Lua 5.1 matcher (pattern.go), checked against Lua 5.1.5's results
//     (testdata/patterns.golden), with a step budget (MaxPatternSteps,
//     about 15-20 ns a step), since a builtin cannot be interrupted by a
//     deadline: string.find(("a"):rep(1e5), ".-.-.-.-b$") fails after 10^7
//     steps (about 0.2 s) instead of running for hours. A set [...] is
//     read whole at each use, so it pays a step for each 16 bytes of it:
//     unpaid, a 10^5-byte set over a 10^5-byte subject ran for 48 s in
//     10^5 steps. A gsub replacement with '%' pays the same at each match:
//     over empty matches its expansions add nothing to the capped result,
//     so ("%0"):rep(1e6) ran 2 s over a 300-byte subject. gmatch's iterator
//     finds one match a call, each with a call's budget, so a loop over a
//     long subject is bounded by its deadline between calls. A greedy or
//     lazy item loops over the subject instead of recursing, so `(.*)`
//     matches a subject of any length; the recursion, which grows with the
//     pattern's items, stops at 10,000 levels ("pattern too complex"). A
//     pattern has at most 32 captures, as in Lua 5.1 ("too many
//     captures"). gopher-lua's own matcher, which this replaces, has no
//     frontier (%f), anchors gmatch at '^', refused a greedy item over more
//     than 200,000 characters and differed from Lua 5.1 on 1,019 of the
//     golden file's 4,650 lines.
//   - table.sort sorts a copy of the array and checks the call's deadline
//     every 1024 comparisons (gopher-lua's sorts in Go without looking:
//     2 million numbers ran 9 s past a 1 s deadline); a sort stopped by the
//     deadline or by the comparison function's error leaves the table as it
//     was. The other builtins that loop in Go over their input are bounded
//     by their result's size (string.rep, format, gsub, table.concat), by
//     the value stack (unpack and string.byte raise "too many results to
//     unpack" and "string slice too long"; string.char) or by the array
//     size limit (table.insert and table.remove move at most
//     MaxArrayIndex values).
//   - Call depth (CallStackSize) and value stack (RegistrySize, grown on
//     demand): "stack overflow" and "registry overflow" errors. gopher-lua
//     panics past any PCall that has an error handler when the value stack
//     is full (unpack({}, 1, 1e8)); [PCall] turns that into an error.
//   - Array index: [MaxArrayIndex] is set process-wide in
//     lua.MaxArrayIndex when this package is initialised, see its doc.
//   - Tracebacks: [PCall] renders at most MaxTracebackLines frame lines and
//     one line per run of tail calls, and the sandbox's pcall and xpcall
//     render none; gopher-lua renders one line per tail call (about 200 MB
//     for a second of infinite tail recursion) before truncating, and its
//     xpcall does so whenever the handler fails, as it does at a deadline.
//   - Source: [CheckSource] bounds size, nesting and the constructs
//     gopher-lua compiles in quadratic time, which no deadline interrupts.
//     Its compiler recurses per nesting level, and about 10^6 levels
//     (`x()()()...` counts a level per call) overflow Go's stack, a fatal
//     error. Operator chains (40,000 operators: 13 s): at most
//     MaxExpressionOperators (1000, about 10 ms) in one expression.
//     Distinct constants of one function (20,000: 2-4 s): at most
//     MaxConstantLookups steps of the compiler's constant search (about
//     0.1-0.3 s at most, measured by BenchmarkCompileWorstAccepted).
//     elseif chains (16,000 branches: 1.3 s): at most MaxElseifs (1000,
//     about 10 ms). Forward gotos (8,000: 0.9 s): at most MaxGotos (1000,
//     about 20 ms) per function. Table constructors: at most 25,550
//     items without keys, past which gopher-lua's OP_SETLIST block
//     number overflows and items land at wrong indexes with no error;
//     and [CheckProto] refuses a multiple of 50 of them before a last call
//     or `...`, whose values gopher-lua stores over the last 50.
//     Measured and found linear: long table
//     constructors, statements, locals, functions, and/or and a.b.c chains
//     (once their constants are counted). A 1 MiB file of plain statements
//     parses and compiles in about 0.25-0.7 s on two busy cores.
//   - Concatenation: [CheckProto] bounds the values one expression
//     concatenates that are neither literals nor locals or upvalues only
//     ever holding literals (parameters never count as such: the caller
//     writes them) (MaxConcatOperands, 8): gopher-lua joins them
//     all in one allocation between two checks of the deadline and the
//     heap, so `r = s2 .. s2 .. ...` with a hundred 128 MB operands ends the
//     process, while a help text of 44 colour constants is bounded by the
//     script's size.
//   - Jumps: gopher-lua's reach 131,071 instructions and its compiler
//     checks only jumps to labels, so a longer loop or if chain wraps
//     around to a wrong instruction (45 if chains of 1000 branches looped
//     until the deadline); CheckProto refuses a function longer than that
//     with a jump in it, as Lua 5.1 refuses a control structure too long.
//   - Time and memory: [Guard]; see below.
//
// # Deadlines, memory and their cost
//
// The memory bound is per call: what a call leaves reachable (globals,
// upvalues, tables of the state) stays, and the next call starts from the
// heap it finds. A script called repeatedly can keep up to MaxMemoryBytes
// per call, so a host running untrusted scripts should also cap the
// process with runtime/debug.SetMemoryLimit.
//
// Guard installs the call's context with SetContext only when the context
// can end: gopher-lua then checks it before every instruction, which
// BenchmarkContext measures at +40% to +80% on a loop of Lua calls (ratio
// of medians of 7 and 9 interleaved runs on two busy shared cores: 17.9 vs
// 13.0 ms, 20.3 vs 11.2 ms). Without a context the VM runs at full speed
// and nothing can stop an infinite loop. A guarded PCall of an empty
// function costs about 1 µs (BenchmarkCallOverhead; a bare L.PCall, 70 ns).
//
// The concatenation operator cannot be hooked: `local s = "x" while true do
// s = s .. s end` allocates 2^n bytes in about 30 instructions, far within
// any deadline, and ends the process (and one instruction joins all the
// operands of `a .. b .. c`, hence CheckProto). Guard therefore also registers the
// call with a watchdog goroutine that reads the heap size every 2 ms
// (runtime/metrics, no stop-the-world) while guarded calls run, and cancels
// a call once the heap exceeds by MaxMemoryBytes its lowest size sampled
// during the call: the VM stops at the next instruction with "sandbox:
// memory limit exceeded (...)". The trade-offs:
//
//   - The limit is a trigger, not a cap: the instruction that is allocating
//     finishes first. Measured with a 64 MiB limit, a doubling loop peaked
//     at 137-268 MB resident; leave about four times the limit of headroom.
//   - The heap is the process's, not the state's, and garbage counts until
//     the collector reclaims it: other goroutines' allocations during the
//     call count, and a long call in a host whose live heap is larger than
//     the limit can be stopped by garbage the collector has yet to reach.
//     Calls are meant to be short; raise the limit for long ones. (Waiting
//     for a confirming collection was tried: it has to wait for the
//     allocating copy, and let the loop reach eight times the limit.)
//   - Unguarded calls (no deadline) get neither the deadline nor the memory
//     bound; give untrusted code a deadline.
//
// A patched VM with a hook in OP_CONCAT would be exact and free, but means
// forking gopher-lua.
//
// Coroutines run under the context of whoever resumes them, so a deadline
// also stops a coroutine created before it.
//
// # Concurrency
//
// A state, like any *lua.LState, belongs to one goroutine at a time; so do
// Guard, PCall and the done function for it. NewState, CheckSource,
// CheckProto and the watchdog are safe for concurrent use.
package sandbox
