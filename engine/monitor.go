package engine

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/yuin/gopher-lua/parse"

	"github.com/hotlua/hotlua/internal/sandbox"
	"github.com/hotlua/hotlua/internal/watch"
)

// ReloadEvent tells [Options].OnReload about one reload, committed or not.
// It is a plain value, safe to keep and share.
type ReloadEvent struct {
	// Trigger says what started it: "initial" for the first load by [New],
	// "manual" for [Engine.Reload], "watch" for a change seen by fsnotify,
	// "poll" for one seen by polling, "deploy" for [Engine.Deploy]. These
	// last three are automatic: they happen only when some script's bytes
	// differ from the running generation's.
	Trigger string
	// Files are the scripts the watcher saw change, relative to their root
	// (empty for a manual reload).
	Files []string
	// Generation is the current generation after the reload: the new one,
	// or the one that kept running when it failed.
	Generation uint64
	// Report describes a committed reload; nil when it failed.
	Report *Report
	// Err is why the reload failed; nil when it committed.
	Err error
	// Duration is the whole reload, compile included.
	Duration time.Duration
	// Restored is true when, after a failed reload, the scripts came back
	// to the bytes of the running generation (the broken save was undone):
	// nothing reloads, and the failure no longer stands. Report and Err are
	// then nil.
	Restored bool
}

// reportRestored tells OnReload and the log that an automatic reload found
// the running generation's scripts again after a failed reload.
func (e *Engine) reportRestored(trigger string, files []string, start time.Time) {
	if !e.failing.CompareAndSwap(true, false) {
		return
	}
	e.log.Info("hotlua: back to the running code", "trigger", trigger, "generation", e.Generation(), "files", files)
	if e.opts.OnReload != nil {
		e.opts.OnReload(ReloadEvent{Trigger: trigger, Files: files, Generation: e.Generation(), Duration: time.Since(start), Restored: true})
	}
}

// Monitor starts watching the script roots: the Go form of monitor_module.
// Each batch of saves (editors write, rename and delete in several steps;
// a quiet period of Options.Debounce closes a batch, one of Options.Settle
// a batch with a script that is empty, missing or does not parse) becomes one
// reload of the files it names, reported to Options.OnReload and logged. A
// save that does not change a file's bytes reloads nothing. A script root
// that disappears is watched for its return. When inotify cannot be used (its watch or
// instance limits are reached) it falls back to polling, with a warning.
// Calling Monitor again restarts watching.
func (e *Engine) Monitor() error { return e.startWatching(0) }

// SetPollInterval watches the script roots by polling every d instead of
// with fsnotify, for file systems that send no events (network and some
// container mounts): the Go form of set_timer. d <= 0 goes back to
// fsnotify.
func (e *Engine) SetPollInterval(d time.Duration) error { return e.startWatching(max(d, 0)) }

// PauseReloads holds automatic reloads (during a git pull, say): changes
// are still recorded. [Engine.ResumeReloads] applies them as one reload.
// Manual reloads still work.
func (e *Engine) PauseReloads() { e.watching.pause() }

// ResumeReloads ends [Engine.PauseReloads], reloading at once if anything
// changed meanwhile.
func (e *Engine) ResumeReloads() {
	// The reload walks the roots: a save whose events the watcher has not
	// read yet is part of it too.
	e.protos.files.forgetWalk()
	e.watching.resume()
}

func (e *Engine) startWatching(poll time.Duration) error {
	err := e.watching.start(e.roots, e.opts, e.log, poll, &e.protos.files, func(trigger string, files []string) {
		e.reloadFor(context.Background(), trigger, files)
	})
	if err != nil {
		return err
	}
	// Saves made between the last load and the watcher's start were not
	// seen by it: catch up (this reloads only if some script differs).
	e.protos.files.forgetWalk()
	trigger := "watch"
	if poll > 0 {
		trigger = "poll"
	}
	if _, err := e.reloadFor(context.Background(), trigger, nil); errors.Is(err, ErrClosed) {
		return err
	}
	return nil
}

// watchClock is the clock of the watchers engines start: nil, the real
// one, except in tests, which move a watch.ManualClock by hand.
var watchClock watch.Clock

// watching holds the watcher of an Engine or of a Shards. Its methods are
// safe for concurrent use. start and stop wait for a reload the watcher
// started, so that reload must not call them.
type watching struct {
	mu      sync.Mutex
	w       *watch.Watcher
	stopped bool // set by stop, for good: the engine is closing
}

// start replaces the watcher with one on roots, polling every poll (0:
// fsnotify), whose batches are noted in files, then call reload.
func (wg *watching) start(roots []string, opts Options, log *slog.Logger, poll time.Duration, files *fileCache, reload func(trigger string, files []string)) error {
	wg.mu.Lock()
	defer wg.mu.Unlock()
	if wg.stopped {
		return ErrClosed
	}
	if wg.w != nil {
		wg.w.Close()
		wg.w = nil
	}
	w, err := watch.New(roots, watch.Options{
		Debounce:     opts.Debounce,
		Settle:       opts.Settle,
		MaxWait:      opts.MaxWait,
		Poll:         poll,
		MaxFileBytes: sourceLimit(opts.Limits),
		Complete:     func(rel string, data []byte) bool { return parses(rel, data, opts.Limits) },
		Logger:       log,
		Clock:        watchClock,
	}, func(b watch.Batch) {
		files.noteChanges(b)
		reload(batchTrigger(b, log))
	})
	if err != nil {
		return err
	}
	wg.w = w
	return nil
}

// stop stops the watcher, waiting for a reload it started, and refuses to
// start another.
func (wg *watching) stop() {
	wg.mu.Lock()
	defer wg.mu.Unlock()
	wg.stopped = true
	if wg.w != nil {
		wg.w.Close()
		wg.w = nil
	}
}

func (wg *watching) pause() {
	wg.mu.Lock()
	defer wg.mu.Unlock()
	if wg.w != nil {
		wg.w.Pause()
	}
}

func (wg *watching) resume() {
	wg.mu.Lock()
	defer wg.mu.Unlock()
	if wg.w != nil {
		wg.w.Resume()
	}
}

// parses reports whether data, the script at rel, looks like a finished
// save: it passes the source check and parses.
func parses(rel string, data []byte, lim Limits) bool {
	data = sandbox.SkipShebang(data)
	if sandbox.CheckSource(data, lim) != nil {
		return false
	}
	_, err := parse.Parse(bytes.NewReader(data), rel)
	return err == nil
}

// batchTrigger names what started a reload and lists the files of a batch,
// warning about removed scripts.
func batchTrigger(b watch.Batch, log *slog.Logger) (trigger string, files []string) {
	for _, c := range b.Changes {
		files = append(files, c.Path)
		if c.Removed {
			log.Warn("hotlua: script removed; objects of the classes it defined keep their last version", "path", c.Path)
		}
	}
	trigger = "watch"
	if b.Polled || b.Rescan {
		trigger = "poll"
	}
	return trigger, files
}
