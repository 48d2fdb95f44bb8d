package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestCheckReportsEveryProblem checks a project with independent broken
// modules of each kind and one that requires a broken one: every problem
// is listed once, at path:line:col or path:line, a module that requires a
// broken one says so, and nothing else is listed.
func TestCheckReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	writeScripts(t, dir, map[string]string{
		"good.lua":          goodClass,
		"a/syntax.lua":      "local x = = 1",
		"b/runtime.lua":     "local t = nil\nreturn t.x",
		"c/limit.lua":       "if x then" + strings.Repeat("\nelseif x then", 1001) + " end",
		"d/locals.lua":      distinctLines("local v%d = 1", 201),
		"e/top.lua":         "error('top level fails')",
		"f/uses_top.lua":    "local top = require 'e.top'\nreturn top",
		"g/check.lua":       "hot.check(function() return false, 'invariant broken' end)",
		"h/also_good.lua":   "return require('good')",
		"i/missing.lua":     "return require('nowhere')",
		"j/deep/again.lua":  "return require 'e/top'",
		"k/uses_syntax.lua": "return require 'a.syntax'",
	})
	res, err := Check(context.Background(), Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler)})
	if res != nil || err == nil {
		t.Fatalf("Check = %v, %v; want problems", res, err)
	}
	want := []string{
		"c/limit.lua:1002:1: if statement with more than 1000 elseif branches",
		"a/syntax.lua:1:11: syntax error near '='",
		"d/locals.lua:1:1: too many local variables (in the main chunk)",
		"b/runtime.lua:2: attempt to index",
		"e/top.lua:1: top level fails",
		"f/uses_top.lua:1: module 'e.top' failed to load",
		"i/missing.lua:1: module 'nowhere' not found in the script roots",
		"j/deep/again.lua:1: module 'e.top' failed to load",
		"k/uses_syntax.lua:1: module 'a.syntax' failed to load",
		"g/check.lua:1: check failed: invariant broken",
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d problems, want %d:\n%s", len(got), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("problem %d = %q, want it to start with %q", i+1, got[i], w)
		}
	}
	var se *ScriptError
	if !errors.As(err, &se) {
		t.Errorf("the problems are not ScriptErrors: %#v", err)
	}
	res, err = Check(context.Background(), Options{Roots: []string{"testdata/idioms"}, Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard, Stderr: io.Discard})
	if err != nil || res.Scripts != 11 {
		t.Fatalf("Check of the idioms: %+v, %v", res, err)
	}
}
