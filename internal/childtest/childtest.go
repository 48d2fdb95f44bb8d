// Package childtest runs test rows that could end the process (a fatal Go
// stack overflow or out-of-memory error, which no recover catches) in a
// child process: the row's crash fails that row instead of ending the
// whole test binary.
//
// The child is the test binary itself, run again with -test.run selecting
// the one row and the environment variable HOTLUA_CHILD naming it.
package childtest

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// envVar names the row a child process runs.
const envVar = "HOTLUA_CHILD"

// Run runs fn as the subtest name of t in a child process and fails the
// subtest if the child fails or dies, showing the end of its output. In the
// child, it runs fn in place. Call it from the test's goroutine, like t.Run.
func Run(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		switch os.Getenv(envVar) {
		case t.Name():
			fn(t)
			return
		case "":
		default:
			t.Skip("another row's child process")
		}
		parts := strings.Split(t.Name(), "/")
		for i, p := range parts {
			parts[i] = "^" + regexp.QuoteMeta(p) + "$"
		}
		cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(parts, "/"), "-test.v", "-test.count=1", "-test.timeout=5m")
		cmd.Env = append(os.Environ(), envVar+"="+t.Name())
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
			t.Fatalf("child process for %s: %v\n%s", t.Name(), err, shorten(out))
		}
	})
}

// shorten keeps the start of a child's output, where a fatal error says
// what it is, and its end, where the test's own failures are.
func shorten(out []byte) string {
	const keep = 2000
	if len(out) <= 2*keep {
		return string(out)
	}
	return string(out[:keep]) + "\n...\n" + string(out[len(out)-keep:])
}
