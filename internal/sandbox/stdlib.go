package sandbox

import (
	"io"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// This file holds the safe forms of what real code reads while it loads:
// package, debug, io and collectgarbage. Each is listed, with why it is
// safe, in the package documentation.

// packageConfig is Lua 5.1's package.config: the directory separator, the
// path separator, the name mark, the executable directory mark and the
// ignore mark, one a line.
const packageConfig = "/\n;\n?\n!\n-\n"

// loadedKey is where a state keeps the table behind package.loaded.
const loadedKey = registryKey + "/loaded"

// installPackage installs a package table whose fields are read-only:
// config, an empty path and cpath (nothing is searched on disk), and
// loaded, a view of the modules the host records with [Loaded] and of the
// libraries. As with string, a script may add a new name to either, in
// this state only: Penlight's compat defines package.searchpath, and a
// module that another requires back while it loads sets
// package.loaded[...] = M first (the guard of a require cycle).
func installPackage(L *lua.LState, libs []string) {
	loaded := L.CreateTable(0, len(libs)+2)
	L.G.Registry.RawSetString(loadedKey, loaded)
	for _, name := range libs {
		loaded.RawSetString(name, L.GetGlobal(name))
	}
	loaded.RawSetString("_G", L.G.Global)
	pkg := L.CreateTable(0, 4)
	pkg.RawSetString("config", lua.LString(packageConfig))
	pkg.RawSetString("path", lua.LString(""))
	pkg.RawSetString("cpath", lua.LString(""))
	pkg.RawSetString("loaded", extensible(L, "package.loaded", loaded))
	L.SetGlobal("package", extensible(L, "package", pkg))
	loaded.RawSetString("package", L.GetGlobal("package"))
}

// Loaded returns the table behind the read-only package.loaded of a
// sandboxed state L, for the host's require to record each module it
// loads; nil for a trusted state, whose package is Lua's own. Call it from
// the goroutine that owns L.
func Loaded(L *lua.LState) *lua.LTable {
	t, _ := L.G.Registry.RawGetString(loadedKey).(*lua.LTable)
	return t
}

// installDebug installs a debug table with traceback and a getinfo that
// tells only where a function is: nothing reaches locals, upvalues, the
// registry, metatables or hooks.
func installDebug(L *lua.LState, lim Limits) {
	dbg := L.CreateTable(0, 2)
	dbg.RawSetString("traceback", L.NewFunction(func(L *lua.LState) int {
		th, base := optThread(L)
		msg := L.Get(base)
		if msg != lua.LNil && !lua.LVCanConvToString(msg) {
			L.Push(msg) // Lua 5.1 returns a message that is not a string untouched
			return 1
		}
		level := L.OptInt(base+1, 1)
		if th != L {
			level = L.OptInt(base+1, 0)
		}
		tb := traceback(th, max(level, 0), lim.MaxTracebackLines, 2*lim.CallStackSize)
		if msg != lua.LNil {
			tb = lua.LVAsString(msg) + "\n" + tb
		}
		L.Push(lua.LString(tb))
		return 1
	}))
	dbg.RawSetString("getinfo", L.NewFunction(getInfo))
	L.SetGlobal("debug", ReadOnly(L, "debug", dbg))
}

// optThread reads the optional thread argument of a debug function: the
// thread and the index of the next argument.
func optThread(L *lua.LState) (*lua.LState, int) {
	if th, ok := L.Get(1).(*lua.LState); ok {
		return th, 2
	}
	return L, 1
}

// getInfo is debug.getinfo([thread,] f or level [, what]) answering only
// source, short_src, what, currentline, linedefined and lastlinedefined,
// whatever what asks for.
func getInfo(L *lua.LState) int {
	th, base := optThread(L)
	var (
		dbg *lua.Debug
		fn  lua.LValue = lua.LNil
	)
	switch v := L.Get(base).(type) {
	case *lua.LFunction:
		dbg, fn = &lua.Debug{CurrentLine: -1}, v
	case lua.LNumber:
		var ok bool
		if dbg, ok = th.GetStack(int(v)); !ok || v < 0 {
			L.Push(lua.LNil)
			return 1
		}
	default:
		L.ArgError(base, "function or level expected")
	}
	what := "Sl"
	if fn != lua.LNil {
		what = ">Sl"
	}
	if _, err := th.GetInfo(what, dbg, fn); err != nil {
		L.Push(lua.LNil)
		return 1
	}
	info := L.CreateTable(0, 6)
	source, kind := "@"+dbg.Source, "Lua"
	switch {
	case dbg.What == "G":
		source, kind = "=[C]", "C"
	case dbg.LineDefined == 0:
		kind = "main"
	}
	short := strings.TrimPrefix(source, "@")
	if kind == "C" {
		short = "[C]"
	}
	info.RawSetString("source", lua.LString(source))
	info.RawSetString("short_src", lua.LString(short))
	info.RawSetString("what", lua.LString(kind))
	info.RawSetString("currentline", lua.LNumber(dbg.CurrentLine))
	info.RawSetString("linedefined", lua.LNumber(dbg.LineDefined))
	info.RawSetString("lastlinedefined", lua.LNumber(dbg.LastLineDefined))
	L.Push(info)
	return 1
}

// installIO installs an io table with write, type, stdout and stderr
// only: the two files have write, flush and setvbuf, and write to the
// state's output writers. print writes to stdout's writer too. One call
// writes at most maxBytes: its text is built whole before the one write,
// and many arguments naming one large string would otherwise build, in one
// instruction, far more than the memory bound.
func installIO(L *lua.LState, maxBytes int, stdout, stderr io.Writer) {
	file := func(name string, w io.Writer) *lua.LTable {
		f := L.CreateTable(0, 3)
		var self *lua.LTable
		f.RawSetString("write", L.NewFunction(func(L *lua.LState) int {
			if L.Get(1) != self {
				L.ArgError(1, "io."+name+":write must be called with ':'")
			}
			return writeValues(L, w, maxBytes, 2, self)
		}))
		noop := L.NewFunction(func(L *lua.LState) int { L.Push(lua.LTrue); return 1 })
		f.RawSetString("flush", noop)
		f.RawSetString("setvbuf", noop)
		self = ReadOnly(L, "io."+name, f)
		return self
	}
	lib := L.CreateTable(0, 4)
	out := file("stdout", stdout)
	lib.RawSetString("stdout", out)
	lib.RawSetString("stderr", file("stderr", stderr))
	lib.RawSetString("write", L.NewFunction(func(L *lua.LState) int { return writeValues(L, stdout, maxBytes, 1, out) }))
	files := map[lua.LValue]bool{out: true, lib.RawGetString("stderr"): true}
	lib.RawSetString("type", L.NewFunction(func(L *lua.LState) int {
		if files[L.CheckAny(1)] {
			L.Push(lua.LString("file"))
		} else {
			L.Push(lua.LNil)
		}
		return 1
	}))
	L.SetGlobal("io", ReadOnly(L, "io", lib))
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		var b strings.Builder
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				b.WriteByte('\t')
			}
			appendOutput(L, &b, L.ToStringMeta(L.Get(i)).String(), maxBytes, "print")
		}
		b.WriteByte('\n')
		io.WriteString(stdout, b.String())
		return 0
	}))
}

// appendOutput appends s to the text b of one output call named fn,
// raising an error when the text would exceed maxBytes.
func appendOutput(L *lua.LState, b *strings.Builder, s string, maxBytes int, fn string) {
	if len(s) > maxBytes-b.Len() {
		L.RaiseError("%s: output too large (max %d bytes a call)", fn, maxBytes)
	}
	b.WriteString(s)
}

// writeValues writes the strings and numbers from argument first on to w,
// as Lua's file:write does, and returns the file, or nil and the error.
func writeValues(L *lua.LState, w io.Writer, maxBytes, first int, file lua.LValue) int {
	var b strings.Builder
	for i := first; i <= L.GetTop(); i++ {
		v := L.Get(i)
		if !lua.LVCanConvToString(v) {
			L.ArgError(i, "string expected, got "+v.Type().String())
		}
		appendOutput(L, &b, v.String(), maxBytes, "write")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(file)
	return 1
}

// orDefault returns w, or def when w is nil.
func orDefault(w, def io.Writer) io.Writer {
	if w == nil {
		return def
	}
	return w
}

// defaultOutputs are the writers of a Config that names none.
var defaultOutputs = [2]io.Writer{os.Stdout, os.Stderr}

// collectGarbage is collectgarbage without any effect on the host: "count"
// answers the Go heap in KiB, as Lua 5.1 reports its own heap; "collect",
// "step", "stop" and "restart" do nothing (the heap is the host's, and a
// full collection per call, from a script's loop, would stall it); and
// "setpause" and "setstepmul" answer Lua's defaults.
func collectGarbage(L *lua.LState) int {
	switch opt := L.OptString(1, "collect"); opt {
	case "count":
		L.Push(lua.LNumber(float64(heapBytes()) / 1024))
	case "collect", "stop", "restart":
		L.Push(lua.LNumber(0))
	case "step":
		L.Push(lua.LFalse)
	case "setpause", "setstepmul":
		L.Push(lua.LNumber(200))
	default:
		L.ArgError(1, "invalid option '"+opt+"'")
	}
	return 1
}
