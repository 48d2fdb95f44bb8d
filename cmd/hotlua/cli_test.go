package main

import (
	"context"
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

// TestUsage checks the exit statuses and help texts of the command line
// itself: 0 for help, 2 for every usage error.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // a substring of stdout
		stderr string // a substring of stderr
	}{
		{args: nil, code: 2, stderr: "Commands:"},
		{args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{args: []string{"help"}, code: 0, stdout: "Exit status: 0 on success"},
		{args: []string{"help", "run"}, code: 0, stdout: "usage: hotlua run [--console ADDR] [--tick D] [--poll D] [-v] DIR"},
		{args: []string{"run", "-h"}, code: 0, stdout: "-tick D"},
		{args: []string{"console", "--help"}, code: 0, stdout: "HOTLUA_CONSOLE_TOKEN"},
		{args: []string{"help", "nope"}, code: 2, stderr: `unknown command "nope"`},
		{args: []string{"run"}, code: 2, stderr: "hotlua run: missing DIR"},
		{args: []string{"check", "a", "b"}, code: 2, stderr: "hotlua check: unexpected arguments: b\nusage: hotlua check DIR"},
		{args: []string{"run", "--bogus", "dir"}, code: 2, stderr: "flag provided but not defined: -bogus"},
		{args: []string{"run", "--tick", "soon", "dir"}, code: 2, stderr: "invalid value"},
		{args: []string{"run", "--console", "http:localhost", "dir"}, code: 2, stderr: `address "http:localhost" is not unix:PATH or tcp:HOST:PORT`},
		{args: []string{"console", "-e", "1", "localhost:80"}, code: 2, stderr: "Run 'hotlua help console' for details."},
		{args: []string{"version", "extra"}, code: 2, stderr: "hotlua version: unexpected arguments: extra"},
	} {
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
