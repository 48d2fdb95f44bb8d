package sandbox

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// PCall is [lua.LState.PCall] for sandboxed calls: it calls the function
// below the nargs arguments on top of the stack, leaves nret results
// (all of them for [lua.MultRet]) in their place on success, and on failure
// restores the stack and returns the *[lua.ApiError] of the error, whose
// Object is the error value unchanged and whose StackTrace is a traceback of
// at most [Limits.MaxTracebackLines] frame lines, in the form of Lua's
// debug.traceback.
//
// It differs from L.PCall in two ways. A run of tail calls is one traceback
// line, so infinite tail recursion costs a few lines instead of gopher-lua's
// line per call (hundreds of megabytes). And a full value stack ("registry
// overflow") is an error rather than a Go panic: gopher-lua pushes the
// error handler without checking for room, so L.PCall with any handler
// panics through to its caller then. PCall makes one L.PCall without a
// handler and takes the traceback where the error is raised.
//
// Call PCall from the goroutine that owns L.
func PCall(L *lua.LState, nargs, nret int) error { return pcall(L, dataOf(L), nargs, nret) }

// Caller is [PCall] for one state, whose data it looks up once: a host that
// calls into a state many times keeps one. Use it, like the state, from one
// goroutine at a time.
type Caller struct{ d *stateData }

// NewCaller returns the Caller of L, a state made by [NewState].
func NewCaller(L *lua.LState) Caller { return Caller{dataOf(L)} }

// PCall is [PCall] on L, which must be the state NewCaller was given.
func (c Caller) PCall(L *lua.LState, nargs, nret int) error { return pcall(L, c.d, nargs, nret) }

// Push pushes the trampoline of a protected call, for a hot caller that
// then pushes the function and its nargs arguments and calls
// [Caller.PCallPushed]: PCall has to shift them all up one slot to slide
// the trampoline in below the function.
func (c Caller) Push(L *lua.LState) { L.Push(c.d.call) }

// PCallPushed is [Caller.PCall] of the function below the nargs arguments
// on top of the stack, with what [Caller.Push] pushed right below that
// function. On failure the stack is as it was before Push.
func (c Caller) PCallPushed(L *lua.LState, nargs, nret int) error {
	return L.PCall(nargs+1, nret, nil)
}

// pcall is PCall with the state's data at hand. It makes one protected
// call, without an error handler: the trampoline d.call runs the function
// with L.Panic set to d.raise, which takes the bounded traceback where the
// error is raised, before anything unwinds, and needs no room on the value
// stack (gopher-lua pushes an error handler without making room for it, so
// a handler fails on a full stack); a Go panic gets its bounded traceback
// from the trampoline's deferred recoverPanic.
func pcall(L *lua.LState, d *stateData, nargs, nret int) error {
	L.Insert(d.call, L.GetTop()-nargs)
	return Caller{d}.PCallPushed(L, nargs, nret)
}

// raise is a state's Panic function while PCall runs Lua code: it panics
// with the error on top of the stack and a bounded traceback, which
// L.PCall keeps instead of making its own (one line per tail call).
func (d *stateData) raise(L *lua.LState) {
	obj := L.Get(-1)
	if s, ok := obj.(lua.LString); ok {
		// L may be a wrapped coroutine, whose error gopher-lua raises so in
		// its resumer, its frames still there.
		if msg, ok := positioned(L, string(s), 0); ok {
			obj = msg
		}
	}
	panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: obj, StackTrace: d.traceback(L)})
}

// positioned returns msg, an error raised at level, named where Lua names
// it when gopher-lua names it elsewhere (see overflowInCall and atCaller).
// ok is false when msg is none of those.
func positioned(L *lua.LState, msg string, level int) (lua.LString, bool) {
	if named, ok := overflowInCall(L, msg, level); ok {
		return named, true
	}
	return atCaller(L, msg, level)
}

// atCaller returns msg, an error that a builtin written in Lua (see
// [CompileBuiltin]) raised at the given level, such as a full value stack
// in coroutine.yield ("coroutine.yield:1: registry overflow"), with the
// position of the nearest frame below that is a script's, as Lua names an
// error in a C function at its caller. ok is false when no builtin raised
// msg there, or no script's frame is below it.
func atCaller(L *lua.LState, msg string, level int) (lua.LString, bool) {
	dbg, fn, ok := frameAt(L, level)
	if !ok {
		return "", false
	}
	if _, builtin := Builtin(fn); !builtin {
		return "", false
	}
	rest, found := strings.CutPrefix(msg, fmt.Sprintf("%s:%d: ", dbg.Source, dbg.CurrentLine))
	if !found {
		return "", false
	}
	where, ok := scriptCaller(L, level)
	if !ok {
		return "", false
	}
	return lua.LString(where + " " + rest), true
}

// scriptCaller returns the position, "source:line:", of the nearest frame
// below the one at level that is a script's: a Lua function, not a builtin
// written in Lua, with a current line.
func scriptCaller(L *lua.LState, level int) (string, bool) {
	dbg, fn, ok := frameAt(L, level)
	for n := 0; ok && n < 2*dataOf(L).lim.CallStackSize; n++ {
		level++
		if !fn.IsG {
			level += tailCalls(dbg) // GetStack counts each as a level
		}
		if dbg, fn, ok = frameAt(L, level); ok {
			if _, builtin := Builtin(fn); !builtin && !fn.IsG && dbg.CurrentLine > 0 {
				return fmt.Sprintf("%s:%d:", dbg.Source, dbg.CurrentLine), true
			}
		}
	}
	return "", false
}

// frameAt returns the frame of L at level, with its source and current
// line, and its function.
func frameAt(L *lua.LState, level int) (*lua.Debug, *lua.LFunction, bool) {
	dbg, ok := L.GetStack(level)
	if !ok {
		return nil, nil, false
	}
	v, err := L.GetInfo("Slf", dbg, lua.LNil)
	fn, isFunction := v.(*lua.LFunction)
	return dbg, fn, err == nil && isFunction
}

// recoverPanic, deferred by the trampoline, gives a Go panic (not a Lua
// error, which raise made an *lua.ApiError already) a bounded traceback
// while the Lua frames are still there.
func (d *stateData) recoverPanic(L *lua.LState) {
	r := recover()
	if r == nil {
		return
	}
	if aerr, ok := r.(*lua.ApiError); ok {
		panic(aerr)
	}
	if msg, ok := overflowPanic(L, r); ok {
		panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: msg, StackTrace: d.traceback(L)})
	}
	panic(&lua.ApiError{Type: lua.ApiErrorPanic, Object: lua.LString(fmt.Sprint(r)), StackTrace: d.traceback(L)})
}

// overflowInCall returns the error gopher-lua (v1.1.2) fails to raise when
// a call fills the value stack while it sets up the frame of a vararg Lua
// function (many arguments passed on in a tail call, most often): it
// raises "registry overflow" with the new frame current, which has run no
// instruction yet, and naming where that frame is panics with the Go
// runtime error "index out of range [-1]". msg is the error as recovered;
// level is the frame that was current. The error is named, as Lua names
// it, at the call: the line of the nearest script frame below; but a tail
// call leaves no frame of its caller, so after one, and when no script
// frame is below, at the line the function is defined on (the first for a
// main chunk). ok is false for any other error.
func overflowInCall(L *lua.LState, msg string, level int) (lua.LString, bool) {
	if msg != "runtime error: index out of range [-1]" {
		return "", false
	}
	dbg, fn, ok := frameAt(L, level)
	if !ok || fn.IsG || dbg.CurrentLine > 0 {
		return "", false
	}
	where, ok := "", false
	if tailCalls(dbg) == 0 {
		where, ok = scriptCaller(L, level)
	}
	if !ok {
		where = fmt.Sprintf("%s:%d:", dbg.Source, max(dbg.LineDefined, 1))
	}
	return lua.LString(where + " registry overflow"), true
}

// overflowPanic returns the registry overflow r, a recovered panic, stands
// for when it is the Go runtime error gopher-lua panics with in naming one
// (see overflowInCall), the frame that was current at level 0.
func overflowPanic(L *lua.LState, r any) (lua.LString, bool) {
	if err, ok := r.(runtime.Error); ok {
		return overflowInCall(L, err.Error(), 0)
	}
	return "", false
}

func (d *stateData) traceback(L *lua.LState) string {
	return traceback(L, 0, d.lim.MaxTracebackLines, 2*d.lim.CallStackSize)
}

// traceback renders the frames of L from level on, keeping at most maxLines
// lines. It visits at most maxFrames frames.
func traceback(L *lua.LState, level, maxLines, maxFrames int) string {
	var lines []string
	lastIsGo, bottom := false, false
	for range maxFrames {
		dbg, ok := L.GetStack(level)
		if !ok {
			bottom = true
			break
		}
		v, err := L.GetInfo("Snlf", dbg, lua.LNil)
		if err != nil {
			break
		}
		fn, _ := v.(*lua.LFunction)
		lastIsGo = fn != nil && fn.IsG
		where := dbg.Source + ":"
		switch {
		case dbg.What == "G":
			where = "[G]:"
		case dbg.CurrentLine > 0:
			where = fmt.Sprintf("%s:%d:", dbg.Source, dbg.CurrentLine)
		}
		name := "in function " + dbg.Name
		switch {
		case dbg.What != "G" && dbg.LineDefined == 0:
			name = "in main chunk"
		case dbg.Name == "" || dbg.What == "main": // a coroutine's body (gopher-lua names it "main chunk")
			name = fmt.Sprintf("in function <%s:%d>", dbg.Source, dbg.LineDefined)
		case dbg.Name[0] != '<' && dbg.Name[0] != '(':
			name = "in function '" + dbg.Name + "'"
		}
		lines = append(lines, "\t"+where+" "+name)
		tail := tailCalls(dbg)
		if tail > 0 {
			lines = append(lines, fmt.Sprintf("\t(...%d tail calls...)", tail))
		}
		level += 1 + tail
	}
	if bottom && lastIsGo {
		// The bottom frame is PCall's trampoline (a coroutine's is its body).
		lines = lines[:len(lines)-1]
	}
	if len(lines) > maxLines {
		head := maxLines / 2
		tail := maxLines - head - 1
		skipped := fmt.Sprintf("\t...(%d lines skipped)", len(lines)-head-tail)
		lines = append(append(lines[:head:head], skipped), lines[len(lines)-tail:]...)
	}
	return "stack traceback:\n" + strings.Join(lines, "\n")
}

// tailCalls returns how many tail calls the frame of dbg replaced. gopher-lua
// does not export the count, so it is read with reflection from its
// unexported frame field (gopher-lua v1.1.2); if that field ever changes,
// tailCalls returns 0 and the traceback lists the frames without the count.
func tailCalls(dbg *lua.Debug) int {
	frame := reflect.ValueOf(dbg).Elem().FieldByName("frame")
	if !frame.IsValid() || frame.Kind() != reflect.Pointer || frame.IsNil() {
		return 0
	}
	tc := frame.Elem().FieldByName("TailCall")
	if !tc.IsValid() || tc.Kind() != reflect.Int {
		return 0
	}
	return int(tc.Int())
}
