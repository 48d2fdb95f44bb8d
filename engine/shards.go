package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Shards runs several engines, one per world, room or match, from the same
// script roots: one watcher and one compile per change for all of them. Each
// shard builds its fresh state from the shared compiled prototypes.
//
// A reload is all-or-nothing across shards: every shard prepares the new
// version (in parallel), and only if all of them succeeded does each commit
// it; otherwise none does, and the error names the shard that failed. Each
// shard's commit is atomic for that shard; the shards commit one after
// another, so they are never left split between versions once Reload
// returns. With Options.DeferCommit, each shard commits at its own safe
// point ([Engine.CommitPending]).
//
// Shards is safe for concurrent use; so is each shard's Engine. Go code
// that runs inside a call on one shard (a binding a script calls) must not
// call another shard: a reload's commit holds the shards' locks one after
// another, and the two would wait for each other.
//
// The memory bound of guarded calls (Limits.MaxMemoryBytes) watches the
// whole process's heap: with shards in parallel, one shard's allocations
// count against another's call. Keep it well above what the shards use
// together.
type Shards struct {
	opts    Options
	names   []string
	engines map[string]*Engine
	protos  *protoCache

	reloading engineLock // one reload of the group at a time
	watching  watching
}

// NewShards loads the scripts of opts.Roots into one engine per name. Each
// shard gets opts with its own Logger attribute shard=name; opts.OnReload
// is told about each shard's reloads.
func NewShards(opts Options, names ...string) (*Shards, error) {
	if len(names) == 0 {
		return nil, errors.New("engine: no shard names given")
	}
	serializeOutput(&opts) // one writer for all the shards
	s := &Shards{opts: opts, names: names, engines: make(map[string]*Engine), protos: &protoCache{}, reloading: newEngineLock()}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	for _, name := range names {
		if _, dup := s.engines[name]; dup {
			s.Close()
			return nil, fmt.Errorf("engine: shard %q named twice", name)
		}
		o := opts
		o.Logger = log.With("shard", name)
		e, err := open(o, s.protos)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("shard %s: %w", name, err)
		}
		s.engines[name] = e
	}
	return s, nil
}

// Shard returns the engine of the shard called name, or nil.
func (s *Shards) Shard(name string) *Engine { return s.engines[name] }

// Names returns the shards' names, in the order given to NewShards.
func (s *Shards) Names() []string { return append([]string(nil), s.names...) }

// ShardError is a reload failure of one shard, which kept every shard on
// its current version. It is immutable once returned.
type ShardError struct {
	Shard string
	Err   error
}

func (e *ShardError) Error() string { return "shard " + e.Shard + ": " + e.Err.Error() }

// Unwrap returns the shard's error (often a *ScriptError).
func (e *ShardError) Unwrap() error { return e.Err }

// Reload compiles the scripts once, prepares the new version in every
// shard, and commits it in all of them or in none. The reports are by
// shard name. A failure is a *ShardError; ctx bounds the wait for a
// reload of the shards already running too (the error then matches
// [ErrBusy]).
func (s *Shards) Reload(ctx context.Context) (map[string]*Report, error) {
	return s.reload(ctx, "manual", nil)
}

func (s *Shards) reload(ctx context.Context, trigger string, files []string) (map[string]*Report, error) {
	start := time.Now()
	if err := s.reloading.lock(ctx); err != nil {
		return nil, err
	}
	engines := make([]*Engine, len(s.names))
	for i, name := range s.names {
		engines[i] = s.engines[name]
		if err := engines[i].reloading.lock(ctx); err != nil {
			for _, e := range engines[:i] {
				e.reloading.unlock()
			}
			s.reloading.unlock()
			return nil, &ShardError{Shard: name, Err: err}
		}
	}
	outs, err := reloadGroup(ctx, engines, s.names, trigger, files, start)
	for _, e := range engines {
		e.reloading.unlock()
	}
	s.reloading.unlock()
	if errors.Is(err, errUnchanged) {
		return nil, nil
	}
	// Report once every lock is released: OnReload may call the shards.
	reports := make(map[string]*Report, len(s.names))
	var failure error
	for i, out := range outs {
		if out.parked {
			continue
		}
		engines[i].finish(trigger, files, start, out.report, out.err)
		if out.report != nil {
			reports[s.names[i]] = out.report
		}
		// A shard closed between its prepare and its commit is skipped; a
		// failed prepare (a *ShardError, ErrClosed included) failed them all.
		_, prepared := out.err.(*ShardError)
		if failure == nil && out.err != nil && (prepared || !errors.Is(out.err, ErrClosed)) {
			failure = out.err
		}
	}
	if failure != nil {
		return nil, failure
	}
	return reports, nil
}

// Monitor watches the script roots for all shards: one watcher, one compile
// per change. See [Engine.Monitor].
func (s *Shards) Monitor() error { return s.startWatching(0) }

// SetPollInterval polls the script roots every d for all shards. See
// [Engine.SetPollInterval].
func (s *Shards) SetPollInterval(d time.Duration) error { return s.startWatching(max(d, 0)) }

func (s *Shards) startWatching(poll time.Duration) error {
	first := s.engines[s.names[0]]
	return s.watching.start(first.roots, s.opts, first.log, poll, &s.protos.files, func(trigger string, files []string) {
		s.reload(context.Background(), trigger, files)
	})
}

// Close stops watching and closes every shard.
func (s *Shards) Close() error {
	s.watching.stop()
	var errs []error
	for _, e := range s.engines {
		errs = append(errs, e.Close())
	}
	return errors.Join(errs...)
}
