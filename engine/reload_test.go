package engine

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

const enemyV1 = `
local Enemy = {}
Enemy.__index = Enemy

function Enemy.new(hp)
  return setmetatable({hp = hp}, Enemy)
end

function Enemy:damage(n)
  self.hp = self.hp - n
  return self.hp
end

function Enemy:speak() return "grr" end

return Enemy
`

func TestMethodBodyEditReachesExistingObject(t *testing.T) {
	e, dir := newEngine(t, map[string]string{"units/enemy.lua": enemyV1})
	ctx := context.Background()
	obj, err := e.New(ctx, "units.enemy")
	if err != nil {
		t.Fatal(err)
	}
	if err := obj.Set("hp", 100); err != nil {
		t.Fatal(err)
	}
	if got := call(t, obj, "damage", 10); got != 90.0 {
		t.Fatalf("damage before reload = %v, want 90", got)
	}

	v2 := strings.Replace(enemyV1, "self.hp - n", "self.hp - 2 * n", 1)
	v2 = strings.Replace(v2, `function Enemy:speak() return "grr" end`, "", 1)
	rep := reload(t, e, dir, map[string]string{"units/enemy.lua": v2})

	if rep.Generation != 2 || e.Generation() != 2 {
		t.Fatalf("generation = %d (report %d), want 2", e.Generation(), rep.Generation)
	}
	if want := []string{"units.enemy"}; !equalStrings(rep.Changed, want) {
		t.Fatalf("changed = %v, want %v", rep.Changed, want)
	}
	if hp, _ := obj.Get("hp"); hp.Any() != 90.0 {
		t.Fatalf("hp after reload = %v, want 90 (fields must survive)", hp)
	}
	if got := call(t, obj, "damage", 10); got != 70.0 {
		t.Fatalf("damage after reload = %v, want 70 (new body)", got)
	}
	if _, err := obj.Call(ctx, "speak"); !errors.Is(err, ErrNoMethod) {
		t.Fatalf("removed method: err = %v, want ErrNoMethod", err)
	}
	if v := obj.Version(); v.Generation != 2 {
		t.Fatalf("object version = %v, want generation 2", v)
	}
}

func TestBaseClassInAnotherFile(t *testing.T) {
	base := `
local Base = {}
Base.__index = Base
function Base:describe() return "base v1" end
return Base
`
	derived := `
local Base = require("units.base")
local Orc = setmetatable({}, {__index = Base})
Orc.__index = Orc
function Orc.new() return setmetatable({}, Orc) end
function Orc:name() return "orc" end
return Orc
`
	e, dir := newEngine(t, map[string]string{"units/base.lua": base, "units/orc.lua": derived})
	orc, err := e.New(context.Background(), "units.orc")
	if err != nil {
		t.Fatal(err)
	}
	before := orc.Version()
	if got := call(t, orc, "describe"); got != "base v1" {
		t.Fatalf("describe = %v", got)
	}
	rep := reload(t, e, dir, map[string]string{"units/base.lua": strings.Replace(base, "base v1", "base v2", 1)})
	if got := call(t, orc, "describe"); got != "base v2" {
		t.Fatalf("describe after base edit = %v, want base v2", got)
	}
	if !equalStrings(rep.Changed, []string{"units.base", "units.orc"}) {
		t.Fatalf("changed = %v: a derived class's version must change with its base", rep.Changed)
	}
	if orc.Version().Hash == before.Hash {
		t.Fatalf("orc's version hash did not change with its base")
	}
}

func TestFailedReloadChangesNothing(t *testing.T) {
	e, dir := newEngine(t, map[string]string{"units/enemy.lua": enemyV1})
	ctx := context.Background()
	obj, err := e.New(ctx, "units.enemy")
	if err != nil {
		t.Fatal(err)
	}
	obj.Set("hp", 50)

	for _, tc := range []struct {
		name, body, wantPos, wantMsg string
	}{
		{"syntax", "local Enemy = {}\nEnemy.__index = Enemy\nfunction Enemy:damage(n)\n  return self.hp -\nend\nreturn Enemy\n", "units/enemy.lua:5:", ""},
		{"runtime at top level", "local Enemy = {}\nEnemy.__index = Enemy\nlocal x = nil\nx.boom = 1\nreturn Enemy\n", "units/enemy.lua:4:", "attempt to index"},
		{"missing module", "local M = require('nope')\nreturn {}\n", "units/enemy.lua:1:", "module 'nope' not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeScripts(t, dir, map[string]string{"units/enemy.lua": tc.body})
			rep, err := e.Reload(ctx)
			if err == nil {
				t.Fatalf("reload succeeded: %v", rep)
			}
			var se *ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *ScriptError", err, err)
			}
			if !strings.HasPrefix(err.Error(), tc.wantPos) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error = %q, want prefix %q containing %q", err, tc.wantPos, tc.wantMsg)
			}
			if e.Generation() != 1 {
				t.Fatalf("generation = %d after a failed reload, want 1", e.Generation())
			}
			if got := call(t, obj, "damage", 1); got != 49.0 {
				t.Fatalf("damage = %v, want the old version's 49", got)
			}
			obj.Set("hp", 50)
			if errs := e.Errors(); len(errs) == 0 || errs[len(errs)-1] != err {
				t.Fatalf("Errors() does not end with the failure: %v", errs)
			}
		})
	}
	reload(t, e, dir, map[string]string{"units/enemy.lua": strings.Replace(enemyV1, "self.hp - n", "self.hp - 3 * n", 1)})
	if got := call(t, obj, "damage", 1); got != 47.0 {
		t.Fatalf("after the next good save, damage = %v, want 47", got)
	}
}

// TestSyntaxErrorColumnIsTokenStart loads scripts that break at a token of
// each kind and checks that the error is placed where that token starts, so
// that an editor jumping to path:line:col lands on it. Each script is
// before+at, at starting with the token.
func TestSyntaxErrorColumnIsTokenStart(t *testing.T) {
	for _, c := range []struct{ name, before, at string }{
		{"keyword", "function f()\n  return 1 +\n", "end\n"},
		{"name", "local total = 0\ntotal ", "subtotal = 1\n"},
		{"number", "local x = 1 ", "12345\n"},
		{"quoted string", "local x = 1 ", "\"hello\"\n"},
		{"string with escapes", "local x = 1 ", "'a\\tb\\110'\n"},
		{"long string over two lines", "local x = 1 ", "[==[ab\ncd]==]\n"},
		{"two-character operator", "local x = ", "== 2\n"},
		{"varargs", "local x = 1 ", "... + 2\n"},
		{"dot", "local x = ", ".\n"},
		{"after a tab and a long comment", "--[[ a\ncomment ]]\tlocal x = 1 ", "end\n"},
		{"after CRLF line ends", "local x = 1\r\nlocal y = 2 ", "end\r\n"},
		{"unterminated string", "local x = ", "'abc\nlocal y = 1\n"},
		{"hexadecimal number without digits", "local x = ", "0xg\n"},
		// Unclosed to the end of the file: where it opens.
		{"unterminated long string at the end", "local x = 1\nlocal s = ", "[[abc\ndef"},
		{"unterminated long comment at the end", "local x = 1\n", "--[[ abc\ndef\n"},
		{"unterminated string at the end", "local x = ", "'abc"},
		// At the end of the file, where <eof> starts: after the text.
		{"<eof>", "local x = (1 +", "\n\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeScripts(t, dir, map[string]string{"a/b.lua": c.before + c.at})
			_, err := New(Options{Roots: []string{dir}})
			var se *ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *ScriptError", err)
			}
			line := strings.Count(c.before, "\n") + 1
			col := len(c.before) - strings.LastIndexByte(c.before, '\n')
			if se.Path != "a/b.lua" || se.Line != line || se.Column != col {
				t.Fatalf("%v: at %s:%d:%d, want a/b.lua:%d:%d, where %q starts", err, se.Path, se.Line, se.Column, line, col, c.at)
			}
		})
	}
}

func TestRequiringModuleSeesNewVersion(t *testing.T) {
	files := map[string]string{
		"lib/tuning.lua": "return {speed = 1}",
		"units/runner.lua": `
local tuning = require("lib.tuning")
local Runner = hot.class("Runner")
function Runner:speed() return tuning.speed end
return Runner
`,
	}
	e, dir := newEngine(t, files)
	r, err := e.New(context.Background(), "Runner")
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, r, "speed"); got != 1.0 {
		t.Fatalf("speed = %v", got)
	}
	reload(t, e, dir, map[string]string{"lib/tuning.lua": "return {speed = 7}"})
	if got := call(t, r, "speed"); got != 7.0 {
		t.Fatalf("speed after editing the required module = %v, want 7", got)
	}
}

func TestEveryKindOfObjectSwitches(t *testing.T) {
	files := map[string]string{
		"units/enemy.lua": enemyV1,
		"units/boss.lua": `
local Boss = hot.class("Boss")
function Boss:init(hp) self.hp = hp end
function Boss:kind() return "boss v1" end
return Boss
`,
		"world.lua": `
local Enemy = require("units.enemy")
local Boss = require("units.boss")
local World = hot.class("World")
function World:init()
  self.plain = setmetatable({hp = 1}, Enemy)
  self.viaNew = Enemy.new(2)
  self.helper = Boss.new(3)
end
function World:get(k) return self[k] end
return World
`,
	}
	e, dir := newEngine(t, files)
	ctx := context.Background()
	world, err := e.New(ctx, "World")
	if err != nil {
		t.Fatal(err)
	}
	fromGo, err := e.New(ctx, "units.enemy")
	if err != nil {
		t.Fatal(err)
	}
	fromGo.Set("hp", 4)
	viaCtor, err := mustClass(t, e, "units.enemy").Call(ctx, "new", 5)
	if err != nil {
		t.Fatal(err)
	}
	ctorObj, _ := viaCtor.Object()
	objs := []*Object{fromGo, ctorObj}
	for _, k := range []string{"plain", "viaNew"} {
		objs = append(objs, call(t, world, "get", k).(*Object))
	}
	helperObj := call(t, world, "get", "helper").(*Object)

	reload(t, e, dir, map[string]string{
		"units/enemy.lua": strings.Replace(enemyV1, `return "grr"`, `return "grr v2 " .. self.hp`, 1),
		"units/boss.lua":  strings.Replace(files["units/boss.lua"], "boss v1", "boss v2", 1),
	})
	for i, o := range objs {
		want := []string{"grr v2 4", "grr v2 5", "grr v2 1", "grr v2 2"}[i]
		if got := call(t, o, "speak"); got != want {
			t.Errorf("object %d: speak = %v, want %v", i, got, want)
		}
	}
	if got := call(t, helperObj, "kind"); got != "boss v2" {
		t.Errorf("hot.class object: kind = %v, want boss v2", got)
	}
	if n := len(e.Objects("units.enemy")); n != 4 {
		t.Errorf("Objects(units.enemy) = %d, want 4", n)
	}
}

func TestIdentityAcrossReloads(t *testing.T) {
	files := map[string]string{"units/enemy.lua": enemyV1, "check.lua": `
local Enemy = require("units.enemy")
local Check = hot.class("Check")
function Check:same(o) return getmetatable(o) == Enemy end
function Check:make() return Enemy.new(1) end
return Check
`}
	e, dir := newEngine(t, files)
	ctx := context.Background()
	chk, _ := e.New(ctx, "Check")
	old := call(t, chk, "make").(*Object)
	reload(t, e, dir, map[string]string{"units/enemy.lua": enemyV1 + "\n-- edited\n"})
	chk2, _ := e.New(ctx, "Check")
	fresh := call(t, chk2, "make").(*Object)
	for _, o := range []*Object{old, fresh} {
		if call(t, chk2, "same", o) != true {
			t.Fatalf("getmetatable(obj) == Enemy is false for %v", o.Version())
		}
	}
}

func TestPersistMigrationAndHandlers(t *testing.T) {
	counter := `
local state = hot.persist("counter", function() return {n = 0, loads = 0} end)
state.loads = state.loads + 1
local Counter = hot.class("Counter")
function Counter:init() self.count = 0 end
function Counter:bump() state.n = state.n + 1; self.count = self.count + 1; return state.n end
function Counter:loads() return state.loads end
%s
hot.on("reload", function(prev)
  state.reloads = (state.reloads or 0) + 1
  state.prev = prev
end)
function Counter:reloads() return state.reloads, state.prev end
function Counter:migrations() return self.migration_count or 0 end
return Counter
`
	migrate := `function Counter:__migrate(old)
  self.migration_count = (self.migration_count or 0) + 1
  self.from = old.version
end`
	e, dir := newEngine(t, map[string]string{"counter.lua": strings.Replace(counter, "%s", "", 1)})
	ctx := context.Background()
	var objs []*Object
	for range 3 {
		o, err := e.New(ctx, "Counter")
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
		call(t, o, "bump")
	}
	rep := reload(t, e, dir, map[string]string{"counter.lua": strings.Replace(counter, "%s", migrate, 1)})
	if rep.Migrated != 3 {
		t.Fatalf("migrated = %d, want 3", rep.Migrated)
	}
	for _, o := range objs {
		if got := call(t, o, "migrations"); got != 1.0 {
			t.Fatalf("migrations = %v, want 1", got)
		}
	}
	if got := call(t, objs[0], "bump"); got != 4.0 {
		t.Fatalf("persisted counter = %v, want 4", got)
	}
	if got := call(t, objs[0], "loads"); got != 2.0 {
		t.Fatalf("loads = %v, want 2", got)
	}
	if got := call(t, objs[0], "reloads"); got != 1.0 {
		t.Fatalf("reload handler ran %v times, want 1", got)
	}
	// A reload that changes nothing in the class runs no migration, but its
	// handler fires once more, and only once: the old registration is gone.
	reload(t, e, dir, map[string]string{"other.lua": "return 1"})
	if got := call(t, objs[0], "migrations"); got != 1.0 {
		t.Fatalf("migrations after an unrelated reload = %v, want 1", got)
	}
	if got := call(t, objs[0], "reloads"); got != 2.0 {
		t.Fatalf("reload handler total = %v, want 2", got)
	}
}

func TestFailingMigrationPinsObjectToOldVersion(t *testing.T) {
	v1 := `
local C = hot.class("C")
function C:init(id) self.id = id end
function C:version() return "v1" end
return C
`
	v2 := `
local C = hot.class("C")
function C:init(id) self.id = id end
function C:version() return "v2" end
function C:__migrate(old)
  self.touched = true
  if self.id == 2 then error("cannot migrate object 2") end
end
return C
`
	e, dir := newEngine(t, map[string]string{"c.lua": v1})
	ctx := context.Background()
	a, _ := e.New(ctx, "C", 1)
	b, _ := e.New(ctx, "C", 2)
	rep := reload(t, e, dir, map[string]string{"c.lua": v2})
	if rep.Migrated != 1 || len(rep.Failed) != 1 {
		t.Fatalf("migrated %d, failed %v; want 1 and 1", rep.Migrated, rep.Failed)
	}
	if !strings.Contains(rep.Failed[0].Error(), "c.lua:7:") || !strings.Contains(rep.Failed[0].Error(), "cannot migrate object 2") {
		t.Fatalf("failure = %v, want it to name c.lua:7 and the message", rep.Failed[0])
	}
	if call(t, a, "version") != "v2" || call(t, b, "version") != "v1" {
		t.Fatalf("a runs %v, b runs %v; want v2 and the pinned v1", call(t, a, "version"), call(t, b, "version"))
	}
	if touched, _ := b.Get("touched"); touched.Any() != nil {
		t.Fatalf("b's fields were not restored after its hook failed: touched = %v", touched)
	}
	// The next version's hook succeeds: the pinned object is migrated from v1.
	rep = reload(t, e, dir, map[string]string{"c.lua": strings.Replace(v2, `if self.id == 2 then error("cannot migrate object 2") end`, "", 1)})
	if len(rep.Failed) != 0 || call(t, b, "version") != "v2" {
		t.Fatalf("pinned object not migrated on the next reload: %v, runs %v", rep.Failed, call(t, b, "version"))
	}
}

func TestCheckFailsReload(t *testing.T) {
	e, dir := newEngine(t, map[string]string{"units/enemy.lua": enemyV1})
	writeScripts(t, dir, map[string]string{"checks.lua": "hot.check(function() return false, 'speed must be positive' end)\nreturn true\n"})
	_, err := e.Reload(context.Background())
	if err == nil || err.Error() != "checks.lua:1: check failed: speed must be positive" {
		t.Fatalf("err = %v", err)
	}
	if e.Generation() != 1 {
		t.Fatalf("generation = %d", e.Generation())
	}
}

func TestManualSwap(t *testing.T) {
	e, dir := newEngine(t, map[string]string{"units/enemy.lua": enemyV1}, func(o *Options) { o.ManualSwap = true })
	ctx := context.Background()
	cls := mustClass(t, e, "units.enemy")
	obj, _ := e.New(ctx, "units.enemy")
	obj.Set("hp", 10)
	if _, newer := e.UpdatedClass(cls); newer {
		t.Fatal("UpdatedClass reports a newer version before any reload")
	}
	reload(t, e, dir, map[string]string{"units/enemy.lua": strings.Replace(enemyV1, "self.hp - n", "self.hp - 5 * n", 1)})
	if got := call(t, obj, "damage", 1); got != 9.0 {
		t.Fatalf("manual mode: object moved on its own (damage = %v, want 9)", got)
	}
	updated, newer := e.UpdatedClass(cls)
	if !newer || updated.Version().Generation != 2 {
		t.Fatalf("UpdatedClass = %v, %v", updated, newer)
	}
	if err := obj.SetClass(updated); err != nil {
		t.Fatal(err)
	}
	if got := call(t, obj, "damage", 1); got != 4.0 {
		t.Fatalf("after SetClass, damage = %v, want 4", got)
	}
}

func mustClass(t testing.TB, e *Engine, name string) *Class {
	t.Helper()
	c, err := e.Class(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

// TestSingletonWithOwnMethodStaysAnObject: a module returning the one
// object of a class whose constructor gives no __index, with a method set
// on that object, returns an object, not a class (no constructor would
// give it an __index): a persisted reference to it keeps its data across
// reloads, follows its class's edits, and reaches Go as an object. The
// class may be written by hand (setmetatable(o, Screen)) or made by a
// base's subclass maker (cls.__index = cls; setmetatable(cls, self)), whose
// self is no prototype. A base whose constructor sets self.__index = self
// still makes a class of what it makes (Base:new() with methods).
func TestSingletonWithOwnMethodStaysAnObject(t *testing.T) {
	screens := map[string]map[string]string{
		"setmetatable": {"screen.lua": `local Screen = {}
Screen.__index = Screen
function Screen.new(title) return setmetatable({title = title, cursor = 1}, Screen) end
function Screen:move(i) self.cursor = i end
function Screen:status() return self.title .. " at " .. self.cursor .. " v1" end
return Screen`, "title.lua": `local title = require("screen").new("title")
function title:paint() return "painted" end
return title`},
		"subclass maker": {"object.lua": `local Object = {}
Object.__index = Object
function Object:extend()
  local cls = {}
  cls.__index = cls
  return setmetatable(cls, self)
end
function Object:new(...)
  local o = setmetatable({}, self)
  o:init(...)
  return o
end
return Object`, "screen.lua": `local Screen = require("object"):extend()
function Screen:init(title) self.title, self.cursor = title, 1 end
function Screen:move(i) self.cursor = i end
function Screen:status() return self.title .. " at " .. self.cursor .. " v1" end
return Screen`, "title.lua": `local title = require("screen"):new("title")
function title:paint() return "painted" end
return title`},
	}
	// The same library, its subclass maker written the other common way.
	other := maps.Clone(screens["subclass maker"])
	other["object.lua"] = strings.Replace(other["object.lua"], "setmetatable(cls, self)", "setmetatable(cls, {__index = self})", 1)
	screens["subclass maker through a metatable"] = other
	for style, screen := range screens {
		t.Run(style, func(t *testing.T) {
			files := map[string]string{
				"app.lua": `local app = hot.persist("app", {})
app.screen = app.screen or require("title")
function move(i) app.screen:move(i) end
function show() return app.screen:status() .. ", " .. app.screen:paint() end
function screen() return app.screen end`,
				"base.lua": `local Base = {}
Base.__index = Base
function Base:new(o)
  o = o or {}
  setmetatable(o, self)
  self.__index = self
  return o
end
return Base`,
				"derived.lua": `local Derived = require("base"):new()
function Derived:name() return "derived" end
return Derived`,
				"other.lua": `return 1`,
			}
			maps.Copy(files, screen)
			checkSingletonStaysAnObject(t, files)
		})
	}
}

func checkSingletonStaysAnObject(t *testing.T, files map[string]string) {
	ctx := context.Background()
	e, dir := newEngine(t, files)
	var names []string
	for _, c := range e.Classes() {
		names = append(names, c.Name)
	}
	if slices.Contains(names, "title") || !slices.Contains(names, "derived") {
		t.Fatalf("classes = %v, want derived and not title (an object of screen)", names)
	}
	v, err := e.CallGlobal(ctx, "screen")
	if err != nil {
		t.Fatalf("screen(): %v", err)
	}
	if o, ok := v.Object(); !ok || o.Class().Name() != "screen" {
		t.Fatalf("screen() = %v, want an object of screen", v)
	}
	if _, err := e.CallGlobal(ctx, "move", 3); err != nil {
		t.Fatal(err)
	}
	reload(t, e, dir, map[string]string{"other.lua": `return 2`})
	want := "title at 3 v1, painted"
	if v, err := e.CallGlobal(ctx, "show"); err != nil || v.Any() != want {
		t.Fatalf("after an unrelated reload, show() = %v, %v; want %q", v, err, want)
	}
	reload(t, e, dir, map[string]string{"screen.lua": strings.Replace(files["screen.lua"], "v1", "v2", 1)})
	want = "title at 3 v2, painted"
	if v, err := e.CallGlobal(ctx, "show"); err != nil || v.Any() != want {
		t.Fatalf("after editing screen.lua, show() = %v, %v; want %q", v, err, want)
	}
}

// TestPrototypeClassWithLocalSetmetatable: a class written as Programming
// in Lua does, in a module that keeps a local copy of setmetatable (as
// code that localizes its globals does), is a class: an object made after
// the load, from a global function Go calls, runs the new code after a
// reload and keeps its data.
func TestPrototypeClassWithLocalSetmetatable(t *testing.T) {
	ctx := context.Background()
	src := `local setmetatable = setmetatable
local Counter = {n = 0}
function Counter:new(o)
  o = o or {}
  setmetatable(o, self)
  self.__index = self
  return o
end
function Counter:add(k) self.n = self.n + k end
function Counter:show() return "v1 " .. self.n end
return Counter`
	e, dir := newEngine(t, map[string]string{"counter.lua": src, "main.lua": `local Counter = require("counter")
function make() return Counter:new() end`})
	v, err := e.CallGlobal(ctx, "make")
	if err != nil {
		t.Fatal(err)
	}
	c, ok := v.Object()
	if !ok {
		t.Fatalf("make() = %v, not an object: counter is not taken for a class", v)
	}
	call(t, c, "add", 4)
	reload(t, e, dir, map[string]string{"counter.lua": strings.Replace(src, `"v1 "`, `"v2 "`, 1)})
	if got := call(t, c, "show"); got != "v2 4" {
		t.Errorf("after the reload, show() = %v, want v2 4", got)
	}
}

// TestPrototypeSubclassCopyingItsBase copies a Programming in Lua base
// into a subclass with pairs, as mixins are copied: the subclass's
// objects run the subclass's methods, before and after a reload, as they
// do in plain Lua.
func TestPrototypeSubclassCopyingItsBase(t *testing.T) {
	files := map[string]string{
		"base.lua": `local Base = {}
function Base:new(o) o = o or {}; setmetatable(o, self); self.__index = self; return o end
function Base:hello() return "base" end
return Base`,
		"sub.lua": `local Sub = {}
for k, v in pairs(require("base")) do Sub[k] = v end
function Sub:hello() return "sub v1" end
return Sub`,
		"main.lua": `local kept = hot.persist("kept", function() return {obj = require("sub"):new()} end)
function hello() return kept.obj:hello() end`,
	}
	e, dir := newEngine(t, files)
	hello := func(want string) {
		t.Helper()
		v, err := e.CallGlobal(context.Background(), "hello")
		if s, _ := v.Str(); err != nil || s != want {
			t.Fatalf("hello() = %v, %v; want %q", v, err, want)
		}
	}
	hello("sub v1")
	reload(t, e, dir, map[string]string{"sub.lua": strings.Replace(files["sub.lua"], "sub v1", "sub v2", 1)})
	hello("sub v2")
}

// TestFactoryClassesFollowReloads edits classes whose constructor gives
// each object a metatable indexing the class, written the three common
// ways: objects made while loading and made later by calls all run the new
// code and keep their data, and the classes get no __index of their own.
// A helper module whose function holds the module and indexes its
// argument stays a library.
func TestFactoryClassesFollowReloads(t *testing.T) {
	factories := map[string]string{
		"inline": `local M = {}
function M.new(n) return setmetatable({n = n}, {__index = M}) end
function M:get() return "inline v1 " .. self.n end
return M`,
		"shared": `local M = {}
local mt = {__index = M}
function M.new(n) return setmetatable({n = n}, mt) end
function M:get() return "shared v1 " .. self.n end
return M`,
		"method": `local M = {}
function M:new(n) return setmetatable({n = n}, {__index = self}) end
function M:get() return "method v1 " .. self.n end
return M`,
	}
	files := map[string]string{
		"util.lua": `local util = {}
function util.readonly(t)
  for k, v in pairs(t) do if type(v) == "table" then t[k] = util.readonly(v) end end
  return setmetatable({}, {__index = t, __newindex = function() error("read-only") end})
end
return util`,
		"main.lua": `local store = hot.persist("store", {})
local kinds = {"inline", "shared", "method"}
local function make(n)
  for _, k in ipairs(kinds) do
    local F = require(k)
    store[#store + 1] = k == "method" and F:new(n) or F.new(n)
  end
end
if #store == 0 then make(1) end
function spawn(n) make(n) end
function report()
  local out = {}
  for i, o in ipairs(store) do out[i] = o:get() end
  return table.concat(out, ",")
end
function ownIndex() return rawget(require("inline"), "__index") ~= nil end`,
	}
	maps.Copy(files, map[string]string{"inline.lua": factories["inline"], "shared.lua": factories["shared"], "method.lua": factories["method"]})
	e, dir := newEngine(t, files)
	ctx := context.Background()
	if _, err := e.CallGlobal(ctx, "spawn", 2); err != nil {
		t.Fatal(err)
	}
	edits := map[string]string{}
	for k, src := range factories {
		edits[k+".lua"] = strings.Replace(src, k+" v1", k+" v2", 1)
	}
	reload(t, e, dir, edits)
	v, err := e.CallGlobal(ctx, "report")
	if got, _ := v.Str(); err != nil || got != "inline v2 1,shared v2 1,method v2 1,inline v2 2,shared v2 2,method v2 2" {
		t.Errorf("report() = %v, %v; want every object on v2 with its own n", v, err)
	}
	if v, err := e.CallGlobal(ctx, "ownIndex"); v.Any() != false || err != nil {
		t.Errorf("ownIndex() = %v, %v: the reload gave the factory class an __index of its own", v, err)
	}
	for _, c := range e.Classes() {
		if c.Name == "util" {
			t.Errorf("util, which holds itself and indexes its argument, is taken for a class: %v", e.Classes())
		}
	}
}
