// Command quickstart is the classic hot-reload sample, in Go: monitor a
// module, ask for the updated class, set it on the instance, call greet.
//
// It makes one greeter object from scripts/greeter.lua and greets every
// -every. The engine runs with ManualSwap, so a saved change leaves the
// object on its version until the loop asks [engine.Engine.UpdatedClass]
// for a newer class and sets it with [engine.Object.SetClass], the Go form of
// Python's instance.__class__ = UpdatedClass. Edit the greeting while it
// runs, or let -edit do it on a copy of the script:
//
//	go run ./examples/quickstart                         # until Ctrl-C
//	go run ./examples/quickstart -edit -duration 3s      # edits its copy, stops by itself
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotlua/hotlua/engine"
	"github.com/hotlua/hotlua/examples/internal/demo"
)

// config is what the flags set.
type config struct {
	scripts  string
	every    time.Duration
	poll     time.Duration
	duration time.Duration
	edit     bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.scripts, "scripts", "examples/quickstart/scripts", "the script root, holding greeter.lua")
	flag.DurationVar(&cfg.every, "every", 500*time.Millisecond, "greet this often")
	flag.DurationVar(&cfg.poll, "poll", 0, "watch the scripts by polling at this interval instead of with file events")
	flag.DurationVar(&cfg.duration, "duration", 0, "stop after this long (0: run until interrupted)")
	flag.BoolVar(&cfg.edit, "edit", false, "copy the scripts to a temporary directory and change the greeting there after two greetings")
	flag.Parse()

	demo.Main("quickstart", cfg.duration, func(ctx context.Context, out io.Writer) error { return run(ctx, cfg, out) })
}

// run greets until ctx ends, moving the greeter to each updated class.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.edit {
		dir, err := os.MkdirTemp("", "quickstart")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := os.CopyFS(dir, os.DirFS(cfg.scripts)); err != nil {
			return err
		}
		cfg.scripts = dir
	}
	e, err := engine.New(engine.Options{
		Roots:      []string{cfg.scripts},
		ManualSwap: true,
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	defer e.Close()
	if cfg.poll > 0 { // set_timer(interval)
		err = e.SetPollInterval(cfg.poll)
	} else { // monitor_module(module)
		err = e.Monitor()
	}
	if err != nil {
		return err
	}
	cls, err := e.Class("greeter")
	if err != nil {
		return err
	}
	obj, err := e.New(ctx, "greeter", "world")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "quickstart: greeting with %s; edit %s while it runs\n", cls, filepath.Join(cfg.scripts, "greeter.lua"))

	clock := time.NewTicker(cfg.every)
	defer clock.Stop()
	for greetings := 0; ; greetings++ {
		if c, newer := e.UpdatedClass(cls); newer { // get_updated_class(cls)
			if err := obj.SetClass(c); err != nil { // instance.__class__ = updated
				return err
			}
			fmt.Fprintf(out, "quickstart: %s -> %s\n", cls, c)
			cls = c
		}
		greeting, err := obj.Call(ctx, "greet")
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(out, greeting)
		if cfg.edit && greetings == 1 {
			if err := editGreeting(cfg.scripts, out); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-clock.C:
		}
	}
}

// editGreeting saves a greeter.lua under dir whose greeting says "Howdy"
// instead of "Hello", as a user would in an editor.
func editGreeting(dir string, out io.Writer) error {
	path := filepath.Join(dir, "greeter.lua")
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "quickstart: editing %s: Hello -> Howdy\n", path)
	return os.WriteFile(path, []byte(strings.Replace(string(src), `"Hello, `, `"Howdy, `, 1)), 0o644)
}
