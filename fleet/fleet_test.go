package fleet

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotlua/hotlua/engine"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var (
	v1 = map[string]string{"game/unit.lua": unitScript("v1", "")}
	v2 = map[string]string{"game/unit.lua": unitScript("v2", "")}
)

// publish rolls b out to the fleet without waiting and returns its release.
func (c *cluster) publish(b *Bundle, opts PublishOptions) Release {
	c.t.Helper()
	rel, err := c.fleet.Publish(context.Background(), b, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	return rel
}

// start runs count nodes on v1, each with an object per shard.
func (c *cluster) start(count int) ([]*testNode, Release) {
	c.t.Helper()
	nodes := c.startNodes(count)
	rel := c.publish(pack(c.t, v1), PublishOptions{})
	for name, s := range c.answers(nodes, rel.Revision) {
		if s.State != StateACK {
			c.t.Fatalf("%s: %v", name, s)
		}
	}
	for _, n := range nodes {
		n.makeObjects(c.t)
	}
	return nodes, rel
}

func TestGoodPublishEveryNodeACKsAndLiveObjectsRunNewCode(t *testing.T) {
	c := newCluster(t)
	nodes := c.startNodes(4)
	deferred := c.startNode("node-99", "eu", "", func(o *engine.Options) { o.DeferCommit = true })
	committer(t, deferred.shards)
	nodes = append(nodes, deferred)
	c.waitLive(nodes)
	first := c.publish(pack(t, v1), PublishOptions{})
	c.answers(nodes, first.Revision)
	for _, n := range nodes {
		n.makeObjects(t)
	}
	before := generationsOf(nodes)

	b := pack(t, v2)
	rel, err := c.fleet.Rollout(context.Background(), b, RolloutOptions{Wait: patience})
	if err != nil {
		t.Fatal(err)
	}
	if rel.Revision <= first.Revision || rel.Bundle != b.Digest || rel.Previous != first.Bundle {
		t.Fatalf("release %+v after %+v", rel, first)
	}
	got := c.answers(nodes, rel.Revision)
	for _, n := range nodes {
		s := got[n.name]
		if s.State != StateACK || s.Bundle != b.Digest {
			t.Fatalf("%s: %v, want an ACK of bundle %s", n.name, s, short(b.Digest))
		}
		for shard, g := range s.Generations {
			if g != before[n.name][shard]+1 {
				t.Fatalf("%s shard %s: generation %d, want %d", n.name, shard, g, before[n.name][shard]+1)
			}
		}
		if w := n.speak(t); w != "v2" {
			t.Fatalf("%s: live objects say %q, want v2", n.name, w)
		}
	}
}

func TestSyntaxErrorEveryNodeNACKsAndKeepsItsGenerations(t *testing.T) {
	c := newCluster(t)
	nodes, good := c.start(5)
	before := generationsOf(nodes)
	broken := pack(t, map[string]string{"game/unit.lua": unitScript("v2", "local x = = 1")})
	rel := c.publish(broken, PublishOptions{})
	for _, n := range nodes {
		s := c.answers(nodes, rel.Revision)[n.name]
		if s.State != StateNACK || s.Rejected != rel.Revision || s.Revision != good.Revision {
			t.Fatalf("%s: %v, want a NACK of %d keeping %d", n.name, s, rel.Revision, good.Revision)
		}
		if !strings.HasPrefix(s.Error, "game/unit.lua:3:") {
			t.Fatalf("%s: error %q, want it to start with game/unit.lua:3:", n.name, s.Error)
		}
		if g := n.generations(); !maps.Equal(g, before[n.name]) {
			t.Fatalf("%s: generations %v, want %v unchanged", n.name, g, before[n.name])
		}
		if w := n.speak(t); w != "v1" {
			t.Fatalf("%s: objects say %q, want v1", n.name, w)
		}
	}
}

func TestBundleFailingOnOneNodeRollsTheFleetBack(t *testing.T) {
	c := newCluster(t)
	nodes := c.startNodes(4)
	nodes = append(nodes, c.startNode("node-mars", "mars", ""))
	c.waitLive(nodes)
	first := c.publish(pack(t, v1), PublishOptions{})
	c.answers(nodes, first.Revision)
	for _, n := range nodes {
		n.makeObjects(t)
	}

	picky := pack(t, map[string]string{"game/unit.lua": unitScript("v2", `hot.check(function() return region ~= "mars", "cannot run on mars" end)`)})
	var seen []Status
	var mu sync.Mutex
	_, err := c.fleet.Rollout(context.Background(), picky, RolloutOptions{Wait: patience, OnStatus: func(s Status) {
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	}})
	var rerr *RolloutError
	if !errors.As(err, &rerr) {
		t.Fatalf("Rollout = %v, want a *RolloutError", err)
	}
	if len(rerr.NACKs) != 1 || rerr.NACKs[0].Node != "node-mars" || !strings.Contains(rerr.NACKs[0].Error, "cannot run on mars") {
		t.Fatalf("NACKs = %v, want node-mars's", rerr.NACKs)
	}
	if rerr.Err != nil || rerr.Rollback.Bundle != first.Bundle {
		t.Fatalf("rollback %+v (err %v), want bundle %s", rerr.Rollback, rerr.Err, short(first.Bundle))
	}
	for _, n := range nodes {
		s := c.answers(nodes, rerr.Rollback.Revision)[n.name]
		if s.State != StateACK || s.Bundle != first.Bundle {
			t.Fatalf("%s: %v, want an ACK of the previous bundle", n.name, s)
		}
		if w := n.speak(t); w != "v1" {
			t.Fatalf("%s: objects say %q, want v1 again", n.name, w)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("OnStatus was told nothing")
	}
}

func TestRacingPublishersExactlyOneWins(t *testing.T) {
	c := newCluster(t)
	nodes, base := c.start(5)
	bundles := []*Bundle{pack(t, v2), pack(t, map[string]string{"game/unit.lua": unitScript("v3", "")})}
	errs := make([]error, 2)
	rels := make([]Release, 2)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range bundles {
		wg.Go(func() {
			<-start
			rels[i], errs[i] = c.fleet.Publish(context.Background(), bundles[i], PublishOptions{Revision: base.Revision})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("both publishers won: %+v and %+v", rels[0], rels[1])
			}
			winner = i
		case !errors.Is(err, ErrConflict):
			t.Fatalf("publisher %d: %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no publisher won: %v", errs)
	}
	cur, err := c.fleet.Release(context.Background())
	if err != nil || cur.Bundle != bundles[winner].Digest || cur.Revision != rels[winner].Revision {
		t.Fatalf("release %+v (%v), want the winner's", cur, err)
	}
	for name, s := range c.answers(nodes, cur.Revision) {
		if s.State != StateACK || s.Bundle != bundles[winner].Digest {
			t.Fatalf("%s: %v", name, s)
		}
	}
}

func TestOfflineNodeCatchesUpWithTheLatestRelease(t *testing.T) {
	c := newCluster(t)
	nodes, _ := c.start(5)
	away := nodes[4]
	away.node.Close()
	c.publish(pack(t, v2), PublishOptions{})
	latest := pack(t, map[string]string{"game/unit.lua": unitScript("v3", "")})
	rel := c.publish(latest, PublishOptions{})
	c.answers(nodes[:4], rel.Revision)
	if w := away.speak(t); w != "v1" {
		t.Fatalf("offline node says %q, want v1", w)
	}
	away.follow(c, c.srv.URL())
	s := c.answers(nodes[4:], rel.Revision)[away.name]
	if s.State != StateACK || s.Bundle != latest.Digest {
		t.Fatalf("returning node: %v, want an ACK of the latest bundle", s)
	}
	if w := away.speak(t); w != "v3" {
		t.Fatalf("returning node says %q, want v3", w)
	}
	// A node that went through v1, v2 and v3 keeps v3 and v2 only.
	entries, err := os.ReadDir(filepath.Join(nodes[0].cache.Dir(), "bundles"))
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, e := range entries {
		kept = append(kept, e.Name())
	}
	if want := []string{pack(t, v2).Digest, latest.Digest, emptyBundle}; !equalSets(kept, want) {
		t.Fatalf("the cache holds %v, want %v", kept, want)
	}
}

func equalSets(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestNodeStartingWithoutNATSRunsItsLastGoodBundle(t *testing.T) {
	c := newCluster(t)
	nodes, _ := c.start(5)
	rel := c.publish(pack(t, v2), PublishOptions{})
	c.answers(nodes, rel.Revision)
	// A failed release afterwards must not be what the node boots.
	bad := c.publish(pack(t, map[string]string{"game/unit.lua": "return ("}), PublishOptions{})
	c.answers(nodes, bad.Revision)
	dir := nodes[0].cache.Dir()
	nodes[0].node.Close()
	nodes[0].shards.Close()
	c.srv.Close()

	cache, err := OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := engine.NewShards(engine.Options{Roots: []string{cache.Root()}, Logger: quiet}, "s1", "s2")
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	restarted := &testNode{name: "node-00", cache: cache, shards: sh}
	restarted.makeObjects(t)
	if w := restarted.speak(t); w != "v2" {
		t.Fatalf("restarted node says %q, want v2, its last good bundle", w)
	}
	// Following while NATS is away neither fails nor changes what runs.
	node, err := Follow(connect(t, c.srv.URL(), true), Shards(sh), NodeOptions{Fleet: "game", Node: "node-00", Cache: cache, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	if s := node.Status(); s.Revision != rel.Revision || s.Bundle != pack(t, v2).Digest {
		t.Fatalf("status %v, want revision %d of the v2 bundle", s, rel.Revision)
	}

	// When NATS is back (same address, same store), the node catches up.
	url := c.srv.URL()
	c.srv = c.startServer(strings.TrimPrefix(url, "nats://"))
	latest := pack(t, map[string]string{"game/unit.lua": unitScript("v3", "")})
	back := c.publish(latest, PublishOptions{})
	if s := c.answers([]*testNode{restarted}, back.Revision)["node-00"]; s.State != StateACK || s.Bundle != latest.Digest {
		t.Fatalf("after NATS came back: %v, want an ACK of the latest bundle", s)
	}
	if w := restarted.speak(t); w != "v3" {
		t.Fatalf("after NATS came back the node says %q, want v3", w)
	}
}

func TestTamperedObjectIsRejectedAndNothingLoads(t *testing.T) {
	c := newCluster(t)
	nodes, good := c.start(5)
	before := generationsOf(nodes)
	real, forged := pack(t, v2), pack(t, map[string]string{"game/unit.lua": unitScript("evil", "")})
	ctx := context.Background()
	if _, err := c.fleet.bundles.PutBytes(ctx, real.Digest, forged.Archive); err != nil {
		t.Fatal(err)
	}
	rel, err := c.fleet.setRelease(ctx, good.Revision, Release{Bundle: real.Digest, Previous: good.Bundle, Phase: PhaseStable})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range c.answers(nodes, rel.Revision) {
		if s.State != StateNACK || !strings.Contains(s.Error, ErrBadBundle.Error()) {
			t.Fatalf("%s: %v, want a NACK for a bad bundle", name, s)
		}
	}
	for _, n := range nodes {
		if g := n.generations(); !maps.Equal(g, before[n.name]) {
			t.Fatalf("%s: generations %v, want %v", n.name, g, before[n.name])
		}
		if _, err := os.Stat(filepath.Join(n.cache.Dir(), "bundles", real.Digest)); !os.IsNotExist(err) {
			t.Fatalf("%s: the forged bundle was unpacked (%v)", n.name, err)
		}
		if w := n.speak(t); w != "v1" {
			t.Fatalf("%s says %q", n.name, w)
		}
	}
	// Publishing the real bundle replaces the forged object.
	fixed := c.publish(real, PublishOptions{})
	for name, s := range c.answers(nodes, fixed.Revision) {
		if s.State != StateACK || s.Bundle != real.Digest {
			t.Fatalf("%s after publishing the real bundle: %v", name, s)
		}
	}
}

func TestCanaryThenPromote(t *testing.T) {
	c := newCluster(t)
	nodes, first := c.start(5)
	b := pack(t, v2)
	rel, err := c.fleet.Rollout(context.Background(), b, RolloutOptions{Canary: 2, Wait: patience})
	if err != nil {
		t.Fatal(err)
	}
	if rel.Phase != PhaseCanary || len(rel.Canary) != 2 {
		t.Fatalf("release %+v, want a canary of 2", rel)
	}
	got := c.answers(nodes, rel.Revision)
	for _, n := range nodes {
		want, word := first.Bundle, "v1"
		if n.name == rel.Canary[0] || n.name == rel.Canary[1] {
			want, word = b.Digest, "v2"
		}
		if s := got[n.name]; s.State != StateACK || s.Bundle != want {
			t.Fatalf("%s during the canary: %v, want bundle %s", n.name, s, short(want))
		}
		if w := n.speak(t); w != word {
			t.Fatalf("%s during the canary says %q, want %q", n.name, w, word)
		}
	}
	promoted, err := c.fleet.Promote(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if s := c.answers(nodes, promoted.Revision)[n.name]; s.State != StateACK || s.Bundle != b.Digest {
			t.Fatalf("%s after promote: %v", n.name, s)
		}
		if w := n.speak(t); w != "v2" {
			t.Fatalf("%s after promote says %q", n.name, w)
		}
	}
}

// A host with DeferCommit that never reaches its safe point gets a NACK
// once the load timeout passes, and the prepared reload is dropped, so a
// later CommitPending cannot commit a bundle the fleet was told failed.
func TestUncommittedDeferredReloadIsNACKedAndDropped(t *testing.T) {
	c := newCluster(t)
	cache, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sh, err := engine.NewShards(engine.Options{Roots: []string{cache.Root()}, Logger: quiet, DeferCommit: true}, "s1", "s2")
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	stuck := &testNode{name: "stuck", cache: cache, shards: sh}
	node, err := Follow(connect(t, c.srv.URL(), true), Shards(sh), NodeOptions{Fleet: "game", Node: "stuck", Cache: cache, Logger: quiet, LoadTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	rel := c.publish(pack(t, v1), PublishOptions{})
	s := c.answers([]*testNode{stuck}, rel.Revision)["stuck"]
	if s.State != StateNACK {
		t.Fatalf("status %v, want a NACK", s)
	}
	for _, name := range sh.Names() {
		e := sh.Shard(name)
		if e.HasPending() || e.Generation() != 1 {
			t.Fatalf("shard %s: pending %v, generation %d; want nothing prepared on generation 1", name, e.HasPending(), e.Generation())
		}
	}
}

// A live node that does not answer within the wait (its host never commits)
// makes the rollout roll back, naming the node. The rollout waits for the
// stuck node only (a canary of one, the first by name), so that how fast
// the healthy node answers does not matter.
func TestRolloutRollsBackWhenANodeDoesNotAnswerInTime(t *testing.T) {
	c := newCluster(t)
	nodes, first := c.start(1)
	stuck := c.startNode("a-stuck", "eu", "", func(o *engine.Options) { o.DeferCommit = true })
	c.waitLive(append(nodes, stuck))
	_, err := c.fleet.Rollout(context.Background(), pack(t, v2), RolloutOptions{Canary: 1, Wait: time.Second})
	var rerr *RolloutError
	if !errors.As(err, &rerr) || len(rerr.Missing) != 1 || rerr.Missing[0] != "a-stuck" || len(rerr.NACKs) != 0 {
		t.Fatalf("Rollout = %v, want a rollback for the missing answer of stuck", err)
	}
	if rerr.Err != nil || rerr.Rollback.Bundle != first.Bundle {
		t.Fatalf("rollback %+v (%v), want bundle %s", rerr.Rollback, rerr.Err, short(first.Bundle))
	}
	// Still waiting for its host to commit the canary, the stuck node
	// cannot ACK the rollback either: the error says so.
	if !slices.Equal(rerr.Unconfirmed, []string{"a-stuck"}) || !strings.Contains(rerr.Error(), "a-stuck did not ACK in time") {
		t.Fatalf("rollback unconfirmed by %v (%v), want a-stuck", rerr.Unconfirmed, rerr)
	}
	if s := c.answers(nodes, rerr.Rollback.Revision)[nodes[0].name]; s.State != StateACK || s.Bundle != first.Bundle {
		t.Fatalf("%s after the rollback: %v", nodes[0].name, s)
	}
}

// A revision that failed is not tried again, not even by the node after a
// restart; a newer one is.
func TestFailedRevisionIsNotTriedAgain(t *testing.T) {
	c := newCluster(t)
	var failures atomic.Int32
	n := c.startNode("node-00", "eu", "", func(o *engine.Options) {
		o.OnReload = func(ev engine.ReloadEvent) {
			if ev.Err != nil {
				failures.Add(1)
			}
		}
	})
	c.waitLive([]*testNode{n})
	bad := c.publish(pack(t, map[string]string{"game/unit.lua": "return ("}), PublishOptions{})
	if s := c.answers([]*testNode{n}, bad.Revision)["node-00"]; s.State != StateNACK {
		t.Fatalf("status %v, want a NACK", s)
	}
	before := failures.Load()
	if before == 0 {
		t.Fatal("the failed load was not seen")
	}
	// Restart following: the watch delivers the failed revision again
	// first, then the newer one.
	n.node.Close()
	restart := time.Now()
	n.follow(c, c.srv.URL())
	// The node writes its status once its watch is open: wait for that,
	// so that the watch starts at the failed revision.
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	statuses, err := c.fleet.WatchStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for s := range statuses {
		if s.Heartbeat.After(restart) {
			break
		}
	}
	if ctx.Err() != nil {
		t.Fatal("no status after the restart")
	}
	good := c.publish(pack(t, v1), PublishOptions{})
	if s := c.answers([]*testNode{n}, good.Revision)["node-00"]; s.State != StateACK {
		t.Fatalf("status %v, want an ACK of the newer revision", s)
	}
	if after := failures.Load(); after != before {
		t.Fatalf("%d failed loads after the restart, want none: the failed revision was tried again", after-before)
	}
}

// wipe deletes the fleet's buckets, as a JetStream store that was lost or
// reset, and opens the fleet again: its release revisions start at 1. With
// releaseOnly, the statuses and the bundles stay.
func (c *cluster) wipe(releaseOnly bool) {
	c.t.Helper()
	ctx := context.Background()
	js, err := jetstream.New(connect(c.t, c.srv.URL(), false))
	if err != nil {
		c.t.Fatal(err)
	}
	if err := js.DeleteKeyValue(ctx, releaseBucket("game")); err != nil {
		c.t.Fatal(err)
	}
	if !releaseOnly {
		if err := js.DeleteKeyValue(ctx, statusBucket("game")); err != nil {
			c.t.Fatal(err)
		}
		if err := js.DeleteObjectStore(ctx, bundleBucket); err != nil {
			c.t.Fatal(err)
		}
	}
	if c.fleet, err = Open(ctx, connect(c.t, c.srv.URL(), false), "game"); err != nil {
		c.t.Fatal(err)
	}
}

// A node whose cache remembers revision 3 of a fleet whose store was then
// wiped takes the new history's revision 1: the release's epoch changed.
func TestNodeFollowsAFleetWhoseStoreWasWiped(t *testing.T) {
	for _, running := range []bool{false, true} {
		t.Run(map[bool]string{false: "restarted", true: "running"}[running], func(t *testing.T) {
			c := newCluster(t)
			n := c.startNode("node-00", "eu", "")
			c.waitLive([]*testNode{n})
			var last Release
			for _, word := range []string{"v1", "v2", "v3"} {
				last = c.publish(pack(t, map[string]string{"game/unit.lua": unitScript(word, "")}), PublishOptions{})
				c.answers([]*testNode{n}, last.Revision)
			}
			if last.Revision != 3 {
				t.Fatalf("revision %d, want 3", last.Revision)
			}
			if !running {
				n.node.Close()
			}
			c.wipe(false)
			if !running {
				n.follow(c, c.srv.URL())
			}
			fresh := pack(t, map[string]string{"game/unit.lua": unitScript("v4", "")})
			rel := c.publish(fresh, PublishOptions{})
			if rel.Revision != 1 {
				t.Fatalf("revision %d after the wipe, want 1", rel.Revision)
			}
			if s := c.answers([]*testNode{n}, rel.Revision)["node-00"]; s.State != StateACK || s.Bundle != fresh.Digest {
				t.Fatalf("status %v, want an ACK of revision 1's bundle", s)
			}
			n.makeObjects(t)
			if w := n.speak(t); w != "v4" {
				t.Fatalf("the node says %q, want v4", w)
			}
		})
	}
}

// A node closed while its host has not committed the prepared reload yet
// (the process stops mid-load) has not rejected the revision: started
// again, it loads it.
func TestNodeClosedMidLoadLoadsTheRevisionAfterARestart(t *testing.T) {
	c := newCluster(t)
	n := c.startNode("node-00", "eu", "", func(o *engine.Options) { o.DeferCommit = true })
	c.waitLive([]*testNode{n})
	rel := c.publish(pack(t, v1), PublishOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for !Shards(n.shards).pending() {
		select {
		case <-ctx.Done():
			t.Fatal("the node prepared no reload")
		case <-time.After(10 * time.Millisecond):
		}
	}
	n.node.Close()
	if Shards(n.shards).pending() {
		t.Fatal("the prepared reload is still pending after the node closed")
	}
	committer(t, n.shards)
	n.follow(c, c.srv.URL())
	if s := c.answers([]*testNode{n}, rel.Revision)["node-00"]; s.State != StateACK || s.Bundle != rel.Bundle {
		t.Fatalf("after the restart: %v, want an ACK of revision %d", s, rel.Revision)
	}
}

// An object whose description claims fewer bytes than its chunks hold (a
// writer to the object store forged it) is read no further than the size
// limit: the node NACKs it without holding the whole object in memory.
func TestObjectUnderstatingItsSizeIsReadOnlyUpToTheLimit(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	cache, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sh, err := engine.NewShards(engine.Options{Roots: []string{cache.Root()}, Logger: quiet}, "s1")
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	n := &testNode{name: "node-00", cache: cache, shards: sh}
	node, err := Follow(connect(t, c.srv.URL(), true), Shards(sh), NodeOptions{Fleet: "game", Node: n.name, Cache: cache, Logger: quiet, MaxBundleBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()

	big := pack(t, map[string]string{"game/unit.lua": unitScript("v1", "--[["+strings.Repeat("x", 512<<10)+"]]")})
	if err := c.fleet.Upload(ctx, big); err != nil {
		t.Fatal(err)
	}
	info, err := c.fleet.bundles.GetInfo(ctx, big.Digest)
	if err != nil {
		t.Fatal(err)
	}
	info.Size = 100
	forged := nats.NewMsg("$O." + bundleBucket + ".M." + base64.URLEncoding.EncodeToString([]byte(big.Digest)))
	forged.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	if forged.Data, err = json.Marshal(info); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(connect(t, c.srv.URL(), false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.PublishMsg(ctx, forged); err != nil {
		t.Fatal(err)
	}
	rel, err := c.fleet.setRelease(ctx, 0, Release{Bundle: big.Digest, Phase: PhaseStable})
	if err != nil {
		t.Fatal(err)
	}
	s := c.answers([]*testNode{n}, rel.Revision)[n.name]
	if s.State != StateNACK || !strings.Contains(s.Error, "though its object says 100") {
		t.Fatalf("status %v, want a NACK for an object larger than it says", s)
	}
}

// Rolling back twice goes two steps back; it never brings back the bundle
// the first rollback removed.
func TestSecondRollbackGoesFurtherBack(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	a, b, bad := pack(t, v1), pack(t, v2), pack(t, map[string]string{"game/unit.lua": "return ("})
	for _, x := range []*Bundle{a, b, bad} {
		c.publish(x, PublishOptions{})
	}
	first, err := c.fleet.Rollback(ctx, 0)
	if err != nil || first.Bundle != b.Digest {
		t.Fatalf("first rollback %+v (%v), want bundle %s", first, err, short(b.Digest))
	}
	second, err := c.fleet.Rollback(ctx, 0)
	if err != nil || second.Bundle != a.Digest {
		t.Fatalf("second rollback %+v (%v), want bundle %s, not the failed %s again", second, err, short(a.Digest), short(bad.Digest))
	}
	if _, err := c.fleet.Rollback(ctx, 0); err == nil || !strings.Contains(err.Error(), "no previous bundle") {
		t.Fatalf("third rollback: %v, want no previous bundle (the first release had none)", err)
	}
}

// A node's status left from a wiped release history (ACK of its revision
// 1) is no answer to the new history's revision 1: the rollout waits for
// the node, which is away, and rolls back.
func TestRolloutTakesNoStatusOfAWipedHistoryForAnAnswer(t *testing.T) {
	c := newCluster(t)
	n := c.startNode("node-00", "eu", "")
	c.waitLive([]*testNode{n})
	first := c.publish(pack(t, v1), PublishOptions{})
	c.answers([]*testNode{n}, first.Revision)
	n.node.Close()
	c.wipe(true)
	_, err := c.fleet.Rollout(context.Background(), pack(t, v2), RolloutOptions{Wait: time.Second, StaleAfter: time.Hour})
	var rerr *RolloutError
	if !errors.As(err, &rerr) || rerr.Release.Revision != first.Revision || !slices.Equal(rerr.Missing, []string{"node-00"}) {
		t.Fatalf("Rollout = %v, want revision %d of the new history missing node-00's answer", err, first.Revision)
	}
}
