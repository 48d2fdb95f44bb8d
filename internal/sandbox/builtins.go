package sandbox

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// installStringLib replaces the string builtins that build unbounded strings
// or run unbounded patterns with capped versions.
func installStringLib(L *lua.LState, lib *lua.LTable, lim Limits, steps int) {
	funcs := map[string]lua.LGFunction{
		"rep": func(L *lua.LState) int {
			s := L.CheckString(1)
			n := L.CheckInt(2)
			if n <= 0 || s == "" {
				L.Push(lua.LString(""))
				return 1
			}
			if n > lim.MaxStringBytes/len(s) {
				L.RaiseError("string.rep: result too large (max %d bytes)", lim.MaxStringBytes)
			}
			L.Push(lua.LString(strings.Repeat(s, n)))
			return 1
		},
		"format": func(L *lua.LState) int { return strFormat(L, lim) },
		"find":   func(L *lua.LState) int { return strFind(L, steps) },
		"match":  func(L *lua.LState) int { return strMatch(L, steps) },
		"gmatch": func(L *lua.LState) int { return strGmatch(L, steps) },
		"gsub":   func(L *lua.LState) int { return strGsub(L, lim, steps) },
		"byte":   fitResults(lib.RawGetString("byte").(*lua.LFunction).GFunction, "string slice too long"),
	}
	for name, fn := range funcs {
		lib.RawSetString(name, L.NewFunction(fn))
	}
	lib.RawSetString("gfind", lib.RawGetString("gmatch")) // Lua 5.0's name
}

// fitResults returns fn, a builtin pushing as many results as its
// arguments ask for (unpack, string.byte), raising the catchable error msg,
// with the stack as it was, when they do not fit in the value stack.
// gopher-lua raises "registry overflow" there, which no pcall catches: its
// PCall pushes the error handler onto the full stack and fails again. The
// stack's absolute top is not exported, so fitResults catches the overflow
// rather than predicting it; the pushes before it are bounded by
// [Limits.RegistrySize].
func fitResults(fn lua.LGFunction, msg string) lua.LGFunction {
	return func(L *lua.LState) int {
		top := L.GetTop()
		defer func() {
			if r := recover(); r != nil {
				if err, ok := r.(*lua.ApiError); !ok || !strings.HasSuffix(lua.LVAsString(err.Object), "registry overflow") {
					panic(r)
				}
				L.SetTop(top)
				L.RaiseError("%s", msg)
			}
		}()
		return fn(L)
	}
}

// raisePatternError raises err, a pattern's error, as the error of the
// builtin fn.
func raisePatternError(L *lua.LState, fn string, err error) {
	L.RaiseError("%s: %s", fn, err.Error())
}

// startIndex converts a Lua string index (1-based, negative from the end)
// into a Go offset clamped to [0, len(str)].
func startIndex(str string, i int) int {
	switch {
	case i > 0:
		i--
	case i < 0:
		i += len(str)
	}
	return max(0, min(i, len(str)))
}

// patternStart returns where matching starts in pattern and whether it is
// anchored to the subject's start ('^', which gmatch takes literally).
func patternStart(pattern string) (p int, anchored bool) {
	if len(pattern) > 0 && pattern[0] == '^' {
		return 1, true
	}
	return 0, false
}

// pushCaptures pushes the values of the match s..e of m (the whole match
// when it has no captures, and wholeIfNone is set) and returns how many it
// pushed.
func pushCaptures(L *lua.LState, fn string, m *matcher, s, e int, wholeIfNone bool) int {
	n := m.level
	if n == 0 && wholeIfNone {
		n = 1
	}
	for i := range n {
		L.Push(captureValue(L, fn, m, i, s, e))
	}
	return n
}

// captureValue returns value i of the match s..e of m, raising the error
// of fn when there is none.
func captureValue(L *lua.LState, fn string, m *matcher, i, s, e int) lua.LValue {
	v, msg := m.captureValue(i, s, e)
	if msg != "" {
		L.RaiseError("%s: %s", fn, msg)
	}
	return v
}

// searchArgs reads the (s, pattern [, init]) of string.find and
// string.match. As in Lua 5.1, an init past the end of s searches from its
// end.
func searchArgs(L *lua.LState) (str, pattern string, start int) {
	str, pattern = L.CheckString(1), L.CheckString(2)
	return str, pattern, startIndex(str, L.OptInt(3, 1))
}

// searchPattern finds the first match of pattern in str from start, for
// the builtin fn, with a budget of steps: its span s..e (s -1 for none)
// and the matcher holding its captures.
func searchPattern(L *lua.LState, fn, str, pattern string, start, steps int) (m *matcher, s, e int) {
	m = newMatcher(str, pattern, steps)
	p, anchored := patternStart(pattern)
	s, e, err := m.search(start, p, anchored)
	if err != nil {
		raisePatternError(L, fn, err)
	}
	return m, s, e
}

// patternSpecials are the characters that make a pattern more than plain
// text, for string.find.
const patternSpecials = "^$*+?.([%-"

func strFind(L *lua.LState, steps int) int {
	str, pattern, start := searchArgs(L)
	if L.ToBool(4) || !strings.ContainsAny(pattern, patternSpecials) {
		pos := strings.Index(str[start:], pattern)
		if pos < 0 {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LNumber(start + pos + 1))
		L.Push(lua.LNumber(start + pos + len(pattern)))
		return 2
	}
	m, s, e := searchPattern(L, "string.find", str, pattern, start, steps)
	if s < 0 {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(s + 1))
	L.Push(lua.LNumber(e))
	return 2 + pushCaptures(L, "string.find", m, s, e, false)
}

func strMatch(L *lua.LState, steps int) int {
	str, pattern, start := searchArgs(L)
	m, s, e := searchPattern(L, "string.match", str, pattern, start, steps)
	if s < 0 {
		L.Push(lua.LNil)
		return 1
	}
	return pushCaptures(L, "string.match", m, s, e, true)
}

// strGmatch is string.gmatch, whose iterator finds one match a call, each
// with the budget of one call: a loop over a long subject is bounded by
// its deadline between calls. As in Lua 5.1, '^' is no anchor here, and
// after an empty match the next search starts one character on.
func strGmatch(L *lua.LState, steps int) int {
	str, pattern := L.CheckString(1), L.CheckString(2)
	m := newMatcher(str, pattern, steps)
	next := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		m.steps = 0
		s, e, err := m.search(next, 0, false)
		if err != nil {
			raisePatternError(L, "string.gmatch", err)
		}
		if s < 0 {
			next = len(str) + 1
			return 0
		}
		next = max(e, s+1)
		return pushCaptures(L, "string.gmatch", m, s, e, true)
	}))
	return 1
}

// strGsub is string.gsub, with Lua 5.1's walk over the subject, building
// its result once in a capped buffer (gopher-lua's copies the whole
// subject for every replacement).
func strGsub(L *lua.LState, lim Limits, steps int) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	L.CheckTypes(3, lua.LTString, lua.LTTable, lua.LTFunction)
	repl := L.Get(3)
	maxN := L.OptInt(4, len(str)+1)
	var b strings.Builder
	write := func(s string) {
		if b.Len()+len(s) > lim.MaxStringBytes {
			L.RaiseError("string.gsub: result too large (max %d bytes)", lim.MaxStringBytes)
		}
		b.WriteString(s)
	}
	m := newMatcher(str, pattern, steps)
	p, anchored := patternStart(pattern)
	s, n := 0, 0
	for n < maxN {
		e, err := m.matchAt(s, p)
		if err != nil {
			raisePatternError(L, "string.gsub", err)
		}
		if e >= 0 {
			n++
			write(replacement(L, repl, m, s, e, lim.MaxStringBytes-b.Len()))
		}
		switch {
		case e > s:
			s = e
		case s < len(str):
			write(str[s : s+1])
			s++
		default:
			anchored = true // the subject's end: no more matches
		}
		if anchored {
			break
		}
	}
	if s < len(str) {
		write(str[s:])
	}
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(n))
	return 2
}

// replacement returns what the match s..e of m is replaced by in gsub:
// repl expanded, or the value repl (a table or a function) gives for the
// match's first value, or the match itself when that is false or nil.
//
// room is what the result may still grow by: an expansion longer than it
// raises gsub's "result too large" before it is built, since %0 repeated
// in repl multiplies the match (8 MB of "%0" over an 8 MB match is 32 TB).
func replacement(L *lua.LState, repl lua.LValue, m *matcher, s, e, room int) string {
	var v lua.LValue
	switch r := repl.(type) {
	case lua.LString:
		return expandReplacement(L, string(r), m, s, e, room)
	case *lua.LTable:
		v = L.GetTable(r, captureValue(L, "string.gsub", m, 0, s, e))
	case *lua.LFunction:
		L.Push(r)
		L.Call(pushCaptures(L, "string.gsub", m, s, e, true), 1)
		v = L.Get(-1)
		L.Pop(1)
	}
	switch {
	case !lua.LVAsBool(v):
		return m.src[s:e]
	case lua.LVCanConvToString(v):
		return v.String()
	}
	L.RaiseError("string.gsub: invalid replacement value (a %s)", v.Type())
	return ""
}

// expandReplacement expands %0-%9 and %% in a gsub replacement string for
// the match s..e of m. Reading repl pays m's budget for its length: over
// empty matches or captures an expansion adds nothing to the result, so
// the result's cap alone does not bound the work.
func expandReplacement(L *lua.LState, repl string, m *matcher, s, e, room int) string {
	if strings.IndexByte(repl, '%') < 0 {
		return repl
	}
	if m.steps += len(repl) / bytesPerStep; m.steps > m.maxSteps {
		raisePatternError(L, "string.gsub", m.overBudget())
	}
	var b strings.Builder
	write := func(piece string) {
		if b.Len()+len(piece) > room {
			L.RaiseError("string.gsub: result too large (max %d bytes)", dataOf(L).lim.MaxStringBytes)
		}
		b.WriteString(piece)
	}
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '%' || i+1 == len(repl) {
			write(repl[i : i+1])
			continue
		}
		i++
		switch c = repl[i]; {
		case c == '0':
			write(m.src[s:e])
		case '1' <= c && c <= '9':
			write(lua.LVAsString(captureValue(L, "string.gsub", m, int(c-'1'), s, e)))
		default:
			write(repl[i : i+1])
		}
	}
	return b.String()
}

// installTableLib replaces table.concat with a capped version and
// table.sort with one that stops at the call's deadline.
func installTableLib(L *lua.LState, lib *lua.LTable, lim Limits) {
	lib.RawSetString("sort", L.NewFunction(tableSort))
	lib.RawSetString("concat", L.NewFunction(func(L *lua.LState) int {
		tbl := L.CheckTable(1)
		sep := L.OptString(2, "")
		n := tbl.Len()
		i := L.OptInt(3, 1)
		j := min(L.OptInt(4, n), n)
		if L.GetTop() == 3 && (i > n || i < 1) {
			L.Push(lua.LString(""))
			return 1
		}
		i = max(min(i, n), 1)
		var b strings.Builder
		for k := i; k <= j; k++ {
			v := tbl.RawGetInt(k)
			if !lua.LVCanConvToString(v) {
				L.RaiseError("invalid value (%s) at index %d in table for concat", v.Type(), k)
			}
			s := v.String()
			if b.Len()+len(s)+len(sep) > lim.MaxStringBytes {
				L.RaiseError("table.concat: result too large (max %d bytes)", lim.MaxStringBytes)
			}
			b.WriteString(s)
			if k < j {
				b.WriteString(sep)
			}
		}
		L.Push(lua.LString(b.String()))
		return 1
	}))
}

// sortCheckEvery is how many comparisons table.sort makes between two
// checks of the call's context.
const sortCheckEvery = 1024

// tableSort is table.sort sorting a copy of t[1..#t] and writing it back
// once sorted: gopher-lua's sorts in Go without looking at the context
// (2 million numbers ran 9 s past a 1 s deadline), so this one checks it
// every sortCheckEvery comparisons, and a sort stopped by its deadline or by
// an error of the comparison function leaves the table as it was.
func tableSort(L *lua.LState) int {
	tbl := L.CheckTable(1)
	var less *lua.LFunction
	if L.GetTop() > 1 && L.Get(2) != lua.LNil {
		less = L.CheckFunction(2)
	}
	n := tbl.Len()
	values := make([]lua.LValue, n)
	for i := range values {
		values[i] = tbl.RawGetInt(i + 1)
	}
	compared := 0
	sort.Slice(values, func(i, j int) bool {
		if compared++; compared%sortCheckEvery == 0 {
			checkContext(L)
		}
		if less == nil {
			return L.LessThan(values[i], values[j])
		}
		L.Push(less)
		L.Push(values[i])
		L.Push(values[j])
		L.Call(2, 1)
		ok := lua.LVAsBool(L.Get(-1))
		L.Pop(1)
		return ok
	})
	for i, v := range values {
		tbl.RawSetInt(i+1, v)
	}
	return 0
}

// checkContext raises the error of the context of L, as the VM does before
// an instruction, when it is done.
func checkContext(L *lua.LState) {
	if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
		L.RaiseError("%s", ctx.Err().Error())
	}
}

// installCoroutineLib makes coroutine.resume and the functions of
// coroutine.wrap run the coroutine under the caller's context, so a deadline
// set by [Guard] also stops a coroutine created before it, makes
// coroutine.yield refuse to yield across a Go call (see yieldAcrossGo), and
// makes coroutine.create and coroutine.wrap give a Go function body the
// results it returns (see goBodyWrapper).
func installCoroutineLib(L *lua.LState, lib *lua.LTable) {
	resume := lib.RawGetString("resume").(*lua.LFunction).GFunction
	wrap := lib.RawGetString("wrap").(*lua.LFunction).GFunction
	yield := lib.RawGetString("yield").(*lua.LFunction).GFunction
	checkedYield := L.NewFunction(func(L *lua.LState) int {
		// Level 3: the errors name the script's line, not yieldWrapper's.
		switch {
		case L.Parent == nil:
			L.Error(lua.LString("can not yield from outside of a coroutine"), 3)
		case yieldAcrossGo():
			L.Error(lua.LString("attempt to yield across metamethod/C-call boundary (a builtin such as pcall, table.sort or tostring, "+
				"a metamethod or a for-loop iterator is running between the yield and the coroutine's body): yield outside that call"), 3)
		}
		return yield(L)
	})
	results := L.NewFunction(func(L *lua.LState) int { return L.GetTop() })
	L.Push(L.NewFunctionFromProto(yieldWrapper))
	L.Push(checkedYield)
	L.Push(results)
	L.Call(2, 1)
	lib.RawSetString("yield", L.Get(-1))
	L.Pop(1)
	L.Push(L.NewFunctionFromProto(goBodyWrapper))
	L.Push(results)
	L.Call(1, 1)
	wrapGoBody := L.Get(-1).(*lua.LFunction)
	L.Pop(1)
	// luaBody replaces a Go function given as the body of a coroutine by a
	// Lua function that calls it (see goBodyWrapper).
	luaBody := func(L *lua.LState) {
		if fn, ok := L.Get(1).(*lua.LFunction); ok && fn.IsG {
			L.Push(wrapGoBody)
			L.Push(fn)
			L.Call(1, 1)
			L.Replace(1, L.Get(-1))
			L.Pop(1)
		}
	}
	create := lib.RawGetString("create").(*lua.LFunction).GFunction
	lib.RawSetString("create", L.NewFunction(func(L *lua.LState) int {
		luaBody(L)
		return create(L)
	}))
	resumeWrapped := func(L *lua.LState) int {
		th := L.ToThread(lua.UpvalueIndex(1))
		L.Insert(th, 1)
		return resumeThread(L, th, true, resume)
	}
	lib.RawSetString("resume", L.NewFunction(func(L *lua.LState) int {
		return resumeThread(L, L.CheckThread(1), false, resume)
	}))
	// gopher-lua's status says "normal" only for the running coroutine's
	// resumer; any coroutine of the chain resumeThread refuses is.
	lib.RawSetString("status", L.NewFunction(func(L *lua.LState) int {
		th := L.CheckThread(1)
		status := L.Status(th)
		if status == "suspended" && dataOf(th).resuming[th] > 0 {
			status = "normal"
		}
		L.Push(lua.LString(status))
		return 1
	}))
	lib.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int {
		luaBody(L)
		wrap(L)
		th := L.Get(-1).(*lua.LFunction).Upvalues[0].Value()
		L.Pop(1)
		L.Push(L.NewClosure(resumeWrapped, th))
		return 1
	}))
}

// yieldWrapper makes coroutine.yield a Lua function that calls the Go
// yield it is given, never as a tail call, and returns what the resume
// passes through a Go function that returns its arguments. gopher-lua
// loses the coroutine's last frame when a Go function that yields is
// tail-called from it: a body ending in `return coroutine.yield(x)`, the
// usual generator, failed with a nil pointer dereference at its next
// resume (in plain gopher-lua too, whenever no context is set). Tail-calling
// the wrapper instead is sound: its own call of the yield is not a tail
// call.
var yieldWrapper = CompileBuiltin(`local yield, results = ... return function(...) return results(yield(...)) end`,
	"coroutine.yield", "coroutine.yield: a builtin function (Lua's own, refusing a yield across a Go call)")

// goBodyWrapper returns, for a Go function, a Lua function that calls it
// and returns all its results, through the same Go function as
// yieldWrapper's: gopher-lua runs a coroutine whose body is a Go function
// but drops what it returns, and what resume returns with it
// (`coroutine.wrap(math.max)(1, 2)` gave nothing, and resume not even
// true).
var goBodyWrapper = CompileBuiltin(`local results = ... return function(f) return function(...) return results(f(...)) end end`,
	"coroutine.create", "the body of a coroutine made of a Go function: a builtin that calls it and returns its results")

// gopherLua prefixes the names of gopher-lua's functions on the Go stack.
const gopherLua = "github.com/yuin/gopher-lua."

// yieldWindow is how many Go frames yieldAcrossGo looks at below the
// sandbox's yield: a yield straight from a coroutine's Lua code has
// callGFunction, the VM's call instruction, mainLoop and threadRun there,
// and a Go call in between adds at least LState.Call, callR and a mainLoop.
// Unwinding costs about 0.2 µs a frame.
const yieldWindow = 4

// yieldAcrossGo reports whether the coroutine.yield calling it runs in a
// Lua call that Go code made, rather than in the coroutine's own VM loop.
// gopher-lua yields by returning from the VM loop running the yield: a
// nested loop returns to its Go caller (pcall, table.sort's comparison, a
// metamethod the VM calls through LState.Call, a for-loop iterator), which
// carries on as if the call had returned, on a coroutine that has switched
// away ("register underflow", nil pointer dereferences, a coroutine stuck
// for good). gopher-lua keeps no trace of such a call in its frames (a
// metamethod's caller is a Lua function), so yieldAcrossGo looks for the
// coroutine's threadRun on the Go stack: a Go call lies between unless it
// is within yieldWindow frames, with one VM loop above it.
func yieldAcrossGo() bool {
	var pcs [yieldWindow]uintptr
	loops := 0
	for _, pc := range pcs[:runtime.Callers(3, pcs[:])] { // above Callers, this and the yield
		kind := frameKindOf(pc)
		loops += kind.loops
		if kind.threadRun {
			return loops > 1
		}
	}
	return true
}

// frameKind is what yieldAcrossGo needs of one Go frame: how many of
// gopher-lua's VM loops it runs and whether it is threadRun, counting the
// functions inlined into it.
type frameKind struct {
	loops     int
	threadRun bool
}

// frameKinds caches frameKindOf by return address: symbolizing a frame
// costs microseconds, and a yield's frames are the same few call sites.
// It is safe for concurrent use, and bounded by the call sites of the binary.
var frameKinds sync.Map // uintptr -> frameKind

// frameKindOf returns the kind of the frame returning to pc.
func frameKindOf(pc uintptr) frameKind {
	if k, ok := frameKinds.Load(pc); ok {
		return k.(frameKind)
	}
	var kind frameKind
	frames := runtime.CallersFrames([]uintptr{pc})
	for more := true; more; {
		var f runtime.Frame
		f, more = frames.Next()
		switch f.Function {
		case gopherLua + "threadRun":
			kind.threadRun = true
		case gopherLua + "mainLoop", gopherLua + "mainLoopWithContext":
			kind.loops++
		}
	}
	frameKinds.Store(pc, kind)
	return kind
}

// resumeThread runs resume, gopher-lua's coroutine.resume, for th (its
// first argument) under the context of L, and leaves L the running
// thread once th yields, returns or fails. gopher-lua tracks the running
// thread in the Global of the states: its resume sets L.G.CurrentThread
// and its yield resets th.G.CurrentThread, which are not the same when th
// was made by another state (an engine's coroutine kept in an object's
// field across a reload, resumed by the new generation), so the resumer's
// stayed th: the next resume said "can not resume a running thread" for
// good. And a coroutine.wrap function whose body fails raises the error in
// the caller without resetting the running thread or marking th dead:
// coroutine.running and coroutine.status were wrong, and a later call ran
// the body's failed frames again (or, resuming the caller from itself, hit
// a Go "index out of range").
//
// It also refuses what gopher-lua runs: resuming a coroutine that is
// resuming another (Lua's "normal" coroutine, which nested the Go stack
// once more at each turn of a cycle, until Go's fatal stack overflow ended
// the process), and resumes nested deeper than maxResumeDepth (a failed
// chain of wrapped coroutines unwinds in time quadratic in its depth, with
// no deadline check). A wrapped coroutine's function (wrapped) raises the
// error; resume returns false and it.
func resumeThread(L, th *lua.LState, wrapped bool, resume lua.LGFunction) int {
	if L.G.CurrentThread == th || th.Dead {
		return resume(L) // refused at once
	}
	// Each thread of a chain of resumes is in its own state's resuming.
	chain := dataOf(th).resuming
	depth := dataOf(L).resuming[L] + 1
	msg := ""
	switch {
	case chain[th] > 0:
		msg = "cannot resume non-suspended coroutine"
	case depth > maxResumeDepth:
		msg = fmt.Sprintf("C stack overflow (more than %d nested coroutine resumes)", maxResumeDepth)
	}
	if msg != "" {
		if wrapped {
			L.RaiseError("%s", msg)
		}
		L.Push(lua.LFalse)
		L.Push(lua.LString(msg))
		return 2
	}
	chain[th] = depth
	inheritContext(L, th)
	foreign := th.G != L.G
	prev := th.G.CurrentThread
	if foreign {
		th.G.CurrentThread = th // what coroutine.running and status read in th
	}
	done := false
	defer func() {
		delete(chain, th)
		L.G.CurrentThread = L
		if foreign {
			th.G.CurrentThread = prev
		}
		if !done {
			th.Dead = true // a wrapped coroutine's error, which unwinds L
			if r := recover(); r != nil {
				panic(namedAtCaller(th, r))
			}
		}
	}()
	n := resume(L)
	done = true
	return n
}

// namedAtCaller returns r, what a wrapped coroutine th raised in its
// resumer, named where Lua names it (see positioned): th's frames are still
// there. A Go runtime error is the overflow gopher-lua failed to raise, in
// th or in raising th's error on its full stack.
func namedAtCaller(th *lua.LState, r any) any {
	if x, ok := r.(*lua.ApiError); ok {
		if s, ok := x.Object.(lua.LString); ok {
			if msg, ok := positioned(th, string(s), 0); ok {
				x.Object = msg
			}
		}
	} else if msg, ok := overflowPanic(th, r); ok {
		return &lua.ApiError{Type: lua.ApiErrorRun, Object: msg, StackTrace: dataOf(th).traceback(th)}
	}
	return r
}

// maxResumeDepth is how deep coroutine resumes may nest: Lua 5.1's bound
// on nested C calls, which each resume is.
const maxResumeDepth = 200

// inheritContext gives th the context of L, or none when L has none.
func inheritContext(L, th *lua.LState) {
	if ctx := L.Context(); ctx != nil {
		th.SetContext(ctx)
	} else {
		th.RemoveContext()
	}
}

// protectedCall returns pcall with a pass-through error handler: gopher-lua's
// pcall renders a full traceback for every error it catches, which for
// infinite tail recursion is hundreds of megabytes; with a handler it renders none.
func protectedCall(passThrough *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		L.CheckAny(1)
		v := L.Get(1)
		if v.Type() != lua.LTFunction && L.GetMetaField(v, "__call").Type() != lua.LTFunction {
			L.Push(lua.LFalse)
			L.Push(lua.LString("attempt to call a " + v.Type().String() + " value"))
			return 2
		}
		if err := L.PCall(L.GetTop()-1, lua.MultRet, passThrough); err != nil {
			L.Push(lua.LFalse)
			L.Push(errorValue(err))
			return 2
		}
		L.Insert(lua.LTrue, 1)
		return L.GetTop()
	}
}

// protectedXCall returns xpcall with a pass-through error handler, for the
// reason of [protectedCall]: the user's handler runs after the stack of the
// failed call has unwound, with the error value, and its first result is
// xpcall's second. As with gopher-lua's xpcall, f and the handler must be
// functions, f is called without arguments, and an error in the handler is
// returned in place of its result.
func protectedXCall(passThrough *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		fn := L.CheckFunction(1)
		handler := L.CheckFunction(2)
		top := L.GetTop()
		L.Push(fn)
		err := L.PCall(0, lua.MultRet, passThrough)
		if err == nil {
			L.Insert(lua.LTrue, top+1)
			return L.GetTop() - top
		}
		L.Push(handler)
		L.Push(errorValue(err))
		if err := L.PCall(1, 1, passThrough); err != nil {
			L.Push(errorValue(err))
		}
		L.Insert(lua.LFalse, L.GetTop())
		return 2
	}
}

// errorValue returns the Lua value of an error returned by L.PCall.
func errorValue(err error) lua.LValue {
	if aerr, ok := err.(*lua.ApiError); ok {
		return aerr.Object
	}
	return lua.LString(err.Error())
}

// installRandom gives the state math.random and math.randomseed over a
// generator of its own. math.random raises Lua 5.1's "interval is empty"
// for an empty interval, where gopher-lua's hands it to rand.Intn, whose
// panic reached scripts as "invalid argument to Intn", draws from intervals
// wider than an int64 without overflowing, and, as gopher-lua's, ignores
// arguments past the second. math.randomseed seeds it: gopher-lua's seeds
// math/rand's global generator, which Go 1.24 on ignores. The generator is
// not safe for concurrent use, as the state it belongs to is not.
func installRandom(L *lua.LState, lib *lua.LTable) {
	// A PCG is 16 bytes and seeds in a few instructions, where math/rand's
	// source is 5 KB and takes microseconds to seed, in every state.
	src := rand.NewPCG(rand.Uint64(), rand.Uint64())
	gen := rand.New(src)
	lib.RawSetString("randomseed", L.NewFunction(func(L *lua.LState) int {
		src.Seed(uint64(intArg(L, 1)), 0) // truncated, as Lua 5.1's; a seed no int64 holds is an error
		return 0
	}))
	lib.RawSetString("random", L.NewFunction(func(L *lua.LState) int {
		var lo, hi, arg int
		switch L.GetTop() {
		case 0:
			L.Push(lua.LNumber(gen.Float64()))
			return 1
		case 1:
			lo, hi, arg = 1, intArg(L, 1), 1
		default:
			lo, hi, arg = intArg(L, 1), intArg(L, 2), 2
		}
		if lo > hi {
			L.ArgError(arg, "interval is empty")
		}
		// The interval's size less one: at most 2^64 - 1024, as no
		// float64 below 2^63 is above 2^63 - 1024, so span + 1 does not
		// wrap.
		span := uint64(hi) - uint64(lo)
		L.Push(lua.LNumber(lo + int(gen.Uint64N(span+1))))
		return 1
	}))
}

// intArg returns argument n as an integer, truncated as gopher-lua's
// CheckInt does, raising an argument error for a number no int64 holds
// (CheckInt turns 2^63 into -2^63).
func intArg(L *lua.LState, n int) int {
	v := float64(L.CheckNumber(n))
	if v != v || v >= math.MaxInt64 || v < math.MinInt64 {
		L.ArgError(n, "number has no integer representation")
	}
	return int(v)
}

// passThrough is an error handler returning the error value unchanged,
// but named where Lua names it when gopher-lua names it elsewhere (see
// positioned). It replaces the value in place: the value stack may be full.
func passThrough(L *lua.LState) int {
	if s, ok := L.Get(1).(lua.LString); ok {
		if msg, ok := positioned(L, string(s), 1); ok {
			L.Replace(1, msg)
		}
	}
	return 1
}
