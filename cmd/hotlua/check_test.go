package main

import (
	"path/filepath"
	"testing"
)

// TestCheck runs hotlua check on good and bad script sets: every problem is
// one line, path:line:col: message with the path relative to DIR.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		dir    string
		code   int
		stdout string
	}{
		{"testdata/good", 0, "ok: 3 scripts, 2 classes\n"},
		{"testdata/bad", 1, "broken.lua:6:1: syntax error near 'end'\n" +
			"unclosed.lua:4:15: syntax error at end of file\n"},
		{"testdata/threebroken", 1, "locals.lua:1:1: too many local variables (in the main chunk)\n" +
			"syntax.lua:3:10: syntax error near '='\n" +
			"runtime.lua:3: attempt to index a non-table object(nil) with key 'speed'\n"},
		{"testdata/badcheck", 1, "game/rules.lua:4: check failed: game.rules: speed must be positive\n"},
		{"testdata/good/shapes/square.lua", 0, "ok: testdata/good/shapes/square.lua\n"},
		{"testdata/bad/broken.lua", 1, "testdata/bad/broken.lua:6:1: syntax error near 'end'\n"},
		// The root of a file is where the modules it requires are, though
		// it holds no .lua file of its own.
		{"testdata/nested/units/runner.lua", 0, "ok: testdata/nested/units/runner.lua\n"},
		{"testdata/nested/units/broken.lua", 1, "testdata/nested/units/broken.lua:2: attempt to index a non-table object(nil) with key 'max'\n"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			code, stdout, stderr := call(t, "check", tc.dir)
			if code != tc.code || stdout != tc.stdout || stderr != "" {
				t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout:\n%s", code, stdout, stderr, tc.code, tc.stdout)
			}
		})
	}
	empty := t.TempDir()
	if code, _, stderr := call(t, "check", empty); code != 1 || stderr != "hotlua check: "+empty+": no .lua scripts found\n" {
		t.Errorf("check of an empty directory: exit %d, stderr %q; want 1 and why", code, stderr)
	}
	// Several paths are all checked, each named; one failing fails the
	// command.
	code, stdout, _ := call(t, "check", "testdata/good", "testdata/bad/broken.lua")
	if code != 1 || stdout != "ok: testdata/good: 3 scripts, 2 classes\n"+filepath.FromSlash("testdata/bad/broken.lua")+":6:1: syntax error near 'end'\n" {
		t.Errorf("check of two paths: exit %d, stdout %q", code, stdout)
	}
}

// TestCheckFileFromInsideItsRoot checks a file named relative to a working
// directory below its script root, as an editor runs a checker: the root
// found above the working directory is used, and problems are named as
// the file was, for the editor that named it.
func TestCheckFileFromInsideItsRoot(t *testing.T) {
	t.Chdir("testdata/nested/units")
	if code, stdout, stderr := call(t, "check", "runner.lua"); code != 0 || stdout != "ok: runner.lua\n" || stderr != "" {
		t.Errorf("check runner.lua: exit %d, stdout %q, stderr %q; want 0 and ok", code, stdout, stderr)
	}
	want := "broken.lua:2: attempt to index a non-table object(nil) with key 'max'\n"
	if code, stdout, _ := call(t, "check", "broken.lua"); code != 1 || stdout != want {
		t.Errorf("check broken.lua: exit %d, stdout %q; want 1 and %q", code, stdout, want)
	}
	if code, stdout, _ := call(t, "check", "runner.lua", "broken.lua"); code != 1 || stdout != "ok: runner.lua\n"+want {
		t.Errorf("check runner.lua broken.lua: exit %d, stdout %q; want 1 and %q", code, stdout, want)
	}
}
