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

// TestArenaChangesBehaviorLive runs the demo on a copy of scripts/, edits a
// unit class while it runs, then saves a broken file: the first changes what
// goblins do at the next ticks, the second is reported while the world keeps
// running.
func TestArenaChangesBehaviorLive(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../scripts")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{scripts: dir, entities: 30, tick: 5 * time.Millisecond, status: 50 * time.Millisecond}, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	waitFor := func(want string) string {
		t.Helper()
		for lines.Scan() {
			if strings.Contains(lines.Text(), want) {
				return lines.Text()
			}
		}
		t.Fatalf("output ended before a line containing %q", want)
		return ""
	}
	goblin := filepath.Join(dir, "units", "goblin.lua")
	src, err := os.ReadFile(goblin)
	if err != nil {
		t.Fatal(err)
	}

	waitFor("actions[")
	edited := strings.ReplaceAll(string(src), `return "bite"`, `return "chomp"`)
	edited = strings.ReplaceAll(edited, `return "chase"`, `return "chomp"`)
	if err := os.WriteFile(goblin, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("reload: generation 2")
	waitFor("chomp=")

	if err := os.WriteFile(goblin, []byte("local Goblin = hot.class(\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	line := waitFor("reload: FAILED")
	if !strings.Contains(line, "units/goblin.lua:") || !strings.Contains(line, "still on generation 2") {
		t.Fatalf("failure line = %q, want the script's path and the running generation", line)
	}
	waitFor("chomp=") // the world keeps running on the last good version
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
