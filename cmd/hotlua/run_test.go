package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// running is a "hotlua run" started in-process, whose stderr the test reads
// line by line.
type running struct {
	lines  chan string
	seen   []string
	code   chan int
	cancel context.CancelFunc
}

// startRun starts "hotlua run args..." and stops it when the test ends.
func startRun(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	// The buffer lets the command log while the test waits on something
	// else, such as a console client the command logs about.
	r := &running{lines: make(chan string, 1024), code: make(chan int, 1), cancel: cancel}
	go func() {
		r.code <- hotlua(ctx, append([]string{"run"}, args...), stdio{in: strings.NewReader(""), out: io.Discard, err: pw})
		pw.Close()
	}()
	go func() {
		defer close(r.lines)
		for sc := bufio.NewScanner(pr); sc.Scan(); {
			r.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cancel()
		for range r.lines {
		}
	})
	return r
}

// waitFor returns the next line of stderr that contains want, failing the
// test if none comes within 20 seconds.
func (r *running) waitFor(t *testing.T, want string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-r.lines:
			if !ok {
				t.Fatalf("stderr ended before a line containing %q; it said:\n%s", want, strings.Join(r.seen, "\n"))
			}
			r.seen = append(r.seen, line)
			if strings.Contains(line, want) {
				return line
			}
		case <-timeout:
			t.Fatalf("no line containing %q within 20s; stderr said:\n%s", want, strings.Join(r.seen, "\n"))
		}
	}
}

// stop stops the command as a signal would and returns its exit status.
func (r *running) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	r.waitFor(t, "hotlua: stopped")
	return <-r.code
}

// after returns what follows prefix in line.
func after(t *testing.T, line, prefix string) string {
	t.Helper()
	_, rest, ok := strings.Cut(line, prefix)
	if !ok {
		t.Fatalf("line %q has no %q", line, prefix)
	}
	return strings.Fields(rest)[0]
}

// copyScripts copies a testdata script set to a temporary directory.
func copyScripts(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", name))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRunWithTCPConsole runs the good scripts with a tcp console, evaluates
// code in them with "hotlua console -e", and saves a broken then a fixed
// script, seen by polling: the first is reported with its position and
// changes nothing, the second makes a new generation.
func TestRunWithTCPConsole(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv(tokenEnv, "")
	dir := copyScripts(t, "good")
	// Flags after the directory, as most commands allow.
	r := startRun(t, "-v", "--console", "tcp:127.0.0.1:0", dir, "--tick", "5ms", "--poll", "10ms")
	r.waitFor(t, "hotlua: reload (initial): generation 1: main.lua, shapes/shape.lua, shapes/square.lua")
	at := r.waitFor(t, "hotlua: console at ")
	addr := after(t, at, "console at ")
	// The attach hint is a command that works as printed, and the token
	// itself stays out of the program's output.
	hint := r.waitFor(t, "hotlua: attach: ")
	tokenFile := after(t, hint, "hotlua console --token-file ")
	if want := "hotlua: attach: hotlua console --token-file " + tokenFile + " " + addr; hint != want {
		t.Errorf("the attach hint is %q, want %q", hint, want)
	}
	fi, err := os.Stat(tokenFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file %s: %v, %v; want mode 0600", tokenFile, fi, err)
	}
	data, _ := os.ReadFile(tokenFile)
	token := strings.TrimSpace(string(data))
	if token == "" || strings.Contains(at+hint, token) {
		t.Errorf("token %q: want it in its file only, not printed in %q, %q", token, at, hint)
	}
	if code, stdout, stderr := call(t, strings.Fields(strings.TrimPrefix(hint, "hotlua: attach: hotlua "))...); code != 0 || stdout != "" {
		t.Errorf("the attach hint as printed: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	r.waitFor(t, "hotlua: calling tick(dt)")

	console := func(wantCode int, wantOut, wantErr string, args ...string) {
		t.Helper()
		code, stdout, stderr := call(t, append([]string{"console"}, args...)...)
		if code != wantCode || stdout != wantOut || !strings.Contains(stderr, wantErr) {
			t.Errorf("console %q: exit %d, stdout %q, stderr %q; want %d, %q, %q", args, code, stdout, stderr, wantCode, wantOut, wantErr)
		}
	}
	console(0, "true\n", "", "-e", "ticks.n > 0", "--token-file", tokenFile, addr)
	console(1, "", "boom", "-e", "error('boom')", "--token-file", tokenFile, addr)
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("wrong\n"), 0o600)
	console(1, "", "", "-e", "1", "--token-file", wrong, addr)
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o600)
	console(1, "", "hotlua console: "+empty+": the token file is empty", "-e", "1", "--token-file", empty, addr)
	// A missing token is one message that says what to do, interactively
	// and with -e alike.
	for _, args := range [][]string{{"console", addr}, {"console", "-e", "1", addr}} {
		if code, _, stderr := call(t, args...); code != 1 || !strings.HasPrefix(stderr, "hotlua console: authentication failed (a tcp console needs its token: --token-file FILE") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q without its token: exit %d, stderr %q", args, code, stderr)
		}
	}
	t.Setenv(tokenEnv, token)
	console(0, "16\n", "", "-e", "require('shapes.square').new(4):area()", addr)
	// Several -e run in order in one session, and stop at the first error.
	console(0, "1\n2\n", "", "-e", "n = 1", "-e", "n", addr, "-e", "n + 1")
	console(1, "", "console:1: stop here", "-e", "error('stop here')", "-e", "print('not reached')", addr)

	square := filepath.Join(dir, "shapes", "square.lua")
	src, err := os.ReadFile(square)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(square, []byte("local Square = {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "hotlua: reload (poll) failed; generation 1 keeps running:")
	if line := r.waitFor(t, "shapes/square.lua"); line != "shapes/square.lua:1:17: syntax error at end of file" {
		t.Errorf("problem line = %q", line)
	}
	// Undoing the broken save says so.
	if err := os.WriteFile(square, src, 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "hotlua: shapes/square.lua: back to the running code of generation 1")
	fixed := strings.Replace(string(src), "return self.side * self.side", "return self.side ^ 2", 1)
	if err := os.WriteFile(square, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "hotlua: reload (poll): generation 2: shapes/square.lua")
	console(0, "generation 2\n", "", "-e", ":version", addr)
	// Each reload was said once, in the command's words: the engine's own
	// records of them (logged before they are reported) are left out.
	for _, line := range r.seen {
		if strings.Contains(line, `msg="hotlua: reload`) || strings.Contains(line, `msg="hotlua: back to`) {
			t.Errorf("the engine's record of a reload, which the command reports itself: %q", line)
		}
	}

	if code := r.stop(t); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if _, err := os.Stat(tokenFile); !os.IsNotExist(err) {
		t.Errorf("token file left behind: %v", err)
	}
}

// TestRunWithDefaultConsole runs scripts without ticks on the default
// console, a unix socket in $XDG_RUNTIME_DIR, and attaches to it with and
// without -e.
func TestRunWithDefaultConsole(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	runtimeDir, err := os.MkdirTemp("", "hl") // short: a socket path is limited to about 100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(runtimeDir) })
	t.Setenv("XDG_RUNTIME_DIR", runtimeDir)
	r := startRun(t, "--tick", "0", "testdata/good")
	addr := after(t, r.waitFor(t, "hotlua: console at "), "console at ")
	if !strings.HasPrefix(addr, "unix:"+filepath.Join(runtimeDir, "hotlua")) {
		t.Errorf("console at %s, want a socket in %s", addr, runtimeDir)
	}
	if code, stdout, stderr := call(t, "console", "-e", "require('shapes.square').new(3):area()", addr); code != 0 || stdout != "9\n" {
		t.Errorf("console -e: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr := callInput(t, "sq = require('shapes.square').new(5)\nsq:area()\n", "console", addr)
	if code != 0 || !strings.Contains(stdout, "25") {
		t.Errorf("interactive console: exit %d, stdout %q, stderr %q; want 0 and 25", code, stdout, stderr)
	}
	// Input from a pipe is no history, and fails as -e does: when a chunk
	// failed, or is left incomplete at its end.
	if history, _ := os.ReadFile(filepath.Join(cache, "hotlua", "console_history")); strings.Contains(string(history), "sq:area()") {
		t.Errorf("history file: %q; want no line of piped input", history)
	}
	if code, _, stderr := callInput(t, "x = 1\nerror('boom', 0)\nx = 2\n", "console", addr); code != 1 || !strings.Contains(stderr, "boom") {
		t.Errorf("piped input with an error: exit %d, stderr %q; want 1 and the error", code, stderr)
	}
	if code, _, stderr := callInput(t, "x = (1 +\n", "console", addr); code != 1 || !strings.Contains(stderr, "incomplete chunk") {
		t.Errorf("piped input ending inside a chunk: exit %d, stderr %q; want 1 and why", code, stderr)
	}
	if code := r.stop(t); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}

// TestRunRefusesBrokenScripts checks that run reports the problems of
// scripts that do not load, each on a line that starts with the command's
// name, and exits 1.
func TestRunRefusesBrokenScripts(t *testing.T) {
	r := startRun(t, "--console", "off", "testdata/bad")
	if line := r.waitFor(t, ".lua:"); line != "hotlua run: broken.lua:6:1: syntax error near 'end'" {
		t.Errorf("first line = %q, want the first problem alone", line)
	}
	if line := r.waitFor(t, "unclosed.lua:"); line != "hotlua run: unclosed.lua:4:15: syntax error at end of file" {
		t.Errorf("second line = %q, want the second problem alone", line)
	}
	if code := <-r.code; code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
}
