package engine

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzScript loads arbitrary script bytes and calls an arbitrary method on
// an object of each class they define: whatever the input, the engine
// returns values or errors and the host never panics, hangs or dies.
// Seeds are in testdata/fuzz/FuzzScript; .ci/run fuzzes briefly.
func FuzzScript(f *testing.F) {
	f.Add([]byte(goodClass), "bump")
	f.Add([]byte(badMethods), "loop")
	f.Add([]byte(enemyV1), "damage")
	f.Fuzz(func(t *testing.T, src []byte, method string) {
		dir := t.TempDir()
		writeFuzzScript(t, dir, "fuzz.lua", src)
		e, err := newFuzzEngine(dir)
		if err != nil {
			var se *ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("load error %T is not a *ScriptError: %v", err, err)
			}
			return
		}
		defer e.Close()
		for _, c := range e.Classes() {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			obj, err := e.New(ctx, c.Name, 1, "x")
			if err == nil {
				obj.Call(ctx, method, 2, "y", obj)
				obj.Get(method)
			}
			cancel()
		}
		if _, err := e.Reload(context.Background()); err != nil {
			var se *ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("reload error %T is not a *ScriptError: %v", err, err)
			}
		}
	})
}

// persistedData makes persisted tables of every shape a reload's top
// level may reach into (nested, a cycle, holes, NaN, a table under two
// keys, an object); churn writes them, as calls do.
const persistedData = `
local s = hot.persist("s", function()
  local t = {n = 1, nan = 0/0, list = {1, 2, nil, 4}, sub = {x = 1, deep = {y = {z = 1}}}, [1.5] = true, [true] = "yes"}
  t.self, t.sub.up = t, t
  return t
end)
local alias = hot.persist("alias", s)
local w = hot.persist("w", function() return setmetatable({hp = 1}, {}) end)
local P = {}
P.__index = P
function P:churn() s.n = (tonumber(s.n) or 0) + 1 s[s.n % 7] = s.n return s.n end
`

// FuzzReloadTopLevel reloads persisted data with an arbitrary top level,
// which meets stand-ins and views of the persisted tables: the reload
// succeeds or fails with a *ScriptError, the host never panics, hangs or
// dies, and the engine answers calls after it.
func FuzzReloadTopLevel(f *testing.F) {
	for _, top := range []string{
		"s.n = s.n + 1 table.insert(s.list, 2, s.sub) s.sub.deep.y.z = s",
		"for k, v in pairs(s) do s[k] = v end local _, v = pairs(s.sub) v.x = w.hp",
		"table.sort(s.list, function(a, b) return tostring(a) < tostring(b) end) s[s.sub] = #s.list",
		"local co = coroutine.wrap(function() for k in pairs(alias) do coroutine.yield(k) end end) co() w.x = s.sub co()",
		"setmetatable(s.sub, {__index = s}) s.sub.deep = nil rawset(s, 0/0 == 0/0, s.self)",
	} {
		f.Add(top)
	}
	f.Fuzz(func(t *testing.T, top string) {
		dir := t.TempDir()
		writeFuzzScript(t, dir, "p.lua", []byte(persistedData+"return P\n"))
		e, err := newFuzzEngine(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		obj, err := e.New(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		writeFuzzScript(t, dir, "p.lua", []byte(persistedData+"do "+top+"\nend\nreturn P\n"))
		if _, err := e.Reload(ctx); err != nil {
			if _, ok := errors.AsType[*ScriptError](err); !ok {
				t.Fatalf("reload error %T is not a *ScriptError: %v", err, err)
			}
		}
		if _, err := obj.Call(ctx, "churn"); errors.Is(err, ErrBusy) || errors.Is(err, ErrClosed) {
			t.Fatalf("after the reload the engine does not answer: %v", err)
		}
	})
}

// writeFuzzScript writes src as the script name under dir.
func writeFuzzScript(t *testing.T, dir, name string, src []byte) {
	if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
		t.Fatal(err)
	}
}

// newFuzzEngine loads dir with the fuzzers' bounds: a short load timeout
// and a memory bound, so that no input hangs or exhausts the host.
func newFuzzEngine(dir string) (*Engine, error) {
	return New(Options{
		Roots:       []string{dir},
		Logger:      slog.New(slog.DiscardHandler),
		LoadTimeout: 200 * time.Millisecond,
		Limits:      Limits{MaxMemoryBytes: 64 << 20},
	})
}
