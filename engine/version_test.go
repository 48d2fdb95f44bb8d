package engine

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// A class's version follows every script it was built from, and only
// those: a module it requires through another, a base class it finds as a
// global without requiring its module, and nothing else. Editing a file
// back gives back the versions it had.
func TestClassVersionsFollowTheScriptsTheyWereBuiltFrom(t *testing.T) {
	files := map[string]string{
		"consts.lua": `return { speed = 1 }`,
		"util.lua":   `local c = require "consts"; return { speed = function() return c.speed end }`,
		"runner.lua": `local u = require "util"
local Runner = {}; Runner.__index = Runner
function Runner:speed() return u.speed() end
return Runner`,
		// Base is a global: b_orc inherits from it without requiring a_base.
		"a_base.lua": `Base = {}; Base.__index = Base
function Base:hp() return 10 end
return Base`,
		"b_orc.lua": `local Orc = setmetatable({}, { __index = Base }); Orc.__index = Orc
return Orc`,
		"idle.lua": `local Idle = {}; Idle.__index = Idle; return Idle`,
	}
	e, dir := newEngine(t, files)
	hashes := func() map[string]string {
		out := make(map[string]string)
		for _, c := range e.Classes() {
			out[c.Name] = c.Version.Hash
		}
		return out
	}
	first := hashes()
	steps := []struct {
		file, body string
		changed    []string
	}{
		{"consts.lua", `return { speed = 2 }`, []string{"runner"}},
		{"a_base.lua", `Base = {}; Base.__index = Base
function Base:hp() return 20 end
return Base`, []string{"a_base", "b_orc"}},
		{"idle.lua", `local Idle = {}; Idle.__index = Idle; Idle.lazy = true; return Idle`, []string{"idle"}},
		{"consts.lua", files["consts.lua"], []string{"runner"}},
	}
	for i, st := range steps {
		before := hashes()
		r := reload(t, e, dir, map[string]string{st.file: st.body})
		if !slices.Equal(r.Changed, st.changed) {
			t.Fatalf("step %d (%s): changed = %v, want %v", i, st.file, r.Changed, st.changed)
		}
		after := hashes()
		for name, h := range after {
			if moved := h != before[name]; moved != slices.Contains(st.changed, name) {
				t.Errorf("step %d (%s): %s's hash %s -> %s", i, st.file, name, before[name], h)
			}
		}
	}
	reload(t, e, dir, map[string]string{"a_base.lua": files["a_base.lua"], "idle.lua": files["idle.lua"]})
	if got := hashes(); !maps.Equal(got, first) {
		t.Errorf("every file as it was: hashes %v, want the first ones %v", got, first)
	}
}

// In a require loop a script catches (b requires a back through pcall),
// each class still follows both scripts, whichever module loads first.
func TestClassVersionsFollowARequireLoop(t *testing.T) {
	files := map[string]string{
		"a.lua": `local b = require "b"
local A = {}; A.__index = A
return A`,
		"b.lua": `pcall(require, "a")
local B = {}; B.__index = B; B.v = 1
return B`,
	}
	e, dir := newEngine(t, files)
	for i, edit := range []map[string]string{
		{"b.lua": strings.Replace(files["b.lua"], "B.v = 1", "B.v = 2", 1)},
		{"a.lua": strings.Replace(files["a.lua"], "A.__index = A", "A.__index = A; A.v = 2", 1)},
	} {
		if r := reload(t, e, dir, edit); !slices.Equal(r.Changed, []string{"a", "b"}) {
			t.Errorf("edit %d: changed = %v, want a and b: each was built from both scripts", i, r.Changed)
		}
	}
}

// Two scripts with the same text both count in a class's version, and a
// script reached by two paths counts once: editing the twins alike, or the
// module both of them require, moves the class, and editing them back
// gives its first version back.
func TestClassVersionsCountTwinScripts(t *testing.T) {
	twin := `local c = require "common"; return { n = c.n }`
	files := map[string]string{
		"common.lua": `return { n = 1 }`,
		"left.lua":   twin,
		"right.lua":  twin,
		"unit.lua": `local l, r = require "left", require "right"
local Unit = {}; Unit.__index = Unit
function Unit:n() return l.n + r.n end
return Unit`,
	}
	e, dir := newEngine(t, files)
	version := func() string {
		for _, c := range e.Classes() {
			if c.Name == "unit" {
				return c.Version.Hash
			}
		}
		t.Fatal("no class unit")
		return ""
	}
	first := version()
	edited := `local c = require "common"; return { n = c.n + 1 }`
	reload(t, e, dir, map[string]string{"left.lua": edited, "right.lua": edited})
	if v := version(); v == first {
		t.Errorf("both twins edited alike: the version stayed %s", v)
	}
	reload(t, e, dir, map[string]string{"left.lua": twin, "right.lua": twin})
	if v := version(); v != first {
		t.Errorf("twins edited back: version %s, want the first, %s", v, first)
	}
	reload(t, e, dir, map[string]string{"common.lua": `return { n = 2 }`})
	if v := version(); v == first {
		t.Errorf("the module both twins require edited: the version stayed %s", v)
	}
}

// Two modules of a class exchanging their texts change what the class
// runs, so they move its version: the commit reports it changed.
func TestClassVersionsFollowScriptsExchangingTexts(t *testing.T) {
	files := map[string]string{
		"left.lua":  `return { n = 1 }`,
		"right.lua": `return { n = 2 }`,
		"unit.lua": `local l, r = require "left", require "right"
local Unit = {}; Unit.__index = Unit
function Unit:n() return l.n - r.n end
return Unit`,
	}
	e, dir := newEngine(t, files)
	r := reload(t, e, dir, map[string]string{"left.lua": files["right.lua"], "right.lua": files["left.lua"]})
	if !slices.Contains(r.Changed, "unit") {
		t.Errorf("left and right exchanged their texts: changed = %v, want unit in it", r.Changed)
	}
}
