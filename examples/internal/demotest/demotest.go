// Package demotest runs a hotlua example inside a test and reads what it
// prints while it runs.
package demotest

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// Output is a running example's output, read line by line by a test.
// Use it from the test's goroutine only.
type Output struct {
	t      testing.TB
	lines  chan string
	cancel context.CancelFunc
	done   chan error
}

// Start runs run in the background for a test, with a 60-second limit, and
// stops it when the test ends.
func Start(t testing.TB, run func(ctx context.Context, out io.Writer) error) *Output {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	pr, pw := io.Pipe()
	o := &Output{t: t, lines: make(chan string, 256), cancel: cancel, done: make(chan error, 1)}
	go func() {
		o.done <- run(ctx, pw)
		pw.Close()
	}()
	go func() {
		defer close(o.lines)
		for sc := bufio.NewScanner(pr); sc.Scan(); {
			select {
			case o.lines <- sc.Text():
			case <-ctx.Done(): // the test stopped reading: drain
			}
		}
		io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() { o.Stop() })
	return o
}

// WaitFor reads lines until one contains want and returns it; the test
// fails if the output ends first (the example stopped or timed out).
func (o *Output) WaitFor(want string) string {
	o.t.Helper()
	for line := range o.lines {
		if strings.Contains(line, want) {
			return line
		}
	}
	o.t.Fatalf("the output ended before a line containing %q", want)
	return ""
}

// Lines returns the channel of lines, for tests that inspect each one.
func (o *Output) Lines() <-chan string { return o.lines }

// Stop ends the example and returns its error. It may be called again.
func (o *Output) Stop() error {
	o.cancel()
	if err, ok := <-o.done; ok {
		close(o.done)
		return err
	}
	return nil
}

// CopyScripts copies the script tree at from into a fresh temporary
// directory, which the test may edit, and returns it.
func CopyScripts(t testing.TB, from string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	return dir
}
