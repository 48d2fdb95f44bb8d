package sandbox

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// trimCorpus are scripts whose results, errors and tracebacks depend on
// every part of a prototype TrimProto copies: code, constants, nested
// functions, the line of each instruction, local, upvalue and call names.
var trimCorpus = map[string]string{
	"values.lua": `
local t = {}
for i = 1, 10 do t[i] = i * i end
local function sum(xs) local s = 0 for _, x in ipairs(xs) do s = s + x end return s end
local up = 7
local function closure() up = up + 1 return up end
closure()
return sum(t), closure(), string.format("%d-%s", #t, "k"), select("#", 1, nil, 3)`,
	"index_nil.lua": `
local Unit = {}
Unit.__index = Unit
function Unit:update(dt)
  local target = self.target
  return target.x + dt
end
return setmetatable({}, Unit):update(0.5)`,
	"call_nil.lua": `
local helpers = {}
local function run()
  return helpers.missing(1)
end
local function outer() return (run()) end
return outer()`,
	"error_levels.lua": `
local function check(v)
  if type(v) ~= "number" then error("want a number, got " .. type(v), 2) end
  return v
end
local function caller() return check("x") end
return caller()`,
	"arith_upvalue.lua": `
local limit
local function grow(n)
  return n + limit
end
return grow(3)`,
	"tail_calls.lua": `
local function down(n) if n == 0 then error("bottom") end return down(n - 1) end
return down(5)`,
	"debug_info.lua": `
local function where()
  local info = debug.getinfo(2, "Sln")
  local name, value = debug.getlocal(2, 1)
  return tostring(info.short_src) .. ":" .. tostring(info.currentline) .. ":" .. tostring(info.name) .. ":" .. tostring(name) .. "=" .. tostring(value)
end
local function named(first)
  local up = first
  local function f() return up end
  return where(), debug.getupvalue(f, 1), debug.traceback("here")
end
return named(42)`,
	"vararg.lua": `
arg = "the global"
local function old(...) return arg.n, arg[1], arg[3] end
local function mixed(a, ...) return a, arg.n, arg[2] end
local function modern(...) return select("#", ...), ... end
local function plain() return type(arg) end
local function show(...)
  local t = {}
  for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
  return table.concat(t, ",")
end
return arg, show(old(1, nil, 3)), show(mixed("a", "b", "c")), show(modern("x", nil)), plain(), select("#", ...)`,
	"pcall_error.lua": `
local ok, err = pcall(function() local x = nil; return x.y end)
local ok2, err2 = pcall(error, {code = 3})
return ok, err, ok2, type(err2), err2.code`,
}

// TestTrimmedProtosBehaveTheSame runs every script of the corpus, of the
// demo and of the fuzz seeds from a trimmed and from an untrimmed prototype
// of the same compile, each in a fresh state, and requires the same
// results, the same error messages with their lines, and the same
// tracebacks. It also requires the trimmed prototypes to hold no spare
// capacity and the chunk to build no arg table, which is what trimming is
// for.
func TestTrimmedProtosBehaveTheSame(t *testing.T) {
	corpus := map[string]string{}
	for name, src := range trimCorpus {
		corpus[name] = src
	}
	demo, _ := filepath.Glob("../../scripts/units/*.lua")
	for _, p := range demo {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		corpus["units/"+filepath.Base(p)] = string(data)
	}
	errorsSeen := 0
	for name, src := range corpus {
		untrimmed, trimmed := compileUntrimmed(t, name, src), compileUntrimmed(t, name, src)
		TrimProto(trimmed)
		assertExact(t, name, trimmed)
		assertArgTables(t, name, untrimmed, trimmed)
		want, wantErr := runProto(untrimmed)
		got, gotErr := runProto(trimmed)
		if testing.Verbose() {
			t.Logf("%s:\n%s%s", name, want, wantErr)
		}
		if got != want || gotErr != wantErr {
			t.Errorf("%s: trimmed prototype gave\n%s%s\nuntrimmed\n%s%s", name, got, gotErr, want, wantErr)
		}
		if wantErr != "" {
			errorsSeen++
			if !strings.Contains(wantErr, name+":") {
				t.Errorf("%s: the error names no line of the script: %s", name, wantErr)
			}
		}
	}
	if errorsSeen < 5 {
		t.Errorf("only %d scripts of the corpus failed; the corpus must exercise error lines and tracebacks", errorsSeen)
	}
}

// compileUntrimmed compiles src as gopher-lua does, without TrimProto.
func compileUntrimmed(t *testing.T, name, src string) *lua.FunctionProto {
	t.Helper()
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return proto
}

// runProto runs proto as a chunk in a fresh trusted sandbox state (so that
// the debug library is there) and returns its results, one per line, or
// the error with its traceback.
func runProto(proto *lua.FunctionProto) (results, errText string) {
	L := NewState(Config{Trusted: true})
	defer L.Close()
	L.SetGlobal("require", L.NewFunction(func(L *lua.LState) int { L.Push(L.NewTable()); return 1 }))
	// A stand-in for the engine's hot module, enough for the demo's classes.
	if err := L.DoString(`hot = {class = function(name, base)
		local c = {}
		c.__index = c
		c.new = function(...) local o = setmetatable({}, c) if o.init then o:init(...) end return o end
		return setmetatable(c, {__index = base})
	end}`); err != nil {
		return "", err.Error()
	}
	L.Push(L.NewFunctionFromProto(proto))
	if err := PCall(L, 0, lua.MultRet); err != nil {
		return "", err.Error()
	}
	var b bytes.Buffer
	for i := 1; i <= L.GetTop(); i++ {
		v := L.Get(i)
		switch v.Type() {
		case lua.LTTable, lua.LTFunction, lua.LTUserData, lua.LTThread:
			b.WriteString(v.Type().String()) // not its address
		default:
			b.WriteString(v.String())
		}
		b.WriteByte('\n')
	}
	return b.String(), ""
}

// assertExact fails unless every slice of p and its nested functions has
// no spare capacity.
func assertExact(t *testing.T, name string, p *lua.FunctionProto) {
	t.Helper()
	caps := map[string][2]int{
		"Code":               {len(p.Code), cap(p.Code)},
		"Constants":          {len(p.Constants), cap(p.Constants)},
		"FunctionPrototypes": {len(p.FunctionPrototypes), cap(p.FunctionPrototypes)},
		"DbgSourcePositions": {len(p.DbgSourcePositions), cap(p.DbgSourcePositions)},
		"DbgLocals":          {len(p.DbgLocals), cap(p.DbgLocals)},
		"DbgCalls":           {len(p.DbgCalls), cap(p.DbgCalls)},
		"DbgUpvalues":        {len(p.DbgUpvalues), cap(p.DbgUpvalues)},
	}
	for field, lc := range caps {
		if lc[0] != lc[1] {
			t.Errorf("%s: %s has length %d, capacity %d after trimming", name, field, lc[0], lc[1])
		}
	}
	for _, child := range p.FunctionPrototypes {
		assertExact(t, name, child)
	}
}

// assertArgTables requires the trimmed chunk to ask for no arg table, and
// every function nested in it to ask for one exactly when the untrimmed
// function does: old-style vararg functions still see their arg.
func assertArgTables(t *testing.T, name string, untrimmed, trimmed *lua.FunctionProto) {
	t.Helper()
	if trimmed.IsVarArg&lua.VarArgNeedsArg != 0 {
		t.Errorf("%s: the trimmed chunk still builds an arg table", name)
	}
	assertNestedVarArgsKept(t, name, untrimmed, trimmed)
}

// assertNestedVarArgsKept requires the functions nested in trimmed to have
// the vararg flags of those nested in untrimmed, at every depth.
func assertNestedVarArgsKept(t *testing.T, name string, untrimmed, trimmed *lua.FunctionProto) {
	t.Helper()
	for i, child := range trimmed.FunctionPrototypes {
		want := untrimmed.FunctionPrototypes[i]
		if child.IsVarArg != want.IsVarArg {
			t.Errorf("%s: function at line %d has vararg flags %#x after trimming, %#x before", name, want.LineDefined, child.IsVarArg, want.IsVarArg)
		}
		assertNestedVarArgsKept(t, name, want, child)
	}
}
