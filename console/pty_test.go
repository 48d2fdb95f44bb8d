package console

import (
	"bytes"
	"context"
	"fmt"
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
// terminal instead of the tests; its value is the history file. With
// attachEnv too, it attaches to the console at that address instead, as
// "hotlua console ADDR" does.
const (
	childEnv  = "HOTLUA_CONSOLE_TEST_HISTORY"
	attachEnv = "HOTLUA_CONSOLE_TEST_ATTACH"
)

func TestMain(m *testing.M) {
	if hist := os.Getenv(childEnv); hist != "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
		var err error
		if addr := os.Getenv(attachEnv); addr != "" {
			err = Attach(context.Background(), addr, ClientOptions{HistoryFile: hist})
		} else {
			err = Run(context.Background(), newFakeTarget(), ClientOptions{HistoryFile: hist})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "client:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// terminalClient is a console client running in a pseudo-terminal.
type terminalClient struct {
	t      *testing.T
	tty    *os.File
	out    *terminalOutput
	exited chan error
}

// startTerminal runs the test binary as a console client in a
// pseudo-terminal: attached to addr, or in-process when addr is "".
func startTerminal(t *testing.T, addr, hist string) *terminalClient {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+hist, attachEnv+"="+addr)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	c := &terminalClient{t: t, tty: tty, out: &terminalOutput{more: make(chan struct{}, 1)}, exited: make(chan error, 1)}
	go c.out.copyFrom(tty)
	go func() { c.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
		tty.Close()
	})
	return c
}

// enter types line and Enter once the client shows a prompt.
func (c *terminalClient) enter(line string) {
	c.t.Helper()
	c.out.waitFor(c.t, "> ")
	if _, err := c.tty.WriteString(line + "\r"); err != nil {
		c.t.Fatal(err)
	}
}

// expect waits until the terminal shows s.
func (c *terminalClient) expect(s string) {
	c.t.Helper()
	c.out.waitFor(c.t, s)
}

// waitExit waits for the client to end and returns its error.
func (c *terminalClient) waitExit(why string) error {
	c.t.Helper()
	select {
	case err := <-c.exited:
		return err
	case <-time.After(20 * time.Second):
		c.out.mu.Lock()
		defer c.out.mu.Unlock()
		c.t.Fatalf("the client did not leave %s; its terminal shows %q", why, c.out.buf[c.out.read:])
		return nil
	}
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
	c := startTerminal(t, "", hist)
	out := c.out
	typeIn := func(s string) {
		t.Helper()
		if _, err := c.tty.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}

	// Wait for each prompt before typing: readline reads keys raw only
	// while it shows a prompt; in between, the terminal is cooked and
	// Ctrl-C is a SIGINT.
	out.waitFor(t, "hotlua console, generation 1")
	out.waitFor(t, "> ")
	typeIn(":timeout off\r") // only Ctrl-C stops the loop below, however slow the machine
	out.waitFor(t, "no deadline")
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
	// Up recalls the chunk whole, on one line, to edit: 100 becomes 300.
	typeIn("\x1b[A")
	out.waitFor(t, "for i = 1, 2 do\u2424print(i * 100)\u2424end")
	typeIn("\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x7f3\r")
	out.waitFor(t, "600")
	out.waitFor(t, "> ")

	typeIn("string.up\t")
	out.waitFor(t, "upper")
	typeIn("('x')\r")
	out.waitFor(t, `"X"`)
	out.waitFor(t, "> ")
	typeIn("\x04")
	if err := c.waitExit("on Ctrl-D"); err != nil {
		t.Fatalf("console exited with %v", err)
	}

	fi, err := os.Stat(hist)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("history has mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(hist)
	// The dropped chunk is not there; the multi-line one is one entry,
	// with its newlines.
	want := historyHeader + `
:timeout off
print("spin" .. "ning") while true do end
21 * 2
20 + 3
for i = 1, 2 do\nprint(i * 100)\nend
for i = 1, 2 do\nprint(i * 300)\nend
string.upper('x')
`
	if string(data) != want {
		t.Errorf("history is\n%s\nwant\n%s", data, want)
	}
}
