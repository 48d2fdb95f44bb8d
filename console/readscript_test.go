//go:build unix

package console

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hotlua/hotlua/engine"
)

// TestReadScriptReadsOnlyScripts reads, as :source does, files whose
// names a script can give a chunk it loads: a device that never ends, a
// pipe that no one writes and a sparse 1 GiB file are refused at once,
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
	for _, tc := range []struct{ path, want string }{
		{"ok.lua", ""},
		{"zero.lua", "is not a regular file"},
		{"pipe.lua", "is not a regular file"},
		{"big.lua", "is too large to show (1073741824 bytes, max 16777216)"},
		{"../ok.lua", "is not a script path"},
	} {
		data, err := ForEngine(e).ReadScript(tc.path)
		switch {
		case tc.want == "" && (err != nil || string(data) != "return {}\n"):
			t.Errorf("%s: %q, %v", tc.path, data, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %d bytes, error %v, want %q", tc.path, len(data), err, tc.want)
		}
	}
}
