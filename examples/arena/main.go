// Command arena is hotlua's main demo: a small simulated game server whose
// units are Go values carrying Lua behavior from scripts/.
//
// It runs a fixed tick loop over a few hundred units of several classes (a
// base class and derived classes in separate files), prints one status
// line per second, and watches scripts/: edit a unit's file while it runs
// and every unit of that class (or, for the base, of every class) changes
// behavior at the next tick; save a broken file and the error is printed
// while the world keeps running on the last good version.
//
//	go run ./examples/arena                  # until Ctrl-C
//	go run ./examples/arena -duration 5s     # stops by itself
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/hotlua/hotlua/bindings"
	"github.com/hotlua/hotlua/console"
	"github.com/hotlua/hotlua/engine"
	"github.com/hotlua/hotlua/examples/internal/demo"
)

// config is what the flags set.
type config struct {
	scripts  string
	entities int
	tick     time.Duration
	duration time.Duration
	poll     time.Duration
	status   time.Duration
	console  string
	repl     bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.scripts, "scripts", "scripts", "the script root")
	flag.IntVar(&cfg.entities, "entities", 300, "how many units")
	flag.DurationVar(&cfg.tick, "tick", 50*time.Millisecond, "the tick period")
	flag.DurationVar(&cfg.duration, "duration", 0, "stop after this long (0: run until interrupted)")
	flag.DurationVar(&cfg.poll, "poll", 0, "watch scripts by polling at this interval instead of fsnotify")
	flag.DurationVar(&cfg.status, "status", time.Second, "how often to print the status line (0: never)")
	flag.StringVar(&cfg.console, "console", "", "serve the console at `ADDR` (unix:PATH or tcp:HOST:PORT; default a private unix socket; off: none)")
	flag.BoolVar(&cfg.repl, "repl", false, "also run a console on this terminal (status lines then only with an explicit -status)")
	flag.Parse()
	if cfg.repl && !flagSet("status") {
		cfg.status = 0
	}

	demo.Main("arena", cfg.duration, func(ctx context.Context, out io.Writer) error { return run(ctx, cfg, out) })
}

// flagSet reports whether the flag called name was given.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// newBindings binds what the scripts reach of the Go side: an Entity's
// fields and methods, as self.host.
func newBindings() (*bindings.Registry, error) {
	reg := bindings.New()
	if err := bindings.Type[*Entity](reg, "Entity"); err != nil { // bound once
		return nil, err
	}
	return reg, nil
}

// run loads the scripts, watches them and runs the world until ctx ends.
func run(ctx context.Context, cfg config, out io.Writer) error {
	reloads := make(chan engine.ReloadEvent, 8)
	quiet := slog.New(slog.DiscardHandler) // reloads are shown on the status lines
	reg, err := newBindings()
	if err != nil {
		return err
	}
	e, err := engine.New(engine.Options{
		Roots:    []string{cfg.scripts},
		Bindings: reg,
		Logger:   quiet,
		OnReload: func(ev engine.ReloadEvent) {
			select {
			case reloads <- ev:
			default: // the status line shows the latest; never block a reload
			}
		},
	})
	if err != nil {
		return err
	}
	defer e.Close()
	if err := e.SetPollInterval(cfg.poll); err != nil { // 0: fsnotify, as Monitor
		return err
	}
	w, err := NewWorld(ctx, e, cfg.entities, 1)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "arena: %d units from %s, generation %d; edit the scripts while it runs\n", cfg.entities, cfg.scripts, e.Generation())
	if cfg.status > 0 {
		fmt.Fprintln(out, statusLegend)
	}
	if cfg.console != "off" {
		srv, err := console.Start(ctx, cfg.console, console.ForEngine(e), console.ServeOptions{Logger: quiet})
		if err != nil {
			return err
		}
		defer srv.Close()
		env := "" // a tcp console's token, in the command that attaches
		if srv.Token != "" {
			env = "HOTLUA_CONSOLE_TOKEN=" + srv.Token + " "
		}
		fmt.Fprintf(out, "arena: console: %sgo run ./cmd/hotlua console %s\n", env, srv.Addr)
	}
	if cfg.repl {
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		defer stop()
		go func() { // Ctrl-D or :quit on this terminal stops the demo
			console.Run(ctx, console.ForEngine(e), console.ClientOptions{Logger: quiet}) // no log lines amid the prompt
			stop()
		}()
	}

	tick := time.NewTicker(cfg.tick)
	defer tick.Stop()
	var statusC <-chan time.Time
	if cfg.status > 0 {
		status := time.NewTicker(cfg.status)
		defer status.Stop()
		statusC = status.C
	}
	lastReload := "none" // in a few words, for the status line
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, w.Status(lastReload))
			fmt.Fprintln(out, "arena: stopped")
			return nil
		case <-tick.C:
			w.Tick(ctx, cfg.tick.Seconds())
		case ev := <-reloads:
			if ev.Trigger == "initial" {
				continue
			}
			switch {
			case ev.Restored: // the broken save was undone: the failure is over
				fmt.Fprintf(out, "reload: %s: back to the running code of generation %d\n", strings.Join(ev.Files, ", "), ev.Generation)
				lastReload = "ok"
			case ev.Err != nil:
				fmt.Fprintf(out, "reload: FAILED, still on generation %d: %v\n", ev.Generation, ev.Err)
				lastReload = "FAILED (see above)"
			default:
				fmt.Fprintln(out, "reload:", ev.Report)
				lastReload = "ok"
			}
		case <-statusC:
			fmt.Fprintln(out, w.Status(lastReload))
		}
	}
}
