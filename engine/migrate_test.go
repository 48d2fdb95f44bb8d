package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// migrateClass is version 1 of a class whose objects hold nested data:
// a list, tables in tables, a cycle back to the object and a table two
// objects share. dump shows all of it.
const migrateClass = `
local C = hot.class("C")
function C:init(shared)
  self.data = {1, 2, 3}
  self.inv = {sword = {dmg = 5}}
  self.me = self
  self.shared = shared
end
function C:dump()
  local parts = {table.concat(self.data, ","), self.inv.sword.dmg, tostring(self.inv.shield),
    tostring(self.me == self), self.shared.n, tostring(getmetatable(self.data))}
  return table.concat(parts, "|")
end
function C.newShared() return {n = 1} end
%s
return C
`

// TestFailedMigrationLeavesTheObjectExactlyAsItWas runs __migrate hooks
// that change nested data and then fail: each object must come back with
// every nested table as it was, keep answering on its old version, and
// the engine must go on reloading.
func TestFailedMigrationLeavesTheObjectExactlyAsItWas(t *testing.T) {
	const want = "1,2,3|5|nil|true|1|nil"
	rows := []struct{ name, change string }{
		{"table.remove on a nested list", "table.remove(self.data)"},
		{"a field two tables deep", "self.inv.sword.dmg = 99"},
		{"a nested table replaced and one added", "self.inv.sword = {dmg = 0}; self.inv.shield = {}"},
		{"the cycle to the object cut", "self.me = nil"},
		{"a table shared with another object", "self.shared.n = self.shared.n + 1"},
		{"a metatable set on a nested table", "setmetatable(self.data, {})"},
		{"a list cleared in a loop", "for i = #self.data, 1, -1 do self.data[i] = nil end"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			e, dir := newEngine(t, map[string]string{"c.lua": strings.Replace(migrateClass, "%s", "", 1)})
			ctx := context.Background()
			cls, err := e.Class("C")
			if err != nil {
				t.Fatal(err)
			}
			shared, err := cls.Call(ctx, "newShared")
			if err != nil {
				t.Fatal(err)
			}
			obj, err := e.New(ctx, "C", shared.lv)
			if err != nil {
				t.Fatal(err)
			}
			other, err := e.New(ctx, "C", shared.lv)
			if err != nil {
				t.Fatal(err)
			}
			hook := "function C:__migrate(old)\n  " + row.change + "\n  error('boom')\nend"
			rep := reload(t, e, dir, map[string]string{"c.lua": strings.Replace(migrateClass, "%s", hook, 1)})
			if len(rep.Failed) != 2 || !strings.Contains(rep.Failed[0].Error(), "boom") {
				t.Fatalf("report failures %v, want both objects' boom", rep.Failed)
			}
			for _, o := range []*Object{obj, other} {
				if got := call(t, o, "dump"); got != want {
					t.Errorf("after the failed hook the object is %v, want %v as before", got, want)
				}
				if o.Version().Generation != 1 {
					t.Errorf("object runs %v, want its old version of generation 1", o.Version())
				}
			}
			rep = reload(t, e, dir, map[string]string{"c.lua": strings.Replace(migrateClass, "%s", "function C:__migrate(old) self.inv.sword.dmg = 6 end", 1)})
			if len(rep.Failed) != 0 || rep.Migrated != 2 {
				t.Fatalf("next reload: migrated %d, failed %v; want 2 and none", rep.Migrated, rep.Failed)
			}
			for _, o := range []*Object{obj, other} {
				if got := call(t, o, "dump"); got != "1,2,3|6|nil|true|1|nil" {
					t.Errorf("after a good hook the object is %v", got)
				}
			}
		})
	}
}

// persistScript keeps state in hot.persist the common way: the value at
// the top level, a field initialized there, methods using it.
const persistScript = `
local state = hot.persist("state", {})
state.count = state.count or 0
state.log = state.log or {1, 2, 3}
local Counter = hot.class("Counter")
function Counter:bump() state.count = state.count + 1 return state.count end
function Counter:dump()
  local parts = {state.count, table.concat(state.log, ","), tostring(state.extra), tostring(getmetatable(state.log))}
  return table.concat(parts, "|")
end
%s
return Counter
`

// TestFailedReloadLeavesPersistedStateAsItWas reloads scripts whose top
// level writes into persisted values and then fails: the persisted state
// must be exactly as before, the objects must answer with it, and the
// engine must go on reloading, the common idiom included.
func TestFailedReloadLeavesPersistedStateAsItWas(t *testing.T) {
	const want = "2|1,2,3|nil|nil"
	rows := []struct{ name, tail string }{
		{"a runtime error after the writes", "state.count = 100\nstate.extra = {}\nlocal x = nil\nx.boom = 1"},
		{"a failing check", "state.count = 100\ntable.remove(state.log)\nhot.check(function() return false, 'no' end)"},
		{"a nested list emptied", "for i = #state.log, 1, -1 do state.log[i] = nil end\nerror('boom')"},
		{"a metatable set on a nested table", "setmetatable(state.log, {})\nerror('boom')"},
		{"the state replaced in another module", "error('boom')"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			e, dir := newEngine(t, map[string]string{"counter.lua": strings.Replace(persistScript, "%s", "", 1)})
			ctx := context.Background()
			obj, err := e.New(ctx, "Counter")
			if err != nil {
				t.Fatal(err)
			}
			call(t, obj, "bump")
			call(t, obj, "bump")
			files := map[string]string{"counter.lua": strings.Replace(persistScript, "%s", row.tail, 1)}
			if row.name == "the state replaced in another module" {
				files["other.lua"] = "local s = hot.persist('state', {})\ns.count = -1\ns.log[1] = 'x'\ns.log = {}\nreturn true\n"
			}
			writeScripts(t, dir, files)
			if _, err := e.Reload(ctx); err == nil {
				t.Fatal("the reload committed, want it to fail")
			}
			if got := call(t, obj, "dump"); got != want {
				t.Errorf("after the failed reload the persisted state is %v, want %v as before", got, want)
			}
			writeScripts(t, dir, map[string]string{"other.lua": "return true\n"})
			reload(t, e, dir, map[string]string{"counter.lua": strings.Replace(persistScript, "%s", "state.count = state.count + 10", 1)})
			if got := call(t, obj, "bump"); got != 13.0 {
				t.Errorf("after a good reload bump gives %v, want 13", got)
			}
		})
	}
}

// TestPinnedObjectKeepsItsVersionAndItsBases: an object whose __migrate
// hook fails stays on the version it ran, its base class's version
// included, and the hook's old.class is that version; the objects whose
// hook succeeded, and the objects of a class without a hook, run the new
// version of everything.
func TestPinnedObjectKeepsItsVersionAndItsBases(t *testing.T) {
	const base = `
local Base = {}
Base.__index = Base
function Base:where() return "base %s" end
return Base
`
	const derived = `
local Base = require("base")
local Derived = setmetatable({}, Base)
Derived.__index = Derived
function Derived:init(id) self.id = id end
function Derived:own() return "derived %s" end
function Derived:seen() return tostring(self.old) end
%s
return Derived
`
	const other = `
local Other = {}
Other.__index = Other
function Other:own() return "other %s" end
return Other
`
	version := func(v, hook string) map[string]string {
		return map[string]string{
			"base.lua":    fmt.Sprintf(base, v),
			"derived.lua": fmt.Sprintf(derived, v, hook),
			"other.lua":   fmt.Sprintf(other, v),
		}
	}
	e, dir := newEngine(t, version("v1", ""))
	ctx := context.Background()
	objs := map[string]*Object{}
	for name, args := range map[string][]any{"ok": {1}, "pinned": {2}} {
		o, err := e.New(ctx, "derived", args...)
		if err != nil {
			t.Fatal(err)
		}
		objs[name] = o
	}
	o, err := e.New(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	objs["other"] = o
	rep := reload(t, e, dir, version("v2", `
function Derived:__migrate(old)
  self.old = old.class.own(self) .. " / " .. old.class.where(self)
  if self.id == 2 then error("cannot migrate object 2") end
end`))
	if rep.Migrated != 1 || len(rep.Failed) != 1 {
		t.Fatalf("migrated %d, failed %v; want 1 and 1", rep.Migrated, rep.Failed)
	}
	for _, c := range []struct{ obj, method, want string }{
		{"ok", "own", "derived v2"}, {"ok", "where", "base v2"}, {"ok", "seen", "derived v1 / base v1"},
		{"pinned", "own", "derived v1"}, {"pinned", "where", "base v1"}, {"pinned", "seen", "nil"},
		{"other", "own", "other v2"},
	} {
		if got := call(t, objs[c.obj], c.method); got != c.want {
			t.Errorf("%s:%s() = %v, want %q", c.obj, c.method, got, c.want)
		}
	}
}
