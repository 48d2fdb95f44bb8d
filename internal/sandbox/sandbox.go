package sandbox

import (
	"fmt"
	"io"
	"math"
	"runtime/metrics"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// MaxArrayIndex is the array index ceiling this package sets in
// [lua.MaxArrayIndex] when it is initialised (gopher-lua's default is 1<<26).
// An integer key at or above it is stored in a table's hash part instead of
// its array part, so `t[6e7] = 1` costs one map entry instead of a 1 GB array
// built by an uninterruptible loop. The variable is package-level in
// gopher-lua, so this applies to every state in the process, trusted or not;
// it is set in an init function because writing it while any state runs
// would be a data race.
const MaxArrayIndex = 1 << 21

func init() {
	lua.MaxArrayIndex = MaxArrayIndex
}

// Limits bounds what one state may do. The zero value of each field means
// its documented default.
//
// A Limits is a plain value: copy it freely.
type Limits struct {
	// MaxStringBytes is the longest string a builtin may build: string.rep,
	// string.format, string.gsub, table.concat, load's reader, and the
	// text one call of print or io.write writes.
	// Default 16 MiB.
	MaxStringBytes int
	// CallStackSize is the maximum depth of Lua calls. Default 200.
	CallStackSize int
	// RegistrySize is the maximum number of value-stack slots. The stack
	// starts small and grows up to it. Default 65536 (1 MiB). A size of 1
	// to 127, below the least gopher-lua takes (it would make 5,120 of
	// it), is 128.
	RegistrySize int
	// MaxTracebackLines is the number of frame lines a traceback of [PCall] keeps.
	// Default 20.
	MaxTracebackLines int
	// MaxPatternSteps is the budget of one call of string.find, match,
	// gmatch or gsub (for gmatch, of one call of its iterator), in steps of
	// the pattern matcher (about 15-20 ns each; reading a set [...], and a
	// gsub replacement with '%' at each match, costs a step more for each
	// 16 bytes of it).
	// Default 10,000,000. Trusted states have no budget.
	MaxPatternSteps int
	// MaxSourceBytes is the longest source text [CheckSource] accepts, and so
	// the longest chunk load and loadstring compile. Default 1 MiB.
	MaxSourceBytes int
	// MaxNesting is the deepest lexical nesting [CheckSource] accepts.
	// Default 200, Lua's own limit on nested C calls.
	MaxNesting int
	// MaxExpressionOperators is the most binary operators one expression
	// may have for [CheckSource]: gopher-lua compiles an operator chain in
	// quadratic time, which no deadline interrupts (1000 operators compile
	// in about 10 ms, 40,000 in 13 s). Default 1000.
	MaxExpressionOperators int
	// MaxElseifs is the most elseif branches one if statement may have for
	// [CheckSource]: gopher-lua compiles the chain in quadratic time (1000
	// branches about 5 ms, 16,000 1.3 s). Default 1000.
	MaxElseifs int
	// MaxGotos is the most goto statements one function may have for
	// [CheckSource]: gopher-lua resolves forward gotos in quadratic time
	// (8,000 take 0.9 s). Default 1000.
	MaxGotos int
	// MaxConstantLookups bounds, for [CheckSource], the steps gopher-lua's
	// compiler takes to look the constants of a chunk up: it searches a
	// list of each function's constants for every use of one, so 20,000
	// distinct strings in one function compile for 2-4 s. A step takes
	// 6-40 ns (strings of equal length cost most). Default 10,000,000
	// (at most about 0.4 s; one function of 4,400 distinct constants).
	MaxConstantLookups int
	// MaxConcatOperands is the most values other than literal constants
	// one concatenation expression (a .. ", " .. b) may join for
	// [CheckProto]: gopher-lua joins them in one allocation, between two
	// checks of the deadline and the memory bound. Literals, and locals and
	// upvalues that only ever hold literals, are bounded by the script's
	// size and do not count. Default 8.
	MaxConcatOperands int
	// MaxMemoryBytes is how much the Go heap may grow above its lowest size
	// during a call bounded by [Guard] before the call is stopped (a trigger,
	// not a cap: see the package documentation). Default 256 MiB.
	MaxMemoryBytes int
}

// Default values of [Limits].
const (
	DefaultMaxStringBytes    = 16 << 20
	DefaultCallStackSize     = 200
	DefaultRegistrySize      = 1 << 16
	DefaultMaxTracebackLines = 20
	DefaultMaxPatternSteps   = 10_000_000
	DefaultMaxMemoryBytes    = 256 << 20
	DefaultMaxSourceBytes    = 1 << 20
	DefaultMaxNesting        = 200

	DefaultMaxExpressionOperators = 1000
	DefaultMaxConcatOperands      = 8
	DefaultMaxElseifs             = 1000
	DefaultMaxGotos               = 1000
	DefaultMaxConstantLookups     = 10_000_000
)

// withDefaults returns l with every zero (or negative) field set to its
// default, and a RegistrySize too small for gopher-lua raised to its least.
func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxStringBytes, DefaultMaxStringBytes)
	def(&l.CallStackSize, DefaultCallStackSize)
	def(&l.RegistrySize, DefaultRegistrySize)
	l.RegistrySize = max(l.RegistrySize, minRegistrySize)
	def(&l.MaxTracebackLines, DefaultMaxTracebackLines)
	def(&l.MaxPatternSteps, DefaultMaxPatternSteps)
	def(&l.MaxMemoryBytes, DefaultMaxMemoryBytes)
	def(&l.MaxSourceBytes, DefaultMaxSourceBytes)
	def(&l.MaxNesting, DefaultMaxNesting)
	def(&l.MaxExpressionOperators, DefaultMaxExpressionOperators)
	def(&l.MaxConcatOperands, DefaultMaxConcatOperands)
	def(&l.MaxElseifs, DefaultMaxElseifs)
	def(&l.MaxGotos, DefaultMaxGotos)
	def(&l.MaxConstantLookups, DefaultMaxConstantLookups)
	return l
}

// Config selects the libraries and limits of a new state.
//
// A Config is a plain value: copy it freely.
type Config struct {
	// Trusted opts out of the sandbox: every standard library is installed
	// (package, io, os, debug, channel included) and the libraries are
	// writable, but the builtins that can kill the process stay capped
	// (string.rep, string.format, string.gsub, table.concat, os.date,
	// pcall), load checks its chunks, os.exit stays absent and the
	// pattern matcher has no step budget.
	Trusted bool
	// Limits bounds the state; see [Limits].
	Limits Limits
	// Stdout receives what print, io.write and io.stdout:write write, and
	// Stderr what io.stderr:write writes, in a sandboxed state. They are
	// called on the goroutine running the script, and by several states at
	// once when several share them. Default: os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
}

// registryKey is where a state keeps its [stateData] in the Lua registry.
const registryKey = "github.com/hotlua/hotlua/internal/sandbox"

// minRegistrySize is the least value-stack size gopher-lua takes.
const minRegistrySize = 128

// initialRegistrySize is the value-stack size a state (and each coroutine) starts with.
const initialRegistrySize = 256

// NewState returns a fresh state with the allow-listed libraries installed
// (see the package documentation), `require` absent and `setmetatable` the
// original one, for the caller to wrap.
//
// The returned state, like every [lua.LState], must be used from one
// goroutine at a time. NewState itself is safe for concurrent use.
func NewState(cfg Config) *lua.LState {
	lim := cfg.Limits.withDefaults()
	L := lua.NewState(lua.Options{
		SkipOpenLibs:     true,
		CallStackSize:    lim.CallStackSize,
		RegistrySize:     min(initialRegistrySize, lim.RegistrySize),
		RegistryMaxSize:  lim.RegistrySize,
		RegistryGrowStep: initialRegistrySize,
	})
	newStateData(L, lim)

	if cfg.Trusted {
		L.OpenLibs()
	} else {
		for _, open := range []lua.LGFunction{lua.OpenBase, lua.OpenTable, lua.OpenString, lua.OpenMath, lua.OpenCoroutine, lua.OpenOs} {
			L.Push(L.NewFunction(open))
			L.Call(0, 0)
		}
	}
	g := L.G.Global
	steps := lim.MaxPatternSteps
	if cfg.Trusted {
		steps = int(^uint(0) >> 1)
	}
	installLua51(L)
	installStringLib(L, L.GetGlobal("string").(*lua.LTable), lim, steps)
	installTableLib(L, L.GetGlobal("table").(*lua.LTable), lim)
	installCoroutineLib(L, L.GetGlobal("coroutine").(*lua.LTable))
	g.RawSetString("unpack", L.NewFunction(fitResults(g.RawGetString("unpack").(*lua.LFunction).GFunction, "too many results to unpack")))
	pass := L.NewFunction(passThrough)
	g.RawSetString("pcall", L.NewFunction(protectedCall(pass)))
	if !cfg.Trusted { // a trusted xpcall keeps gopher-lua's, whose handler sees the failing frames
		g.RawSetString("xpcall", L.NewFunction(protectedXCall(pass)))
	}
	L.GetGlobal("os").(*lua.LTable).RawSetString("date", L.NewFunction(osDate))
	installRandom(L, L.GetGlobal("math").(*lua.LTable))
	g.RawSetString("load", L.NewFunction(func(L *lua.LState) int { return loadChunk(L, lim) }))
	g.RawSetString("loadstring", L.NewFunction(func(L *lua.LState) int { return loadChunk(L, lim) }))
	L.GetGlobal("os").(*lua.LTable).RawSetString("exit", lua.LNil)
	installIteration(L, dataOf(L))
	if cfg.Trusted {
		return L
	}

	for _, name := range []string{"dofile", "loadfile", "getfenv", "setfenv", "module", "require", "newproxy", "_printregs"} {
		g.RawSetString(name, lua.LNil)
	}
	g.RawSetString("collectgarbage", L.NewFunction(collectGarbage))
	keepOnly(L.GetGlobal("os").(*lua.LTable), "time", "clock", "date", "difftime")
	installDebug(L, lim)
	installIO(L, lim.MaxStringBytes, orDefault(cfg.Stdout, defaultOutputs[0]), orDefault(cfg.Stderr, defaultOutputs[1]))

	// The string metatable indexes the real string table, which no script
	// can reach: getmetatable("") returns false and the global `string`
	// is a read-only proxy.
	// OpenString made the string table its own __index: through it,
	// string.__index would be the real table.
	str := L.GetGlobal("string").(*lua.LTable)
	str.RawSetString("__index", lua.LNil)
	str.RawSetString("dump", lua.LNil)
	for _, name := range []string{"string", "table", "math"} {
		g.RawSetString(name, extensible(L, name, L.GetGlobal(name).(*lua.LTable)))
	}
	for _, name := range []string{"coroutine", "os"} {
		g.RawSetString(name, ReadOnly(L, name, L.GetGlobal(name).(*lua.LTable)))
	}
	// Through the proxy, so that ("x"):split() finds a function a script
	// added to string.
	L.SetMetatable(lua.LString(""), lockedMetatable(L, L.GetGlobal("string")))
	installPackage(L, []string{"string", "table", "math", "coroutine", "os", "io", "debug"})
	proxies := dataOf(L).proxies
	L.SetMetatable(g, lockedMetatable(L, lua.LNil))
	g.RawSetString("rawset", L.NewFunction(func(L *lua.LState) int {
		if _, ok := proxies[L.CheckTable(1)]; ok {
			L.RaiseError("rawset: library tables are read-only in the sandbox")
		}
		L.CheckAny(2)
		L.CheckAny(3)
		L.RawSet(L.CheckTable(1), L.Get(2), L.Get(3))
		L.SetTop(1)
		return 1
	}))
	return L
}

// stateData is what this package keeps per state, in the Lua registry,
// which scripts cannot reach without the debug library.
type stateData struct {
	lim Limits
	// call is PCall's trampoline (see pcall).
	call *lua.LFunction
	// proxies maps each read-only proxy to the table it reads through
	// to: rawset refuses the proxies, and next, pairs and ipairs see
	// through them (see installIteration).
	proxies map[*lua.LTable]*lua.LTable
	// resuming holds, for each coroutine of the state in a chain of
	// resumes (running, or resuming another), how deep in the chain it
	// is (see resumeThread).
	resuming map[*lua.LState]int
}

// newStateData stores and returns the data of a state with limits lim.
func newStateData(L *lua.LState, lim Limits) *stateData {
	d := &stateData{lim: lim, proxies: make(map[*lua.LTable]*lua.LTable), resuming: make(map[*lua.LState]int)}
	raise := d.raise
	d.call = L.NewFunction(func(L *lua.LState) int {
		defer d.recoverPanic(L)
		prev := L.Panic
		L.Panic = raise
		L.Call(L.GetTop()-1, lua.MultRet)
		L.Panic = prev
		return L.GetTop()
	})
	ud := L.NewUserData()
	ud.Value = d
	L.G.Registry.RawSetString(registryKey, ud)
	return d
}

// dataOf returns the data of L, making it with the default limits for a
// state NewState did not make.
func dataOf(L *lua.LState) *stateData {
	if ud, ok := L.G.Registry.RawGetString(registryKey).(*lua.LUserData); ok {
		if d, ok := ud.Value.(*stateData); ok {
			return d
		}
	}
	return newStateData(L, Limits{}.withDefaults())
}

// keepOnly removes every field of tb whose name is not in names.
func keepOnly(tb *lua.LTable, names ...string) {
	var drop []lua.LValue
	tb.ForEach(func(k, _ lua.LValue) {
		for _, n := range names {
			if k.String() == n {
				return
			}
		}
		drop = append(drop, k)
	})
	for _, k := range drop {
		tb.RawSet(k, lua.LNil)
	}
}

// lockedMetatable returns a metatable whose __index is index and whose
// __metatable field makes getmetatable return false and setmetatable fail.
// It has room for those two fields and a __newindex.
func lockedMetatable(L *lua.LState, index lua.LValue) *lua.LTable {
	mt := L.CreateTable(0, 3)
	if index != lua.LNil {
		mt.RawSetString("__index", index)
	}
	mt.RawSetString("__metatable", lua.LFalse)
	return mt
}

// extensible returns a proxy of lib like [ReadOnly]'s, except that a
// script may add fields that lib lacks (function string:split() ...): the
// proxy keeps them, for this state only, and may change or remove them
// again; the fields of lib stay as they are. pairs over the proxy sees the
// fields of lib and the added ones.
func extensible(L *lua.LState, name string, lib *lua.LTable) *lua.LTable {
	proxy := ReadOnly(L, name, lib)
	mt := proxy.Metatable.(*lua.LTable)
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		key := L.Get(2)
		if lib.RawGet(key) != lua.LNil {
			L.RaiseError("cannot assign %s.%s: the sandbox's builtins are read-only (a new name may be added)", name, L.ToStringMeta(key))
		}
		if key == lua.LNil || key == lua.LNumber(math.NaN()) {
			L.RaiseError("table index is nil or NaN")
		}
		proxy.RawSet(key, L.Get(3))
		return 0
	}))
	return proxy
}

// ReadOnly returns an empty table that reads through to lib and refuses
// assignments, rawset included, naming it name in errors. The state's next,
// pairs and ipairs see the fields of lib through it; rawget and # see none
// (the proxy itself holds nothing), and getmetatable gives false. The
// sandbox's libraries are such proxies; a host gives scripts its own
// shared modules the same way. Call it from the goroutine that owns L, a
// state made by [NewState].
func ReadOnly(L *lua.LState, name string, lib *lua.LTable) *lua.LTable {
	mt := lockedMetatable(L, lib)
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("cannot assign %s.%s: library tables are read-only in the sandbox", name, L.ToStringMeta(L.Get(2)))
		return 0
	}))
	// Empty, as it stays unless extensible adds to it: NewTable's room for
	// 32 fields and 32 slots is 3 KB a proxy, and a state has a dozen.
	proxy := L.CreateTable(0, 0)
	L.SetMetatable(proxy, mt)
	dataOf(L).proxies[proxy] = lib
	return proxy
}

// heapObjectsMetric is the bytes of live and not yet swept heap objects.
const heapObjectsMetric = "/memory/classes/heap/objects:bytes"

// heapBytes returns the value of heapObjectsMetric.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: heapObjectsMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// MaxChunkNameBytes is the longest chunk name load and loadstring accept.
// gopher-lua puts the whole name in every error message and traceback
// line of the chunk's functions: a 1 MiB name made one error 18 MB long.
// (Lua 5.1 shows at most 60 bytes of it.)
const MaxChunkNameBytes = 4096

// loadChunk is load and loadstring for source text only: the chunk is a
// string or a reader function (Lua 5.1's load) and must pass [CheckSource].
// The function it returns runs with the state's globals, or with the table
// given as a fourth argument, as Lua 5.2's load(chunk, name, mode, env)
// takes it: with setfenv absent, that is how a library gives a chunk other
// globals (serpent's safe load passes it to load and loadstring alike).
func loadChunk(L *lua.LState, lim Limits) int {
	var env *lua.LTable
	if L.GetTop() >= 4 && L.Get(4) != lua.LNil {
		env = L.CheckTable(4)
	}
	name := L.OptString(2, "<string>")
	if len(name) > MaxChunkNameBytes {
		L.ArgError(2, fmt.Sprintf("chunk name too long (%d bytes, max %d): pass a shorter name", len(name), MaxChunkNameBytes))
	}
	var src string
	switch chunk := L.Get(1).(type) {
	case lua.LString:
		src = string(chunk)
	case *lua.LFunction:
		var b strings.Builder
		for {
			L.Push(chunk)
			L.Call(0, 1)
			piece := L.Get(-1)
			L.Pop(1)
			if piece == lua.LNil || piece == lua.LString("") {
				break
			}
			if !lua.LVCanConvToString(piece) {
				L.Push(lua.LNil)
				L.Push(lua.LString("reader function must return a string"))
				return 2
			}
			if b.Len()+len(piece.String()) > lim.MaxSourceBytes {
				L.RaiseError("load: chunk too large (max %d bytes)", lim.MaxSourceBytes)
			}
			b.WriteString(piece.String())
		}
		src = b.String()
	default:
		L.ArgError(1, "string or function expected")
	}
	if err := CheckSource([]byte(src), lim); err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	fn, err := L.Load(strings.NewReader(src), name)
	if err == nil {
		err = CheckProto(fn.Proto, lim)
	}
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	if env != nil {
		fn.Env = env
	}
	L.Push(fn)
	return 1
}
