package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/bindings"
)

const goodClass = `
local Good = hot.class("Good")
function Good:init() self.count = 0 end
function Good:bump() self.count = self.count + 1; return self.count end
return Good
`

// badMethods holds one method per kind of misbehaving call.
const badMethods = `
local Bad = hot.class("Bad")
function Bad:loop() while true do end end
function Bad:recurse() return 1 + self:recurse() end
function Bad:tail(n) return self:tail((n or 0) + 1) end
function Bad:rep() return string.rep("x", 1e10) end
function Bad:concat() local s = "x" while true do s = s .. s end end
function Bad:index() local t = {} t[6e7] = 1 return #t end
function Bad:pattern() return string.find(("a"):rep(1e5), ".-.-.-.-b$") end
function Bad:bigsubject() return string.find(("a"):rep(4e6), "(a*)(a*)(a*)b") end
function Bad:strmeta() getmetatable("").__index = {} end
function Bad:strlib() string.upper = nil end
function Bad:hotlib() hot.persist = function() return "poisoned" end end
function Bad:unsetG() setmetatable(_G, nil) end
function Bad:call(name) return _G[name] end
function Bad:dofile() return dofile("/etc/passwd") end
function Bad:io() return io.open("/etc/passwd") end
function Bad:exit() return os.exit(1) end
function Bad:execute() return os.execute("true") end
function Bad:getenv() return os.getenv("HOME") end
function Bad:remove() return os.remove("/tmp/x") end
function Bad:loadlib() return package.loadlib("x", "y") end
function Bad:debug() return debug.getregistry() end
function Bad:bytecode() return load("\27Lua") end
function Bad:panic() return host_panic() end
return Bad
`

// TestBadMethodsNeverHurtTheHost calls each misbehaving method with a
// deadline: each returns a clear error, and the engine, another object and
// its data keep working.
func TestBadMethodsNeverHurtTheHost(t *testing.T) {
	reg := bindings.New()
	if err := reg.Func("host_panic", func() int { panic("host bug") }); err != nil {
		t.Fatal(err)
	}
	e, _ := newEngine(t, map[string]string{"good.lua": goodClass, "bad.lua": badMethods}, func(o *Options) {
		o.Bindings = reg
		o.Limits = Limits{MaxMemoryBytes: 64 << 20}
		o.QuarantineAfter = -1
	})
	ctx := context.Background()
	good, _ := e.New(ctx, "Good")
	bad, _ := e.New(ctx, "Bad")
	for _, tc := range []struct {
		method string
		want   string // in the error text
	}{
		{"loop", "deadline exceeded"},
		{"recurse", "stack overflow"},
		{"tail", "deadline exceeded"},
		{"rep", "too large"},
		{"concat", "memory limit exceeded"},
		{"pattern", "too complex"},
		{"bigsubject", "too complex"},
		{"strmeta", "non-table object(boolean)"},
		{"strlib", "cannot assign string.upper: the sandbox's builtins are read-only"},
		{"hotlib", "cannot assign hot.persist"},
		{"unsetG", "protected metatable"},
		{"dofile", "attempt to call a non-function"},
		{"io", "attempt to call a non-function"},
		{"exit", "attempt to call a non-function"},
		{"execute", "attempt to call a non-function"},
		{"getenv", "attempt to call a non-function"},
		{"remove", "attempt to call a non-function"},
		{"loadlib", "attempt to call a non-function"},
		{"debug", "attempt to call a non-function"},
		{"bytecode", ""},
		{"panic", "host bug"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			// Only the endless loops need the deadline to stop them: the
			// others must be stopped by their own limit well before it.
			timeout := 5 * time.Second
			if tc.method == "loop" || tc.method == "tail" {
				timeout = 300 * time.Millisecond
			}
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			start := time.Now()
			v, err := bad.Call(cctx, tc.method)
			if tc.method == "bytecode" { // load returns nil, "error" instead of raising
				if !v.IsNil() {
					t.Fatalf("load of bytecode returned %v", v)
				}
				return
			}
			if err == nil {
				t.Fatalf("%s returned %v, want an error", tc.method, v)
			}
			var se *ScriptError
			if !errors.As(err, &se) || se.Class != "Bad" || se.Method != tc.method || se.Path != "bad.lua" || se.Line == 0 {
				t.Fatalf("error %#v does not name bad.lua:line and Bad:%s", err, tc.method)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("%s took %v", tc.method, d)
			}
			if n, err := good.Call(ctx, "bump"); err != nil {
				t.Fatalf("the good object failed after %s: %v", tc.method, err)
			} else if f, _ := n.Float(); f < 1 {
				t.Fatalf("the good object lost its count: %v", n)
			}
		})
	}
	// The string library and metatable are as before for everyone.
	if v, err := e.CallGlobal(ctx, "tostring", 1); err != nil || v.Any() != "1" {
		t.Fatalf("tostring after the bad calls: %v, %v", v, err)
	}
	if err := e.Do(ctx, func(L *lua.LState) error { return L.DoString(`assert(("x"):upper() == "X")`) }); err != nil {
		t.Fatal(err)
	}
}

// TestBadScriptsNeverLoad reloads with each kind of bad file: the reload
// fails with the file's path (and line where there is one), and the running
// version and its objects are untouched.
func TestBadScriptsNeverLoad(t *testing.T) {
	// The looping row is stopped by LoadTimeout; every other row must be
	// refused by a check, so the reload's own deadline is one no loaded
	// machine reaches.
	e, dir := newEngine(t, map[string]string{"good.lua": goodClass}, func(o *Options) { o.LoadTimeout = 2 * time.Second })
	ctx := context.Background()
	good, _ := e.New(ctx, "Good")
	cases := []struct {
		name, body, want string
	}{
		{"syntax", "local x = = 1", "bad.lua:1:11: syntax error"},
		{"runtime", "local t = nil\nreturn t.x", "bad.lua:2: attempt to index"},
		{"infinite loop at top level", "while true do end", "bad.lua"},
		{"too many locals", distinctLines("local v%d = 1", 201), "bad.lua:1:1: too many local variables (in the main chunk)"},
		{"too many locals in a function", "return 1,\n  function()\n" + distinctLines("local v%d = 1", 201) + "end", "bad.lua:2:3: too many local variables"},
		{"elseif chain", "if x then" + strings.Repeat("\nelseif x then", 1001) + " end", "bad.lua:1002:1: if statement with more than 1000 elseif branches"},
		{"bytecode", "\x1bLua\x51\x00", "bad.lua:1:1: binary chunks are not allowed"},
		{"oversized", "return '" + strings.Repeat("x", 2<<20) + "'", "bad.lua:1:1: source too large"},
		{"require outside the roots", "return require('socket')", "bad.lua:1: module 'socket' not found"},
		{"concatenation of many values", "local s = ...\nreturn s..s..s..s..s..s..s..s..s..s", "bad.lua:2:1: a concatenation of 10 values other than literals in one expression (the limit is 8): split it"},
		{"operator chain", "return 1" + strings.Repeat("+x", 1001), "bad.lua:1:2009: expression too long"},
		{"call chain", "return x" + strings.Repeat("()", 300), "bad.lua:1:407: source nests too deeply"},
		{"check", "hot.check(function() error('invariant broken') end)", "bad.lua:1: invariant broken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			writeScripts(t, dir, map[string]string{"bad.lua": tc.body})
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			_, err := e.Reload(cctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if e.Generation() != 1 {
				t.Fatalf("generation = %d", e.Generation())
			}
			if _, err := good.Call(ctx, "bump"); err != nil {
				t.Fatal(err)
			}
		})
	}
	n, _ := good.Get("count")
	if f, _ := n.Float(); int(f) != len(cases) {
		t.Fatalf("count = %v, want %d: one call after each refused reload", n, len(cases))
	}
}

// TestQuarantine stops calling a method that keeps hitting its deadline
// until the next reload.
func TestQuarantine(t *testing.T) {
	e, dir := newEngine(t, map[string]string{"bad.lua": badMethods}, func(o *Options) { o.QuarantineAfter = 2 })
	ctx := context.Background()
	bad, _ := e.New(ctx, "Bad")
	for i := range 2 {
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := bad.Call(cctx, "loop")
		cancel()
		if err == nil || errors.Is(err, ErrQuarantined) {
			t.Fatalf("call %d: err = %v, want a deadline error", i, err)
		}
	}
	// Not quarantined, the method would loop until this deadline.
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := bad.Call(cctx, "loop")
	if !errors.Is(err, ErrQuarantined) {
		t.Fatalf("third call: err = %v, want ErrQuarantined", err)
	}
	if !strings.Contains(err.Error(), "Bad:loop") {
		t.Fatalf("err = %v, want it to name Bad:loop", err)
	}
	reload(t, e, dir, map[string]string{"bad.lua": strings.Replace(badMethods, "while true do end", "return 'fixed'", 1)})
	if v, err := bad.Call(ctx, "loop"); err != nil || v.Any() != "fixed" {
		t.Fatalf("after a reload: %v, %v", v, err)
	}
}

// distinctLines returns format, with %d the line's index, on n lines.
func distinctLines(format string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format+"\n", i)
	}
	return b.String()
}

// An error whose message has no position (error("x", 0), an error object
// that is no string) still names the script and line that raised it, at
// the top level, in a check and in a method; a check's reason that is no
// string is not lost.
func TestErrorsWithoutPositionNameTheScript(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"level 0", "local x = 1\nerror('no position', 0)\n", "units/boom.lua:2: no position"},
		{"table", "local x = 1\n\nerror(setmetatable({}, {}))\n", "units/boom.lua:3: table: 0x"},
		{"in a check", "hot.check(function()\n  error('bad config', 0)\nend)\nreturn {}\n", "units/boom.lua:2: bad config"},
		{"a check's reason is a table", "hot.check(function() return false, {} end)\nreturn {}\n", "units/boom.lua:1: check failed: table: 0x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeScripts(t, dir, map[string]string{"good.lua": goodClass, "units/boom.lua": tc.src})
			_, err := New(Options{Roots: []string{dir}, Logger: discard()})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("New: %v; want it to start with %q", err, tc.want)
			}
		})
	}
	e, _ := newEngine(t, map[string]string{"units/boom.lua": "local Boom = hot.class('Boom')\nfunction Boom:go()\n  error('from a method', 0)\nend\nreturn Boom\n"})
	o, err := e.New(context.Background(), "Boom")
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Call(context.Background(), "go")
	if want := "units/boom.lua:3: in Boom:go: from a method"; err == nil || err.Error() != want {
		t.Fatalf("Call: %v; want %q", err, want)
	}
}

// Asking for a class by its module's name when the module's hot.class
// call names it otherwise (a typo) says what the module does define.
func TestNoSuchClassNamesWhatTheModuleDefines(t *testing.T) {
	e, _ := newEngine(t, map[string]string{"units/walker.lua": "return hot.class('units.walkr')\n"})
	_, err := e.New(context.Background(), "units.walker")
	if want := "engine: no such class: units.walker (module units.walker defines units.walkr)"; !errors.Is(err, ErrNoClass) || err.Error() != want {
		t.Fatalf("New: %v; want %q", err, want)
	}
	if _, err := e.New(context.Background(), "units.runner"); err == nil || err.Error() != "engine: no such class: units.runner" {
		t.Fatalf("New(units.runner): %v", err)
	}
}

// The guard of a require cycle, as Lua code writes it: a module puts its
// table in package.loaded before requiring the module that requires it
// back, which then gets that table, sandboxed or trusted. Without the
// guard the loop is an error that says how to break it; a module that
// returns nothing is what it put in package.loaded.
func TestRequireCycleGuard(t *testing.T) {
	guarded := map[string]string{
		"m/a.lua":   "local M = {}\npackage.loaded[...] = M\nlocal b = require('m.b')\nfunction M.f() return 'a' .. b.g() end\nreturn M\n",
		"m/b.lua":   "local a = require('m.a')\nlocal M = {}\nfunction M.g() return 'b' .. type(a) .. tostring(a.f ~= nil) end\nreturn M\n",
		"m/c.lua":   "package.loaded[...] = {answer = 42}\n",
		"m/d.lua":   "return require('m.c').answer\n",
		"probe.lua": "function probeA() return require('m.a').f() end\nfunction probeD() return require('m.d') end\n",
		// Only what a module's own load puts there counts: an entry
		// planted before it is ignored, one left behind is replaced by what
		// the module returned.
		"a0.lua":      "package.loaded['z.quiet'] = {fake = true}\n",
		"z/quiet.lua": "local x = 1\n",
		"z/other.lua": "package.loaded[...] = 'early'\nreturn 'returned'\n",
		"z/probe.lua": "function probeQuiet() return require('z.quiet') end\n" +
			"function probeOther() return require('z.other') .. ' ' .. package.loaded['z.other'] end\n" +
			"function probeOverwrite() package.loaded['z.other'] = 'changed' return package.loaded['z.other'] end\n",
	}
	for _, trusted := range []bool{false, true} {
		e, _ := newEngine(t, guarded, func(o *Options) { o.Trusted = trusted })
		probes := map[string]any{"probeA": "abtabletrue", "probeD": 42.0, "probeQuiet": true, "probeOther": "returned returned"}
		for probe, want := range probes {
			if v, err := e.CallGlobal(context.Background(), probe); err != nil || v.Any() != want {
				t.Errorf("trusted %v: %s() = %v, %v; want %v", trusted, probe, v.Any(), err, want)
			}
		}
		if _, err := e.CallGlobal(context.Background(), "probeOverwrite"); !trusted && (err == nil || !strings.Contains(err.Error(), "cannot assign package.loaded.z.other")) {
			t.Errorf("sandboxed, assigning a loaded module's package.loaded entry: %v; want it refused", err)
		}
	}
	dir := t.TempDir()
	writeScripts(t, dir, map[string]string{
		"m/a.lua": "local b = require('m.b')\nreturn {}\n",
		"m/b.lua": "local a = require('m.a')\nreturn {}\n",
	})
	if _, err := New(Options{Roots: []string{dir}, Logger: discard()}); err == nil || !strings.Contains(err.Error(), "require loop: m.a -> m.b -> m.a (set package.loaded[...] to m.a's table before it requires m.b, and the inner require gets it)") {
		t.Fatalf("New: %v", err)
	}
	// The engine runs the scripts in name order, so the module required
	// back is the one that sorts first: guarding only m.b leaves m.a's loop.
	writeScripts(t, dir, map[string]string{"m/b.lua": "local M = {}\npackage.loaded[...] = M\nlocal a = require('m.a')\nreturn M\n"})
	if _, err := New(Options{Roots: []string{dir}, Logger: discard()}); err == nil || !strings.Contains(err.Error(), "require loop: m.a -> m.b -> m.a (set package.loaded[...] to m.a's table") {
		t.Fatalf("New, with only m.b guarded: %v", err)
	}
}

// A library with module state that is in a guarded require cycle is kept
// across a reload that does not touch it, as one outside a cycle is.
func TestKeptLibraryInARequireCycle(t *testing.T) {
	for _, cycle := range []bool{false, true} {
		b := "local B = {}\nfunction B.name() return 'b' end\nreturn B\n"
		if cycle {
			b = "local a = require('lib.a')\n" + b
		}
		e, dir := newEngine(t, map[string]string{
			"lib/a.lua": "local M = {}\npackage.loaded[...] = M\nlocal b = require('lib.b')\nlocal registry = {count = 0}\n" +
				"function M.bump() registry.count = registry.count + 1 return registry.count end\nsetmetatable(M, {})\nreturn M\n",
			"lib/b.lua": b,
			"app.lua":   "function bump() return require('lib.a').bump() end\n",
		})
		bump := func() any {
			t.Helper()
			v, err := e.CallGlobal(context.Background(), "bump")
			if err != nil {
				t.Fatal(err)
			}
			return v.Any()
		}
		bump()
		reload(t, e, dir, map[string]string{"app.lua": "function bump() return require('lib.a').bump() end -- edited\n"})
		if got := bump(); got != 2.0 {
			t.Errorf("cycle %v: the library's count after an unrelated reload is %v, want 2 (its state kept)", cycle, got)
		}
	}
}
