package engine

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"weak"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/bindings"
)

// A reload gives a class table exactly the fields and metatable the new
// script defines, whatever calls did to it meanwhile, and it stays the same
// table: what scripts see of it after the commit.
func TestClassTableTakesExactlyTheNewDefinition(t *testing.T) {
	thing := func(base, body string) string {
		return `local Base = require("` + base + `")
local Thing = setmetatable({}, Base)
Thing.__index = Thing
` + body + `
return Thing
`
	}
	files := map[string]string{
		"base1.lua": "local B = {}\nB.__index = B\nB.name = 'base1'\nreturn B\n",
		"base2.lua": "local B = {}\nB.__index = B\nB.name = 'base2'\nreturn B\n",
		"thing.lua": thing("base1", "Thing.kind = 'v1'\nfunction Thing:old() return 1 end"),
		"probe.lua": `
local Thing = require("thing")
local Probe = hot.class("Probe")
-- What a call does to the class between two reloads.
function Probe:meddle()
  hot.persist("held", function() return {Thing} end)
  Thing.extra = true
  Thing.old = function() return "meddled" end
end
function Probe:describe()
  local keys = {}
  for k in pairs(Thing) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local held = hot.persist("held", function() return {} end)[1]
  return table.concat(keys, ",") .. " len=" .. #Thing .. " base=" .. getmetatable(Thing).name ..
    " kind=" .. tostring(Thing.kind) .. " same=" .. tostring(rawequal(held, Thing))
end
return Probe
`,
	}
	e, dir := newEngine(t, files)
	ctx := context.Background()
	probe, err := e.New(ctx, "Probe")
	if err != nil {
		t.Fatal(err)
	}
	call(t, probe, "meddle")
	if got, want := call(t, probe, "describe"), "__index,extra,kind,old len=0 base=base1 kind=v1 same=true"; got != want {
		t.Fatalf("before the reload: %q, want %q", got, want)
	}
	reload(t, e, dir, map[string]string{"thing.lua": thing("base2", "Thing.kind = 'v2'\nThing[1], Thing[2] = 'a', 'b'\nfunction Thing:new() return 2 end")})
	if got, want := call(t, probe, "describe"), "1,2,__index,kind,new len=2 base=base2 kind=v2 same=true"; got != want {
		t.Errorf("after the reload: %q, want %q", got, want)
	}
}

// An object made before reloads answers with the metamethods of each new
// version: those added, changed and removed.
func TestObjectsFollowMetamethodsAcrossReloads(t *testing.T) {
	point := func(body string) string {
		return "local P = {}\nP.__index = P\nfunction P:init() self.x = 1 end\n" + body + "\nreturn P\n"
	}
	probe := `
local P = require("point")
local Probe = hot.class("Probe")
function Probe:show(o) return tostring(o):gsub("table: 0x%x+", "table") .. " " .. tostring(rawequal(getmetatable(o), P)) end
function Probe:add(o) local ok, v = pcall(function() return o + 1 end) return ok and v or "no __add" end
return Probe
`
	e, dir := newEngine(t, map[string]string{
		"point.lua": point("function P.__tostring(p) return 'v1' end"),
		"probe.lua": probe,
	})
	ctx := context.Background()
	obj, err := e.New(ctx, "point")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		body, show string
		add        any
	}{
		{"function P.__tostring(p) return 'v1' end", "v1 true", "no __add"},
		{"function P.__tostring(p) return 'v2' end\nfunction P.__add(p, n) return p.x + n end", "v2 true", float64(2)},
		{"function P.__add(p, n) return p.x + n + 10 end", "table true", float64(12)},
		{"function P.__tostring(p) return 'v4' end", "v4 true", "no __add"},
	}
	for i, s := range steps {
		if i > 0 {
			reload(t, e, dir, map[string]string{"point.lua": point(s.body)})
		}
		p, err := e.New(ctx, "Probe")
		if err != nil {
			t.Fatal(err)
		}
		if got := call(t, p, "show", obj); got != s.show {
			t.Errorf("step %d: tostring(obj) = %v, want %v", i+1, got, s.show)
		}
		if got := call(t, p, "add", obj); got != s.add {
			t.Errorf("step %d: obj + 1 = %v, want %v", i+1, got, s.add)
		}
	}
}

// After a reload, pairs visits a class table's fields in the order the new
// script defined them, as it does in the first generation, where the class
// is the table the script made.
func TestReloadedClassIteratesInDefinitionOrder(t *testing.T) {
	src := "local C = {}\nC.__index = C\n"
	for _, k := range []string{"kilo", "alpha", "echo", "zulu", "bravo", "mike", "delta", "yankee", "golf", "charlie", "xray", "lima"} {
		src += "function C." + k + "() end\n"
	}
	src += "return C\n"
	files := map[string]string{
		"c.lua": src,
		"probe.lua": `
local C = require("c")
local Probe = hot.class("Probe")
function Probe:keys()
  local keys = {}
  for k in pairs(C) do keys[#keys + 1] = k end
  return table.concat(keys, ",")
end
return Probe
`,
	}
	e, dir := newEngine(t, files)
	probe, err := e.New(context.Background(), "Probe")
	if err != nil {
		t.Fatal(err)
	}
	want := call(t, probe, "keys")
	for i := range 3 {
		reload(t, e, dir, map[string]string{"c.lua": src + strings.Repeat("-- edited\n", i+1)})
		if got := call(t, probe, "keys"); got != want {
			t.Fatalf("after reload %d, pairs visits %s, want %s (as generation 1)", i+1, got, want)
		}
	}
}

// TestMadeClassTablesAreFreedAfterTheCommit: the class table a reload's
// module made, whose fields the commit merged into the stable one, is not
// kept by the engine: only the stable table holds the class's contents, so
// a generation does not keep a second copy of every class.
func TestMadeClassTablesAreFreedAfterTheCommit(t *testing.T) {
	var made weak.Pointer[lua.LTable]
	reg := bindings.New()
	if err := reg.Func("capture", func(L *lua.LState) int {
		made = weak.Make(L.CheckTable(1))
		return 0
	}); err != nil {
		t.Fatal(err)
	}
	const script = `
local Goblin = {}
Goblin.__index = Goblin
function Goblin:speak() return "v%d" end
capture(Goblin)
return Goblin
`
	e, dir := newEngine(t, map[string]string{"goblin.lua": fmt.Sprintf(script, 1)}, func(o *Options) { o.Bindings = reg })
	g, err := e.New(context.Background(), "goblin")
	if err != nil {
		t.Fatal(err)
	}
	writeScripts(t, dir, map[string]string{"goblin.lua": fmt.Sprintf(script, 2)})
	if _, err := e.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := call(t, g, "speak"); got != "v2" {
		t.Fatalf("speak after the reload = %v, want v2", got)
	}
	runtime.GC()
	if made.Value() != nil {
		t.Errorf("the class table generation 2 made is still in memory after its commit")
	}
}

// A top level that stores its class in persisted data (an object nested
// in a persisted table) stores the class itself: after each reload the
// field is the class scripts see, with the new methods.
func TestClassStoredInPersistedDataIsTheClass(t *testing.T) {
	class := func(v string) string {
		return fmt.Sprintf(`local C = hot.class("C")
function C:who() return %q end
function C:kindWho() return self.kind == C and self.kind.who(self) or "another table" end
return C
`, v)
	}
	e, dir := newEngine(t, map[string]string{
		"c.lua": class("v1"),
		"m.lua": `local C = require("c")
local P = hot.persist("p", function() return {list = {C.new()}} end)
P.list[1].kind = C
return {}
`,
	})
	obj := e.Objects("C")[0]
	for _, v := range []string{"v2", "v3"} {
		reload(t, e, dir, map[string]string{"c.lua": class(v)})
		if got, err := obj.Call(context.Background(), "kindWho"); err != nil || got.Any() != v {
			t.Fatalf("after the reload to %s, kindWho = %v, %v; want %s", v, got, err, v)
		}
	}
}

// A top level that reaches a kept library's registry of objects (which
// holds calls up) and stores the class it made in each object: the walk
// stops at objects, so the field holds the table the load made, which must
// still be a working class of the new version after the commit.
func TestClassStoredInAnObjectOfAKeptLibraryStillWorks(t *testing.T) {
	class := func(v string) string {
		return fmt.Sprintf(`local reg = require("reg")
local C = hot.class("C")
function C:init() reg.track(self) end
function C:who() return %q end
function C:kindWho()
	local k = self.kind
	if k == nil then return "none" end
	return tostring(k.who and k.who(self))
end
reg.each(function(o) o.kind = C end)
return C
`, v)
	}
	e, dir := newEngine(t, map[string]string{
		"c.lua": class("v1"),
		"reg.lua": `local objects = {}
local reg = {}
function reg.track(o) objects[#objects + 1] = o end
function reg.each(f) for _, o in ipairs(objects) do f(o) end end
function reg.wrap(t, mt) return setmetatable(t, mt) end
return reg
`,
	})
	obj, err := e.New(context.Background(), "C")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v2", "v3"} {
		report := reload(t, e, dir, map[string]string{"c.lua": class(v)})
		if report.HeldBy == "" {
			t.Fatalf("the reload to %s did not hold calls up: the library was not kept", v)
		}
		if got, err := obj.Call(context.Background(), "kindWho"); err != nil || got.Any() != v {
			t.Fatalf("after the reload to %s, kindWho = %v, %v; want %s", v, got, err, v)
		}
	}
}

// What the identity walk cannot see keeps a working class: a callback a
// load gave a Go binding, and a coroutine it started that holds the class
// in a local, find the new version's methods through the table the load
// made (not the class itself: they are out of the walk's reach).
func TestClassHeldOutOfTheWalksReachStillWorks(t *testing.T) {
	var handler atomic.Pointer[lua.LFunction]
	reg := bindings.New()
	if err := reg.Func("subscribe", func(fn *lua.LFunction) { handler.Store(fn) }); err != nil {
		t.Fatal(err)
	}
	class := func(v string) string {
		return fmt.Sprintf("local C = hot.class(\"C\")\nfunction C.who() return %q end\nreturn C\n", v)
	}
	e, dir := newEngine(t, map[string]string{
		"c.lua": class("v1"),
		"t.lua": `local C = require("c")
subscribe(function() return C.who and C.who() or "no who" end)
local co = coroutine.wrap(function()
	local K = C
	while true do coroutine.yield(K.who and K.who() or "no who") end
end)
co()
function tick() return co() end
return {}
`,
	}, func(o *Options) { o.Bindings = reg })
	for _, v := range []string{"v2", "v3"} {
		reload(t, e, dir, map[string]string{"c.lua": class(v)})
		var said lua.LValue
		err := e.Do(context.Background(), func(L *lua.LState) error {
			if err := L.CallByParam(lua.P{Fn: handler.Load(), NRet: 1, Protect: true}); err != nil {
				return err
			}
			said = L.Get(-1)
			L.Pop(1)
			return nil
		})
		if err != nil || said != lua.LString(v) {
			t.Errorf("after the reload to %s, the callback says %v, %v; want %s", v, said, err, v)
		}
		if got, err := e.CallGlobal(context.Background(), "tick"); err != nil || got.Any() != v {
			t.Errorf("after the reload to %s, the coroutine says %v, %v; want %s", v, got, err, v)
		}
	}
}
