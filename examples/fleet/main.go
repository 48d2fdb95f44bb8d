// Command fleet shows one publish reloading a fleet of processes: an
// embedded NATS server with JetStream, three nodes with two shards each,
// and four releases: a first bundle, a change, a broken change (every node
// NACKs and the fleet rolls back), then a fix. It prints each node's answer,
// what the live objects say, and the fleet's status after each release.
//
//	go run ./examples/fleet                  # the four releases, then runs until Ctrl-C
//	go run ./examples/fleet -duration 10s    # stops by itself
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hotlua/hotlua/engine"
	"github.com/hotlua/hotlua/examples/internal/demo"
	"github.com/hotlua/hotlua/fleet"
)

// releases are the scripts published one after another.
var releases = []struct{ what, script string }{
	{"first release", greeter(`"hello"`)},
	{"a change", greeter(`"hello from generation " .. hot.generation()`)},
	{"a broken change", greeter(`"oops" .. )`)},
	{"the fix", greeter(`"fixed, generation " .. hot.generation()`)},
}

func greeter(expr string) string {
	return "local Greeter = hot.class(\"Greeter\")\nfunction Greeter:hi()\n  return " + expr + "\nend\nreturn Greeter\n"
}

func main() {
	var duration time.Duration
	flag.DurationVar(&duration, "duration", 0, "stop after this long (0: run until interrupted)")
	flag.Parse()
	demo.Main("fleet", duration, run)
}

// node is one process of the fleet, here in this one: its shards, the
// object each shard runs, and the fleet node that reloads them.
type node struct {
	name    string
	shards  *engine.Shards
	objects []*engine.Object
	follow  *fleet.Node
}

// run starts the server and the nodes, publishes the releases, and waits
// for ctx to end.
func run(ctx context.Context, out io.Writer) error {
	tmp, err := os.MkdirTemp("", "hotlua-fleet")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	srv, err := fleet.StartServer(fleet.ServerOptions{StoreDir: filepath.Join(tmp, "store"), Listen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(out, "NATS with JetStream at %s\n", srv.URL())

	quiet := slog.New(slog.DiscardHandler)
	var nodes []*node
	for _, name := range []string{"eu-1", "eu-2", "us-1"} {
		n, err := startNode(srv.URL(), name, filepath.Join(tmp, name), quiet)
		if err != nil {
			return err
		}
		defer n.close()
		nodes = append(nodes, n)
	}
	nc, err := fleet.Connect(fleet.ConnectOptions{URL: srv.URL(), Name: "publisher"})
	if err != nil {
		return err
	}
	defer nc.Close()
	f, err := fleet.Open(ctx, nc, "demo")
	if err != nil {
		return err
	}
	if err := waitLive(ctx, f, len(nodes)); err != nil {
		return err
	}

	for i, r := range releases {
		fmt.Fprintf(out, "\n== publish %d: %s\n", i+1, r.what)
		dir := filepath.Join(tmp, fmt.Sprintf("release-%d", i+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "greeter.lua"), []byte(r.script), 0o644); err != nil {
			return err
		}
		b, err := fleet.Pack(dir)
		if err != nil {
			return err
		}
		rel, err := f.Rollout(ctx, b, fleet.RolloutOptions{Wait: 30 * time.Second, OnStatus: func(s fleet.Status) {
			fmt.Fprintf(out, "  %s\n", s)
		}})
		var rerr *fleet.RolloutError
		switch {
		case errors.As(err, &rerr):
			fmt.Fprintf(out, "rolled back: revision %d restored bundle %.12s\n", rerr.Rollback.Revision, rerr.Rollback.Bundle)
		case err != nil:
			return err
		default:
			fmt.Fprintf(out, "revision %d: bundle %.12s on every node\n", rel.Revision, rel.Bundle)
		}
		for _, n := range nodes {
			if i == 0 {
				if err := n.makeObjects(ctx); err != nil {
					return err
				}
			}
			said, err := n.say(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "  %s objects say %q\n", n.name, said)
		}
		if err := printStatus(ctx, out, f); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "\ndone; the nodes keep running (Ctrl-C stops)")
	<-ctx.Done()
	return nil
}

// startNode makes a node's two shards on its cache's root and follows the
// fleet.
func startNode(url, name, cacheDir string, log *slog.Logger) (*node, error) {
	cache, err := fleet.OpenCache(cacheDir)
	if err != nil {
		return nil, err
	}
	sh, err := engine.NewShards(engine.Options{Roots: []string{cache.Root()}, Logger: log}, "room-1", "room-2")
	if err != nil {
		return nil, err
	}
	nc, err := fleet.Connect(fleet.ConnectOptions{URL: url, Name: name, Retry: true})
	if err != nil {
		sh.Close()
		return nil, err
	}
	f, err := fleet.Follow(nc, fleet.Shards(sh), fleet.NodeOptions{Fleet: "demo", Node: name, Cache: cache, Logger: log, Heartbeat: time.Second})
	if err != nil {
		nc.Close()
		sh.Close()
		return nil, err
	}
	return &node{name: name, shards: sh, follow: f}, nil
}

func (n *node) close() {
	n.follow.Close()
	n.shards.Close()
}

// makeObjects makes one Greeter in each shard.
func (n *node) makeObjects(ctx context.Context) error {
	for _, s := range n.shards.Names() {
		obj, err := n.shards.Shard(s).New(ctx, "Greeter")
		if err != nil {
			return fmt.Errorf("%s %s: %w", n.name, s, err)
		}
		n.objects = append(n.objects, obj)
	}
	return nil
}

// say calls hi on the node's objects and returns what the first said.
func (n *node) say(ctx context.Context) (string, error) {
	said := ""
	for _, obj := range n.objects {
		v, err := obj.Call(ctx, "hi")
		if err != nil {
			return "", err
		}
		said = v.String()
	}
	return said, nil
}

// waitLive waits until count nodes have reported.
func waitLive(ctx context.Context, f *fleet.Fleet, count int) error {
	for {
		live, err := f.LiveNodes(ctx, fleet.DefaultStaleAfter)
		if err != nil || len(live) >= count {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// printStatus prints the fleet's release and its nodes, as hotlua fleet
// status does.
func printStatus(ctx context.Context, out io.Writer, f *fleet.Fleet) error {
	rel, err := f.Release(ctx)
	if err != nil {
		return err
	}
	statuses, err := f.Statuses(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "status: revision %d, bundle %.12s\n", rel.Revision, rel.Bundle)
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	for _, s := range statuses {
		fmt.Fprintf(tw, "  %s\t%s\trevision %d\tgenerations %s\t%s\n", s.Node, strings.ToUpper(s.State), s.Revision, fleet.FormatGenerations(s.Generations), s.Error)
	}
	return tw.Flush()
}
