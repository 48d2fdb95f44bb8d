package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hotlua/hotlua/fleet"
)

func init() {
	register(publishCommand)
	register(fleetServeCommand)
	register(fleetStatusCommand)
	register(fleetRollbackCommand)
	register(fleetPromoteCommand)
}

// natsFlags are how a fleet command reaches NATS. Secrets come from files
// and the environment, never from the command line.
type natsFlags struct{ opts fleet.ConnectOptions }

// natsSynopsis is the synopsis of natsFlags.
const natsSynopsis = "[--nats URL] [--creds FILE] [--nkey FILE] [--nats-token-file FILE] [--tlsca FILE] [--tlscert FILE --tlskey FILE]"

// natsDetails ends the help of every command that reaches NATS.
const natsDetails = `The NATS server is --nats URL, else $NATS_URL, else ` + fleet.DefaultURL + `.
Credentials are taken as the NATS tools take them, from files or the
environment: --creds FILE ($NATS_CREDS), --nkey FILE with an NKey seed
($NATS_NKEY), --nats-token-file FILE ($NATS_TOKEN holds the token itself),
and for TLS --tlsca FILE ($NATS_CA), --tlscert FILE and --tlskey FILE
($NATS_CERT, $NATS_KEY). A --nats URL holding a user, password or token is refused: every
user of the machine can read a command line.`

func (n *natsFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&n.opts.URL, "nats", "", "the NATS server `URL` (default $NATS_URL, else "+fleet.DefaultURL+")")
	fs.StringVar(&n.opts.CredsFile, "creds", "", "a NATS credentials `FILE` (default $NATS_CREDS)")
	fs.StringVar(&n.opts.NKeyFile, "nkey", "", "a `FILE` holding an NKey seed (default $NATS_NKEY)")
	fs.StringVar(&n.opts.TokenFile, "nats-token-file", "", "a `FILE` holding the NATS server's token (default the token in $NATS_TOKEN)")
	fs.StringVar(&n.opts.CAFile, "tlsca", "", "a CA certificate `FILE` to verify the server (default $NATS_CA)")
	fs.StringVar(&n.opts.CertFile, "tlscert", "", "a client certificate `FILE` (default $NATS_CERT)")
	fs.StringVar(&n.opts.KeyFile, "tlskey", "", "the client certificate's key `FILE` (default $NATS_KEY)")
}

// connect connects to NATS as client name, retrying in the background
// when retry is set. A --nats URL holding a user, password or token is
// refused: the command line is visible to every user of the machine.
func (n *natsFlags) connect(name string, retry bool) (*nats.Conn, error) {
	for u := range strings.SplitSeq(n.opts.URL, ",") {
		if pu, err := url.Parse(strings.TrimSpace(u)); err == nil && pu.User != nil {
			return nil, usagef("--nats: put credentials in a file or the environment ($NATS_URL, --creds, --nats-token-file), not in the URL on the command line")
		}
	}
	o := n.opts
	o.Name, o.Retry = name, retry
	return fleet.Connect(o)
}

// open connects and opens the fleet called name.
func (n *natsFlags) open(ctx context.Context, name string) (*fleet.Fleet, *nats.Conn, error) {
	nc, err := n.connect("hotlua", false)
	if err != nil {
		return nil, nil, err
	}
	f, err := fleet.Open(ctx, nc, name)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return f, nc, nil
}

// fleetCommand makes a command that opens the fleet named by its NAME
// argument and calls do with it.
func fleetCommand(name, summary, details string, do func(ctx context.Context, s stdio, f *fleet.Fleet) error) *command {
	return &command{
		name:    name,
		args:    []string{"NAME"},
		flags:   natsSynopsis,
		summary: summary,
		details: details + "\n\n" + natsDetails,
		setup: func(fs *flag.FlagSet) runFunc {
			var n natsFlags
			n.define(fs)
			return func(ctx context.Context, s stdio, args []string) error {
				ctx, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				f, nc, err := n.open(ctx, args[0])
				if err != nil {
					return err
				}
				defer nc.Close()
				return do(ctx, s, f)
			}
		},
	}
}

var fleetStatusCommand = fleetCommand("fleet status", "show a fleet's release and every node's status",
	`Status prints the release of fleet NAME (its revision, which is the fleet's
version, its bundle, the previous bundle and its phase), then one line per
node: ACK or NACK, the revision it runs, each shard's generation, the
revision it rejected and why, and how long ago its last heartbeat was.`,
	func(ctx context.Context, s stdio, f *fleet.Fleet) error {
		rel, err := f.Release(ctx)
		switch {
		case errors.Is(err, fleet.ErrNoRelease):
			fmt.Fprintf(s.out, "fleet %s: no release yet\n", f.Name())
		case err != nil:
			return err
		default:
			printRelease(s, f.Name(), rel)
		}
		statuses, err := f.Statuses(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(s.out, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "NODE\tSTATE\tREVISION\tBUNDLE\tGENERATIONS\tHEARTBEAT\tLAST ERROR")
		for _, st := range statuses {
			state, last := "ACK", ""
			if st.State == fleet.StateNACK {
				state = "NACK"
				last = fmt.Sprintf("revision %d: %s", st.Rejected, st.Error)
				if st.Shard != "" {
					last = fmt.Sprintf("revision %d, shard %s: %s", st.Rejected, st.Shard, st.Error)
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s ago\t%s\n", st.Node, state, st.Revision, shortDigest(st.Bundle),
				fleet.FormatGenerations(st.Generations), time.Since(st.Heartbeat).Round(100*time.Millisecond), last)
		}
		return tw.Flush()
	})

var fleetRollbackCommand = fleetCommand("fleet rollback", "publish a fleet's previous bundle again",
	`Rollback makes the previous bundle of fleet NAME its release again, by
compare-and-set on the release's revision: when another publisher changed the
release meanwhile, nothing changes and it fails. During a canary phase it ends
the canary on the bundle the other nodes run.`,
	func(ctx context.Context, s stdio, f *fleet.Fleet) error {
		rel, err := f.Rollback(ctx, 0)
		if err != nil {
			return err
		}
		printRelease(s, f.Name(), rel)
		return nil
	})

var fleetPromoteCommand = fleetCommand("fleet promote", "end a fleet's canary phase: every node runs its bundle",
	`Promote ends the canary phase of fleet NAME's release, by compare-and-set on
its revision: every node then runs the bundle the canary nodes run.`,
	func(ctx context.Context, s stdio, f *fleet.Fleet) error {
		rel, err := f.Promote(ctx)
		if err != nil {
			return err
		}
		printRelease(s, f.Name(), rel)
		return nil
	})

// printRelease prints a release on one line.
func printRelease(s stdio, name string, rel fleet.Release) {
	fmt.Fprintf(s.out, "fleet %s: revision %d, bundle %s", name, rel.Revision, shortDigest(rel.Bundle))
	if rel.Previous != "" {
		fmt.Fprintf(s.out, " (previous %s)", shortDigest(rel.Previous))
	}
	fmt.Fprintf(s.out, ", %s", rel.Phase)
	if rel.Phase == fleet.PhaseCanary {
		fmt.Fprintf(s.out, " on %v", rel.Canary)
	}
	fmt.Fprintln(s.out)
}

func shortDigest(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	if d == "" {
		return "-"
	}
	return d
}

var fleetServeCommand = &command{
	name:    "fleet serve",
	flags:   "[--store DIR] [--listen HOST:PORT] [--allow-remote]",
	summary: "run a NATS server with JetStream for fleets on this machine",
	details: `Serve runs a NATS server with JetStream inside this process, the one-machine
default for fleets, prints its URL on stderr and runs until SIGINT or SIGTERM.
Releases, node statuses and bundles are kept in the store directory
(default: hotlua/nats in the user's cache directory). The server has no
authentication: it listens on loopback only unless --allow-remote is given.
For several machines, run a real NATS cluster with JetStream instead and
point nodes and publishers at it with --nats.`,
	setup: func(fs *flag.FlagSet) runFunc {
		var store, listen string
		var allowRemote bool
		fs.StringVar(&store, "store", "", "keep JetStream's data in `DIR` (default hotlua/nats in the user's cache directory)")
		fs.StringVar(&listen, "listen", "127.0.0.1:4222", "listen for clients on `HOST:PORT`; port 0 picks a free one")
		fs.BoolVar(&allowRemote, "allow-remote", false, "let the server listen on an address that is not loopback (it has no authentication)")
		return func(ctx context.Context, s stdio, _ []string) error {
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return usagef("--listen %q is not HOST:PORT", listen)
			}
			if ip := net.ParseIP(host); !allowRemote && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return usagef("--listen %s is not a loopback address; the server has no authentication (--allow-remote to insist)", listen)
			}
			if store == "" {
				dir, err := cacheDir()
				if err != nil {
					return fmt.Errorf("no --store and no cache directory: %w", err)
				}
				store = filepath.Join(dir, "nats")
			}
			srv, err := fleet.StartServer(fleet.ServerOptions{StoreDir: store, Listen: listen})
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("%w (another server listens there: stop it, or give --listen another HOST:PORT)", err)
			}
			if err != nil {
				return err
			}
			defer srv.Close()
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			fmt.Fprintf(s.err, "hotlua: NATS with JetStream at %s (store %s); Ctrl-C stops\n", srv.URL(), store)
			<-ctx.Done()
			fmt.Fprintln(s.err, "hotlua: stopped")
			return nil
		}
	},
}
