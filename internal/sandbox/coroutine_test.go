package sandbox

import (
	"testing"
	"time"
)

// yieldAcross are coroutine bodies that yield inside a call Go code makes,
// each returning "done" if it runs to its end.
var yieldAcross = map[string]string{
	"pcall":         `return select(2, pcall(function() coroutine.yield("p") end))`,
	"xpcall":        `return select(2, xpcall(function() coroutine.yield("p") end, function(e) return e end))`,
	"table.sort":    `local t = {3, 2, 1} table.sort(t, function(a, b) coroutine.yield("s") return a < b end) return "done"`,
	"string.gsub":   `return (("abc"):gsub(".", function(c) coroutine.yield("g") return c end))`,
	"load reader":   `local n = 0 return load(function() n = n + 1 coroutine.yield("l") if n == 1 then return "return 1" end end)`,
	"tostring":      `return tostring(setmetatable({}, {__tostring = function() coroutine.yield("t") return "x" end}))`,
	"__index":       `local o = setmetatable({}, {__index = function(t, k) coroutine.yield("i") return 5 end}) return o.x`,
	"__newindex":    `local o = setmetatable({}, {__newindex = function(t, k, v) coroutine.yield("n") end}) o.x = 1 return "done"`,
	"__add":         `local o = setmetatable({}, {__add = function(a, b) coroutine.yield("a") return 5 end}) return o + 1`,
	"__concat":      `local o = setmetatable({}, {__concat = function(a, b) coroutine.yield("c") return "5" end}) return o .. "x"`,
	"__eq":          `local mt = {__eq = function(a, b) coroutine.yield("e") return true end} return setmetatable({}, mt) == setmetatable({}, mt)`,
	"__lt":          `local mt = {__lt = function(a, b) coroutine.yield("lt") return true end} return setmetatable({}, mt) < setmetatable({}, mt)`,
	"__le":          `local mt = {__le = function(a, b) coroutine.yield("le") return true end} return setmetatable({}, mt) <= setmetatable({}, mt)`,
	"for iterator":  `for i in function(_, i) coroutine.yield("it") end do end return "done"`,
	"nested in Lua": `local function f() coroutine.yield("f") end return select(2, pcall(function() f() end))`,
}

const yieldRefused = "attempt to yield across metamethod/C-call boundary"

// TestYieldAcrossGoIsRefused checks that each body gets a catchable error
// at its yield and its coroutine ends cleanly, with and without a deadline
// (gopher-lua runs a different VM loop with a context).
func TestYieldAcrossGoIsRefused(t *testing.T) {
	for name, body := range yieldAcross {
		t.Run(name, func(t *testing.T) {
			code := `local co = coroutine.create(function() ` + body + ` end)
local ok, v = coroutine.resume(co)
assert(coroutine.status(co) == "dead", "status " .. coroutine.status(co) .. ", first result " .. tostring(v))
assert(type(v) == "string" and v:find("` + yieldRefused + `", 1, true), tostring(v))
local ok2, v2 = coroutine.resume(co)
assert(not ok2 and v2 == "can not resume a dead thread", tostring(v2))`
			for _, deadline := range []bool{true, false} {
				L := NewState(Config{Limits: testLimits})
				var err error
				if deadline {
					err = run(L, code, 5*time.Second)
				} else {
					err = L.DoString(code)
				}
				if err != nil {
					t.Errorf("deadline %v: %v", deadline, err)
				}
				L.Close()
			}
		})
	}
}

// TestPlainYieldsWork checks yields that cross no Go call, among them a
// body that ends by tail-calling the yield (`return coroutine.yield(x)`,
// which plain gopher-lua breaks), with and without a deadline.
func TestPlainYieldsWork(t *testing.T) {
	code := `local function inner(x) local y = coroutine.yield("inner", x) return y * 2 end
local co = coroutine.create(function(a, b)
  local c = coroutine.yield(a + b)
  local d = inner(c)
  local o = setmetatable({}, {__call = function(self, v) return coroutine.yield("call", v) end})
  local e = o(d)
  return "end", e
end)
local r = {}
for _, arg in ipairs({{1, 2}, {10}, {5}, {7}}) do
  local res = {coroutine.resume(co, unpack(arg))}
  r[#r + 1] = table.concat(res, ",", 2) .. "/" .. tostring(res[1])
end
local got = table.concat(r, " ")
assert(got == "3/true inner,10/true call,10/true end,7/true", got)
local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
assert(gen() + gen() + gen() == 6)
local ok, err = pcall(coroutine.yield, 1)
assert(not ok and err:find("can not yield from outside of a coroutine"), err)
local tail = coroutine.create(function(a) return coroutine.yield(a + 1) end)
local ok1, v1 = coroutine.resume(tail, 1)
local ok2, v2 = coroutine.resume(tail, "back")
assert(ok1 and v1 == 2 and ok2 and v2 == "back" and coroutine.status(tail) == "dead", tostring(v1) .. " " .. tostring(v2))
local gen2 = coroutine.wrap(function() coroutine.yield(1) return coroutine.yield(2) end)
assert(gen2() == 1 and gen2() == 2 and gen2("x") == "x")
assert(coroutine.wrap(math.max)(1, 5, 2) == 5, "wrap of a Go function")
local okm, m1, m2 = coroutine.resume(coroutine.create(string.byte), "AB", 1, 2)
assert(okm == true and m1 == 65 and m2 == 66, "resume of a Go function: " .. tostring(okm) .. " " .. tostring(m1) .. " " .. tostring(m2))
local oke, e = coroutine.resume(coroutine.create(error), "boom", 0)
assert(oke == false and e == "boom", "a Go body's error: " .. tostring(e))
local gy = coroutine.wrap(coroutine.yield)
assert(gy("y") == "y" and gy("z") == "z", "yield as the body")`
	L := NewState(Config{Limits: testLimits})
	defer L.Close()
	if err := run(L, code, 5*time.Second); err != nil {
		t.Error(err)
	}
	if err := L.DoString(code); err != nil {
		t.Errorf("without a deadline: %v", err)
	}
}

// TestWrappedErrorEndsCoroutine checks that a coroutine.wrap function
// whose body fails is dead, and that its caller is the running thread
// again: gopher-lua left the failed coroutine the running thread and not
// dead, so a later call ran its failed frames again and the caller could
// resume itself (a Go "index out of range").
func TestWrappedErrorEndsCoroutine(t *testing.T) {
	code := `local A
A = coroutine.create(function()
  local f = coroutine.wrap(function() coroutine.yield(1) error("boom", 0) end)
  assert(f() == 1)
  local ok, e = pcall(f)
  assert(not ok and e == "boom", tostring(e))
  assert(coroutine.running() == A and coroutine.status(A) == "running", "A is not the running thread")
  local ok2, e2 = coroutine.resume(A)
  assert(not ok2 and e2 == "can not resume a running thread", tostring(e2))
  coroutine.wrap(function() coroutine.yield() end)()
  local ok3, e3 = pcall(f)
  assert(not ok3 and e3:find("can not resume a dead thread", 1, true), tostring(e3))
  return "end"
end)
local ok, v = coroutine.resume(A)
assert(ok and v == "end", tostring(v))`
	for _, deadline := range []bool{true, false} {
		L := NewState(Config{Limits: testLimits})
		var err error
		if deadline {
			err = run(L, code, 5*time.Second)
		} else {
			err = L.DoString(code)
		}
		if err != nil {
			t.Errorf("deadline %v: %v", deadline, err)
		}
		L.Close()
	}
}

// TestCoroutineOfAnotherState checks that a coroutine made by one state
// resumes again and again from another (the engine's coroutines kept across
// a reload): gopher-lua's yield reset the running thread of the state that
// made the coroutine, not the resumer's, which then said "can not resume a
// running thread" for good.
func TestCoroutineOfAnotherState(t *testing.T) {
	maker := NewState(Config{Limits: testLimits})
	defer maker.Close()
	if err := maker.DoString(`co = coroutine.create(function() for i = 1, 3 do coroutine.yield(i, coroutine.running() == co) end end)`); err != nil {
		t.Fatal(err)
	}
	L := NewState(Config{Limits: testLimits})
	defer L.Close()
	L.SetGlobal("co", maker.GetGlobal("co"))
	code := `for i = 1, 3 do
  local ok, v, self = coroutine.resume(co)
  assert(ok and v == i and self, "resume " .. i .. ": " .. tostring(v) .. " " .. tostring(self))
  assert(coroutine.status(co) == "suspended", coroutine.status(co))
end
assert(coroutine.running() == nil)`
	if err := run(L, code, 5*time.Second); err != nil {
		t.Error(err)
	}
}

// TestResumingARunningChainIsRefused resumes a coroutine that is resuming
// another (Lua's "normal" status), which gopher-lua allows: each such
// resume nested the Go stack once more, until Go's fatal stack overflow
// ended the process. And it nests resumes deeper than Lua's 200 nested C
// calls, which gopher-lua does not bound (the unwinding of a failed chain
// of wrapped coroutines took seconds past any deadline). Both are refused
// with Lua's errors, by resume and by a wrapped coroutine's function.
func TestResumingARunningChainIsRefused(t *testing.T) {
	for name, code := range map[string]string{
		"resume a resumer": `local a
a = coroutine.create(function()
  local b = coroutine.create(function() return coroutine.resume(a) end)
  return coroutine.resume(b)
end)
local ok, okB, okA, msg = coroutine.resume(a)
assert(ok and okB and not okA and msg == "cannot resume non-suspended coroutine", tostring(msg))
assert(coroutine.status(a) == "dead")`,
		"status of a chain": `local a, b
a = coroutine.create(function()
  b = coroutine.create(function()
    local c = coroutine.create(function() return coroutine.status(a), coroutine.status(b) end)
    return select(2, coroutine.resume(c))
  end)
  return select(2, coroutine.resume(b))
end)
local ok, sa, sb = coroutine.resume(a)
assert(ok and sa == "normal" and sb == "normal", tostring(sa) .. " " .. tostring(sb))`,
		"call a wrapped resumer": `local a
a = coroutine.wrap(function()
  local b = coroutine.wrap(function() return a() end)
  return b()
end)
local ok, msg = pcall(a)
assert(not ok and msg:find("cannot resume non-suspended coroutine", 1, true), tostring(msg))`,
		"wraps nested too deep": `local depth = 0
local function f() depth = depth + 1 return coroutine.wrap(f)() end
local ok, msg = pcall(f)
assert(not ok and msg:find("C stack overflow", 1, true), tostring(msg))
assert(depth == 201, depth)`,
		"resumes nested too deep": `local depth = 0
local function g()
  depth = depth + 1
  local ok, msg = coroutine.resume(coroutine.create(g))
  if not ok then error(msg, 0) end
  return msg
end
local ok, msg = pcall(g)
assert(not ok and msg:find("C stack overflow", 1, true), tostring(msg))
assert(depth == 201, depth)`,
	} {
		t.Run(name, func(t *testing.T) {
			L := NewState(Config{Limits: testLimits})
			defer L.Close()
			if err := run(L, code, 30*time.Second); err != nil {
				t.Error(err)
			}
		})
	}
}
