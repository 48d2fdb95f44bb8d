package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// stdio holds the streams a command reads and writes.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// A runFunc runs a command with its positional arguments, after its flags
// are parsed.
type runFunc func(ctx context.Context, s stdio, args []string) error

// command is one subcommand of hotlua.
type command struct {
	name    string
	args    []string // the names of the positional arguments, all required
	flags   string   // the flags part of the synopsis
	summary string   // one line for "hotlua help"
	details string   // the paragraphs of "hotlua help NAME"
	// setup defines the command's flags on fs and returns the function
	// that runs it with the values fs parses.
	setup func(fs *flag.FlagSet) runFunc
}

// commands lists hotlua's subcommands in the order "hotlua help" shows them.
var commands = []*command{runCommand, checkCommand, consoleCommand, versionCommand}

// errReported makes a command exit with status 1 after it has said what went
// wrong.
var errReported = errors.New("hotlua: failed")

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a *usageError with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// exitCodes is the footer of every help text.
const exitCodes = `Exit status: 0 on success; 1 when problems are found or a runtime error
occurs; 2 for a usage error.`

// hotlua runs the command line args (without the program name) and returns
// the exit status.
func hotlua(ctx context.Context, args []string, s stdio) int {
	if len(args) == 0 {
		printUsage(s.err)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return help(s, args[1:])
	}
	cmd := lookup(args[0])
	if cmd == nil {
		fmt.Fprintf(s.err, "hotlua: unknown command %q\n", args[0])
		printUsage(s.err)
		return 2
	}
	fs := flag.NewFlagSet("hotlua "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(s.err)
	fs.Usage = func() {} // reported below, to stdout for -h and to stderr otherwise
	run := cmd.setup(fs)
	err := fs.Parse(args[1:])
	switch {
	case errors.Is(err, flag.ErrHelp):
		cmd.printHelp(s.out)
		return 0
	case err != nil: // the flag package has printed what is wrong
		err = &usageError{}
	case fs.NArg() < len(cmd.args):
		err = usagef("missing %s", strings.Join(cmd.args[fs.NArg():], " "))
	case fs.NArg() > len(cmd.args):
		err = usagef("unexpected arguments: %s", strings.Join(fs.Args()[len(cmd.args):], " "))
	default:
		err = run(ctx, s, fs.Args())
	}
	var usage *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		if usage.msg != "" {
			fmt.Fprintf(s.err, "hotlua %s: %s\n", cmd.name, usage.msg)
		}
		fmt.Fprintf(s.err, "usage: %s\nRun 'hotlua help %s' for details.\n", cmd.synopsis(), cmd.name)
		return 2
	case !errors.Is(err, errReported):
		fmt.Fprintf(s.err, "hotlua %s: %v\n", cmd.name, err)
	}
	return 1
}

// lookup returns the command called name, or nil.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// help runs "hotlua help [COMMAND]".
func help(s stdio, args []string) int {
	switch {
	case len(args) == 0:
		printUsage(s.out)
		return 0
	case len(args) == 1 && lookup(args[0]) != nil:
		lookup(args[0]).printHelp(s.out)
		return 0
	}
	fmt.Fprintf(s.err, "hotlua help: unknown command %q\n", strings.Join(args, " "))
	printUsage(s.err)
	return 2
}

// printUsage writes the list of commands.
func printUsage(w io.Writer) {
	fmt.Fprint(w, "hotlua runs Lua classes with live reload.\n\nUsage: hotlua COMMAND [flags] [arguments]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-9s %s\n\nRun 'hotlua help COMMAND' for a command's usage and flags.\n%s\n", "help", "describe a command", exitCodes)
}

// synopsis returns the command's one-line usage.
func (c *command) synopsis() string {
	words := []string{"hotlua", c.name}
	if c.flags != "" {
		words = append(words, c.flags)
	}
	return strings.Join(append(words, c.args...), " ")
}

// printHelp writes the command's help text, its flags included.
func (c *command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", c.synopsis(), c.details)
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	fs.SetOutput(w)
	if hasFlags(fs) {
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
	fmt.Fprintf(w, "\n%s\n", exitCodes)
}

// hasFlags reports whether fs defines any flag.
func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// checkAddr returns a usage error unless addr is unix:PATH or tcp:HOST:PORT.
func checkAddr(addr string) error {
	network, rest, _ := strings.Cut(addr, ":")
	if rest == "" || (network != "unix" && network != "tcp") {
		return usagef("address %q is not unix:PATH or tcp:HOST:PORT", addr)
	}
	return nil
}
