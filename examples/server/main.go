// Command server is a line-based TCP server whose request handler is a Lua
// class, reloaded live without dropping connections.
//
// Each connection is an object of class handlers.session
// (scripts/handlers/session.lua); every line a client sends is passed to its
// on_line method and what that returns is written back. Edit the script while
// clients are connected: their next line runs the new code on the same
// connection, and each session keeps its fields.
//
//	go run ./examples/server                    # until Ctrl-C; then: nc 127.0.0.1 7070
//	go run ./examples/server -duration 10s      # stops by itself
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hotlua/hotlua/engine"
	"github.com/hotlua/hotlua/examples/internal/demo"
)

// handlerClass is the class of every connection's session object.
const handlerClass = "handlers.session"

// config is what the flags set.
type config struct {
	addr     string
	scripts  string
	poll     time.Duration
	duration time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:7070", "the TCP address to listen on (port 0 picks one)")
	flag.StringVar(&cfg.scripts, "scripts", "examples/server/scripts", "the script root, holding handlers/session.lua")
	flag.DurationVar(&cfg.poll, "poll", 0, "watch the scripts by polling at this interval instead of with file events")
	flag.DurationVar(&cfg.duration, "duration", 0, "stop after this long (0: run until interrupted)")
	flag.Parse()

	demo.Main("server", cfg.duration, func(ctx context.Context, out io.Writer) error { return run(ctx, cfg, out) })
}

// run serves connections until ctx ends, then closes them and returns.
// It reports connections and reloads on out, which must be safe for
// concurrent use.
func run(ctx context.Context, cfg config, out io.Writer) error {
	e, err := engine.New(engine.Options{
		Roots:  []string{cfg.scripts},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnReload: func(ev engine.ReloadEvent) {
			switch {
			case ev.Trigger == "initial":
			case ev.Restored:
				fmt.Fprintf(out, "server: %v: back to the running code of generation %d\n", ev.Files, ev.Generation)
			case ev.Err != nil:
				fmt.Fprintf(out, "server: reload failed, generation %d keeps serving: %v\n", ev.Generation, ev.Err)
			default:
				fmt.Fprintf(out, "server: reloaded %v\n", ev.Report)
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
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	fmt.Fprintf(out, "server: listening on %s, generation %d; edit %s/handlers/session.lua while clients are connected\n", ln.Addr(), e.Generation(), cfg.scripts)

	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		conn, err := ln.Accept()
		if ctx.Err() != nil {
			fmt.Fprintln(out, "server: stopped")
			return nil
		}
		if err != nil {
			return err
		}
		conns.Go(func() { serve(ctx, e, conn, out) })
	}
}

// serve runs one connection: a session object answers each line, until the
// client hangs up or ctx ends.
func serve(ctx context.Context, e *engine.Engine, conn net.Conn, out io.Writer) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	peer := conn.RemoteAddr().String()
	session, err := e.New(ctx, handlerClass, peer)
	if err != nil {
		fmt.Fprintf(conn, "error: %v\n", err)
		return
	}
	fmt.Fprintf(out, "server: %s connected\n", peer)
	lines := bufio.NewScanner(conn)
	for lines.Scan() {
		reply, err := session.Call(ctx, "on_line", lines.Text())
		switch {
		case ctx.Err() != nil:
			return
		case err != nil: // a bug in the handler costs a reply, not the connection
			_, err = fmt.Fprintf(conn, "error: %v\n", err)
		case !reply.IsNil():
			_, err = fmt.Fprintln(conn, reply)
		}
		if err != nil {
			break
		}
	}
	if err := lines.Err(); err != nil && !errors.Is(err, net.ErrClosed) {
		fmt.Fprintf(out, "server: %s: %v\n", peer, err)
	}
	fmt.Fprintf(out, "server: %s disconnected\n", peer)
}
