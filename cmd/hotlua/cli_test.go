package main

import (
	"context"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// call runs the hotlua command line args in-process with an empty stdin
// and returns its exit status and what it wrote to stdout and stderr.
func call(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return callInput(t, "", args...)
}

// callInput is call with stdin reading input.
func callInput(t *testing.T, input string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs strings.Builder
	code = hotlua(context.Background(), args, stdio{in: strings.NewReader(input), out: &out, err: &errs})
	return code, out.String(), errs.String()
}

// TestUsage checks the exit statuses and texts of the command line itself:
// 0 for help and --version, everywhere; 2 for every usage error, whose
// message starts with the command's name; 1 for a runtime error, also named.
func TestUsage(t *testing.T) {
	type row struct {
		args   []string
		code   int
		stdout string // a substring of stdout
		stderr string // a substring of stderr
	}
	rows := []row{
		{args: nil, code: 2, stderr: "Commands:"},
		{args: []string{"frobnicate"}, code: 2, stderr: `hotlua: unknown command "frobnicate"`},
		{args: []string{"help"}, code: 0, stdout: "Exit status: 0 on success"},
		{args: []string{"-h"}, code: 0, stdout: "Commands:"},
		{args: []string{"--help"}, code: 0, stdout: "Commands:"},
		{args: []string{"--version"}, code: 0, stdout: "gopher-lua v"},
		{args: []string{"help", "run"}, code: 0, stdout: "usage: hotlua run [--console ADDR] [--console-allow-remote] [--tick D] [--poll D] [-v] (DIR | --fleet NAME [--node ID] [--cache DIR] [NATS flags])\n"},
		{args: []string{"help", "help"}, code: 0, stdout: "usage: hotlua help [COMMAND] [SUBCOMMAND]"},
		{args: []string{"run", "-h"}, code: 0, stdout: "-tick D"},
		{args: []string{"run", "dir", "--help"}, code: 0, stdout: "-tick D"},
		{args: []string{"console", "--help"}, code: 0, stdout: "HOTLUA_CONSOLE_TOKEN"},
		{args: []string{"check", "--version"}, code: 0, stdout: "gopher-lua v"},
		{args: []string{"help", "nope"}, code: 2, stderr: `hotlua help: unknown command "nope"`},
		// A command group alone lists its commands.
		{args: []string{"fleet"}, code: 2, stderr: "hotlua fleet: missing subcommand; the fleet commands are:\n  fleet serve "},
		{args: []string{"fleet", "nope"}, code: 2, stderr: `hotlua fleet: unknown subcommand "nope"; the fleet commands are:`},
		{args: []string{"help", "fleet"}, code: 0, stdout: "  fleet status    show a fleet's release"},
		{args: []string{"help", "run", "check"}, code: 2, stderr: "hotlua help: unexpected arguments: check"},
		{args: []string{"run"}, code: 2, stderr: "hotlua run: missing DIR"},
		{args: []string{"check"}, code: 2, stderr: "hotlua check: missing PATH...\nusage: hotlua check PATH..."},
		{args: []string{"run", "a", "b"}, code: 2, stderr: "hotlua run: unexpected arguments: b\nusage: hotlua run"},
		{args: []string{"run", "--bogus", "dir"}, code: 2, stderr: "hotlua run: flag provided but not defined: -bogus"},
		{args: []string{"run", "dir", "--bogus"}, code: 2, stderr: "hotlua run: flag provided but not defined: -bogus"},
		{args: []string{"run", "--tick", "soon", "dir"}, code: 2, stderr: "hotlua run: invalid value"},
		{args: []string{"run", "--poll", "1", "dir"}, code: 2, stderr: `hotlua run: invalid value "1" for flag -poll: want a duration such as 1s or 500ms` + "\n"},
		{args: []string{"publish", "dir", "--wait", "5"}, code: 2, stderr: `hotlua publish: invalid value "5" for flag -wait: want a duration such as 1s or 500ms` + "\n"},
		{args: []string{"help", "run"}, code: 0, stdout: "call the scripts' tick(dt) every D; 0 never calls it (default 100ms)"},
		{args: []string{"run", "--console", "http:localhost", "dir"}, code: 2, stderr: `hotlua run: address "http:localhost" is not unix:PATH or tcp:HOST:PORT`},
		{args: []string{"run", "--console", "tcp:0.0.0.0:0", "testdata/good"}, code: 1, stderr: `hotlua run: console: tcp address "0.0.0.0:0" is not loopback (0.0.0.0); remote access must be allowed explicitly: --console-allow-remote allows it (the console still needs its token)` + "\n"},
		{args: []string{"run", "--console-allow-remote", "dir"}, code: 2, stderr: "hotlua run: --console-allow-remote needs --console tcp:HOST:PORT"},
		{args: []string{"run", "testdata/missing", "--poll", "1s"}, code: 1, stderr: "hotlua run: testdata/missing: no such directory\n"},
		{args: []string{"run", "--console", "off", "testdata/good/main.lua"}, code: 1, stderr: "hotlua run: testdata/good/main.lua: not a directory\n"},
		{args: []string{"check", "testdata/missing"}, code: 1, stderr: "hotlua check: testdata/missing: no such file or directory\n"},
		{args: []string{"console", "-e", "1", "localhost:80"}, code: 2, stderr: "hotlua console: address \"localhost:80\" is not unix:PATH or tcp:HOST:PORT\nusage: hotlua console"},
		{args: []string{"console", "-e", "1", "unix:testdata/none.sock"}, code: 1, stderr: "hotlua console: dial unix testdata/none.sock"},
		// The NATS token's flag is not the console token's --token-file.
		{args: []string{"run", "--fleet", "f", "--token-file", "t", "dir"}, code: 2, stderr: "hotlua run: flag provided but not defined: -token-file"},
		{args: []string{"fleet", "status", "f", "--nats-token-file", "testdata/missing"}, code: 1, stderr: "hotlua fleet status: fleet: token: open testdata/missing"},
		{args: []string{"help", "publish"}, code: 0, stdout: "--nats-token-file FILE ($NATS_TOKEN holds the token itself)"},
		{args: []string{"console", "--token-file", "testdata/missing", "tcp:127.0.0.1:1"}, code: 1, stderr: "hotlua console: cannot read the console's token file: open testdata/missing: no such file or directory (the attach line the program printed names it)\n"},
		{args: []string{"version", "extra"}, code: 2, stderr: "hotlua version: unexpected arguments: extra"},
		{args: []string{"run", "--", "-dir"}, code: 1, stderr: "hotlua run: -dir: no such directory"},
	}
	// Every listed command has help, by "help NAME" and by -h.
	for _, c := range commands {
		rows = append(rows,
			row{args: []string{"help", c.name}, code: 0, stdout: "usage: " + c.synopsis()},
			row{args: []string{c.name, "-h"}, code: 0, stdout: "usage: " + c.synopsis()})
	}
	for _, tc := range rows {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := call(t, tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q", code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}

// TestVersion checks that hotlua version names the Go and gopher-lua
// versions.
func TestVersion(t *testing.T) {
	code, stdout, _ := call(t, "version")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "hotlua ") ||
		!strings.HasPrefix(lines[1], runtime.Version()) || !strings.HasPrefix(lines[2], "gopher-lua v") {
		t.Errorf("exit %d, output:\n%s", code, stdout)
	}
}

// TestConsoleWithoutProgram attaches to a socket that does not exist and
// to one a dead program left behind, with -e and interactively: each says
// in one line what failed and what to look at.
func TestConsoleWithoutProgram(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	const hint = " (is the program running? the attach line it printed names its console's address)\n"
	for _, tc := range []struct{ path, err string }{
		{filepath.Join(dir, "none.sock"), "no such file or directory"},
		{stale, "connection refused"},
	} {
		addr := "unix:" + tc.path
		for _, args := range [][]string{{"console", "-e", "1", addr}, {"console", addr}} {
			code, _, stderr := call(t, args...)
			if code != 1 || !strings.HasPrefix(stderr, "hotlua console: dial unix "+tc.path) || !strings.HasSuffix(stderr, tc.err+hint) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("%q: exit %d, stderr %q; want 1 and one line ending %q", args, code, stderr, tc.err+hint)
			}
		}
	}
}
