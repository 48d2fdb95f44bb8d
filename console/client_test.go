package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestRunPlain checks the in-process console when input is not a terminal:
// no prompts, no greeting, no colors; errors on stderr, and Run fails at
// the end of input (:quit here) since a chunk failed.
func TestRunPlain(t *testing.T) {
	defer slog.SetDefault(slog.Default())
	var defaultLog, log bytes.Buffer
	slog.SetDefault(slog.New(slog.NewTextHandler(&defaultLog, nil)))
	var stdout, stderr bytes.Buffer
	in := strings.NewReader("1 + 1\nfor i = 1, 2 do\nprint(i)\nend\nerror('e')\n:quit\n'not reached'\n")
	opts := ClientOptions{Stdin: in, Stdout: &stdout, Stderr: &stderr, Logger: slog.New(slog.NewTextHandler(&log, nil))}
	if err := Run(context.Background(), newFakeTarget(), opts); !errors.Is(err, errInputFailed) {
		t.Fatalf("Run = %v, want errInputFailed: a chunk failed", err)
	}
	// The evaluations are logged where the host said, not in the default log.
	if !strings.Contains(log.String(), "console: eval") || defaultLog.Len() != 0 {
		t.Errorf("ClientOptions.Logger got %q, the default logger %q; want every record in the first", log.String(), defaultLog.String())
	}
	if got, want := stdout.String(), "2\n1\n2\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got, want := stderr.String(), "console:1: e\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

// TestAttachPlain attaches to a tcp console with its token, not on a
// terminal.
func TestAttachPlain(t *testing.T) {
	addr, ln := listenTCP(t)
	token := NewToken()
	serve(t, ln, ServeOptions{Token: token})
	var stdout, stderr bytes.Buffer
	in := strings.NewReader("x = 20\nx + 1\n")
	if err := Attach(context.Background(), addr, ClientOptions{Token: token, Stdin: in, Stdout: &stdout, Stderr: &stderr}); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "21\n" || stderr.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

// TestRunPlainLongLine feeds a piped line longer than bufio.Scanner's
// default 64 KiB (the server takes 1 MiB): it is evaluated, not taken for
// the end of the input, and print output the server drops is no failure.
func TestRunPlainLongLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	long := "x = '" + strings.Repeat("y", 100<<10) + "'\nprint(#x)\nprint(('z'):rep(3000000))\n"
	opts := ClientOptions{Stdin: strings.NewReader(long), Stdout: &stdout, Stderr: &stderr, Logger: slog.New(slog.DiscardHandler)}
	if err := Run(context.Background(), newFakeTarget(), opts); err != nil {
		t.Fatalf("Run = %v (stderr %q), want nil", err, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "102400\n") {
		t.Errorf("stdout starts %.40q, want the long line's length", stdout.String())
	}
}

// TestRunPlainLineOverTheLimit pipes a line the server would refuse once
// escaped (backslashes double): Run says why instead of the session
// ending with "connection closed by the program".
func TestRunPlainLineOverTheLimit(t *testing.T) {
	line := "x = '" + strings.Repeat("\\\\", 300<<10) + "'\n"
	opts := ClientOptions{Stdin: strings.NewReader(line), Stdout: io.Discard, Stderr: io.Discard, Logger: slog.New(slog.DiscardHandler)}
	if err := Run(context.Background(), newFakeTarget(), opts); err == nil || !strings.Contains(err.Error(), "over the console's limit") {
		t.Fatalf("Run = %v, want the line refused as over the limit", err)
	}
}
