package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// callWithin calls method and fails the test if it does not return in time
// (a deadlock).
func callWithin(t *testing.T, o *Object, method string) (Value, error) {
	t.Helper()
	type result struct {
		v   Value
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := o.Call(context.Background(), method)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return within 10s", method)
		return Value{}, nil
	}
}

// A function made by a generation that failed to load does not survive in
// a persisted table: the failed load's write is undone, and the call that
// would have run it neither deadlocks nor runs it. (Were one to escape,
// its hot functions refuse to run: see generation.checkAlive.)
func TestFunctionOfFailedGenerationDoesNotDeadlock(t *testing.T) {
	e, dir := newEngine(t, map[string]string{"c.lua": `
local S = hot.persist("s", {})
local C = hot.class("C")
function C:run() if S.cb then return S.cb() end return 0 end
return C
`})
	obj, _ := e.New(context.Background(), "C")
	writeScripts(t, dir, map[string]string{"c.lua": `
local S = hot.persist("s", {})
S.cb = function() return hot.persist("x", 1) end
error("this version fails")
`})
	if _, err := e.Reload(context.Background()); err == nil {
		t.Fatal("the reload should fail")
	}
	v, err := callWithin(t, obj, "run")
	if n, _ := v.Int(); err != nil || n != 0 {
		t.Fatalf("run = %v, %v; want 0: the failed generation's function must not be there", v, err)
	}
}

// A failing reload's top-level code gives a persisted live object another
// metatable: the object keeps its class, since nothing of a failed reload
// may change.
func TestFailedReloadLeavesLiveObjectsAlone(t *testing.T) {
	files := map[string]string{
		"c.lua": "local C = hot.class('C')\nfunction C:who() return 'v1' end\nreturn C\n",
		"m.lua": "local C = require('c')\nlocal P = hot.persist('p', function() return {obj = C.new()} end)\nreturn {}\n",
	}
	e, dir := newEngine(t, files)
	obj := e.Objects("C")[0]
	writeScripts(t, dir, map[string]string{"m.lua": `
local C = require("c")
local P = hot.persist("p", function() return {obj = C.new()} end)
local Evil = {}
Evil.__index = Evil
function Evil:who() return "from a failed generation" end
setmetatable(P.obj, Evil)
error("this reload fails")
`})
	if _, err := e.Reload(context.Background()); err == nil {
		t.Fatal("the reload should fail")
	}
	if v, err := obj.Call(context.Background(), "who"); err != nil || v.Any() != "v1" {
		t.Fatalf("who = %v, %v; want v1", v, err)
	}
	if obj.String() != "C@"+obj.Version().String() || obj.Version().Generation != 1 {
		t.Fatalf("object = %v", obj)
	}
}

// A reload handler that never returns is stopped by LoadTimeout: the reload
// completes and calls go on.
func TestLoopingHookIsStopped(t *testing.T) {
	e, dir := newEngine(t, map[string]string{"c.lua": goodClass}, func(o *Options) { o.LoadTimeout = 200 * time.Millisecond })
	obj, _ := e.New(context.Background(), "Good")
	rep := reload(t, e, dir, map[string]string{"h.lua": "hot.on('reload', function() while true do end end)\nreturn 1\n"})
	if len(rep.HookErrors) != 1 || !strings.Contains(rep.HookErrors[0].Error(), "deadline exceeded") {
		t.Fatalf("hook errors = %v", rep.HookErrors)
	}
	if _, err := callWithin(t, obj, "bump"); err != nil {
		t.Fatal(err)
	}
}

// An object that changes class back and forth is listed, and migrated,
// once.
func TestObjectChangingClassIsTrackedOnce(t *testing.T) {
	files := map[string]string{
		"a.lua": "local A = hot.class('A')\nfunction A:__migrate() self.migrations = (self.migrations or 0) + 1 end\nreturn A\n",
		"b.lua": "return hot.class('B')\n",
	}
	e, dir := newEngine(t, files)
	obj, _ := e.New(context.Background(), "A")
	a, b := mustClass(t, e, "A"), mustClass(t, e, "B")
	for range 200 {
		obj.SetClass(b)
		obj.SetClass(a)
	}
	if n := len(e.Objects("A")); n != 1 {
		t.Fatalf("Objects(A) = %d, want 1", n)
	}
	rep := reload(t, e, dir, map[string]string{"a.lua": files["a.lua"] + "-- v2\n"})
	if m, _ := obj.Get("migrations"); rep.Migrated != 1 || m.Any() != 1.0 {
		t.Fatalf("migrated %d, the hook ran %v times; want once", rep.Migrated, m)
	}
}

// An object pinned by a failed migration and then moved away by hand does
// not make later, unrelated reloads migrate its old class again.
func TestPinnedObjectMovedAwayIsForgotten(t *testing.T) {
	v1 := "local C = hot.class('C')\nfunction C:init(bad) self.bad = bad end\nreturn C\n"
	v2 := "local C = hot.class('C')\nfunction C:init(bad) self.bad = bad end\nfunction C:__migrate() if self.bad then error('no') end self.m = (self.m or 0) + 1 end\nreturn C\n"
	e, dir := newEngine(t, map[string]string{"c.lua": v1, "d.lua": "return hot.class('D')\n"})
	ctx := context.Background()
	good, _ := e.New(ctx, "C", false)
	bad, _ := e.New(ctx, "C", true)
	if rep := reload(t, e, dir, map[string]string{"c.lua": v2}); len(rep.Failed) != 1 {
		t.Fatalf("failed = %v", rep.Failed)
	}
	bad.SetClass(mustClass(t, e, "D"))
	for i := range 3 {
		rep := reload(t, e, dir, map[string]string{"other.lua": strings.Repeat("-- edit\n", i+1)})
		if len(rep.Changed) != 0 || rep.Migrated != 0 {
			t.Fatalf("unrelated reload %d: changed %v, migrated %d", i, rep.Changed, rep.Migrated)
		}
	}
	if m, _ := good.Get("m"); m.Any() != 1.0 {
		t.Fatalf("the good object migrated %v times, want 1", m)
	}
}

// With DeferCommit, a parked reload of an edit that the author reverted is
// dropped, not committed at the next safe point.
func TestRevertedEditIsNotCommitted(t *testing.T) {
	v1 := "local C = hot.class('C')\nfunction C:v() return 1 end\nreturn C\n"
	e, dir := newEngine(t, map[string]string{"c.lua": v1}, func(o *Options) { o.DeferCommit = true })
	obj, _ := e.New(context.Background(), "C")
	writeScripts(t, dir, map[string]string{"c.lua": strings.Replace(v1, "return 1", "return 2", 1)})
	watchReload(e, "c.lua")
	if !e.HasPending() {
		t.Fatal("no reload parked")
	}
	writeScripts(t, dir, map[string]string{"c.lua": v1})
	watchReload(e, "c.lua")
	if r, err := e.CommitPending(); r != nil || err != nil {
		t.Fatalf("CommitPending committed %v (%v) after the edit was reverted", r, err)
	}
	if v, _ := obj.Call(context.Background(), "v"); v.Any() != 1.0 {
		t.Fatalf("v = %v, want 1", v)
	}
}

// A shard's OnReload may call its engine: it runs after the locks are
// released.
func TestShardsOnReloadMayCallTheEngine(t *testing.T) {
	dir := t.TempDir()
	writeScripts(t, dir, map[string]string{"c.lua": goodClass})
	var s *Shards
	calls := make(chan uint64, 8)
	opts := Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler), OnReload: func(ev ReloadEvent) {
		if s != nil {
			s.Shard("a").HasPending()
			calls <- s.Shard("a").Generation()
		}
	}}
	s, err := NewShards(opts, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan error, 1)
	go func() { _, err := s.Reload(context.Background()); done <- err }()
	select {
	case err := <-done:
		if err != nil || len(calls) != 2 {
			t.Fatalf("err %v, %d callbacks", err, len(calls))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shards.Reload deadlocked with OnReload calling a shard")
	}
}

// A coroutine started before a reload keeps running the code of the
// generation that started it, and can be resumed after.
func TestCoroutineSurvivesReload(t *testing.T) {
	src := `
local C = hot.class("C")
function C:start()
  self.co = coroutine.create(function()
    for i = 1, 3 do coroutine.yield("%s " .. i) end
  end)
end
function C:step() local _, v = coroutine.resume(self.co) return v end
function C:tag() return "%s" end
return C
`
	e, dir := newEngine(t, map[string]string{"c.lua": strings.ReplaceAll(src, "%s", "old")})
	obj, _ := e.New(context.Background(), "C")
	call(t, obj, "start")
	if got := call(t, obj, "step"); got != "old 1" {
		t.Fatalf("step = %v", got)
	}
	reload(t, e, dir, map[string]string{"c.lua": strings.ReplaceAll(src, "%s", "new")})
	if got := call(t, obj, "tag"); got != "new" {
		t.Fatalf("tag = %v, want the new version", got)
	}
	if got := call(t, obj, "step"); got != "old 2" {
		t.Fatalf("step after reload = %v, want the coroutine's own code", got)
	}
}

// A method a script (or the console) defines while the program runs is
// what the next call from Go runs, as it is for calls from Lua.
func TestMethodDefinedAtRunTimeIsCalled(t *testing.T) {
	e, _ := newEngine(t, map[string]string{"e.lua": "local E = hot.class('E')\nfunction E:v() return 'old' end\nreturn E\n"})
	obj, _ := e.New(context.Background(), "E")
	if got := call(t, obj, "v"); got != "old" {
		t.Fatalf("v = %v", got)
	}
	if err := e.Do(context.Background(), func(L *lua.LState) error {
		return L.DoString(`local E = require("e") function E:v() return "patched" end`)
	}); err != nil {
		t.Fatal(err)
	}
	if got := call(t, obj, "v"); got != "patched" {
		t.Fatalf("v after a run-time definition = %v, want patched", got)
	}
}

// An init that fails makes New fail with an error naming the class and
// init, and no object.
func TestNewReportsFailingInit(t *testing.T) {
	e, _ := newEngine(t, map[string]string{"c.lua": "local C = hot.class('C')\nfunction C:init(x) error('bad ' .. x) end\nreturn C\n"})
	obj, err := e.New(context.Background(), "C", "arg")
	se, ok := err.(*ScriptError)
	if obj != nil || !ok || se.Class != "C" || se.Method != "init" || se.Path != "c.lua" || se.Line != 2 || !strings.Contains(se.Message, "bad arg") {
		t.Fatalf("New = %v, %#v", obj, err)
	}
}

// TestCoroutineResumesAcrossReloads checks that a coroutine started
// before a reload, kept in an object's field, resumes at every call after
// it: its yields left the new generation's state believing it still ran
// ("can not resume a running thread" from the second resume on).
func TestCoroutineResumesAcrossReloads(t *testing.T) {
	src := `local C = hot.class("c")
function C:start() self.co = coroutine.create(function() for i = 1, 10 do coroutine.yield(i) end end) end
function C:step()
  local ok, v = coroutine.resume(self.co)
  return tostring(ok) .. ":" .. tostring(v) .. ":" .. coroutine.status(self.co)
end
return C
`
	e, dir := newEngine(t, map[string]string{"c.lua": src})
	o, err := e.New(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	call(t, o, "start")
	call(t, o, "step")
	reload(t, e, dir, map[string]string{"c.lua": src + "-- v2\n"})
	for i := 2; i <= 4; i++ {
		if got, want := call(t, o, "step"), fmt.Sprintf("true:%d:suspended", i); got != want {
			t.Fatalf("resume %d after the reload = %v, want %s", i, got, want)
		}
	}
}

// TestModuleClassOfAHotClassNameFails checks that a module returning a
// class fails its load when a module loaded before it made a hot.class of
// the same name: the two shared one handle, so objects of the hot.class
// ran the module's methods. (In the other order hot.class refuses.)
func TestModuleClassOfAHotClassNameFails(t *testing.T) {
	dir := t.TempDir()
	writeScripts(t, dir, map[string]string{
		"a.lua": `local X = hot.class("b") function X:f() return "X" end return X`,
		"b.lua": `local B = {} B.__index = B function B:f() return "B" end return B`,
	})
	_, err := New(Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), `b.lua:1:1: module b returns a class, and hot.class("b") in module a already defined`) {
		t.Fatalf("New = %v, want the clash named at b.lua", err)
	}
}

// TestFailedRequireInPcallOwnsNothing checks that a module whose top level
// failed under pcall(require, ...) is no longer loading once the pcall
// returns: it stayed the module of what its requirer defined next, so
// class a was versioned by bad.lua, and an edit of a.lua changed nothing
// (no change reported, no __migrate).
func TestFailedRequireInPcallOwnsNothing(t *testing.T) {
	files := map[string]string{
		"a.lua": `FLAG = true
local ok = pcall(require, "bad")
FLAG = nil
local C = hot.class("a")
function C:__migrate(old) self.migrated = true end
return C`,
		"bad.lua": `if FLAG then error("flagged") end return {}`,
	}
	e, dir := newEngine(t, files)
	o, err := e.New(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	files["a.lua"] += "\n-- edited\n"
	if r := reload(t, e, dir, files); !slices.Equal(r.Changed, []string{"a"}) || r.Migrated != 1 {
		t.Fatalf("edit of a.lua: changed %v, migrated %d; want [a], 1", r.Changed, r.Migrated)
	}
	if v, _ := o.Get("migrated"); v.Any() != true {
		t.Fatalf("migrated = %v, want true", v.Any())
	}
}
