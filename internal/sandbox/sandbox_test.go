package sandbox

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// testLimits keeps memory-heavy rows small enough not to risk the test process.
var testLimits = Limits{
	MaxStringBytes:  8 << 20,
	CallStackSize:   100,
	MaxPatternSteps: 1_000_000,
	MaxMemoryBytes:  16 << 20,
}

// run loads and calls code in L under a deadline, the way the engine does.
func run(L *lua.LState, code string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := Guard(L, ctx)
	defer done()
	fn, err := L.LoadString(code)
	if err != nil {
		return err
	}
	L.Push(fn)
	return PCall(L, 0, 0)
}

// goodSnippet must still run in a state after any bad input.
const goodSnippet = `
local t = {}
for i = 1, 100 do t[i] = ("x"):rep(i % 7) end
assert(#table.concat(t, ",") == 99 + 297)
assert(string.find("hello", "l+") == 3)
assert(("a,b"):gsub(",", ";") == "a;b")
assert(select(2, pcall(error, "e", 0)) == "e")
assert(math.max(1, 2) == 2 and type(os.time()) == "number")
`

func TestBadInputs(t *testing.T) {
	tests := []struct {
		name    string
		code    string
		want    string // substring of the error; "" means no error
		timeout time.Duration
		maxTime time.Duration // 0: no bound beyond the timeout
	}{
		{"syntax error", "x = = 1", "syntax error", 0, 0},
		{"runtime error", "local t = nil\nt.x = 1", "<string>:2: attempt to index", 0, 0},
		{"infinite loop", "while true do end", "context deadline exceeded", 100 * time.Millisecond, 0},
		{"infinite loop in coroutine", "coroutine.wrap(function() while true do end end)()", "context deadline exceeded", 100 * time.Millisecond, 0},
		{"infinite recursion", "local function f() return 1 + f() end\nf()", "stack overflow", 0, 0},
		{"infinite tail recursion", "local function f(n) return f(n + 1) end\nf(1)", "tail calls...)", 200 * time.Millisecond, 2 * time.Second},
		{"tail recursion caught by pcall", "pcall(function() local function f(n) return f(n + 1) end f(1) end)\nwhile true do end",
			"context deadline exceeded", 200 * time.Millisecond, 2 * time.Second},
		{"string.rep bomb", `string.rep("x", 1e10)`, "string.rep: result too large (max 8388608 bytes)", 0, 0},
		{"string.rep method bomb", `("xy"):rep(1e9)`, "string.rep: result too large", 0, 0},
		{"string.format bomb", `string.format(("%999999d"):rep(1000), 1)`, "string.format: result too large", 0, 0},
		{"table.concat bomb", `local t = {} for i = 1, 3 do t[i] = ("x"):rep(4e6) end table.concat(t)`, "table.concat: result too large", 0, 0},
		{"gsub result bomb", `(("x"):rep(1e5)):gsub("x+", ("%0"):rep(100))`, "string.gsub: result too large", 0, 0},
		{"concat doubling loop", `local s = "x" while true do s = s .. s end`, "sandbox: memory limit exceeded", 10 * time.Second, 0},
		{"unpack bomb", `unpack({}, 1, 1e8)`, "registry overflow", 0, 0},
		{"string.byte bomb", `string.byte(("x"):rep(1e6), 1, -1)`, "registry overflow", 0, 0},
		{"unpack bomb under pcall", `pcall(unpack, {}, 1, 1e8)`, "registry overflow", 0, 0},
		{"garbage-heavy loop is not stopped", "local n = 0\nfor i = 1, 3e5 do local s = (\"x\"):rep(100) .. i n = n + #s end", "", 0, 0},
		{"huge array index is stored in the hash part", "local t = {}\nt[6e7] = 1\nt[2^40] = 2\nassert(t[6e7] + t[2^40] == 3)", "", 0, 0},
		{"array fill loop", "local t = {}\nfor i = 1, 1e9 do t[i] = i end", "sandbox: memory limit exceeded", 10 * time.Second, 0},
		{"catastrophic pattern", `string.find(("a"):rep(1e5), ".-.-.-.-b$")`, "string.find: pattern too complex (more than 1000000 matching steps)", 0, 2 * time.Second},
		{"gfind is the capped gmatch", `for w in string.gfind(("a"):rep(1e5), ".-.-.-b") do end`, "string.gmatch: pattern too complex", 0, 2 * time.Second},
		{"pattern on a multi-MB subject", `string.match(("a"):rep(4e6), "(.-)b")`, "string.match: pattern too complex", 0, 2 * time.Second},
		{"gmatch on a multi-MB subject", `for w in (("a "):rep(2e6)):gmatch("%a+") do end`, "string.gmatch: pattern too complex", 0, 2 * time.Second},
		{"assign to the string metatable", `getmetatable("").__index = {}`, "attempt to index", 0, 0},
		{"replace the string metatable", `setmetatable("", {})`, "cannot change a protected metatable", 0, 0},
		{"reach the string table through __index", `local s = string.__index or ("").__index; s.rep = nil`, "attempt to index a non-table object(nil) with key 'rep'", 0, 0},
		{"assign to a library", `string.rep = nil`, "cannot assign string.rep: library tables are read-only", 0, 0},
		{"add to a library", `math.tau = 6.28`, "cannot assign math.tau", 0, 0},
		{"rawset into a library", `rawset(string, "rep", print)`, "rawset: library tables are read-only", 0, 0},
		{"setmetatable(_G, nil)", `setmetatable(_G, nil)`, "cannot change a protected metatable", 0, 0},
		{"dofile", `dofile("/etc/passwd")`, "attempt to call a non-function object", 0, 0},
		{"loadfile", `loadfile("/etc/passwd")`, "attempt to call a non-function object", 0, 0},
		{"getfenv", `getfenv(1)`, "attempt to call a non-function object", 0, 0},
		{"setfenv", `setfenv(1, {})`, "attempt to call a non-function object", 0, 0},
		{"module", `module("m")`, "attempt to call a non-function object", 0, 0},
		{"require", `require("os")`, "attempt to call a non-function object", 0, 0},
		{"io", `io.open("/etc/passwd")`, "attempt to index a non-table object(nil) with key 'open'", 0, 0},
		{"debug", `debug.getregistry()`, "attempt to index a non-table object(nil) with key 'getregistry'", 0, 0},
		{"os.exit", `os.exit(1)`, "attempt to call a non-function object", 0, 0},
		{"os.execute", `os.execute("true")`, "attempt to call a non-function object", 0, 0},
		{"os.getenv", `os.getenv("HOME")`, "attempt to call a non-function object", 0, 0},
		{"os.remove", `os.remove("/tmp/x")`, "attempt to call a non-function object", 0, 0},
		{"package.loadlib", `package.loadlib("x", "y")`, "attempt to index a non-table object(nil) with key 'loadlib'", 0, 0},
		{"collectgarbage collect", `collectgarbage()`, `collectgarbage: option "collect" is not allowed`, 0, 0},
		{"load of bytecode", "assert(load(\"\\27LuaQ\\0\\1\"))", "sandbox: binary chunks are not allowed", 0, 0},
		{"loadstring of bytecode", "assert(loadstring(\"\\27Lua\"))", "sandbox: binary chunks are not allowed", 0, 0},
		{"load of source sees the globals", `assert(load("return string.rep('a', 2)")() == "aa") error("ok")`, "ok", 0, 0},
		{"load of deeply nested source", `assert(load(("return " .. ("not "):rep(1000) .. "1")))`, "sandbox: source nests too deeply (more than 200 levels) at line 1", 0, 0},
		{"load of a long concatenation", `assert(load("return 'a'" .. ("..'a'"):rep(3e5)))`, "sandbox: source too large (1500010 bytes, max 1048576)", 0, 0},
		{"panic in a Go function", `gopanic()`, "kaboom", 0, 0},
	}
	L := NewState(Config{Limits: testLimits})
	defer L.Close()
	L.SetGlobal("gopanic", L.NewFunction(func(*lua.LState) int { panic("kaboom") }))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			start := time.Now()
			err := run(L, tt.code, timeout)
			elapsed := time.Since(start)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.want != "" && err == nil:
				t.Errorf("no error, want %q", tt.want)
			case err != nil && !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if tt.maxTime > 0 && elapsed > tt.maxTime {
				t.Errorf("took %v, want at most %v", elapsed, tt.maxTime)
			}
			if err != nil && len(err.Error()) > 4096 {
				t.Errorf("error is %d bytes long, want a bounded traceback", len(err.Error()))
			}
			if L.GetTop() != 0 {
				t.Errorf("stack top %d after the call, want 0", L.GetTop())
			}
			if err := run(L, goodSnippet, 5*time.Second); err != nil {
				t.Errorf("good snippet after the bad input: %v", err)
			}
		})
	}
}

func TestGlobalsAreTheAllowList(t *testing.T) {
	L := NewState(Config{})
	defer L.Close()
	var got []string
	L.G.Global.ForEach(func(k, _ lua.LValue) { got = append(got, k.String()) })
	slices.Sort(got)
	want := []string{"_G", "_GOPHER_LUA_VERSION", "_VERSION", "assert", "collectgarbage", "coroutine", "error",
		"getmetatable", "ipairs", "load", "loadstring", "math", "next", "os", "pairs", "pcall", "print",
		"rawequal", "rawget", "rawset", "select", "setmetatable", "string", "table", "tonumber", "tostring",
		"type", "unpack", "xpcall"}
	if !slices.Equal(got, want) {
		t.Errorf("globals %v\nwant %v", got, want)
	}
}

func TestCheckSource(t *testing.T) {
	deep := strings.Repeat("(", 201)
	tests := []struct {
		src, want string // want "" means accepted
	}{
		{"local s = '" + deep + "' --[==[ " + deep + " ]==]\n-- " + deep + "\nreturn [[" + deep + "]], \"" + deep + "\"", ""},
		{"if a then elseif b then else end " + strings.Repeat("do ", 150) + strings.Repeat("end ", 150), ""},
		{"return 1 - -1 - - -1 + #t", ""},
		{"x = " + deep, "sandbox: source nests too deeply (more than 200 levels) at line 1"},
		{"\n\nx = " + strings.Repeat("- ", 201) + "1", "at line 3"},
		{strings.Repeat("function f() ", 201), "nests too deeply"},
		{"\x1bLuaQ", "sandbox: binary chunks are not allowed"},
		{"x = '\xff'", "sandbox: source is not valid UTF-8"},
		{strings.Repeat("x", 1<<20+1), "sandbox: source too large (1048577 bytes, max 1048576)"},
	}
	for _, tt := range tests {
		err := CheckSource([]byte(tt.src), Limits{})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckSource(%.40q) = %v, want nil", tt.src, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("CheckSource(%.40q) = %v, want %q", tt.src, err, tt.want)
		}
	}
}

func TestPCallBoundsTraceback(t *testing.T) {
	L := NewState(Config{Limits: Limits{MaxTracebackLines: 6}})
	defer L.Close()
	err := run(L, "local function f(n) if n == 0 then error('deep') end return 1 + f(n - 1) end\nf(50)", 5*time.Second)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if lines[0] != "<string>:1: deep" || lines[1] != "stack traceback:" || len(lines) != 2+6 {
		t.Errorf("error:\n%v\nwant the message, a header and 6 frame lines", err)
	}
	if !strings.Contains(err.Error(), "lines skipped)") {
		t.Errorf("error:\n%v\nwant a skipped-lines marker", err)
	}
}

func TestCoroutineCreatedBeforeTheDeadline(t *testing.T) {
	L := NewState(Config{Limits: testLimits})
	defer L.Close()
	if err := L.DoString("co = coroutine.create(function() coroutine.yield() while true do end end) coroutine.resume(co)"); err != nil {
		t.Fatal(err)
	}
	err := run(L, "local ok, err = coroutine.resume(co) error(err, 0)", 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("error %v, want the deadline", err)
	}
}

func TestGuardWithoutDeadlineLeavesNoContext(t *testing.T) {
	L := NewState(Config{})
	defer L.Close()
	done := Guard(L, context.Background())
	if L.Context() != nil {
		t.Error("Guard(Background) installed a context")
	}
	done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done = Guard(L, ctx)
	if L.Context() == nil {
		t.Error("Guard(cancellable) installed no context")
	}
	done()
	if L.Context() != nil {
		t.Error("done left a context")
	}
}

func TestTrustedHasAllLibraries(t *testing.T) {
	L := NewState(Config{Trusted: true, Limits: testLimits})
	defer L.Close()
	for _, code := range []string{
		`assert(io.open and os.getenv and os.remove and debug.traceback and package.loadlib and require and dofile)`,
		`string.myext = 1 assert(string.myext == 1)`,
		`assert(os.exit == nil)`,
	} {
		if err := run(L, code, 5*time.Second); err != nil {
			t.Errorf("%s: %v", code, err)
		}
	}
	err := run(L, `string.rep("x", 1e10)`, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "string.rep: result too large") {
		t.Errorf("trusted string.rep bomb: error %v, want it capped", err)
	}
}

func TestStringFunctionsKeepLuaSemantics(t *testing.T) {
	L := NewState(Config{})
	defer L.Close()
	code := `
local function eq(a, b) if a ~= b then error(tostring(a) .. " ~= " .. tostring(b), 2) end end
eq(select("#", string.find("abc", "b")), 2)
local s, e, c = string.find("key=val", "(%w+)=")
eq(s, 1) eq(e, 4) eq(c, "key")
eq(string.find("a.b", ".", 1, true), 2)
eq(string.find("abc", "x"), nil)
eq(string.find("abc", "", 10), nil)
eq(string.match("  trim  ", "^%s*(.-)%s*$"), "trim")
local k, v = string.match("k=v", "(%w)=(%w)")
eq(k .. v, "kv")
eq(string.match("abc", "()b"), 2)
local words = {}
for w in string.gmatch("one two three", "%a+") do words[#words + 1] = w end
eq(table.concat(words, ","), "one,two,three")
for a, b in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do words[a] = b end
eq(words.a .. words.b, "12")
eq((string.gsub("hello world", "o", "0")), "hell0 w0rld")
eq(select(2, string.gsub("hello world", "o", "0")), 2)
eq((string.gsub("hello world", "(%w+)", "<%1>")), "<hello> <world>")
eq((string.gsub("abc", "%w", "%0%0")), "aabbcc")
eq((string.gsub("abc", "", "-")), "-a-b-c-")
eq((string.gsub("$x $y", "%$(%w+)", {x = "1"})), "1 $y")
eq((string.gsub("a b", "%w", function(w) return w:upper() end)), "A B")
eq((string.gsub("abc", "%w", "x", 2)), "xxc")
eq(string.format("%5.2f|%s|%d", 3.14159, "s", 7), " 3.14|s|7")
eq(table.concat({1, 2, 3}, "-"), "1-2-3")
eq(table.concat({1, 2, 3}, "-", 2), "2-3")
eq(("x"):rep(3), "xxx")
eq(("x"):rep(0), "")
local t = {}
for i, v in ipairs({"a", "b"}) do t[#t + 1] = i .. v end
eq(table.concat(t), "1a2b")
`
	if err := run(L, code, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkContext compares the VM with and without the per-instruction
// context check that Guard installs when the context has a deadline.
func BenchmarkContext(b *testing.B) {
	const code = `
local function add(a, b) return a + b end
local s = 0
for i = 1, 100000 do s = add(s, i) end
return s`
	for _, guarded := range []bool{false, true} {
		name := "none"
		if guarded {
			name = "deadline"
		}
		b.Run(name, func(b *testing.B) {
			L := NewState(Config{})
			defer L.Close()
			fn, err := L.LoadString(code)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if guarded {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Hour)
				defer cancel()
			}
			for b.Loop() {
				done := Guard(L, ctx)
				L.Push(fn)
				if err := L.PCall(0, 0, nil); err != nil {
					b.Fatal(err)
				}
				done()
			}
		})
	}
}

// BenchmarkCallOverhead measures what a guarded sandboxed call of a trivial
// function costs compared with a bare L.PCall.
func BenchmarkCallOverhead(b *testing.B) {
	L := NewState(Config{})
	defer L.Close()
	if err := L.DoString("function noop() end"); err != nil {
		b.Fatal(err)
	}
	fn := L.GetGlobal("noop")
	b.Run("L.PCall", func(b *testing.B) {
		for b.Loop() {
			L.Push(fn)
			if err := L.PCall(0, 0, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PCall", func(b *testing.B) {
		for b.Loop() {
			L.Push(fn)
			if err := PCall(L, 0, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Guard+PCall", func(b *testing.B) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		for b.Loop() {
			done := Guard(L, ctx)
			L.Push(fn)
			if err := PCall(L, 0, 0); err != nil {
				b.Fatal(err)
			}
			done()
		}
	})
}
