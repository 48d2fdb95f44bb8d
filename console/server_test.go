package console

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hotlua/hotlua/internal/syncbuf"
)

// serve runs Serve on ln in the background until the test ends.
func serve(t *testing.T, ln net.Listener, opts ServeOptions) *fakeTarget {
	t.Helper()
	target := newFakeTarget()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, target, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return target
}

func listenUnix(t *testing.T) (addr string, ln net.Listener) {
	t.Helper()
	addr = "unix:" + filepath.Join(t.TempDir(), "run", "console.sock")
	ln, err := Listen(addr, ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return addr, ln
}

func listenTCP(t *testing.T) (addr string, ln net.Listener) {
	t.Helper()
	ln, err := Listen("tcp:127.0.0.1:0", ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return "tcp:" + ln.Addr().String(), ln
}

// rawClient speaks the protocol by hand.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	conn, err := dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t, conn, bufio.NewReader(conn)}
}

func (c *rawClient) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, line+"\n"); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next line, or "EOF" when the server closed the
// connection, waiting at most 10 seconds.
func (c *rawClient) next() string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := c.r.ReadString('\n')
	// Closing with unread input may reset the connection instead.
	if (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) && line == "" {
		return "EOF"
	}
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, line)
	}
	return strings.TrimSuffix(line, "\n")
}

// expect reads lines until one equal to want, failing on EOF.
func (c *rawClient) expect(want string) {
	c.t.Helper()
	var skipped []string
	for {
		line := c.next()
		if line == want {
			return
		}
		if line == "EOF" {
			c.t.Fatalf("connection closed while waiting for %q; got %q", want, skipped)
		}
		skipped = append(skipped, line)
	}
}

func TestUnixSocketPermissions(t *testing.T) {
	addr, ln := listenUnix(t)
	path := strings.TrimPrefix(addr, "unix:")
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{filepath.Dir(path), 0o700}, {path, 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != c.want {
			t.Errorf("%s has mode %v, want %v", c.path, fi.Mode().Perm(), c.want)
		}
	}
	serve(t, ln, ServeOptions{})
	var stdout, stderr bytes.Buffer
	if code := Exec(addr, "", &stdout, &stderr, "1 + 1"); code != 0 || stdout.String() != "2\n" {
		t.Fatalf("Exec = %d, %q, %q", code, stdout.String(), stderr.String())
	}
}

func TestUnixStaleSocketReplacedLiveRefused(t *testing.T) {
	addr, ln := listenUnix(t)
	if _, err := Listen(addr, ListenOptions{}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Listen on a live socket: %v", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // leaves the socket file behind, as a crash would
	ln, err := Listen(addr, ListenOptions{})
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	ln.Close()
}

// TestPeerUIDRefused injects an allowed uid that is not ours, standing in
// for a peer with another uid (the test runs as a single user).
func TestPeerUIDRefused(t *testing.T) {
	addr, ln := listenUnix(t)
	serve(t, ln, ServeOptions{AllowedUIDs: []int{os.Getuid() + 1}})
	c := dialRaw(t, addr) // the uid is checked before anything is read
	if got := c.next(); got != "EOF" {
		t.Fatalf("peer with another uid got %q, want the connection closed", got)
	}
}

func TestTCPRequiresToken(t *testing.T) {
	_, ln := listenTCP(t)
	if err := Serve(context.Background(), ln, newFakeTarget(), ServeOptions{}); !errors.Is(err, ErrTokenRequired) {
		t.Fatalf("Serve without token = %v", err)
	}
}

func TestTCPWrongToken(t *testing.T) {
	addr, ln := listenTCP(t)
	token := NewToken()
	serve(t, ln, ServeOptions{Token: token})
	for _, first := range []string{"AUTH wrong", "AUTH", "EVAL os.exit(1)"} {
		c := dialRaw(t, addr)
		c.send(first)
		if got := c.next(); got != "ERR console: authentication failed" {
			t.Errorf("after %q got %q", first, got)
		}
		if got := c.next(); got != "EOF" {
			t.Errorf("after %q the connection stayed open: %q", first, got)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Exec(addr, "wrong", &stdout, &stderr, "1"); code != 1 || !strings.Contains(stderr.String(), "authentication failed") {
		t.Errorf("Exec with wrong token = %d, %q", code, stderr.String())
	}
	stderr.Reset()
	if code := Exec(addr, token, &stdout, &stderr, "1"); code != 0 || stdout.String() != "1\n" {
		t.Errorf("Exec with token = %d, %q, %q", code, stdout.String(), stderr.String())
	}
}

func TestHTTPPreambleDropped(t *testing.T) {
	addr, ln := listenTCP(t)
	serve(t, ln, ServeOptions{Token: NewToken()})
	for _, req := range []string{"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "POST /x HTTP/1.0\r\n\r\nEVAL 1"} {
		c := dialRaw(t, addr)
		if _, err := io.WriteString(c.conn, req); err != nil {
			t.Fatal(err)
		}
		if got := c.next(); got != "EOF" {
			t.Errorf("HTTP request %q got a reply %q", req, got)
		}
	}
}

// TestListenRefusesNonLoopback checks that Listen refuses bad addresses,
// and that its refusals of remote ones are ErrNotLoopback, which a program
// can name its own way to allow them after.
func TestListenRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"tcp:0.0.0.0:0", "tcp::0", "tcp:192.0.2.1:0", "udp:x", "nowhere"} {
		ln, err := Listen(addr, ListenOptions{})
		if err == nil {
			ln.Close()
			t.Errorf("Listen(%q) succeeded", addr)
		}
		if remote := strings.HasPrefix(addr, "tcp:"); errors.Is(err, ErrNotLoopback) != remote {
			t.Errorf("Listen(%q): %v; errors.Is(err, ErrNotLoopback) = %v, want %v", addr, err, !remote, remote)
		}
	}
}

func TestLimits(t *testing.T) {
	addr, ln := listenUnix(t)
	serve(t, ln, ServeOptions{MaxSessions: 1, MaxLineBytes: 100, IdleTimeout: 200 * time.Millisecond})

	first := dialRaw(t, addr)
	first.send("AUTH")
	first.expect("PROMPT > ")
	// The second is refused once it has authenticated: connections that
	// never authenticate cannot take operators' sessions.
	second := dialRaw(t, addr)
	second.send("AUTH")
	if got := second.next(); got != "ERR console: too many sessions" {
		t.Errorf("second session got %q", got)
	}
	// The first session is idle: it ends, and its slot frees (soon after
	// the connection closes).
	first.expect("EOF")
	var long *rawClient
	for deadline := time.Now().Add(10 * time.Second); ; {
		long = dialRaw(t, addr)
		_, _ = io.WriteString(long.conn, "AUTH\n") // a refused one may be closed already
		if got := long.next(); strings.HasPrefix(got, "HELLO ") {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no session after the idle one ended: %q", got)
		}
	}
	long.expect("PROMPT > ")
	long.send("EVAL " + strings.Repeat("x", 200))
	long.expect("EOF")
}

// TestInterruptOverProtocol checks that INTR stops a long evaluation, which
// the idle timeout does not cut, and the rest of the protocol.
func TestInterruptOverProtocol(t *testing.T) {
	addr, ln := listenUnix(t)
	var logs syncbuf.Buffer
	serve(t, ln, ServeOptions{IdleTimeout: 300 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	c := dialRaw(t, addr)
	c.send("AUTH")
	if got := c.next(); !strings.HasPrefix(got, "HELLO hotlua console, generation 1") {
		t.Fatalf("greeting %q", got)
	}
	c.expect("PROMPT > ")
	c.send(`EVAL print("spinning") while true do end`)
	c.expect("OUT spinning")
	// Stay silent past the idle timeout: the evaluation keeps the session.
	<-time.After(600 * time.Millisecond)
	c.send("INTR")
	c.expect("ERR interrupted")
	c.expect("PROMPT > ")
	c.send(`EVAL for i = 1, 2 do`)
	c.expect("MORE >> ")
	c.send("DROP")
	c.expect("PROMPT > ")
	c.send(`EVAL "a\\\\b\\n"`) // the Lua string a\b and a newline
	c.expect(`RES "a\\\\b\\n"`)
	c.expect("PROMPT > ")
	c.send(`EVAL local x = 1\nreturn x + 1`) // one chunk of two lines
	c.expect("RES 2")
	c.expect("PROMPT > ")
	c.send("COMP pri")
	c.expect("COMP 3 print")
	c.send("EVAL :quit")
	c.expect("BYE")
	c.expect("EOF")
	if !strings.Contains(logs.String(), `msg="console: eval" session=1 peer=unix input="print(\"spinning\") while true do end"`) {
		t.Errorf("evaluation not logged:\n%s", logs.String())
	}
}

func TestExec(t *testing.T) {
	addr, ln := listenUnix(t)
	serve(t, ln, ServeOptions{})
	tests := []struct {
		code, stdout, stderr string
		exit                 int
	}{
		{"print('hi') return 1, 'two'", "hi\n1\t\"two\"\n", "", 0},
		{"local x = 20\nreturn x + 1", "21\n", "", 0},
		{"error('boom')", "", "console:1: boom\n", 1},
		{"print('before') error('boom')", "before\n", "console:1: boom\n", 1},
		{"for i = 1, 2 do", "", "console: incomplete chunk\n", 1},
		{"print(('z'):rep(3000000)) return 'after'", "\"after\"\n", outputDropped + " more than 1 MiB of it was waiting for the client\n", 0},
		{":version", "generation 1\n", "", 0},
		{":reload", "reloaded: generation 2, 0 objects moved\n", "", 0},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		exit := Exec(addr, "", &stdout, &stderr, tt.code)
		if exit != tt.exit || stdout.String() != tt.stdout || stderr.String() != tt.stderr {
			t.Errorf("Exec(%q) = %d, %q, %q; want %d, %q, %q", tt.code, exit, stdout.String(), stderr.String(), tt.exit, tt.stdout, tt.stderr)
		}
	}
	var stderr bytes.Buffer
	if exit := Exec("unix:"+filepath.Join(t.TempDir(), "none.sock"), "", io.Discard, &stderr, "1"); exit != 1 || stderr.Len() == 0 {
		t.Errorf("Exec on a missing socket = %d, %q", exit, stderr.String())
	}
}

func TestSocketDirOfAnotherUserRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "theirs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, os.Getuid()+1, -1); err != nil {
		t.Skipf("cannot give a directory to another uid: %v", err)
	}
	ln, err := Listen("unix:"+filepath.Join(dir, "console.sock"), ListenOptions{})
	if err == nil {
		ln.Close()
		t.Fatal("Listen in another user's directory succeeded")
	}
	if !strings.Contains(err.Error(), "belongs to uid") {
		t.Fatalf("Listen: %v", err)
	}
}

func TestDefaultAddr(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	addr := DefaultAddr()
	ln, err := Listen(addr, ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := filepath.Dir(strings.TrimPrefix(addr, "unix:"))
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("default socket directory %s has mode %v, want 0700", dir, fi.Mode().Perm())
	}
}

// Connections that never authenticate cannot lock operators out.
func TestIdleUnauthenticatedDoNotTakeSessions(t *testing.T) {
	addr, ln := listenUnix(t)
	serve(t, ln, ServeOptions{MaxSessions: 2})
	for range 2 * 2 {
		dialRaw(t, addr) // says nothing
	}
	op := dialRaw(t, addr)
	op.send("AUTH")
	if got := op.next(); !strings.HasPrefix(got, "HELLO ") {
		t.Fatalf("operator got %q, want a session", got)
	}
}

// TestLongResultsAreCut evaluates a result and an error of 200,000 bytes:
// each reaches the client cut to 64 KiB with the count of what was left
// out (results are never dropped, so a client that does not read could
// make the host hold any number of them), and the log quotes at most 1 KiB
// of the input and of the error.
func TestLongResultsAreCut(t *testing.T) {
	addr, ln := listenUnix(t)
	var logs syncbuf.Buffer
	serve(t, ln, ServeOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	c := dialRaw(t, addr)
	c.send("AUTH")
	c.next() // HELLO
	c.expect("PROMPT > ")
	c.send(`EVAL error(("x"):rep(200000), 0) -- ` + strings.Repeat("y", 5000))
	c.expect("ERR " + strings.Repeat("x", maxEventBytes) + fmt.Sprintf("... (%d more bytes)", 200000-maxEventBytes))
	c.expect("PROMPT > ")
	c.send(`EVAL ("é"):rep(50000)`)
	got := c.next()
	if len(got) > maxEventBytes+100 || !strings.HasSuffix(got, " more bytes)") || !utf8.ValidString(got) {
		t.Errorf("a 100,000-byte result came as %d bytes ending %q, want it cut to 64 KiB on a character", len(got), got[max(0, len(got)-40):])
	}
	c.expect("PROMPT > ")
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if len(line) > 3000 {
			t.Errorf("a log line of %d bytes: %.200s...", len(line), line)
		}
	}
}
