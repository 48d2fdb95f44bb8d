package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotlua/hotlua/examples/internal/demotest"
)

// TestServerReloadsWithoutDroppingConnections connects a client, edits the
// handler script, waits for the reload, and sends another line on the same
// connection: it gets the new handler's answer, from a session that kept
// its fields.
func TestServerReloadsWithoutDroppingConnections(t *testing.T) {
	dir := demotest.CopyScripts(t, "scripts")
	cfg := config{addr: "127.0.0.1:0", scripts: dir}
	out := demotest.Start(t, func(ctx context.Context, w io.Writer) error { return run(ctx, cfg, w) })
	waitFor := out.WaitFor

	_, addr, _ := strings.Cut(waitFor("server: listening on "), "listening on ")
	conn, err := net.Dial("tcp", strings.TrimSuffix(strings.Fields(addr)[0], ","))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	replies := bufio.NewScanner(conn)
	ask := func(line, want string) {
		t.Helper()
		if _, err := io.WriteString(conn, line+"\n"); err != nil {
			t.Fatal(err)
		}
		if !replies.Scan() {
			t.Fatalf("no reply to %q: %v", line, replies.Err())
		}
		if replies.Text() != want {
			t.Errorf("reply to %q = %q, want %q", line, replies.Text(), want)
		}
	}
	ask("hello", "echo: hello")
	ask("/nick bob", "you are now bob")

	handler := filepath.Join(dir, "handlers", "session.lua")
	src, err := os.ReadFile(handler)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), `return "echo: " .. text`, `return string.format("%s (line %d): %s", self.nick, self.lines, text)`, 1)
	if err := os.WriteFile(handler, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("server: reloaded generation 2")
	ask("still here?", "bob (line 3): still here?")

	if err := out.Stop(); err != nil {
		t.Fatal(err)
	}
}
