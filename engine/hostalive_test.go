package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotlua/hotlua/internal/childtest"
)

// TestHostSurvivesBadInput calls, with a deadline, methods whose input once
// ended the host process (Go's fatal stack overflow, which no recover
// catches) or ran far past their deadline inside a builtin. Each row runs in
// a child process, so a crash fails the row instead of the suite. In each,
// the call returns its error (or pcall's) by its deadline plus the time its
// limit needs, another object answers with its data, and the engine still
// reloads.
func TestHostSurvivesBadInput(t *testing.T) {
	const deep = `local t = {} for i = 1, 1e6 do t = {t} end self.deep = t`
	for _, tc := range []struct {
		name string
		body string // the body of Bad:run(); it may set up state in Bad:setup() first
		// setup is a body run first without a deadline, to build big input
		// (so that a loaded machine spends the deadline on what the row
		// tests, not on building it); "" for none.
		setup string
		want  string // in the call's error, or in the string it returns
	}{
		{"pattern of 10^7 open captures", `return string.find("x", self.p)`, `self.p = ("("):rep(1e7)`, "too many captures"},
		{"pattern of 10^7 open captures in pcall", `return tostring(select(2, pcall(string.find, "x", self.p)))`, `self.p = ("("):rep(1e7)`, "too many captures"},
		{"match of 33 captures", `return string.match(("x"):rep(33), ("(x)"):rep(33))`, "", "too many captures"},
		{"gsub of nested captures", `return (("x"):gsub(self.p, "y"))`, `self.p = ("("):rep(1e6) .. "x" .. (")"):rep(1e6)`, "too many captures"},
		{"gmatch of position captures", `for a in ("x"):gmatch(self.p) do end`, `self.p = ("()"):rep(1e6)`, "too many captures"},
		{"deeply nested result", `return self.deep`, deep, "nest deeper"},
		{"deeply nested error value", `error(self.deep)`, deep, "table"},
		{"coroutines nested without end", `local function f(n) return coroutine.wrap(function() return f(n + 1) end)() end return f(1)`, "", "C stack overflow"},
		{"coroutines nested under pcall", `local function f(n) return select(2, pcall(coroutine.wrap(function() return f(n + 1) end))) end return f(1)`, "", "C stack overflow"},
		{"coroutine resuming its resumer", `local a a = coroutine.create(function() local b = coroutine.create(function() return coroutine.resume(a) end) return select(3, coroutine.resume(b)) end) return select(2, coroutine.resume(a))`, "", "cannot resume non-suspended coroutine"},
		{"sort of 2 million numbers", `table.sort(self.t)`, `self.t = {} for i = 1, 2e6 do self.t[i] = (i * 7919) % 2e6 end`, "deadline exceeded"},
		{"sort with a comparator", `table.sort(self.t, function(a, b) return a > b end)`, `self.t = {} for i = 1, 2e6 do self.t[i] = (i * 7919) % 2e6 end`, "deadline exceeded"},
	} {
		childtest.Run(t, tc.name, func(t *testing.T) {
			setup := tc.setup
			bad := "local Bad = hot.class('Bad')\nfunction Bad:setup() " + setup + " end\nfunction Bad:run() " + tc.body + " end\nreturn Bad\n"
			e, dir := newEngine(t, map[string]string{"good.lua": goodClass, "bad.lua": bad}, func(o *Options) {
				o.QuarantineAfter = -1
			})
			ctx := context.Background()
			good, err := e.New(ctx, "Good")
			if err != nil {
				t.Fatal(err)
			}
			call(t, good, "bump")
			obj, err := e.New(ctx, "Bad")
			if err != nil {
				t.Fatal(err)
			}
			call(t, obj, "setup")
			cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			defer cancel()
			v, err := obj.Call(cctx, "run")
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = v.String()
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("Bad:run() = %q, %v; want %q in it", v.String(), err, tc.want)
			}
			if n := call(t, good, "bump"); n != 2.0 && n != int64(2) && n != 2 {
				t.Fatalf("the other object answered %v (%T), want 2", n, n)
			}
			reload(t, e, dir, map[string]string{"good.lua": goodClass + "-- changed\n"})
			if e.Generation() != 2 {
				t.Fatalf("generation %d after a reload, want 2", e.Generation())
			}
			if n := call(t, good, "bump"); n != 3.0 && n != int64(3) && n != 3 {
				t.Fatalf("after the reload the other object answered %v, want 3", n)
			}
		})
	}
}

// TestReloadStopsCompilingWhenItsContextEnds reloads changed scripts with a
// context that has already ended: the reload fails with the context's error
// before compiling, and the running version stays.
func TestReloadStopsCompilingWhenItsContextEnds(t *testing.T) {
	e, dir := newEngine(t, map[string]string{"good.lua": goodClass})
	writeScripts(t, dir, map[string]string{"good.lua": goodClass + "-- changed\n", "other.lua": "return 1\n"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Reload(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reload with an ended context: %v, want context.Canceled", err)
	}
	if e.Generation() != 1 {
		t.Fatalf("generation %d, want 1", e.Generation())
	}
	if _, err := e.Reload(context.Background()); err != nil || e.Generation() != 2 {
		t.Fatalf("the next reload: %v, generation %d", err, e.Generation())
	}
}
