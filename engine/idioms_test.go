package engine

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idiomsDir holds one script per idiom of real Lua code that once failed to
// load in the sandbox (issue 13): a Latin-1 comment, a long concatenation
// of constants, a slash-path require, a shebang, function string:split, a
// read of package.config, debug.traceback, collectgarbage("collect"),
// io.write and a copy of string made with pairs. Each asserts what it
// relies on.
const idiomsDir = "testdata/idioms"

// TestRealCodeIdiomsLoad loads every idiom sandboxed, all together and
// each alone (with the module it requires), and checks where io.write and
// io.stderr:write went.
func TestRealCodeIdiomsLoad(t *testing.T) {
	var out, errOut strings.Builder
	if _, err := New(Options{Roots: []string{idiomsDir}, Logger: slog.New(slog.DiscardHandler), Stdout: &out, Stderr: &errOut}); err != nil {
		t.Fatalf("the idioms together: %v", err)
	}
	if out.String() != "io.write 1\nstdout\n" || errOut.String() != "stderr\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	files, err := filepath.Glob(filepath.Join(idiomsDir, "*.lua"))
	if err != nil || len(files) < 9 {
		t.Fatalf("idioms: %v, %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, f, filepath.Join(dir, filepath.Base(f)))
			copyFile(t, filepath.Join(idiomsDir, "game", "util.lua"), filepath.Join(dir, "game", "util.lua"))
			e, err := New(Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler), Stdout: &out, Stderr: &errOut})
			if err != nil {
				t.Fatal(err)
			}
			e.Close()
		})
	}
}

// copyFile copies the file from to the path to, making its directory.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(to), 0o755)
	}
	if err == nil {
		err = os.WriteFile(to, data, fs.FileMode(0o644))
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestLibraryAdditionsLastOneGeneration adds a function to string from one
// script and removes the script: after the reload, the function is gone,
// and no script could replace a builtin meanwhile.
func TestLibraryAdditionsLastOneGeneration(t *testing.T) {
	probe := `local Probe = hot.class("Probe")
function Probe:shout() return string.shout ~= nil and ("hi"):shout() or "gone" end
function Probe:replace() string.upper = string.lower end
return Probe
`
	e, dir := newEngine(t, map[string]string{"ext.lua": `function string:shout() return self:upper() .. "!" end`, "probe.lua": probe})
	p, err := e.New(context.Background(), "Probe")
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, p, "shout"); got != "HI!" {
		t.Fatalf("shout = %v, want HI!", got)
	}
	if _, err := p.Call(context.Background(), "replace"); err == nil || !strings.Contains(err.Error(), "cannot assign string.upper") {
		t.Fatalf("replacing a builtin: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "ext.lua")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := call(t, p, "shout"); got != "gone" {
		t.Fatalf("after removing ext.lua, shout = %v, want gone", got)
	}
}
