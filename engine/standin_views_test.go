package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// churnScript's churn writes every table of the persisted s (fields
// added, removed, changed) and iterates it, for calls in a loop beside a
// load; %s is the load's top level, which may set check, a function whose
// result the test wants true after the commit.
const churnScript = `
local s = hot.persist("s", function()
  local t = {n = 0, list = {1, 2, 3}, sub = {x = 1, deep = {y = 1}}, name = "a"}
  t.self = t
  return t
end)
local alias = hot.persist("alias", s)
local P = {}
P.__index = P
function P:churn()
  s.n = s.n + 1
  s.list[#s.list + 1] = s.n
  if #s.list > 40 then for i = #s.list, 4, -1 do s.list[i] = nil end end
  s.sub.x = s.sub.x + 1
  s.sub["k" .. (s.n % 40)] = s.n
  s.sub.deep.y = s.n
  s.self.name = "n" .. s.n
  for _ in pairs(s) do end
  for _ in pairs(s.sub) do end
  return s.n
end
%s
function P:check() return check == nil or check() end
return P
`

// TestLoadBesideCallsKeepsToItsViews: a top level that reaches into
// persisted tables of plain data in every way a script can (iteration and
// what pairs, ipairs and rawset return, the table library and its
// comparators, coroutines, error values, stand-ins as keys, stored into
// views and read back, one table under two keys and inside itself,
// metatables of its own over stand-ins) loads while calls write those
// tables in a loop: under -race a read or write of theirs by the loading
// goroutine is reported. After the commit, what the load kept is the
// persisted tables themselves.
func TestLoadBesideCallsKeepsToItsViews(t *testing.T) {
	rows := []struct{ name, top string }{
		{"what pairs, ipairs and rawset return", `
local _, v = pairs(s)
mine = {v = v, r = rawset(s, "z", 1), i = select(2, ipairs(s.list))}
for k in pairs(v) do assert(k ~= nil) end
check = function() return rawequal(mine.v, s) and rawequal(mine.r, s) and rawequal(mine.i, s.list) and mine.r.z == 1 end`},
		{"iteration and the table library", `
for _, v in pairs(s) do if type(v) == "table" then for _ in pairs(v) do end end end
for _ in ipairs(s.list) do end
local copy = {unpack(s.list)}
table.sort(s.list, function(a, b) return a > b end)
assert(table.concat(s.list, ",") ~= "")
table.insert(s.list, 1, "first")
assert(table.remove(s.list, 1) == "first")
s.recs = {{v = 3}, {v = 1}, {v = 2}}
table.sort(s.recs, function(a, b) return a.v < b.v end)
check = function() return s.recs[1].v == 1 and s.list[1] ~= "first" end`},
		{"coroutines and error values", `
local co = coroutine.wrap(function() for k in pairs(s.sub) do coroutine.yield(k) end end)
co() co()
local _, e1 = pcall(error, s.sub)
local _, e2 = xpcall(function() error(s.sub.deep) end, function(m) return m end)
errs = {e1, e2, tostring(s) .. string.format("%s", s.sub)}
check = function() return rawequal(errs[1], s.sub) and rawequal(errs[2], s.sub.deep) end`},
		{"stand-ins as keys and values", `
own = {}
own[s.sub] = 1
s.sub[s.list] = 2
s.a = s.sub
s.sub.b = s
assert(own[s.sub] == 1 and s.sub[s.list] == 2 and rawget(s.sub, s.list) == 2)
assert(s.a.x and s.sub.b.n and rawget(s, "a").deep.y)
check = function() return own[s.sub] == 1 and rawget(s.sub, s.list) == 2 and rawequal(s.a, s.sub) and rawequal(s.sub.b, s) end`},
		{"one table under two keys and in itself", `
alias.viaAlias = true
assert(s.viaAlias and s.self.viaAlias and rawequal(s, alias) and s == alias and rawequal(s.self, s))
check = function() return s.viaAlias == true and rawequal(alias, s) end`},
		{"a metatable of the load's own over a stand-in", `
local o = setmetatable({}, {__index = s.sub, __newindex = s.sub})
o.fresh = o.x
check = function() return s.sub.fresh ~= nil end`},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			e, dir := newEngine(t, map[string]string{"p.lua": strings.Replace(churnScript, "%s", "", 1)})
			p, err := e.New(context.Background(), "p")
			if err != nil {
				t.Fatal(err)
			}
			stop := callInLoop(t, p, "churn")
			for i := range 3 { // the first commit changes the tables the next loads copy
				reload(t, e, dir, map[string]string{"p.lua": strings.Replace(churnScript, "%s", fmt.Sprintf("%s\n-- %d", row.top, i), 1)})
			}
			stop()
			if got := call(t, p, "check"); got != true {
				t.Errorf("after the commit the load's tables hold views or stand-ins, not the persisted tables")
			}
		})
	}
}

// TestLoadHoldingTheLockSeesOneVersionOfEachField: once a load holds the
// engine's lock (it reached a persisted object), it may reach a table of
// plain data both through its stand-in and directly (through the
// object): both see every write, the last one is what the commit keeps,
// and the stand-in it was given stays one value.
func TestLoadHoldingTheLockSeesOneVersionOfEachField(t *testing.T) {
	const script = `
local s = hot.persist("s", {sub = {x = 1}})
local w = hot.persist("w", function() return setmetatable({}, {}) end)
local P = {}
P.__index = P
function P:x() return s.sub.x end
%s
return P
`
	e, dir := newEngine(t, map[string]string{"p.lua": strings.Replace(script, "%s", "w.ref = s.sub", 1)})
	p, err := e.New(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	reload(t, e, dir, map[string]string{"p.lua": strings.Replace(script, "%s", `
local sub = s.sub
s.sub.x = 5
assert(w.ref.x == 5, "through the object the load sees x = " .. tostring(w.ref.x) .. ", not its 5")
w.ref.x = 7
assert(s.sub.x == 7, "through the stand-in the load sees x = " .. tostring(s.sub.x) .. ", not its 7")
assert(s.sub == sub, "the stand-in of s.sub changed once the load held the lock")`, 1)})
	if got := call(t, p, "x"); got != float64(7) {
		t.Errorf("after the commit x = %v, want 7, the load's last write", got)
	}
}

// TestCommitKeepsWhatCallsDidWhileTheLoadRan: a field holding NaN that the
// load did not change keeps what a call wrote meanwhile; a key the load
// made with hot.persist is one value for the rest of the load, though a
// call makes it meanwhile; a failed load that wrote NaN where a number was
// leaves the number.
func TestCommitKeepsWhatCallsDidWhileTheLoadRan(t *testing.T) {
	const script = `
local s = hot.persist("s", {v = 0/0, n = 1})
local w = hot.persist("w", function() return setmetatable({}, {}) end)
local P = {}
P.__index = P
function P:setv() s.v = 5 end
function P:v() return s.v end
function P:make() return hot.persist("new", {from = "call"}).from end
%s
return P
`
	g, reg := newGate(t)
	e, dir := newEngine(t, map[string]string{"p.lua": strings.Replace(script, "%s", "", 1)}, func(o *Options) { o.Bindings = reg })
	p, err := e.New(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	writeScripts(t, dir, map[string]string{"p.lua": strings.Replace(script, "%s", `
assert(s.n == 1)
mine = hot.persist("new", {from = "load"})
entered()
while not released() do end
theirs = hot.persist("new")
function P:same() return mine == theirs and mine == hot.persist("new") and mine.from == "load" end`, 1)})
	done := startReload(e)
	g.waitIn(t)
	call(t, p, "setv")
	call(t, p, "make")
	g.released.Store(true)
	awaitReload(t, done)
	if got := call(t, p, "v"); got != float64(5) {
		t.Errorf("after the commit v = %v, want the call's 5: the load wrote back the NaN it did not change", got)
	}
	if got := call(t, p, "same"); got != true {
		t.Errorf("hot.persist of a key the load made gave it another value after a call made the key")
	}

	writeScripts(t, dir, map[string]string{"p.lua": strings.Replace(script, "%s", `
assert(w.locks == nil)
s.v = 0/0
error("broken")`, 1)})
	if _, err := e.Reload(context.Background()); err == nil {
		t.Fatal("a reload whose top level fails succeeded")
	}
	if got := call(t, p, "v"); got != float64(5) {
		t.Errorf("after a failed reload v = %v, want 5", got)
	}
}

// TestLoadOverManyPersistedTablesReachesThemDirectly: a top level that
// walks more persisted tables than a load copies (a chain of 80k, under a
// 64 MiB memory bound that 80k views would exceed) loads, holding calls
// from the bound on, as it did before loads worked on copies, and the
// report says why; its change is in the tables after the commit.
func TestLoadOverManyPersistedTablesReachesThemDirectly(t *testing.T) {
	const script = `
local s = hot.persist("s", {})
local C = {}
C.__index = C
function C.fill(n) local t = s for i = 1, n do t.next = {i = i} t = t.next end end
function C:depth() local n, t = 0, s while t.next do n = n + 1 t = t.next end return n end
%s
return C
`
	e, dir := newEngine(t, map[string]string{"c.lua": strings.Replace(script, "%s", "", 1)}, func(o *Options) { o.Limits.MaxMemoryBytes = 64 << 20 })
	if err := e.Do(context.Background(), func(L *lua.LState) error { return L.DoString(`require("c").fill(80000)`) }); err != nil {
		t.Fatal(err)
	}
	obj, err := e.New(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	r := reload(t, e, dir, map[string]string{"c.lua": strings.Replace(script, "%s", `
local t = s
while t.next do t = t.next end
t.next = {i = -1}`, 1)})
	if want := fmt.Sprintf("past the %d tables a load copies", maxStandIns); !strings.Contains(r.HeldBy, want) {
		t.Errorf("the report says the load held calls for %q, want %q", r.HeldBy, want)
	}
	if got := call(t, obj, "depth"); got != float64(80001) {
		t.Errorf("after the commit the chain is %v long, want 80001", got)
	}
}

// TestPairsOverAPersistedTableGoesOnOnceTheLoadHoldsTheLock: a loading top
// level that iterates a persisted table of plain data (its view of it) and
// meanwhile reaches a persisted object, so that the rest of the loop runs
// on the table itself, visits every field once, those it added to the
// view included, whichever field the loop was at.
func TestPairsOverAPersistedTableGoesOnOnceTheLoadHoldsTheLock(t *testing.T) {
	const script = `
local s = hot.persist("s", function()
  local t = {}
  for i = 1, 20 do t["k" .. i] = i end
  return t
end)
local o = hot.persist("o", function() return setmetatable({hp = 7}, {}) end)
local P = {}
P.__index = P
function P:count() local n = 0 for _ in pairs(s) do n = n + 1 end return n end
%s
return P
`
	for _, at := range []int{5, 25} { // a field the table had, one the load added
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			e, dir := newEngine(t, map[string]string{"p.lua": strings.Replace(script, "%s", "", 1)})
			p, err := e.New(context.Background(), "p")
			if err != nil {
				t.Fatal(err)
			}
			reload(t, e, dir, map[string]string{"p.lua": strings.Replace(script, "%s", fmt.Sprintf(`
for i = 1, 10 do s["new" .. i] = i end
s.k3 = nil
local seen, n = {}, 0
for k in pairs(s) do
  assert(not seen[k], "the loop visited " .. k .. " twice")
  seen[k], n = true, n + 1
  if n == %d then assert(o.hp == 7) end
end
assert(n == 29, "the loop visited " .. n .. " fields of 29")`, at), 1)})
			if got := call(t, p, "count"); got != float64(29) {
				t.Errorf("after the commit the table has %v fields, want 29", got)
			}
		})
	}
}

// TestFailedLoadLeavesRunningClassesAsTheyWere: a top level that writes
// into a running class through a persisted object's metatable and then
// fails leaves the class as it was.
func TestFailedLoadLeavesRunningClassesAsTheyWere(t *testing.T) {
	const p = `
local P = {}
P.__index = P
function P:wasHacked() return P.hacked end
return P
`
	e, dir := newEngine(t, map[string]string{"p.lua": p, "zz.lua": "local P = require('p') hot.persist('po', function() return setmetatable({}, P) end) return true"})
	obj, err := e.New(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	writeScripts(t, dir, map[string]string{"zz.lua": "local o = hot.persist('po') getmetatable(o).hacked = true error('fail')"})
	if _, err := e.Reload(context.Background()); err == nil {
		t.Fatal("a reload whose top level fails succeeded")
	}
	if got := call(t, obj, "wasHacked"); got != nil {
		t.Errorf("a failed load left P.hacked = %v in the running class", got)
	}
}
