package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

const persistedClass = `
local s = hot.persist("s", {n = 1, sub = {}})
local q = hot.persist("q", {})
hot.persist("o", function() return setmetatable({}, {__index = {hp = 7}}) end)
local P = {}
P.__index = P
function P:get() return s.n end
function P:bump() s.n = s.n + 1 return s.n end
function P:same() return s == hot.persist("s") and q == hot.persist("q") and (s.sub.q == nil or s.sub.q == q) end
function P:queue() return table.concat(q, ",") end
%s
return P
`

// TestLoadKeepsPersistedValuesWithoutHoldingCalls: a reload whose top level
// takes hot.persist values, or reaches into persisted tables of plain data
// (indexing, pairs, #, rawget, rawset, the table library), loads beside
// running calls; what it changed is in the tables once it committed, and
// its functions then use the persisted tables themselves. Reaching into a
// persisted object holds calls until the load is prepared.
func TestLoadKeepsPersistedValuesWithoutHoldingCalls(t *testing.T) {
	rows := []struct {
		name      string
		top       string // the reload's top level, before it waits at the gate
		holdsCall string // "" when calls are answered while it loads
		queue     string // q after the reload
	}{
		{"takes the values only", "", "", ""},
		{"reaches into them", `
assert(s.n == 2 and #q == 0 and rawget(s, "n") == 2)
local keys = 0
for k in pairs(s) do keys = keys + 1 end
assert(keys == 2 and next(s) ~= nil)
table.insert(q, "boot")
q[#q + 1] = "ready"
assert(#q == 2 and select(2, ipairs(q))[1] == "boot")
rawset(s, "loaded", true)
s.sub.q = q
assert(rawget(s.sub, "q") == q and rawequal(s.sub.q, q))`, "", "boot,ready"},
		{"reaches into an object", `
local o = hot.persist("o", function() return setmetatable({}, {__index = {hp = 7}}) end)
assert(o.hp == 7)`, `loading generation 2 (its scripts reached hot.persist("o"))`, ""},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			e, dir, g, probe := gatedEngine(t, map[string]string{"p.lua": strings.Replace(persistedClass, "%s", "", 1)})
			p, err := e.New(context.Background(), "p")
			if err != nil {
				t.Fatal(err)
			}
			if got := call(t, p, "bump"); got != float64(2) {
				t.Fatalf("bump = %v, want 2", got)
			}
			checkCallDuringReload(t, e, dir, g, probe, map[string]string{"p.lua": strings.Replace(persistedClass, "%s", row.top+"\nentered()\nwhile not released() do end", 1)}, row.holdsCall)

			if got := call(t, p, "same"); got != true {
				t.Errorf("the new functions hold stand-ins, not the persisted tables")
			}
			if got := call(t, p, "bump"); got != float64(3) {
				t.Errorf("bump after the reload = %v, want 3", got)
			}
			if got := call(t, p, "queue"); got != row.queue {
				t.Errorf("q after the reload = %q, want %q", got, row.queue)
			}
			v, err := e.CallGlobal(context.Background(), "tostring", 0)
			if err != nil || v.Any() != "0" {
				t.Fatalf("the engine does not answer after the reload: %v %v", v, err)
			}
		})
	}
}

// TestTopLevelWritesIntoPersistedDataLandAtTheCommit: a loading top level
// that changes persisted tables of plain data works on its own view of
// them: calls meanwhile answer and see the tables as they were; the
// commit writes in exactly the fields the load changed (a field a call
// changed meanwhile and the load did not keeps the call's value); tables
// of the load's own that it put them in hold the tables themselves after
// the commit; a load that fails writes nothing.
func TestTopLevelWritesIntoPersistedDataLandAtTheCommit(t *testing.T) {
	const script = `
local s = hot.persist("s", {n = 1, list = {1, 2}, sub = {x = 1}, gone = true})
local P = {}
P.__index = P
function P:bump() s.n = s.n + 1 return s.n end
function P:seen()
  return table.concat({s.n, tostring(s.added), s.sub.x, #s.list, tostring(s.gone), tostring(s.sub.fresh and s.sub.fresh.y), tostring(s.sub.z)}, " ")
end
function P:mine() return mine ~= nil and rawequal(mine[1], s.sub) and mine[2] == s end
%s
return P
`
	e, dir, g, p := gatedObject(t, script)
	writeScripts(t, dir, map[string]string{"p.lua": strings.Replace(script, "%s", `
s.n = s.n
s.added = "yes"
s.sub.x = s.sub.x + 10
s.sub.fresh = {y = s.n}
table.insert(s.list, 3)
s.gone = nil
mine = {}
table.insert(mine, s.sub)
rawset(mine, 2, s)
mine[1].z = 5
entered()
while not released() do end`, 1)})
	done := startReload(e)
	g.waitIn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	n, err := p.Call(ctx, "bump")
	cancel()
	if err != nil || n.Any() != float64(2) {
		t.Errorf("a call while the load writes into persisted data = %v, %v; want 2", n, err)
	}
	if got := call(t, p, "seen"); got != "2 nil 1 2 true nil nil" {
		t.Errorf("a call while the load runs sees %q, want the tables as they were", got)
	}
	g.released.Store(true)
	awaitReload(t, done)
	if got := call(t, p, "seen"); got != "2 yes 11 3 nil 1 5" {
		t.Errorf("after the commit the tables hold %q, want the load's changes and the call's n", got)
	}
	if got := call(t, p, "mine"); got != true {
		t.Errorf("a table of the load's own holds stand-ins, not the persisted tables, after the commit")
	}

	writeScripts(t, dir, map[string]string{"p.lua": strings.Replace(script, "%s", `
s.added = "no"
s.sub.x = 0
error("broken")`, 1)})
	if _, err := e.Reload(context.Background()); err == nil {
		t.Fatal("a reload whose top level fails succeeded")
	}
	if got := call(t, p, "seen"); got != "2 yes 11 3 nil 1 5" {
		t.Errorf("after a failed reload the tables hold %q, want them unchanged", got)
	}
}

// TestNeverHoldCallsRefusesLoadsThatWouldHoldCalls: with
// Options.NeverHoldCalls, a reload whose top level would hold calls (it
// reaches a persisted object, or requires a class library with module
// state) fails there, naming what it reached, and changes nothing; one
// that reaches persisted plain data commits, holding nothing.
func TestNeverHoldCallsRefusesLoadsThatWouldHoldCalls(t *testing.T) {
	const lib = "local M = {}\nlocal made = 0\nfunction M.class() made = made + 1 return setmetatable({}, {}) end\nreturn M\n"
	const script = `
local lib = %s
local s = hot.persist("s", {n = 1})
local o = hot.persist("o", function() return setmetatable({hp = 7}, {}) end)
local P = {}
P.__index = P
function P:get() return s.n .. " " .. o.hp end
%s
return P
`
	rows := []struct {
		name, lib, top, refused string // refused: in the error, "" when it commits
	}{
		{"plain data", "nil", "s.n = s.n + 1", ""},
		{"a persisted object", "nil", "o.hp = 8", `p.lua:8: reaching hot.persist("o") would hold the running calls until this load ends`},
		{"a class library with module state", `require("lib")`, "", "lib.lua:1:1: reaching the library lib, kept from generation 1 would hold the running calls"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			files := map[string]string{"p.lua": fmt.Sprintf(script, row.lib, "")}
			if row.lib != "nil" {
				files["lib.lua"] = lib
			}
			e, dir := newEngine(t, files, func(o *Options) { o.NeverHoldCalls = true })
			p, err := e.New(context.Background(), "p")
			if err != nil {
				t.Fatal(err)
			}
			writeScripts(t, dir, map[string]string{"p.lua": fmt.Sprintf(script, row.lib, row.top)})
			r, err := e.Reload(context.Background())
			switch {
			case row.refused == "" && err != nil:
				t.Fatalf("reload: %v", err)
			case row.refused == "" && (r.Held != 0 || call(t, p, "get") != "2 7"):
				t.Errorf("the reload held calls for %v, get() = %v; want 0 and 2 7", r.Held, call(t, p, "get"))
			case row.refused != "" && (err == nil || !strings.Contains(err.Error(), row.refused) || !strings.Contains(err.Error(), "Options.NeverHoldCalls")):
				t.Errorf("reload: %v, want it refused with %q", err, row.refused)
			case row.refused != "" && call(t, p, "get") != "1 7":
				t.Errorf("after the refused reload get() = %v, want 1 7", call(t, p, "get"))
			}
		})
	}
}

// TestLoadChangingAPersistedArrayGivesItWhole: a loading top level that
// sorts a persisted list while a call shortens it leaves, once committed,
// the list as the load made it, without holes: merged entry by entry, the
// entry the sort did not move would be the call's nil. A field outside the
// array that only the call changed keeps the call's value.
func TestLoadChangingAPersistedArrayGivesItWhole(t *testing.T) {
	const script = `
local s = hot.persist("s", {list = {1, 2, 3, 4, 5}, n = 0})
local P = {}
P.__index = P
function P:shorten() for i = 5, 3, -1 do s.list[i] = nil end s.n = s.n + 1 end
function P:seen()
  local parts = {}
  for i = 1, 5 do parts[i] = tostring(s.list[i]) end
  return table.concat(parts, ",") .. " #" .. #s.list .. " n" .. s.n
end
%s
return P
`
	e, dir, g, p := gatedObject(t, script)
	writeScripts(t, dir, map[string]string{"p.lua": strings.Replace(script, "%s", `
table.sort(s.list, function(a, b) return a > b end)
entered()
while not released() do end`, 1)})
	done := startReload(e)
	g.waitIn(t)
	call(t, p, "shorten")
	if got := call(t, p, "seen"); got != "1,2,nil,nil,nil #2 n1" {
		t.Fatalf("the call saw %q while the load ran", got)
	}
	g.released.Store(true)
	awaitReload(t, done)
	if got := call(t, p, "seen"); got != "5,4,3,2,1 #5 n1" {
		t.Errorf("after the commit the list is %q, want the load's whole, and the call's n", got)
	}
}

// gatedObject makes a gated engine (see gatedEngine) over p.lua, script
// with its %s empty, and an object of class p.
func gatedObject(t *testing.T, script string) (*Engine, string, *gate, *Object) {
	t.Helper()
	e, dir, g, _ := gatedEngine(t, map[string]string{"p.lua": strings.Replace(script, "%s", "", 1)})
	p, err := e.New(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	return e, dir, g, p
}
