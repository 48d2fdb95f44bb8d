package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinaryStopsOnSIGTERM builds the command and checks that run ends
// cleanly, with status 0, on SIGTERM.
func TestBinaryStopsOnSIGTERM(t *testing.T) {
	if testing.Short() || runtime.GOOS == "windows" {
		t.Skip("builds the binary and sends it a signal")
	}
	bin := filepath.Join(t.TempDir(), "hotlua")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "run", "--console", "off", "testdata/good")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() }).Stop()
	lines := bufio.NewScanner(stderr)
	var seen []string
	running := false
	for !running && lines.Scan() {
		seen = append(seen, lines.Text())
		running = strings.HasPrefix(lines.Text(), "hotlua: running ")
	}
	if !running {
		t.Fatalf("it did not start; stderr:\n%s", strings.Join(seen, "\n"))
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		seen = append(seen, lines.Text())
	}
	if err := cmd.Wait(); err != nil || seen[len(seen)-1] != "hotlua: stopped" {
		t.Errorf("after SIGTERM: %v; stderr:\n%s", err, strings.Join(seen, "\n"))
	}
}
