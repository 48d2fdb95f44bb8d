package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/hotlua/hotlua/fleet"
)

var publishCommand = &command{
	name:    "publish",
	args:    []string{"DIR"},
	flags:   "--fleet NAME [--canary N] [--wait D] " + natsSynopsis,
	summary: "pack the scripts in DIR and make them a fleet's release",
	details: `Publish packs the scripts under DIR into a bundle (a reproducible archive
named by its SHA-256, with every file's hash in its manifest), uploads it and
makes it the release of fleet NAME by compare-and-set on the release's
revision: of two publishers racing, one wins and the other fails, changing
nothing. It prints the new revision, the fleet's version.

With --canary N only N live nodes (the first by name) run the bundle, until
"hotlua fleet promote NAME". With --wait D it prints each live node's ACK
(with each shard's generation) or NACK (with the error) as it arrives; on a
NACK, or when not every live node ACKs within D, it rolls the release back to
the previous bundle and exits with status 1. A node is live when its last
heartbeat is at most 15s old.

` + natsDetails,
	setup: func(fs *flag.FlagSet) runFunc {
		var n natsFlags
		var name string
		var canary int
		var wait time.Duration
		n.define(fs)
		fs.StringVar(&name, "fleet", "", "publish to the fleet called `NAME` (required)")
		fs.IntVar(&canary, "canary", 0, "run the bundle on `N` live nodes only, until fleet promote")
		durationVar(fs, &wait, "wait", 0, "wait up to `D` for every live node's answer and roll back on a NACK or a missing ACK")
		return func(ctx context.Context, s stdio, args []string) error {
			if name == "" {
				return usagef("--fleet NAME is required")
			}
			if canary < 0 {
				return usagef("--canary %d: want a number of nodes", canary)
			}
			if err := checkDir(args[0]); err != nil {
				return err
			}
			b, err := fleet.Pack(args[0])
			if err != nil {
				return err
			}
			if len(b.Manifest.Files) == 0 {
				return fmt.Errorf("%s: no .lua scripts to publish", args[0])
			}
			octx, cancel := context.WithTimeout(ctx, time.Minute+wait*2)
			defer cancel()
			f, nc, err := n.open(octx, name)
			if err != nil {
				return err
			}
			defer nc.Close()
			fmt.Fprintf(s.out, "bundle %s: %d scripts, %d bytes\n", shortDigest(b.Digest), len(b.Manifest.Files), len(b.Archive))
			answers := 0
			rel, err := f.Rollout(octx, b, fleet.RolloutOptions{Canary: canary, Wait: wait, OnStatus: func(st fleet.Status) {
				answers++
				fmt.Fprintln(s.out, st)
			}})
			var rerr *fleet.RolloutError
			if errors.As(err, &rerr) {
				fmt.Fprintf(s.err, "hotlua publish: %v\n", rerr)
				return errReported
			}
			if err != nil {
				return err
			}
			if wait > 0 && answers == 0 {
				fmt.Fprintln(s.err, "hotlua publish: no node to wait for: none has a heartbeat of the last 15s")
			}
			printRelease(s, name, rel)
			return nil
		}
	},
}
