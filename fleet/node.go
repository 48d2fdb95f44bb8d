package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/hotlua/hotlua/engine"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Target is what a node reloads: an engine ([Engine]) or a group of shards
// ([Shards]) whose script root is the node's [Cache.Root]. A Target is used
// by its node's goroutine; the engine behind it stays safe for concurrent
// use by the host.
type Target interface {
	deploy(ctx context.Context) error
	generations() map[string]uint64
	pending() bool
}

// Engine makes e a Target. e must have been made with the cache's root as
// its only script root.
func Engine(e *engine.Engine) Target { return engineTarget{e} }

// Shards makes s a Target: every release loads in all its shards or in none.
// s must have been made with the cache's root as its only script root.
func Shards(s *engine.Shards) Target { return shardsTarget{s} }

type engineTarget struct{ e *engine.Engine }

func (t engineTarget) deploy(ctx context.Context) error { _, err := t.e.Deploy(ctx); return err }
func (t engineTarget) generations() map[string]uint64 {
	return map[string]uint64{"": t.e.Generation()}
}
func (t engineTarget) pending() bool { return t.e.HasPending() }

type shardsTarget struct{ s *engine.Shards }

func (t shardsTarget) deploy(ctx context.Context) error { _, err := t.s.Deploy(ctx); return err }
func (t shardsTarget) generations() map[string]uint64 {
	g := make(map[string]uint64)
	for _, n := range t.s.Names() {
		g[n] = t.s.Shard(n).Generation()
	}
	return g
}
func (t shardsTarget) pending() bool {
	for _, n := range t.s.Names() {
		if t.s.Shard(n).HasPending() {
			return true
		}
	}
	return false
}

// NodeOptions configures a node. The zero value of each field is its
// default, except Fleet, Node and Cache, which are required.
type NodeOptions struct {
	Fleet string // the fleet to follow
	Node  string // this node's name, unique in the fleet
	Cache *Cache // the node's cache; the target's script root is Cache.Root()
	// Heartbeat is how often the node writes its status while nothing
	// happens. Default: 5s.
	Heartbeat time.Duration
	// MaxBundleBytes bounds a bundle's archive and its unpacked scripts.
	// Default: DefaultMaxBundleBytes.
	MaxBundleBytes int64
	// LoadTimeout bounds fetching, verifying and loading one release.
	// Default: 1 minute.
	LoadTimeout time.Duration
	// Logger receives what the node does. Default: slog.Default().
	Logger *slog.Logger
	// OnStatus, when set, is told every status the node writes, once it is
	// written (or failed to be), on the node's goroutine.
	OnStatus func(Status)
}

// Node follows a fleet's release. It is safe for concurrent use.
type Node struct {
	opts   NodeOptions
	target Target
	nc     *nats.Conn
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	status Status
	failed uint64 // the last revision that failed here
	epoch  string // the release epoch status.Revision and failed count in
}

// Follow starts a node that follows opts.Fleet on nc for target: it watches
// the release key (latest value first, so a restarted node catches up),
// fetches and verifies each bundle it should run, loads it as a new
// generation of every shard (all-or-nothing), and writes its status: an ACK
// with the revision and each shard's generation, or a NACK with the
// revision it kept and the error. A revision that failed is not tried
// again; a newer one is. With the engine's DeferCommit, the ACK is written
// once every shard has committed at the host's CommitPending.
//
// Follow does not need NATS to be reachable: the target already runs the
// cache's last good bundle, and the node keeps trying to reach the release
// until [Node.Close]. nc should be made with nats.RetryOnFailedConnect for
// a node to start while NATS is away.
func Follow(nc *nats.Conn, target Target, opts NodeOptions) (*Node, error) {
	if err := checkName("fleet", opts.Fleet); err != nil {
		return nil, err
	}
	if err := checkName("node", opts.Node); err != nil {
		return nil, err
	}
	if opts.Cache == nil {
		return nil, errors.New("fleet: NodeOptions.Cache is required")
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 5 * time.Second
	}
	if opts.MaxBundleBytes <= 0 {
		opts.MaxBundleBytes = DefaultMaxBundleBytes
	}
	if opts.LoadTimeout <= 0 {
		opts.LoadTimeout = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	st, err := opts.Cache.state()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{opts: opts, target: target, nc: nc, log: opts.Logger.With("fleet", opts.Fleet, "node", opts.Node), cancel: cancel, done: make(chan struct{}), failed: st.Failed, epoch: st.Epoch}
	n.status = Status{Node: opts.Node, State: StateACK, Revision: st.Revision, Bundle: st.Bundle, Generations: target.generations(), Epoch: st.Epoch}
	go n.run(ctx)
	return n, nil
}

// Status returns the status the node wrote last.
func (n *Node) Status() Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.status
}

// Close stops following; the target keeps running what it runs.
func (n *Node) Close() error {
	n.cancel()
	<-n.done
	return nil
}

// run connects, follows and heartbeats until ctx ends, starting again
// after each failure.
func (n *Node) run(ctx context.Context) {
	defer close(n.done)
	backoff := 100 * time.Millisecond
	lastErr := ""
	for ctx.Err() == nil {
		err := n.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		if err.Error() != lastErr { // the same failure again is not logged again
			n.log.Warn("hotlua fleet: not following the release; trying again until it works", "err", err)
			lastErr = err.Error()
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// follow watches the release key and handles each release until the watch
// ends or a fetch fails for a reason that is not the bundle's.
func (n *Node) follow(ctx context.Context) error {
	if n.nc.Status() != nats.CONNECTED {
		return fmt.Errorf("not connected to NATS (%s)", n.nc.Status())
	}
	st, err := openStores(ctx, n.nc, n.opts.Fleet)
	if err != nil {
		return err
	}
	made, err := bucketMade(ctx, st.releases)
	if err != nil {
		return err
	}
	w, err := st.releases.Watch(ctx, releaseKey)
	if err != nil {
		return err
	}
	defer w.Stop()
	n.writeStatus(ctx, st, n.Status())
	beat := time.NewTicker(n.opts.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("release watch ended")
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			rel, err := decodeRelease(e)
			if err != nil {
				n.reject(ctx, st, e.Revision(), err, "")
				continue
			}
			if err := n.apply(ctx, st, rel); err != nil {
				return err
			}
		case <-beat.C:
			// A watch on a bucket that was deleted (a wiped store) stays
			// silent: check it is still the bucket watched, and watch the
			// new one when it is not.
			if now, err := bucketMade(ctx, st.releases); err != nil || !now.Equal(made) {
				return fmt.Errorf("the release bucket changed (made %v, now %v, %v): watching it again", made, now, err)
			}
			n.writeStatus(ctx, st, n.Status())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// bucketMade returns when kv's stream was made: a bucket deleted and made
// again is a new one.
func bucketMade(ctx context.Context, kv jetstream.KeyValue) (time.Time, error) {
	status, err := kv.Status(ctx)
	if err != nil {
		return time.Time{}, err
	}
	bs, ok := status.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return time.Time{}, nil
	}
	return bs.StreamInfo().Created, nil
}

// apply brings the node to rel. It returns an error only when the bundle
// could not be fetched for a reason that is not the bundle's own (then the
// watch starts again and the release is tried again).
func (n *Node) apply(ctx context.Context, st *stores, rel Release) error {
	cur := n.newEpoch(rel.Epoch)
	if rel.Revision <= cur.Revision || rel.Revision <= n.failedRevision() {
		return nil // handled before (a restarted watch delivers the latest again)
	}
	digest := rel.BundleFor(n.opts.Node)
	if digest == "" || digest == cur.Bundle {
		n.accept(ctx, st, rel.Revision, cur.Bundle)
		return nil
	}
	if !isDigest(digest) {
		n.reject(ctx, st, rel.Revision, fmt.Errorf("%w: %q is not a bundle digest", ErrBadBundle, digest), "")
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, n.opts.LoadTimeout)
	defer cancel()
	if !n.opts.Cache.has(digest) {
		archive, refused, err := n.fetch(lctx, st, digest)
		if err != nil {
			return err
		}
		if refused == nil {
			refused = n.opts.Cache.store(digest, archive, n.opts.MaxBundleBytes)
		}
		if refused != nil {
			n.reject(ctx, st, rel.Revision, refused, "")
			return nil
		}
	}
	if err := n.load(lctx, digest, cur.Bundle); err != nil {
		if ctx.Err() != nil {
			// The node is closing (the process stops): the load was cut
			// short, not refused. Recording it as failed would make the
			// node skip this revision for good after a restart.
			return ctx.Err()
		}
		var se *engine.ShardError
		shard := ""
		if errors.As(err, &se) {
			shard, err = se.Shard, se.Err
		}
		n.reject(ctx, st, rel.Revision, err, shard)
		return nil
	}
	if err := n.opts.Cache.link("good", digest); err != nil {
		n.log.Warn("hotlua fleet: cannot record the good bundle", "err", err)
	}
	n.accept(ctx, st, rel.Revision, digest)
	if err := n.opts.Cache.prune(digest, cur.Bundle); err != nil {
		n.log.Warn("hotlua fleet: cannot remove old bundles from the cache", "err", err)
	}
	return nil
}

// fetch reads bundle digest from the object store, reading no more than
// the size limit allows whatever the object's description says. It returns
// refused when the bundle itself is at fault (absent, too large, a digest
// the store's chunks do not match), err when the store could not be read.
func (n *Node) fetch(ctx context.Context, st *stores, digest string) (archive []byte, refused, err error) {
	res, err := st.bundles.Get(ctx, digest)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("fleet: bundle %s is not in the object store", digest), nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer res.Close()
	limit := n.opts.MaxBundleBytes
	info, err := res.Info()
	if err != nil {
		return nil, nil, err
	}
	if info.Size > uint64(limit) {
		return nil, badBundle("%d bytes, more than the limit of %d", info.Size, limit), nil
	}
	archive, err = io.ReadAll(io.LimitReader(res, limit+1))
	if errors.Is(err, jetstream.ErrDigestMismatch) {
		return nil, fmt.Errorf("%w: %v", ErrBadBundle, err), nil
	}
	if err != nil {
		return nil, nil, err
	}
	if int64(len(archive)) > limit {
		return nil, badBundle("more than the limit of %d bytes, though its object says %d", limit, info.Size), nil
	}
	return archive, nil, nil
}

// load points the cache's root at digest and reloads the target, pointing
// it back at previous when the reload fails. With DeferCommit it waits for
// the host to commit in every shard.
func (n *Node) load(ctx context.Context, digest, previous string) error {
	if err := n.opts.Cache.link("current", digest); err != nil {
		return err
	}
	err := n.target.deploy(ctx)
	for err == nil && n.target.pending() {
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			err = fmt.Errorf("fleet: the host did not commit the prepared reload: %w", ctx.Err())
		}
	}
	if err != nil {
		if previous == "" {
			previous = emptyBundle
		}
		if lerr := n.opts.Cache.link("current", previous); lerr != nil {
			n.log.Error("hotlua fleet: cannot point the root back at the running bundle", "err", lerr)
		} else if n.target.pending() {
			// Deploying the running scripts again finds nothing changed
			// and drops the prepared reload the host did not commit.
			dctx, cancel := context.WithTimeout(context.Background(), n.opts.LoadTimeout)
			n.target.deploy(dctx)
			cancel()
		}
		return err
	}
	return nil
}

// newEpoch starts counting revisions afresh when epoch is not the one the
// node's revisions count in (the fleet's store was wiped and its revisions
// started again at 1): the bundle that runs stays, at no revision of the new
// history, and no revision of it has failed yet. It returns the status.
func (n *Node) newEpoch(epoch string) Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	if epoch != n.epoch {
		n.log.Info("hotlua fleet: a new release history (epoch); revisions count afresh", "epoch", epoch, "was", n.epoch)
		n.epoch, n.failed = epoch, 0
		n.status = Status{Node: n.status.Node, State: StateACK, Bundle: n.status.Bundle, Generations: n.status.Generations, Epoch: epoch}
	}
	return n.status
}

func (n *Node) failedRevision() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.failed
}

// accept records and writes an ACK of rev, running bundle.
func (n *Node) accept(ctx context.Context, st *stores, rev uint64, bundle string) {
	n.mu.Lock()
	n.status = Status{Node: n.opts.Node, State: StateACK, Revision: rev, Bundle: bundle, Generations: n.target.generations(), Epoch: n.epoch}
	s, failed, epoch := n.status, n.failed, n.epoch
	n.mu.Unlock()
	if err := n.opts.Cache.saveState(cacheState{Revision: rev, Bundle: bundle, Failed: failed, Epoch: epoch}); err != nil {
		n.log.Warn("hotlua fleet: cannot save the cache state", "err", err)
	}
	n.log.Info("hotlua fleet: ACK", "revision", rev, "bundle", short(bundle), "generations", FormatGenerations(s.Generations))
	n.writeStatus(ctx, st, s)
}

// reject records and writes a NACK of rev: the node keeps what it runs.
func (n *Node) reject(ctx context.Context, st *stores, rev uint64, err error, shard string) {
	n.mu.Lock()
	n.failed = rev
	s := n.status
	s.State, s.Rejected, s.Error, s.Shard = StateNACK, rev, err.Error(), shard
	s.Generations = n.target.generations()
	n.status = s
	epoch := n.epoch
	n.mu.Unlock()
	if err := n.opts.Cache.saveState(cacheState{Revision: s.Revision, Bundle: s.Bundle, Failed: rev, Epoch: epoch}); err != nil {
		n.log.Warn("hotlua fleet: cannot save the cache state", "err", err)
	}
	n.log.Error("hotlua fleet: NACK; the running bundle stays", "revision", rev, "kept", s.Revision, "shard", shard, "err", err)
	n.writeStatus(ctx, st, s)
}

// writeStatus writes s, with a fresh heartbeat, under the node's key.
func (n *Node) writeStatus(ctx context.Context, st *stores, s Status) {
	s.Heartbeat = time.Now().UTC()
	data, err := json.Marshal(s)
	if err != nil {
		return
	}
	if _, err := st.statuses.Put(ctx, n.opts.Node, data); err != nil && ctx.Err() == nil {
		n.log.Warn("hotlua fleet: cannot write the status", "err", err)
	}
	if n.opts.OnStatus != nil { // once written, so that readers of the bucket see it too
		n.opts.OnStatus(s)
	}
}

func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}
