package engine

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

const callbackClass = `
local C = {}
C.__index = C
function C:ping() return "ping v1" end
function C:keepClosure() self.fn = function() return "closure" end end
function C:keepMethod() self.cb = hot.method(self, "ping") end
function C:fire() return self.cb() end
return C
`

// TestMethodCallbackFollowsReloads: a callback made with hot.method runs
// the newest version of its method, and keeps no old generation alive,
// while a closure stored in a field keeps its generation, and
// Engine.Generations names the field that holds it.
func TestMethodCallbackFollowsReloads(t *testing.T) {
	e, dir := newEngine(t, map[string]string{"c.lua": callbackClass})
	ctx := context.Background()
	withMethod, err := e.New(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	withClosure, _ := e.New(ctx, "c")
	call(t, withMethod, "keepMethod")
	call(t, withClosure, "keepClosure")
	if got := call(t, withMethod, "fire"); got != "ping v1" {
		t.Fatalf("fire = %v", got)
	}
	reload(t, e, dir, map[string]string{"c.lua": strings.Replace(callbackClass, "ping v1", "ping v2", 1)})
	if got := call(t, withMethod, "fire"); got != "ping v2" {
		t.Fatalf("fire after reload = %v, want the new method", got)
	}
	r := reload(t, e, dir, map[string]string{"c.lua": strings.Replace(callbackClass, "ping v1", "ping v3", 1)})
	runtime.GC()
	gens := e.Generations()
	var nums []uint64
	for _, g := range gens {
		nums = append(nums, g.Number)
	}
	if !slices.Equal(nums, []uint64{3, 1}) {
		t.Fatalf("generations in memory = %v, want [3 1]: generation 1 held by the closure, 2 by nothing", nums)
	}
	if want := []string{"c.fn: 1 objects"}; !slices.Equal(gens[1].Holders, want) {
		t.Errorf("holders of generation 1 = %q, want %q", gens[1].Holders, want)
	}
	if !slices.Equal(r.Retained, []uint64{1}) && !slices.Equal(r.Retained, nil) {
		t.Errorf("report retained = %v", r.Retained)
	}
	if err := withClosure.Set("fn", nil); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	if gens := e.Generations(); len(gens) != 1 {
		t.Errorf("generations in memory once the closure is gone = %+v, want the current one only", gens)
	}
}

// TestReloadsFreeOldGenerationsWithEveryClassLibrary: after five reloads
// that edit a class, only the current generation stays in memory, whatever
// library the classes are made with, and with registryclass (30log's
// registries are module state) the one whose run made the kept library
// (its functions are in use). A library registry keyed by
// classes is rekeyed by the stable class at each reload; gopher-lua keeps
// a key removed from a table in its key list for good, so the registry
// rekeyed in place held every generation's class, and each generation,
// alive (about 200 KB a reload).
func TestReloadsFreeOldGenerationsWithEveryClassLibrary(t *testing.T) {
	for _, lib := range classLibraries {
		t.Run(lib.dir, func(t *testing.T) {
			w := newLibWorld(t, lib.dir)
			for v := 2; v <= 6; v++ {
				w.edit(t, "animals/dog.lua", fmt.Sprintf("woof v%d", v-1), fmt.Sprintf("woof v%d", v))
				w.reload(t)
			}
			w.expect(t, "speak", "lua: woof v6", "go: woof v6")
			runtime.GC()
			for _, g := range w.e.Generations() {
				if !g.Current && (g.Number != 1 || lib.dir != "registryclass") {
					t.Errorf("generation %d of 6 is still in memory (held by %v)", g.Number, g.Holders)
				}
			}
		})
	}
}

// TestReportRetainedOnlyWhatIsHeld: Report.Retained lists an old
// generation only when something holds it, not one merely awaiting a
// garbage collection, so that a reload's line does not read as a leak.
func TestReportRetainedOnlyWhatIsHeld(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection but the test's
	e, dir := newEngine(t, map[string]string{"c.lua": callbackClass})
	o, err := e.New(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	call(t, o, "keepClosure") // holds generation 1
	edit := func(v int) *Report {
		return reload(t, e, dir, map[string]string{"c.lua": strings.Replace(callbackClass, "ping v1", fmt.Sprintf("ping v%d", v), 1)})
	}
	for v := 2; v <= 4; v++ {
		if r := edit(v); len(r.Retained) != 0 {
			t.Fatalf("generation %d: retained %v with no collection since the reloads: %s", r.Generation, r.Retained, r)
		}
	}
	runtime.GC()
	runtime.GC()
	if r := edit(5); !slices.Equal(r.Retained, []uint64{1}) {
		t.Fatalf("generation %d: retained %v, want [1], held by the closure: %s", r.Generation, r.Retained, r)
	}
	runtime.KeepAlive(o) // and so its closure
}

// TestGenerationsNameALibraryRegistryAsHolder: a kept library whose
// registry each generation's helper module adds a function to holds every
// generation; Engine.Generations names the library's state as the holder
// of each, not only of the generation that made the library.
func TestGenerationsNameALibraryRegistryAsHolder(t *testing.T) {
	e, dir := newEngine(t, map[string]string{
		"lib/reg.lua":  "local M = {}\nlocal registry = {}\nfunction M.add(k, v) registry[k] = v end\nsetmetatable(M, {})\nreturn M\n",
		"lib/user.lua": "local reg = require('lib.reg')\nlocal mt = {}\nreg.add(mt, function() return 1 end)\nreturn {mt = mt}\n",
		"app/c.lua":    "require('lib.user')\nreturn hot.class('app.c')\n",
	})
	for v := 2; v <= 4; v++ {
		reload(t, e, dir, map[string]string{"app/c.lua": fmt.Sprintf("require('lib.user')\nreturn hot.class('app.c') -- v%d\n", v)})
	}
	runtime.GC()
	var got []string
	for _, g := range e.Generations() {
		if !g.Current {
			got = append(got, fmt.Sprintf("%d: %s", g.Number, strings.Join(g.Holders, ", ")))
		}
	}
	want := []string{"1: library module lib.reg", "2: state of library module lib.reg", "3: state of library module lib.reg"}
	if !slices.Equal(got, want) {
		t.Fatalf("old generations and their holders:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestMethodCallbackMayYield: a hot.method callback run as a coroutine can
// yield from its method (an AI's patrol stepped each tick), and a callback
// whose method is gone says so at the line that called it.
func TestMethodCallbackMayYield(t *testing.T) {
	e, _ := newEngine(t, map[string]string{"guard.lua": `local G = hot.class("guard")
function G:patrol(n) for i = 1, n do coroutine.yield("step " .. i) end return "done" end
function G:steps()
  local co = coroutine.wrap(hot.method(self, "patrol"))
  return table.concat({co(2), co(), co()}, ", ")
end
function G:missing()
  local cb = hot.method(self, "nosuch")
  cb()
end
return G
`})
	o, err := e.New(context.Background(), "guard")
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, o, "steps"); got != "step 1, step 2, done" {
		t.Errorf("steps = %v", got)
	}
	if _, err := o.Call(context.Background(), "missing"); err == nil || !strings.HasPrefix(err.Error(), `guard.lua:9: in guard:missing: hot.method: the object has no method "nosuch"`) {
		t.Errorf("missing: %v", err)
	}
}
