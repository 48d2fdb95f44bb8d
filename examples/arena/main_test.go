package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotlua/hotlua/console"
	"github.com/hotlua/hotlua/engine"
	"github.com/hotlua/hotlua/examples/internal/demotest"
)

// TestArenaChangesBehaviorLive runs the demo on a copy of scripts/, edits a
// unit class while it runs, then saves a broken file: the first changes what
// goblins do at the next ticks, the second is reported while the world keeps
// running.
func TestArenaChangesBehaviorLive(t *testing.T) {
	dir := demotest.CopyScripts(t, "../../scripts")
	cfg := config{scripts: dir, entities: 30, tick: 5 * time.Millisecond, status: 50 * time.Millisecond, console: "unix:" + filepath.Join(t.TempDir(), "console.sock")}
	out := demotest.Start(t, func(ctx context.Context, w io.Writer) error { return run(ctx, cfg, w) })
	waitFor := out.WaitFor
	goblin := filepath.Join(dir, "units", "goblin.lua")
	src, err := os.ReadFile(goblin)
	if err != nil {
		t.Fatal(err)
	}

	// An operator attaches to the running demo's console socket.
	addr := strings.TrimPrefix(waitFor("arena: console: go run ./cmd/hotlua console "), "arena: console: go run ./cmd/hotlua console ")
	var stdout, stderr strings.Builder
	if code := console.Exec(addr, "", &stdout, &stderr, ":classes"); code != 0 || !strings.Contains(stdout.String(), "units.goblin g1:") {
		t.Fatalf("console :classes exited %d: %q %q", code, stdout.String(), stderr.String())
	}

	// While an evaluation holds the engine, the world goes on ticking: each
	// tick stops at its deadline and the status lines keep coming. The
	// evaluation loops until the operator detaches, which interrupts it:
	// it cannot end before a tick was late, however slow the machine.
	attachCtx, detach := context.WithCancel(context.Background())
	stdin, typing := io.Pipe()
	attached := make(chan error, 1)
	go func() {
		attached <- console.Attach(attachCtx, addr, console.ClientOptions{Stdin: stdin, Stdout: io.Discard, Stderr: io.Discard})
	}()
	// A pipe's write waits for its reader, the session.
	go io.WriteString(typing, ":timeout off\nwhile true do end\n")
	waitFor("| late ") // first of the actions
	select {
	case err := <-attached:
		t.Fatalf("the console session ended (%v) before a tick was late", err)
	default:
	}
	detach()
	select {
	case <-attached:
	case <-time.After(30 * time.Second):
		t.Fatal("the console session did not end when the operator detached")
	}
	typing.Close()

	waitFor("| reload: none | ")
	edited := strings.ReplaceAll(string(src), `return "bite"`, `return "chomp"`)
	edited = strings.ReplaceAll(edited, `return "chase"`, `return "chomp"`)
	if err := os.WriteFile(goblin, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("reload: generation 2")
	waitFor("chomp ")

	if err := os.WriteFile(goblin, []byte("local Goblin = hot.class(\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	line := waitFor("reload: FAILED")
	if !strings.Contains(line, "units/goblin.lua:") || !strings.Contains(line, "still on generation 2") {
		t.Fatalf("failure line = %q, want the script's path and the running generation", line)
	}
	waitFor("chomp ") // the world keeps running on the last good version
	if line := waitFor("| reload: FAILED"); len([]rune(line)) > statusWidth {
		t.Errorf("the status line is %d columns, want at most %d: %q", len([]rune(line)), statusWidth, line)
	}
	// Undoing the broken save says so and clears the failure.
	if err := os.WriteFile(goblin, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("reload: units/goblin.lua: back to the running code of generation 2")
	waitFor("gen 2 | reload: ok |")
	if err := out.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestArenaTCPConsoleHint checks that the line naming a tcp console is a
// command that attaches as printed: it carries the token.
func TestArenaTCPConsoleHint(t *testing.T) {
	cfg := config{scripts: demotest.CopyScripts(t, "../../scripts"), entities: 3, tick: 5 * time.Millisecond, console: "tcp:127.0.0.1:0"}
	out := demotest.Start(t, func(ctx context.Context, w io.Writer) error { return run(ctx, cfg, w) })
	hint := strings.Fields(strings.TrimPrefix(out.WaitFor("arena: console: "), "arena: console: "))
	if len(hint) != 6 || !strings.HasPrefix(hint[0], "HOTLUA_CONSOLE_TOKEN=") || strings.Join(hint[1:5], " ") != "go run ./cmd/hotlua console" {
		t.Fatalf("the attach hint is %q, want HOTLUA_CONSOLE_TOKEN=TOKEN go run ./cmd/hotlua console ADDR", hint)
	}
	var stdout, stderr strings.Builder
	if code := console.Exec(hint[5], strings.TrimPrefix(hint[0], "HOTLUA_CONSOLE_TOKEN="), &stdout, &stderr, "1 + 1"); code != 0 || stdout.String() != "2\n" {
		t.Fatalf("attaching as the hint says: exit %d, %q, %q", code, stdout.String(), stderr.String())
	}
	if err := out.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestStoppingAbandonsTheTick stops the demo while a tick runs: the tick
// that stopping cut short is no failed call and no late tick.
func TestStoppingAbandonsTheTick(t *testing.T) {
	dir := demotest.CopyScripts(t, "../../scripts")
	reg, err := newBindings()
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Roots: []string{dir}, Bindings: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	w, err := NewWorld(context.Background(), e, 30, 1)
	if err != nil {
		t.Fatal(err)
	}
	stopped, stop := context.WithCancel(context.Background())
	stop()
	w.Tick(stopped, 0.1)
	if line := w.Status("ok"); strings.Contains(line, "error") || strings.Contains(line, "late") {
		t.Errorf("a tick cut short by stopping is counted as a failure: %q", line)
	}
}
