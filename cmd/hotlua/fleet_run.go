package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/hotlua/hotlua/engine"
	"github.com/hotlua/hotlua/fleet"
)

// nodeFlags are the flags of "hotlua run" that make it a fleet node.
type nodeFlags struct {
	fleet, node, cache string
	nats               natsFlags
}

// nodeSynopsis is the synopsis of nodeFlags, which stand for run's DIR.
const nodeSynopsis = "--fleet NAME [--node ID] [--cache DIR] [NATS flags]"

// nodeDetails ends the help of "hotlua run".
const nodeDetails = `With --fleet NAME, run takes its scripts from the releases of fleet NAME
instead of DIR: it follows the release, loads each bundle it should run (after
checking its digest, every file's hash and its size) as a new generation, and
reports an ACK or a NACK with the error under its node ID (--node, default the
host name and process id), which also serves as a heartbeat. Bundles are kept
in --cache DIR (default hotlua/fleet/NAME/ID in the user's cache directory);
when NATS cannot be reached, the node runs the last bundle that loaded and
keeps trying. ` + natsDetails

func (n *nodeFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&n.fleet, "fleet", "", "follow the releases of fleet `NAME` instead of watching DIR")
	fs.StringVar(&n.node, "node", "", "this node's `ID` in the fleet (default host name and process id)")
	fs.StringVar(&n.cache, "cache", "", "keep the fleet's bundles in `DIR` (default hotlua/fleet/NAME/ID in the user's cache directory)")
	n.nats.define(fs)
}

var notNameChar = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// openCache fills in the defaults and opens the node's cache.
func (n *nodeFlags) openCache() (*fleet.Cache, error) {
	if n.node == "" {
		host, _ := os.Hostname()
		n.node = strings.Trim(notNameChar.ReplaceAllString(host, "-"), "-") + fmt.Sprintf("-%d", os.Getpid())
	}
	if n.cache == "" {
		dir, err := cacheDir()
		if err != nil {
			return nil, fmt.Errorf("no --cache and no cache directory: %w", err)
		}
		n.cache = filepath.Join(dir, "fleet", n.fleet, n.node)
	}
	return fleet.OpenCache(n.cache)
}

// follow makes e follow the fleet; stop ends it. NATS need not be
// reachable now.
func (n *nodeFlags) follow(e *engine.Engine, cache *fleet.Cache, log *slog.Logger, w io.Writer) (stop func(), err error) {
	nc, err := n.nats.connect("hotlua node "+n.node, true)
	if err != nil {
		return nil, err
	}
	node, err := fleet.Follow(nc, fleet.Engine(e), fleet.NodeOptions{
		Fleet: n.fleet, Node: n.node, Cache: cache, Logger: log,
		OnStatus: reportStatus(w),
	})
	if err != nil {
		nc.Close()
		return nil, err
	}
	if nc.Status() != nats.CONNECTED {
		// The cache's root is empty until a bundle (which publish never
		// makes empty) has loaded here.
		if scripts, _ := os.ReadDir(cache.Root()); len(scripts) == 0 {
			fmt.Fprintf(w, "hotlua: NATS is not reachable and no bundle is cached yet: no scripts run until the node reaches NATS and loads fleet %s's release; trying again\n", n.fleet)
		} else {
			fmt.Fprintf(w, "hotlua: NATS is not reachable; running the last good bundle and trying again\n")
		}
	}
	return func() { node.Close(); nc.Close() }, nil
}

// reportStatus returns an OnStatus that prints each ACK or NACK once, not
// every heartbeat that repeats it. It is called by the node's goroutine.
func reportStatus(w io.Writer) func(fleet.Status) {
	var last fleet.Status
	return func(s fleet.Status) {
		if s.State == last.State && s.Revision == last.Revision && s.Rejected == last.Rejected {
			return
		}
		last = s
		fmt.Fprintf(w, "hotlua: fleet %s\n", s)
	}
}

// scriptRoot returns the script root of "hotlua run": dir, or with --fleet
// the node's cache root, and then the opened cache.
func (n *nodeFlags) scriptRoot(dir string) (string, *fleet.Cache, error) {
	switch {
	case n.fleet == "" && dir == "":
		return "", nil, usagef("missing DIR (or --fleet NAME)")
	case n.fleet == "":
		return dir, nil, checkDir(dir)
	case dir != "":
		return "", nil, usagef("give DIR or --fleet NAME, not both")
	}
	cache, err := n.openCache()
	if err != nil {
		return "", nil, err
	}
	return cache.Root(), cache, nil
}
