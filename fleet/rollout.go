package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// DefaultStaleAfter is how old a node's last heartbeat may be for a rollout
// to count the node as live, when RolloutOptions.StaleAfter is zero: three
// default heartbeats.
const DefaultStaleAfter = 15 * time.Second

// RolloutOptions says how [Fleet.Rollout] publishes and waits.
type RolloutOptions struct {
	// Canary, when positive, publishes to that many live nodes (the first
	// by name) in a canary phase. Default: every node.
	Canary int
	// Wait is how long the live nodes have to ACK. Default 0: publish
	// and return without waiting.
	Wait time.Duration
	// StaleAfter is the heartbeat age past which a node is not counted as
	// live. Default: DefaultStaleAfter.
	StaleAfter time.Duration
	// OnStatus, when set, is told each answer of a waited-for node to the
	// new release, and then to the rollback, as it arrives.
	OnStatus func(Status)
}

// RolloutError is returned when a rollout was rolled back: a node NACKed,
// or too few ACKed in time. It is immutable once returned.
type RolloutError struct {
	Release  Release  // the release that was rolled back
	NACKs    []Status // the nodes that rejected it
	Missing  []string // the nodes that did not answer in time
	Rollback Release  // the release that restored the previous bundle (zero if that failed)
	// Unconfirmed are the waited-for nodes that did not ACK the rollback
	// within the wait either: they NACKed it or did not answer (yet).
	Unconfirmed []string
	Err         error // why the rollback failed, when it did
}

func (e *RolloutError) Error() string {
	var why []string
	for _, s := range e.NACKs {
		why = append(why, s.String())
	}
	if len(e.Missing) > 0 {
		why = append(why, "no answer in time from "+strings.Join(e.Missing, ", "))
	}
	msg := fmt.Sprintf("fleet: revision %d failed (%s)", e.Release.Revision, strings.Join(why, "; "))
	if e.Err != nil {
		return msg + "; rollback failed: " + e.Err.Error()
	}
	msg = fmt.Sprintf("%s; rolled back to %s as revision %d", msg, short(e.Rollback.Bundle), e.Rollback.Revision)
	if len(e.Unconfirmed) > 0 {
		msg += ", which " + strings.Join(e.Unconfirmed, ", ") + " did not ACK in time"
	}
	return msg
}

func (e *RolloutError) Unwrap() error { return e.Err }

// LiveNodes returns the names of the nodes whose last heartbeat is younger
// than staleAfter, sorted.
func (f *Fleet) LiveNodes(ctx context.Context, staleAfter time.Duration) ([]string, error) {
	statuses, err := f.Statuses(ctx)
	if err != nil {
		return nil, err
	}
	var live []string
	for _, s := range statuses {
		if time.Since(s.Heartbeat) < staleAfter {
			live = append(live, s.Node)
		}
	}
	sort.Strings(live)
	return live, nil
}

// Rollout publishes b and, with opts.Wait, waits for every live node (the
// canary nodes, in a canary rollout) to answer: when one NACKs, or not all
// of them ACK within opts.Wait, it rolls the release back (compare-and-set
// on the revision it published) and returns a *RolloutError.
func (f *Fleet) Rollout(ctx context.Context, b *Bundle, opts RolloutOptions) (Release, error) {
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = DefaultStaleAfter
	}
	live, err := f.LiveNodes(ctx, opts.StaleAfter)
	if err != nil {
		return Release{}, err
	}
	var popts PublishOptions
	expect := live
	if opts.Canary > 0 {
		if len(live) == 0 {
			return Release{}, errors.New("fleet: a canary needs live nodes, and none has a recent heartbeat")
		}
		expect = live[:min(opts.Canary, len(live))]
		popts.Canary = expect
	}
	// Watch before publishing, so that no answer is missed.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	statuses, err := f.WatchStatuses(wctx)
	if err != nil {
		return Release{}, err
	}
	rel, err := f.Publish(ctx, b, popts)
	if err != nil || opts.Wait <= 0 {
		return rel, err
	}
	answers := f.await(ctx, statuses, rel, expect, opts.Wait, opts.OnStatus, nil)
	rerr := &RolloutError{Release: rel}
	for _, n := range expect {
		if s, ok := answers[n]; ok && s.State == StateNACK {
			rerr.NACKs = append(rerr.NACKs, s)
		}
	}
	for _, n := range expect {
		if _, ok := answers[n]; !ok && len(rerr.NACKs) == 0 { // a NACK ends the wait early
			rerr.Missing = append(rerr.Missing, n)
		}
	}
	if len(rerr.NACKs) == 0 && len(rerr.Missing) == 0 {
		return rel, nil
	}
	rerr.Rollback, rerr.Err = f.Rollback(ctx, rel.Revision)
	if rerr.Err == nil {
		// Nodes that had not answered yet answer the failed revision
		// before the rollback: report those answers too.
		late := func(s Status) {
			if _, seen := answers[s.Node]; seen || !s.AnswersRelease(rel) {
				return
			}
			answers[s.Node] = s
			if s.State == StateNACK {
				rerr.NACKs = append(rerr.NACKs, s)
			}
			if opts.OnStatus != nil {
				opts.OnStatus(s)
			}
		}
		back := f.await(ctx, statuses, rerr.Rollback, expect, opts.Wait, opts.OnStatus, late)
		for _, n := range expect {
			if s, ok := back[n]; !ok || s.State != StateACK {
				rerr.Unconfirmed = append(rerr.Unconfirmed, n)
			}
		}
	}
	return rel, rerr
}

// await collects the answers of the expected nodes to rel from statuses,
// until all answered, one NACKed, or wait passed. Other statuses of the
// expected nodes go to other, when it is not nil.
func (f *Fleet) await(ctx context.Context, statuses <-chan Status, rel Release, expect []string, wait time.Duration, onStatus, other func(Status)) map[string]Status {
	answers := make(map[string]Status)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for len(answers) < len(expect) {
		select {
		case s, ok := <-statuses:
			if !ok {
				return answers
			}
			if !slices.Contains(expect, s.Node) {
				continue
			}
			if !s.AnswersRelease(rel) {
				if other != nil {
					other(s)
				}
				continue
			}
			if _, dup := answers[s.Node]; dup {
				continue // a heartbeat repeating the answer
			}
			answers[s.Node] = s
			if onStatus != nil {
				onStatus(s)
			}
			if s.State == StateNACK {
				return answers
			}
		case <-timer.C:
			return answers
		case <-ctx.Done():
			return answers
		}
	}
	return answers
}
