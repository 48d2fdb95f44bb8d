package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hotlua/hotlua/engine"
)

var runCommand = &command{
	name:         "run",
	args:         []string{"[DIR]"},
	argsSynopsis: "(DIR | " + nodeSynopsis + ")",
	flags:        "[--console ADDR] [--console-allow-remote] [--tick D] [--poll D] [-v]",
	summary:      "run the scripts in DIR, reloading them on save",
	details: `Run loads every .lua file under DIR ("units/goblin.lua" is module
units.goblin), reloads the scripts when they are saved, and runs until SIGINT
or SIGTERM. When the scripts define a global function tick(dt), it is called
every D with the seconds elapsed since the previous call.

Each reload is reported on stderr in one line; a failed reload prints each
problem as path:line:col: message and the last good version keeps running.

The console listens by default on a unix socket only this user can reach. With
--console tcp:HOST:PORT (loopback only; port 0 picks one) it requires a token,
which run writes to a file of mode 0600 in the user's cache directory,
removed at exit (and prints only when there is no cache directory). Run
prints the command that attaches: "hotlua console --token-file FILE ADDR";
$HOTLUA_CONSOLE_TOKEN may hold the token instead.
--console-allow-remote lets the tcp console listen on an address that is not
loopback; it still requires the token, which anyone who can read the network
traffic may learn (there is no encryption).

` + nodeDetails,
	setup: func(fs *flag.FlagSet) runFunc {
		var cfg runConfig
		fs.StringVar(&cfg.console, "console", "", "serve the console at `ADDR`: unix:PATH, tcp:HOST:PORT, or off (default a private unix socket)")
		fs.BoolVar(&cfg.allowRemote, "console-allow-remote", false, "let a tcp console listen on an address that is not loopback (it still needs the token)")
		durationVar(fs, &cfg.tick, "tick", 100*time.Millisecond, "call the scripts' tick(dt) every `D`; 0 never calls it")
		durationVar(fs, &cfg.poll, "poll", 0, "watch DIR by polling every `D` instead of with file system events")
		fs.BoolVar(&cfg.verbose, "v", false, "log tick starts and console sessions too, not only warnings and errors (reloads are always reported)")
		cfg.node.define(fs)
		return func(ctx context.Context, s stdio, args []string) error {
			if len(args) > 0 {
				cfg.dir = args[0]
			}
			return cfg.run(ctx, s)
		}
	},
}

// runConfig is what the flags of "hotlua run" set.
type runConfig struct {
	dir         string
	console     string
	allowRemote bool
	tick, poll  time.Duration
	verbose     bool
	node        nodeFlags // with --fleet, a fleet node
}

// run runs "hotlua run" until ctx is done or a signal arrives.
func (cfg runConfig) run(ctx context.Context, s stdio) error {
	if cfg.console != "" && cfg.console != "off" {
		if err := checkAddr(cfg.console); err != nil {
			return err
		}
	}
	if cfg.allowRemote && !strings.HasPrefix(cfg.console, "tcp:") {
		return usagef("--console-allow-remote needs --console tcp:HOST:PORT")
	}
	root, cache, err := cfg.node.scriptRoot(cfg.dir)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	level := slog.LevelWarn
	if cfg.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(s.err, &slog.HandlerOptions{Level: level}))
	e, err := engine.New(engine.Options{
		Roots: []string{root},
		// OnReload reports every reload, once: the engine's records of
		// them would say it again.
		Logger: slog.New(withoutReloadRecords{log.Handler()}),
		OnReload: func(ev engine.ReloadEvent) {
			// A failed first load's problems are returned, and printed
			// one a line after the command's name.
			if ev.Trigger != "initial" || ev.Err == nil {
				reportReload(s.err, ev)
			}
		},
	})
	if err != nil {
		return err
	}
	defer e.Close()
	switch {
	case cache != nil:
		var stopNode func()
		if stopNode, err = cfg.node.follow(e, cache, log, s.err); err == nil {
			defer stopNode()
		}
	case cfg.poll > 0:
		err = e.SetPollInterval(cfg.poll)
	default:
		err = e.Monitor()
	}
	if err != nil {
		return err
	}
	if cfg.console != "off" {
		stopConsole, err := serveConsole(ctx, e, cfg.console, cfg.allowRemote, log, s.err)
		if err != nil {
			return err
		}
		defer stopConsole()
	}
	fmt.Fprintf(s.err, "hotlua: running %s with %d classes; Ctrl-C stops\n", root, len(e.Classes()))
	if cfg.tick > 0 {
		runTicks(ctx, e, cfg.tick, log)
	} else {
		<-ctx.Done()
	}
	fmt.Fprintln(s.err, "hotlua: stopped")
	return nil
}

// reportReload writes one line about a reload, the first load included,
// then each problem of a failed one on its own line.
func reportReload(w io.Writer, ev engine.ReloadEvent) {
	if ev.Restored {
		fmt.Fprintf(w, "hotlua: %s\n", restoredText(ev))
		return
	}
	if ev.Err == nil {
		fmt.Fprintf(w, "hotlua: reload (%s): %v\n", ev.Trigger, ev.Report)
		return
	}
	fmt.Fprintf(w, "hotlua: reload (%s) failed; generation %d keeps running:\n", ev.Trigger, ev.Generation)
	printProblems(w, ev.Err)
}

// reloadRecords are the messages of the engine's records of a reload's
// outcome, which reportReload says all of.
var reloadRecords = []string{
	"hotlua: reloaded",
	"hotlua: reload failed; the current version keeps running",
	"hotlua: back to the running code",
}

// withoutReloadRecords is a slog.Handler that drops the engine's records
// of reloads, so that run says each reload once, in its own words.
type withoutReloadRecords struct{ slog.Handler }

func (h withoutReloadRecords) Handle(ctx context.Context, r slog.Record) error {
	if slices.Contains(reloadRecords, r.Message) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h withoutReloadRecords) WithAttrs(attrs []slog.Attr) slog.Handler {
	return withoutReloadRecords{h.Handler.WithAttrs(attrs)}
}

func (h withoutReloadRecords) WithGroup(name string) slog.Handler {
	return withoutReloadRecords{h.Handler.WithGroup(name)}
}

// checkDir returns an error unless dir is a directory, worded for people:
// "scripts: no such directory".
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such directory", dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s: not a directory", dir)
	}
	return nil
}

// restoredText says that an undone save brought back the running code:
// "units/goblin.lua: back to the running code of generation 3".
func restoredText(ev engine.ReloadEvent) string {
	what := "the scripts"
	if len(ev.Files) > 0 {
		what = strings.Join(ev.Files, ", ")
	}
	return fmt.Sprintf("%s: back to the running code of generation %d", what, ev.Generation)
}
