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
	"time"

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
}

func main() {
	var cfg config
	flag.StringVar(&cfg.scripts, "scripts", "scripts", "the script root")
	flag.IntVar(&cfg.entities, "entities", 300, "how many units")
	flag.DurationVar(&cfg.tick, "tick", 50*time.Millisecond, "the tick period")
	flag.DurationVar(&cfg.duration, "duration", 0, "stop after this long (0: run until interrupted)")
	flag.DurationVar(&cfg.poll, "poll", 0, "watch scripts by polling at this interval instead of fsnotify")
	flag.DurationVar(&cfg.status, "status", time.Second, "how often to print the status line")
	flag.Parse()

	demo.Main("arena", cfg.duration, func(ctx context.Context, out io.Writer) error { return run(ctx, cfg, out) })
}

// run loads the scripts, watches them and runs the world until ctx ends.
func run(ctx context.Context, cfg config, out io.Writer) error {
	reloads := make(chan engine.ReloadEvent, 8)
	e, err := engine.New(engine.Options{
		Roots:  []string{cfg.scripts},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
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

	tick := time.NewTicker(cfg.tick)
	defer tick.Stop()
	status := time.NewTicker(cfg.status)
	defer status.Stop()
	lastReload := "none yet"
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
			if ev.Err != nil {
				lastReload = fmt.Sprintf("FAILED, still on generation %d: %v", ev.Generation, ev.Err)
			} else {
				lastReload = fmt.Sprintf("generation %d (%s) in %v", ev.Generation, ev.Report.String(), ev.Duration.Round(time.Microsecond))
			}
			fmt.Fprintln(out, "reload:", lastReload)
		case <-status.C:
			fmt.Fprintln(out, w.Status(lastReload))
		}
	}
}
