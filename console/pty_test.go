package console

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// childEnv makes the test binary run an in-process console (Run) on its
// terminal instead of the tests; its value is the history file.
const childEnv = "HOTLUA_CONSOLE_TEST_HISTORY"

func TestMain(m *testing.M) {
	if hist := os.Getenv(childEnv); hist != "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err := Run(context.Background(), newFakeTarget(), ClientOptions{HistoryFile: hist}); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// terminalOutput collects what a pseudo-terminal shows.
type terminalOutput struct {
	mu   sync.Mutex
	buf  []byte
	read int // how far waitFor has consumed
	more chan struct{}
}

func (o *terminalOutput) copyFrom(r io.Reader) {
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		o.mu.Lock()
		o.buf = append(o.buf, b[:n]...)
		o.mu.Unlock()
		select {
		case o.more <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// waitFor waits until s appears after the last match.
func (o *terminalOutput) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		o.mu.Lock()
		i := bytes.Index(o.buf[o.read:], []byte(s))
		if i >= 0 {
			o.read += i + len(s)
		}
		seen := string(o.buf[o.read:])
		o.mu.Unlock()
		if i >= 0 {
			return
		}
		select {
		case <-o.more:
		case <-deadline:
			t.Fatalf("terminal never showed %q; after the last match it shows %q", s, seen)
		}
	}
}

// TestTerminal drives the in-process console under a real pseudo-terminal:
// Ctrl-C stops a running loop and drops a pending chunk, tab completes,
// history is kept with mode 0600, Ctrl-D quits.
func TestTerminal(t *testing.T) {
	hist := filepath.Join(t.TempDir(), "history")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+hist)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer tty.Close()
	out := &terminalOutput{more: make(chan struct{}, 1)}
	go out.copyFrom(tty)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()
	typeIn := func(s string) {
		t.Helper()
		if _, err := tty.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}

	// Wait for each prompt before typing: readline reads keys raw only
	// while it shows a prompt; in between, the terminal is cooked and
	// Ctrl-C is a SIGINT.
	out.waitFor(t, "hotlua console, generation 1")
	out.waitFor(t, "> ")
	typeIn(`print("spin" .. "ning") while true do end` + "\r")
	out.waitFor(t, "spinning")
	typeIn("\x03")
	out.waitFor(t, "interrupted")
	out.waitFor(t, "> ")
	typeIn("21 * 2\r")
	out.waitFor(t, "42")
	out.waitFor(t, "> ")

	typeIn("for i = 1, 2 do\r")
	out.waitFor(t, ">> ")
	typeIn("\x03")
	out.waitFor(t, "> ")
	typeIn("20 + 3\r")
	out.waitFor(t, "23")
	out.waitFor(t, "> ")

	typeIn("for i = 1, 2 do\r")
	out.waitFor(t, ">> ")
	typeIn("print(i * 100)\rend\r")
	out.waitFor(t, "200")
	out.waitFor(t, "> ")

	typeIn("string.up\t")
	out.waitFor(t, "upper")
	typeIn("('x')\r")
	out.waitFor(t, `"X"`)
	out.waitFor(t, "> ")
	typeIn("\x04")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("console exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Ctrl-D did not quit")
	}

	fi, err := os.Stat(hist)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("history has mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(hist)
	// The dropped chunk is not there; the multi-line one is one entry.
	want := `print("spin" .. "ning") while true do end
21 * 2
20 + 3
for i = 1, 2 do print(i * 100) end
string.upper('x')
`
	if string(data) != want {
		t.Errorf("history is\n%s\nwant\n%s", data, want)
	}
}
