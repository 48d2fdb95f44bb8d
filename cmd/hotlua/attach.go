package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hotlua/hotlua/console"
)

// tokenEnv names the environment variable that gives "hotlua console" the
// token of a tcp console.
const tokenEnv = "HOTLUA_CONSOLE_TOKEN"

var consoleCommand = &command{
	name:    "console",
	args:    []string{"ADDR"},
	flags:   "[-e CODE]... [--token-file FILE]",
	summary: "attach a Lua console to a running program",
	details: `Console attaches to the console of the program listening at ADDR, unix:PATH
or tcp:HOST:PORT, as printed by "hotlua run". Interactively, it offers line
editing, completion and a history file in the user's cache directory; Ctrl-C
interrupts an evaluation and Ctrl-D or :quit detaches, which never stops the
program. With -e it evaluates CODE (a chunk or a meta command such as :reload),
prints what it printed and returned, and exits 1 if it failed; several -e run
in order, in one session, and stop at the first that fails.

A tcp console needs its token: from the file "hotlua run" names in the attach
command it prints (--token-file), or the environment variable ` + tokenEnv + `. There is no flag
for the token itself: other users can read a process's arguments.`,
	setup: func(fs *flag.FlagSet) runFunc {
		var codes chunks
		fs.Var(&codes, "e", "evaluate `CODE` and exit instead of attaching; may be repeated")
		tokenFile := fs.String("token-file", "", "read the console's token from `FILE` (default $"+tokenEnv+")")
		return func(ctx context.Context, s stdio, args []string) error {
			token := os.Getenv(tokenEnv)
			if *tokenFile != "" {
				data, err := os.ReadFile(*tokenFile)
				if err != nil {
					return fmt.Errorf("cannot read the console's token file: %w (the attach line the program printed names it)", err)
				}
				if token = strings.TrimSpace(string(data)); token == "" {
					return fmt.Errorf("%s: the token file is empty", *tokenFile)
				}
			}
			return attach(ctx, s, args[0], codes, token)
		}
	},
}

// chunks collects the values of a repeated -e flag, in order.
type chunks []string

func (c *chunks) String() string     { return strings.Join(*c, "; ") }
func (c *chunks) Set(v string) error { *c = append(*c, v); return nil }

// attach runs "hotlua console": the evaluations of codes when there are
// any, an interactive session otherwise.
func attach(ctx context.Context, s stdio, addr string, codes []string, token string) error {
	if err := checkAddr(addr); err != nil {
		return err
	}
	if len(codes) > 0 {
		if console.Exec(addr, token, s.out, prefixed{s.err, token}, codes...) != 0 {
			return errReported
		}
		return nil
	}
	err := console.Attach(ctx, addr, console.ClientOptions{
		Token:       token,
		HistoryFile: historyFile(),
		Stdin:       s.in,
		Stdout:      s.out,
		Stderr:      s.err,
	})
	if err != nil {
		// "hotlua console: " is printed before it: say "console" once.
		return errors.New(withHint(strings.TrimPrefix(err.Error(), "console: "), token))
	}
	return nil
}

// withHint adds what to do to a refusal for want of a token, and to a
// dial that found no program listening (no socket, or a stale one).
func withHint(msg, token string) string {
	switch {
	case token == "" && strings.Contains(msg, "authentication failed"):
		msg += " (a tcp console needs its token: --token-file FILE, as the program's attach hint shows, or $" + tokenEnv + ")"
	case strings.HasPrefix(msg, "dial ") && (strings.HasSuffix(msg, "no such file or directory") || strings.HasSuffix(msg, "connection refused")):
		msg += " (is the program running? the attach line it printed names its console's address)"
	}
	return msg
}

// prefixed writes what Exec reports about its connection (lines starting
// with "console: ") as "hotlua console: ...", like the command's other
// errors, with withHint's hints; the errors of evaluated code pass
// unchanged.
type prefixed struct {
	w     io.Writer
	token string // the token given, "" if none
}

func (p prefixed) Write(b []byte) (int, error) {
	if rest, ok := bytes.CutPrefix(b, []byte("console: ")); ok {
		msg := withHint(strings.TrimSuffix(string(rest), "\n"), p.token)
		if _, err := fmt.Fprintf(p.w, "hotlua console: %s\n", msg); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return p.w.Write(b)
}

// historyFile returns the console's history file in the user's cache
// directory, or "" (no history) when there is none.
func historyFile() string {
	dir, err := cacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "console_history")
}

// cacheDir returns hotlua's directory in the user's cache directory,
// creating it with mode 0700 if needed.
func cacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir = filepath.Join(dir, "hotlua")
	return dir, os.MkdirAll(dir, 0o700)
}
