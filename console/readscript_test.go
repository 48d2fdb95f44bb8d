//go:build unix

package console

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hotlua/hotlua/engine"
)

// TestReadScriptReadsOnlyScripts reads, as :source does, files whose
// names a script can give a chunk it loads: a link to a device that never
// ends, a pipe that no one writes and a sparse 1 GiB file are refused at once,
// without reading them; a script reads as it is.
func TestReadScriptReadsOnlyScripts(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "ok.lua"), []byte("return {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Roots: []string{root}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := os.Symlink("/dev/zero", filepath.Join(root, "zero.lua")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "pipe.lua"), 0o644); err != nil {
		t.Fatal(err)
	}
	big, err := os.Create(filepath.Join(root, "big.lua"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	big.Close()
	expectReads(t, e, []readCase{
		{"ok.lua", ""},
		{"zero.lua", "leads out of the script root"},
		{"pipe.lua", "is not a regular file"},
		{"big.lua", "is too large to show (1073741824 bytes, max 16777216)"},
		{"../ok.lua", "is not a script path"},
	})
}

// TestReadScriptStaysInTheRoot reads, as :source does, names a script can
// give a chunk it loads (loadstring(s, "ext/passwd")): a file reached
// through a symbolic link that leads out of the root, or through a root
// inside a linked tree, is refused, as is a file the engine would not load
// (not .lua, hidden); a link that stays in the root's tree reads, as the
// engine loads it.
func TestReadScriptStaysInTheRoot(t *testing.T) {
	outside := t.TempDir()
	secret := "secret\n"
	for _, name := range []string{"passwd", "passwd.lua"} {
		if err := os.WriteFile(filepath.Join(outside, name), []byte(secret), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tree := t.TempDir()
	root := filepath.Join(tree, "current") // a release link, as the engine allows
	if err := os.Mkdir(filepath.Join(tree, "v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("v1", root); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"ok.lua": "return {}\n", "notes.txt": secret, ".hidden.lua": secret} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e, err := engine.New(engine.Options{Roots: []string{root}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// Made after the engine's first load, which would refuse those leading out.
	for name, target := range map[string]string{
		"ext":      outside,
		"out.lua":  filepath.Join(outside, "passwd.lua"),
		"up.lua":   "../../" + filepath.Base(outside) + "/passwd.lua",
		"same.lua": "ok.lua",
		"abs.lua":  filepath.Join(tree, "v1", "ok.lua"),
	} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	expectReads(t, e, []readCase{
		{"ok.lua", ""},
		{"same.lua", ""},
		{"abs.lua", ""},
		{"ext/passwd", "is not a script path"},
		{"notes.txt", "is not a script path"},
		{".hidden.lua", "is not a script path"},
		{"ext/passwd.lua", "leads out of the script root"},
		{"out.lua", "leads out of the script root"},
		{"up.lua", "leads out of the script root"},
		{"nosuch.lua", "no such file"},
	})
}

// TestSourceOfAChunkNamedOutOfTheRoot is the attack on :source: a class
// whose method comes from a chunk named "ext/passwd" with ext a link out
// of the root. :source must refuse, and print nothing of the file.
func TestSourceOfAChunkNamedOutOfTheRoot(t *testing.T) {
	outside, root := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "passwd"), []byte("root:x:0:0:secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `local C = hot.class("c")
C.leak = loadstring("return function() end", "ext/passwd")()
return C
`
	if err := os.WriteFile(filepath.Join(root, "c.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "ext")); err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Roots: []string{root}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got := replay(ForEngine(e), "> :source c:leak\n")
	if strings.Contains(got, "secret") || !strings.Contains(got, "! ext/passwd: console: ext/passwd is not a script path") {
		t.Errorf(":source c:leak said:\n%s", got)
	}
}

// readCase is a path ReadScript is asked for, and the error it must give
// ("" for the file, which reads "return {}\n").
type readCase struct{ path, want string }

// expectReads asks e's console target for each case's path.
func expectReads(t *testing.T, e *engine.Engine, cases []readCase) {
	t.Helper()
	for _, tc := range cases {
		data, err := ForEngine(e).ReadScript(tc.path)
		switch {
		case tc.want == "" && (err != nil || string(data) != "return {}\n"):
			t.Errorf("%s: %q, %v", tc.path, data, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %d bytes, error %v, want %q", tc.path, len(data), err, tc.want)
		}
	}
}

// TestSourceSaysWhenTheFileChanged shows a method with :source, then after
// a save that failed to reload: the generation still runs the method as
// loaded, and the file's lines at its place are another text, which
// :source now says before showing them.
func TestSourceSaysWhenTheFileChanged(t *testing.T) {
	root := t.TempDir()
	const v1 = "local G = hot.class('g')\nfunction G:act()\n  return 1\nend\nreturn G\n"
	path := filepath.Join(root, "g.lua")
	if err := os.WriteFile(path, []byte(v1), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Roots: []string{root}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := NewSession(ForEngine(e))
	source := func() string {
		var out []string
		s.Input(context.Background(), ":source g:act", func(ev Event) { out = append(out, ev.Text) })
		return strings.Join(out, "\n")
	}
	if got := source(); strings.Contains(got, "changed since") || !strings.Contains(got, "return 1") {
		t.Fatalf(":source before any edit: %q, want the method's lines and no warning", got)
	}
	if err := os.WriteFile(path, []byte("-- a new first line\n"+v1+"x = = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reload(context.Background()); err == nil {
		t.Fatal("the broken save reloaded")
	}
	if got := source(); !strings.Contains(got, "g.lua changed since the running generation loaded it") {
		t.Fatalf(":source after a failed save: %q, want it to say the file changed", got)
	}
}

// TestInputIsHeldToTheEnginesLimits types a concatenation of 10 values,
// more than the sandbox's default of 8 in one expression, at the console
// of an engine whose scripts may join 16: the console takes what the
// engine's scripts may, and no more.
func TestInputIsHeldToTheEnginesLimits(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "ok.lua"), []byte("return {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eval := func(max int, code string) []Event {
		e, err := engine.New(engine.Options{Roots: []string{root}, Logger: slog.New(slog.DiscardHandler), Limits: engine.Limits{MaxConcatOperands: max}})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		var got []Event
		NewSession(ForEngine(e)).Input(context.Background(), code, func(ev Event) { got = append(got, ev) })
		return got
	}
	const ten = "local a = ('x'):rep(1) return a..a..a..a..a..a..a..a..a..a"
	if got := eval(16, ten); len(got) != 1 || got[0].Kind != Result || got[0].Text != `"xxxxxxxxxx"` {
		t.Errorf("at an engine joining 16: %v, want the result", got)
	}
	if got := eval(0, ten); len(got) != 1 || got[0].Kind != Error || !strings.Contains(got[0].Text, "a concatenation of 10 values") {
		t.Errorf("at an engine with the default limits: %v, want the concatenation refused", got)
	}
}
