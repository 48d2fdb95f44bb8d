package fleet

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// bundleBucket is the object store every fleet shares: bundles are named
// by their digest, so fleets running the same scripts share them too. Each
// fleet has two key-value buckets of its own, named by releaseBucket and
// statusBucket, so that the release's revisions count that fleet's
// releases only.
const bundleBucket = "hotlua_bundles"

func releaseBucket(fleet string) string { return "hotlua_release_" + fleet }
func statusBucket(fleet string) string  { return "hotlua_nodes_" + fleet }

// statusTTL is how long the status of a node that stopped writing it (its
// heartbeat) stays in the status bucket.
const statusTTL = 24 * time.Hour

// releaseKey is the key of the release in its bucket; a node's status is
// under the node's name in the status bucket.
const releaseKey = "release"

// Phases of a release.
const (
	PhaseStable = "stable" // every node runs Bundle
	PhaseCanary = "canary" // the Canary nodes run Bundle, the others Previous
)

// Release is what a fleet should run: the value of the fleet's release key.
// Its Revision, the key's revision in JetStream, is the fleet's version.
// It is a plain value.
type Release struct {
	Bundle    string    `json:"bundle"`             // digest of the bundle to run
	Previous  string    `json:"previous,omitempty"` // digest of the bundle it replaced
	Phase     string    `json:"phase"`              // PhaseStable or PhaseCanary
	Canary    []string  `json:"canary,omitempty"`   // nodes that run Bundle during a canary phase
	Published time.Time `json:"published"`
	// Epoch names the release's history: made by the first publish of a
	// fleet and kept by every later change. Revisions count within an
	// epoch; when a fleet's store is wiped and revisions start again at 1,
	// the new epoch tells nodes that remember higher revisions of the old
	// history that these releases are new.
	Epoch    string `json:"epoch,omitempty"`
	Revision uint64 `json:"-"`
}

// BundleFor returns the digest node should run under r: Bundle, or during a
// canary phase Previous for the nodes not in Canary ("" when there is none).
func (r Release) BundleFor(node string) string {
	if r.Phase == PhaseCanary && !slices.Contains(r.Canary, node) {
		return r.Previous
	}
	return r.Bundle
}

// Status states.
const (
	StateACK  = "ack"  // the node runs the release's bundle
	StateNACK = "nack" // the node rejected a release and kept what it ran
)

// Status is what a node reports under its own key: after every release it
// handles and, as a heartbeat, every NodeOptions.Heartbeat. It is a plain
// value.
type Status struct {
	Node        string            `json:"node"`
	State       string            `json:"state"`            // StateACK or StateNACK
	Revision    uint64            `json:"revision"`         // the release revision whose bundle runs
	Bundle      string            `json:"bundle,omitempty"` // the digest that runs
	Generations map[string]uint64 `json:"generations"`      // each shard's generation ("" for a single engine)
	Rejected    uint64            `json:"rejected,omitempty"`
	Error       string            `json:"error,omitempty"` // why Rejected failed: "path:line:col: message"
	Shard       string            `json:"shard,omitempty"` // the shard that failed, when one did
	Epoch       string            `json:"epoch,omitempty"` // the release epoch Revision and Rejected count in
	Heartbeat   time.Time         `json:"heartbeat"`
}

// Answers reports whether s answers release revision rev: an ACK of it or
// a NACK of it. [Status.AnswersRelease] also checks the epoch.
func (s Status) Answers(rev uint64) bool {
	return (s.State == StateACK && s.Revision == rev) || (s.State == StateNACK && s.Rejected == rev)
}

// AnswersRelease reports whether s answers r: an ACK or a NACK of its
// revision in its epoch, not of the same revision number of a history
// that was wiped.
func (s Status) AnswersRelease(r Release) bool {
	return s.Epoch == r.Epoch && s.Answers(r.Revision)
}

func (s Status) String() string {
	if s.State == StateNACK {
		where := ""
		if s.Shard != "" {
			where = " shard " + s.Shard
		}
		return fmt.Sprintf("%s NACK revision %d (kept %d)%s: %s", s.Node, s.Rejected, s.Revision, where, s.Error)
	}
	return fmt.Sprintf("%s ACK revision %d generations %s", s.Node, s.Revision, FormatGenerations(s.Generations))
}

// FormatGenerations formats generations by shard name as "s1=3,s2=3",
// sorted by name; a single engine's (shard "") as "3".
func FormatGenerations(g map[string]uint64) string {
	names := make([]string, 0, len(g))
	for n := range g {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		if n == "" {
			fmt.Fprintf(&b, "%d", g[n])
		} else {
			fmt.Fprintf(&b, "%s=%d", n, g[n])
		}
	}
	return b.String()
}

// ErrConflict is returned when another publisher changed the release first:
// the compare-and-set on its revision failed and nothing was changed.
var ErrConflict = errors.New("fleet: the release changed meanwhile (another publisher won)")

// ErrNoRelease is returned when a fleet has no release yet.
var ErrNoRelease = errors.New("fleet: no release yet")

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// checkName checks a fleet or node name: letters, digits, '-' and '_'.
func checkName(what, name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("fleet: %s name %q: use 1-64 letters, digits, '-' or '_'", what, name)
	}
	return nil
}

// newEpoch returns a fresh release epoch: 16 random bytes in hex.
func newEpoch() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func isDigest(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32 && strings.ToLower(s) == s
}

// Fleet publishes releases of one fleet and reads its nodes' statuses.
// It is safe for concurrent use.
type Fleet struct {
	name string
	*stores
}

// stores are a fleet's buckets.
type stores struct {
	releases, statuses jetstream.KeyValue
	bundles            jetstream.ObjectStore
}

// openStores opens, making them when needed, the buckets of fleet.
func openStores(ctx context.Context, nc *nats.Conn, fleet string) (*stores, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	var st stores
	if st.releases, err = keyValue(ctx, js, jetstream.KeyValueConfig{Bucket: releaseBucket(fleet), Description: "hotlua releases of fleet " + fleet, History: 64}); err != nil {
		return nil, err
	}
	if st.statuses, err = keyValue(ctx, js, jetstream.KeyValueConfig{Bucket: statusBucket(fleet), Description: "hotlua node statuses of fleet " + fleet, TTL: statusTTL}); err != nil {
		return nil, err
	}
	st.bundles, err = js.ObjectStore(ctx, bundleBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		st.bundles, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: bundleBucket, Description: "hotlua script bundles, named by digest"})
		if errors.Is(err, jetstream.ErrBucketExists) { // made meanwhile by another client
			st.bundles, err = js.ObjectStore(ctx, bundleBucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fleet: object store %s: %w", bundleBucket, err)
	}
	return &st, nil
}

// keyValue opens the bucket of cfg, making it when needed.
func keyValue(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) { // made meanwhile by another client
			kv, err = js.KeyValue(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fleet: key-value bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// Open returns the fleet called name on the NATS connection nc, making its
// JetStream buckets when they do not exist.
func Open(ctx context.Context, nc *nats.Conn, name string) (*Fleet, error) {
	if err := checkName("fleet", name); err != nil {
		return nil, err
	}
	st, err := openStores(ctx, nc, name)
	if err != nil {
		return nil, err
	}
	return &Fleet{name: name, stores: st}, nil
}

// Name returns the fleet's name.
func (f *Fleet) Name() string { return f.name }

// Release returns the current release (ErrNoRelease when there is none).
func (f *Fleet) Release(ctx context.Context) (Release, error) {
	e, err := f.releases.Get(ctx, releaseKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Release{}, ErrNoRelease
	}
	if err != nil {
		return Release{}, err
	}
	return decodeRelease(e)
}

func decodeRelease(e jetstream.KeyValueEntry) (Release, error) {
	var r Release
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return Release{}, fmt.Errorf("fleet: release revision %d: %w", e.Revision(), err)
	}
	r.Revision = e.Revision()
	return r, nil
}

// Upload stores b in the object store under its digest.
func (f *Fleet) Upload(ctx context.Context, b *Bundle) error {
	// An object already there with these bytes is not sent again; one with
	// other bytes under this name (tampered with) is replaced.
	sum := sha256.Sum256(b.Archive)
	if info, err := f.bundles.GetInfo(ctx, b.Digest); err == nil && info.Digest == "SHA-256="+base64.URLEncoding.EncodeToString(sum[:]) {
		return nil
	}
	if _, err := f.bundles.Put(ctx, jetstream.ObjectMeta{Name: b.Digest, Description: fmt.Sprintf("%d scripts", len(b.Manifest.Files))}, bytes.NewReader(b.Archive)); err != nil {
		return fmt.Errorf("fleet: upload bundle %s: %w", b.Digest, err)
	}
	return nil
}

// setRelease writes next as the release by compare-and-set on the revision
// of prev (prev.Revision 0: the key must not exist yet).
func (f *Fleet) setRelease(ctx context.Context, prev uint64, next Release) (Release, error) {
	next.Published = time.Now().UTC()
	data, err := json.Marshal(next)
	if err != nil {
		return Release{}, err
	}
	var rev uint64
	if prev == 0 {
		rev, err = f.releases.Create(ctx, releaseKey, data)
	} else {
		rev, err = f.releases.Update(ctx, releaseKey, data, prev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return Release{}, ErrConflict
	}
	if err != nil {
		return Release{}, fmt.Errorf("fleet: set release: %w", err)
	}
	next.Revision = rev
	return next, nil
}

// current returns the release and its revision, 0 when there is none.
func (f *Fleet) current(ctx context.Context) (Release, error) {
	r, err := f.Release(ctx)
	if errors.Is(err, ErrNoRelease) {
		return Release{}, nil
	}
	return r, err
}

// PublishOptions says how to publish a bundle.
type PublishOptions struct {
	// Canary, when not empty, publishes in a canary phase: only these
	// nodes run the new bundle until [Fleet.Promote]. Default: every node.
	Canary []string
	// Revision is the release revision the publish is based on: the
	// compare-and-set fails with ErrConflict when the release is not at
	// it any more. Default 0: the revision read just before setting.
	Revision uint64
}

// Publish uploads b and makes it the fleet's release, by compare-and-set:
// of two publishers racing from the same revision, exactly one wins and the
// other gets ErrConflict. It returns the new release; its Revision is the
// fleet's new version.
func (f *Fleet) Publish(ctx context.Context, b *Bundle, opts PublishOptions) (Release, error) {
	for _, n := range opts.Canary {
		if err := checkName("node", n); err != nil {
			return Release{}, err
		}
	}
	if err := f.Upload(ctx, b); err != nil {
		return Release{}, err
	}
	cur, err := f.current(ctx)
	if err != nil {
		return Release{}, err
	}
	if opts.Revision != 0 && cur.Revision != opts.Revision {
		return Release{}, ErrConflict
	}
	next := Release{Bundle: b.Digest, Previous: cur.Bundle, Phase: PhaseStable, Epoch: cur.Epoch}
	if cur.Revision == 0 || next.Epoch == "" {
		next.Epoch = newEpoch()
	}
	if cur.Phase == PhaseCanary {
		next.Previous = cur.Previous // the canary never became the fleet's bundle
	}
	if len(opts.Canary) > 0 {
		next.Phase, next.Canary = PhaseCanary, slices.Clone(opts.Canary)
	}
	return f.setRelease(ctx, cur.Revision, next)
}

// Rollback makes the previous bundle the release again, by compare-and-set
// on the current revision (rev, or the one read now when rev is 0). During
// a canary phase it ends the canary on the bundle the other nodes run. The
// new release's previous bundle is the one that ran before the restored
// one, so rolling back again goes a further step back.
func (f *Fleet) Rollback(ctx context.Context, rev uint64) (Release, error) {
	cur, err := f.current(ctx)
	if err != nil {
		return Release{}, err
	}
	if cur.Revision == 0 {
		return Release{}, ErrNoRelease
	}
	if rev != 0 && cur.Revision != rev {
		return Release{}, ErrConflict
	}
	if cur.Previous == "" {
		return Release{}, errors.New("fleet: the release has no previous bundle to roll back to")
	}
	before, err := f.previousOf(ctx, cur)
	if err != nil {
		return Release{}, err
	}
	return f.setRelease(ctx, cur.Revision, Release{Bundle: cur.Previous, Previous: before, Phase: PhaseStable, Epoch: cur.Epoch})
}

// previousOf returns the bundle that ran before cur.Previous: the previous
// bundle of the latest earlier release that made cur.Previous the fleet's
// bundle, "" when the release history no longer holds it. A rollback's own
// previous bundle is that one, not the bundle it rolled back, so that a
// second rollback goes one step further back instead of bringing back the
// bundle that failed.
func (f *Fleet) previousOf(ctx context.Context, cur Release) (string, error) {
	history, err := f.releases.History(ctx, releaseKey)
	if err != nil {
		return "", fmt.Errorf("fleet: release history: %w", err)
	}
	for i := len(history) - 1; i >= 0; i-- {
		e := history[i]
		if e.Revision() >= cur.Revision || e.Operation() != jetstream.KeyValuePut {
			continue
		}
		if r, err := decodeRelease(e); err == nil && r.Phase == PhaseStable && r.Bundle == cur.Previous {
			return r.Previous, nil
		}
	}
	return "", nil
}

// Promote ends a canary phase: every node runs the release's bundle.
func (f *Fleet) Promote(ctx context.Context) (Release, error) {
	cur, err := f.current(ctx)
	if err != nil {
		return Release{}, err
	}
	if cur.Phase != PhaseCanary {
		return Release{}, errors.New("fleet: the release is not in a canary phase")
	}
	return f.setRelease(ctx, cur.Revision, Release{Bundle: cur.Bundle, Previous: cur.Previous, Phase: PhaseStable, Epoch: cur.Epoch})
}

// Statuses returns every node's last status, by node name.
func (f *Fleet) Statuses(ctx context.Context) ([]Status, error) {
	w, err := f.statuses.WatchAll(ctx)
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	var out []Status
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
				return out, nil
			}
			if s, ok := decodeStatus(e); ok {
				out = append(out, s)
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func decodeStatus(e jetstream.KeyValueEntry) (Status, bool) {
	if e.Operation() != jetstream.KeyValuePut {
		return Status{}, false
	}
	var s Status
	if err := json.Unmarshal(e.Value(), &s); err != nil {
		return Status{}, false
	}
	return s, true
}

// WatchStatuses sends every node's status as it is written, latest first
// (the current statuses, then each change), until ctx ends. The channel is
// closed then.
func (f *Fleet) WatchStatuses(ctx context.Context) (<-chan Status, error) {
	w, err := f.statuses.WatchAll(ctx)
	if err != nil {
		return nil, err
	}
	ch := make(chan Status, 64)
	go func() {
		defer close(ch)
		defer w.Stop()
		for {
			select {
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					continue
				}
				if s, ok := decodeStatus(e); ok {
					select {
					case ch <- s:
					case <-ctx.Done():
						return
					}
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}
