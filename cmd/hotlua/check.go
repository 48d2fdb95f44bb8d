package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/hotlua/hotlua/engine"
)

var checkCommand = &command{
	name:    "check",
	args:    []string{"DIR"},
	summary: "load every script in a fresh state and run the checks",
	details: `Check compiles every .lua file under DIR, runs them all in a fresh state and
runs the checks they register with hot.check, as a reload would; nothing else
runs. It prints each problem on its own line as path:line:col: message, with the
path relative to DIR, and exits 1 if there is any; otherwise it prints
"ok: N scripts, M classes". Syntax errors are all reported; loading stops at
the first script or check that fails.`,
	setup: func(*flag.FlagSet) runFunc { return check },
}

// check runs "hotlua check DIR".
func check(_ context.Context, s stdio, args []string) error {
	dir := args[0]
	if fi, err := os.Stat(dir); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	scripts := 0
	e, err := engine.New(engine.Options{
		Roots:  []string{dir},
		Logger: slog.New(slog.DiscardHandler),
		OnReload: func(ev engine.ReloadEvent) {
			if ev.Report != nil {
				scripts = len(ev.Report.Files)
			}
		},
	})
	if err != nil {
		printProblems(s.out, err)
		return errReported
	}
	defer e.Close()
	fmt.Fprintf(s.out, "ok: %d scripts, %d classes\n", scripts, len(e.Classes()))
	return nil
}

// printProblems writes each error that err joins on its own line.
func printProblems(w io.Writer, err error) {
	for _, p := range splitErrors(err) {
		fmt.Fprintln(w, p)
	}
}

// splitErrors returns the errors that err joins (with [errors.Join], at any
// depth), or err alone. An error that wraps a joined error is one problem.
func splitErrors(err error) []error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, splitErrors(e)...)
	}
	return out
}
