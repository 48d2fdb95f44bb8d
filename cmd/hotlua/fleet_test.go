package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hotlua/hotlua/fleet"
)

// hotluaOut runs the command line in-process and returns its exit status,
// stdout and stderr.
func hotluaOut(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := hotlua(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errOut})
	return code, out.String(), errOut.String()
}

// startNodeProcess starts "hotlua run --fleet game --node name" as a child
// process and returns its stderr, read line by line.
func startNodeProcess(t *testing.T, bin, url, name string) *running {
	t.Helper()
	cmd := exec.Command(bin, "run", "--fleet", "game", "--node", name, "--cache", t.TempDir(), "--nats", url, "--console", "off", "--tick", "0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &running{lines: make(chan string, 256)}
	go func() {
		defer close(r.lines)
		for sc := bufio.NewScanner(stderr); sc.Scan(); {
			r.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		for range r.lines {
		}
		cmd.Wait()
	})
	return r
}

// TestFleetOfTwoProcesses runs two nodes as separate "hotlua run --fleet"
// processes and publishes to them: a change, a broken change that is
// rolled back, then a fix.
func TestFleetOfTwoProcesses(t *testing.T) {
	if testing.Short() || runtime.GOOS == "windows" {
		t.Skip("builds the binary and runs two nodes")
	}
	srv, err := fleet.StartServer(fleet.ServerOptions{StoreDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	bin := filepath.Join(t.TempDir(), "hotlua")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	nodes := []*running{startNodeProcess(t, bin, srv.URL(), "a"), startNodeProcess(t, bin, srv.URL(), "b")}
	for i, p := range nodes {
		p.waitFor(t, "fleet "+[]string{"a", "b"}[i]+" ACK revision 0")
	}
	dir := t.TempDir()
	write := func(body string) {
		if err := os.WriteFile(filepath.Join(dir, "greeter.lua"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	publish := func() (int, string, string) {
		return hotluaOut("publish", dir, "--fleet", "game", "--wait", "30s", "--nats", srv.URL())
	}

	write(`local G = hot.class("Greeter") function G:hi() return 1 end return G`)
	if code, out, errOut := publish(); code != 0 || !strings.Contains(out, "a ACK revision 1") || !strings.Contains(out, "b ACK revision 1") {
		t.Fatalf("publish: status %d\n%s%s", code, out, errOut)
	}
	for _, p := range nodes {
		p.waitFor(t, "generation 2: greeter.lua")
	}

	write(`local G = hot.class("Greeter") function G:hi() return 2 end return (`)
	code, out, errOut := publish()
	if code != 1 || !strings.Contains(out, "NACK revision 2 (kept 1): greeter.lua:1:") || !strings.Contains(errOut, "rolled back") {
		t.Fatalf("broken publish: status %d, want 1 after a NACK and a rollback\n%s%s", code, out, errOut)
	}

	write(`local G = hot.class("Greeter") function G:hi() return 3 end return G`)
	if code, out, errOut := publish(); code != 0 {
		t.Fatalf("fixed publish: status %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = hotluaOut("fleet", "status", "game", "--nats", srv.URL())
	if code != 0 || strings.Count(out, " ACK ") != 2 || !strings.Contains(out, "revision 4") {
		t.Fatalf("fleet status: status %d\n%s%s", code, out, errOut)
	}
}

// TestFleetUsageErrors checks the fleet commands' mistakes that need no
// server.
func TestFleetUsageErrors(t *testing.T) {
	rows := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"publish", "testdata/good"}, 2, "hotlua publish: --fleet NAME is required"},
		{[]string{"publish", "testdata/good", "--fleet", "game", "--canary", "-1"}, 2, "--canary -1"},
		{[]string{"publish", "testdata/missing", "--fleet", "game"}, 1, "testdata/missing: no such directory"},
		{[]string{"run", "testdata/good", "--fleet", "game"}, 2, "give DIR or --fleet NAME, not both"},
		{[]string{"fleet", "serve", "--listen", "0.0.0.0:4222"}, 2, "not a loopback address"},
		{[]string{"fleet", "status", "game", "--nats", "nats://admin:s3cret@127.0.0.1:1"}, 2, "not in the URL on the command line"},
		{[]string{"publish", "testdata/good", "--fleet", "game", "--nats", "nats://127.0.0.1:1,nats://t0ken@127.0.0.1:2"}, 2, "not in the URL"},
		{[]string{"fleet", "status"}, 2, "hotlua fleet status: missing NAME"},
		{[]string{"help", "fleet", "nope"}, 2, `unknown command "fleet nope"`},
	}
	for _, r := range rows {
		code, _, errOut := hotluaOut(r.args...)
		if code != r.code || !strings.Contains(errOut, r.stderr) {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant exit %d and %q", r.args, code, errOut, r.code, r.stderr)
		}
	}
}

// TestFleetServeOnAPortInUse checks that serve fails at once, naming the
// address and what to do, when its port is taken: the embedded server
// itself would only give up after waiting 30s for its own start.
func TestFleetServeOnAPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, _, errOut := hotluaOut("fleet", "serve", "--listen", addr, "--store", t.TempDir())
		done <- result{code, errOut}
	}()
	select {
	case r := <-done:
		if want := "hotlua fleet serve: fleet: listen tcp " + addr + ": bind: address already in use (another server listens there"; r.code != 1 || !strings.HasPrefix(r.stderr, want) {
			t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", r.code, r.stderr, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("fleet serve on a port in use still runs after 20s; want it to fail at once")
	}
}

// TestNodeWithoutBundleOrNATS starts a node with an empty cache and no
// NATS server to reach: it says that it has no bundle to run yet, not
// that it runs the last good one.
func TestNodeWithoutBundleOrNATS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	r := startRun(t, "--fleet", "game", "--node", "a", "--cache", t.TempDir(), "--nats", url, "--console", "off", "--tick", "0")
	if line := r.waitFor(t, "NATS is not reachable"); !strings.Contains(line, "no bundle is cached yet") {
		t.Errorf("%q, want it to say there is no bundle yet", line)
	}
	if code := r.stop(t); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}
