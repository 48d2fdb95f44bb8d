package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// stdio holds the streams a command reads and writes.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// A runFunc runs a command with its positional arguments, after its flags
// are parsed.
type runFunc func(ctx context.Context, s stdio, args []string) error

// command is one subcommand of hotlua. A new subcommand is a *command
// appended to commands (see register), in a file of its own.
type command struct {
	name string
	// args names the positional arguments in order: "DIR" is required,
	// "[NAME]" optional, and a last "PATH..." takes one or more.
	args []string
	// argsSynopsis is the arguments part of the synopsis when args alone
	// would mislead (run's optional DIR is required unless --fleet NAME
	// stands for it); "" means args.
	argsSynopsis string
	flags        string // the flags part of the synopsis
	summary      string // one line for "hotlua help"
	details      string // the paragraphs of "hotlua help NAME"
	// setup defines the command's flags on fs and returns the function
	// that runs it with the values fs parses.
	setup func(fs *flag.FlagSet) runFunc
}

// commands lists hotlua's subcommands in the order "hotlua help" shows
// them; help itself is added in init, since it refers to this list.
var commands = []*command{runCommand, checkCommand, consoleCommand, versionCommand}

func init() { register(helpCommand) }

// register adds a subcommand at the end of the list "hotlua help" shows.
// Files that define commands call it from their init.
func register(c *command) { commands = append(commands, c) }

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
	case "-h", "-help", "--help":
		args = append([]string{"help"}, args[1:]...)
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	}
	cmd := lookup(args[0])
	if cmd == nil && len(args) > 1 && lookup(args[0]+" "+args[1]) != nil { // "fleet serve"
		cmd, args = lookup(args[0]+" "+args[1]), args[1:]
	}
	if cmd == nil && len(group(args[0])) > 0 { // "fleet" alone, or "fleet nosuch"
		if len(args) > 1 {
			fmt.Fprintf(s.err, "hotlua %s: unknown subcommand %q; the %s commands are:\n", args[0], args[1], args[0])
		} else {
			fmt.Fprintf(s.err, "hotlua %s: missing subcommand; the %s commands are:\n", args[0], args[0])
		}
		printCommands(s.err, group(args[0]))
		return 2
	}
	if cmd == nil {
		fmt.Fprintf(s.err, "hotlua: unknown command %q\n", args[0])
		printUsage(s.err)
		return 2
	}
	return cmd.exec(ctx, s, args[1:])
}

// group returns the commands whose first word is name and that have a
// second ("fleet serve", "fleet status" for "fleet").
func group(name string) []*command {
	var out []*command
	for _, c := range commands {
		if strings.HasPrefix(c.name, name+" ") {
			out = append(out, c)
		}
	}
	return out
}

// exec parses args, flags and positional arguments in any order (a "--"
// ends the flags), and runs the command. It returns the exit status. Each
// error the command returns joins (a script's problems) is reported on a
// line of its own after the command's name.
func (c *command) exec(ctx context.Context, s stdio, args []string) int {
	fs, run, showVersion := c.flagSet()
	fs.SetOutput(io.Discard) // errors are reported below, with the command's name
	positional, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.printHelp(s.out)
		return 0
	case err != nil:
		err = &usageError{err.Error()}
	case *showVersion:
		err = version(ctx, s, nil)
	default:
		if err = c.checkArgs(positional); err == nil {
			err = run(ctx, s, positional)
		}
	}
	var usage *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		if usage.msg != "" {
			fmt.Fprintf(s.err, "hotlua %s: %s\n", c.name, usage.msg)
		}
		fmt.Fprintf(s.err, "usage: %s\nRun 'hotlua help %s' for details.\n", c.synopsis(), c.name)
		return 2
	case !errors.Is(err, errReported):
		for _, p := range splitErrors(err) { // the problems of scripts, path:line:col: message
			fmt.Fprintf(s.err, "hotlua %s: %v\n", c.name, p)
		}
	}
	return 1
}

// flagSet returns the command's flags, with --version added to each, and
// the function that runs it.
func (c *command) flagSet() (*flag.FlagSet, runFunc, *bool) {
	fs := flag.NewFlagSet("hotlua "+c.name, flag.ContinueOnError)
	fs.Usage = func() {}
	run := c.setup(fs)
	var showVersion *bool
	if fs.Lookup("version") == nil {
		showVersion = fs.Bool("version", false, "print hotlua's version and exit")
	} else {
		showVersion = new(bool)
	}
	return fs, run, showVersion
}

// parseInterspersed parses the flags in args wherever they stand among the
// positional arguments, which it returns in order. Everything after "--" is
// positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// checkArgs returns a usage error unless args fit c.args.
func (c *command) checkArgs(args []string) error {
	required, variadic := 0, false
	for _, a := range c.args {
		switch {
		case strings.HasSuffix(a, "..."):
			variadic = true
			required++
		case !strings.HasPrefix(a, "["):
			required++
		}
	}
	switch {
	case len(args) < required:
		return usagef("missing %s", strings.Join(c.args[len(args):], " "))
	case !variadic && len(args) > len(c.args):
		return usagef("unexpected arguments: %s", strings.Join(args[len(c.args):], " "))
	}
	return nil
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

var helpCommand = &command{
	name:    "help",
	args:    []string{"[COMMAND]", "[SUBCOMMAND]"},
	summary: "describe a command, or list them all",
	details: `Help describes COMMAND: its usage, what it does and its flags. Without
COMMAND it lists every command. "hotlua COMMAND -h" (or --help) does the same.`,
	setup: func(*flag.FlagSet) runFunc { return help },
}

// help runs "hotlua help [COMMAND]".
func help(_ context.Context, s stdio, args []string) error {
	if len(args) == 0 {
		printUsage(s.out)
		return nil
	}
	c := lookup(strings.Join(args, " "))
	if c == nil && len(args) > 1 && lookup(args[0]) != nil {
		return usagef("unexpected arguments: %s", strings.Join(args[1:], " "))
	}
	if c == nil && len(args) == 1 && len(group(args[0])) > 0 {
		printCommands(s.out, group(args[0]))
		fmt.Fprintf(s.out, "\nRun 'hotlua help %s SUBCOMMAND' for one's usage and flags.\n", args[0])
		return nil
	}
	if c == nil {
		return usagef("unknown command %q", strings.Join(args, " "))
	}
	c.printHelp(s.out)
	return nil
}

// printCommands writes one line per command: its name and summary.
func printCommands(w io.Writer, cmds []*command) {
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-15s %s\n", c.name, c.summary)
	}
}

// printUsage writes the list of commands.
func printUsage(w io.Writer) {
	fmt.Fprint(w, "hotlua runs Lua classes with live reload.\n\nUsage: hotlua COMMAND [arguments and flags]\n\nCommands:\n")
	// help last, after the commands registered later
	isHelp := func(c *command) bool { return c.name == "help" }
	printCommands(w, slices.DeleteFunc(slices.Clone(commands), isHelp))
	printCommands(w, slices.DeleteFunc(slices.Clone(commands), func(c *command) bool { return !isHelp(c) }))
	fmt.Fprintf(w, "\nRun 'hotlua help COMMAND' for a command's usage and flags; 'hotlua --version'\nfor the version.\n%s\n", exitCodes)
}

// synopsis returns the command's one-line usage.
func (c *command) synopsis() string {
	words := []string{"hotlua", c.name}
	if c.flags != "" {
		words = append(words, c.flags)
	}
	if c.argsSynopsis != "" {
		return strings.Join(append(words, c.argsSynopsis), " ")
	}
	return strings.Join(append(words, c.args...), " ")
}

// printHelp writes the command's help text, its flags included.
func (c *command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", c.synopsis(), c.details)
	fs, _, _ := c.flagSet()
	fs.SetOutput(w)
	fmt.Fprintln(w, "\nFlags (before or after the arguments):")
	fs.PrintDefaults()
	fmt.Fprintf(w, "\n%s\n", exitCodes)
}

// durationVar defines a time.Duration flag as fs.DurationVar does, except
// that a value that is not a duration is refused with what one looks like.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*durationFlag)(p), name, usage)
}

// durationFlag is the flag.Value of durationVar.
type durationFlag time.Duration

func (d *durationFlag) String() string { return time.Duration(*d).String() }

func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 1s or 500ms")
	}
	*d = durationFlag(v)
	return nil
}

// checkAddr returns a usage error unless addr is unix:PATH or tcp:HOST:PORT.
func checkAddr(addr string) error {
	network, rest, _ := strings.Cut(addr, ":")
	if rest == "" || (network != "unix" && network != "tcp") {
		return usagef("address %q is not unix:PATH or tcp:HOST:PORT", addr)
	}
	return nil
}
