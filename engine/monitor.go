package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hotlua/hotlua/internal/watch"
)

// ReloadEvent tells [Options].OnReload about one reload, committed or not.
// It is a plain value, safe to keep and share.
type ReloadEvent struct {
	// Trigger says what started it: "initial" for the first load by [New],
	// "manual" for [Engine.Reload], "watch" for a change seen by fsnotify,
	// "poll" for one seen by polling. An automatic reload happens only when
	// some script's bytes differ from the running generation's.
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
}

// Monitor starts watching the script roots: the Go form of monitor_module.
// Each batch of saves (editors write, rename and delete in several steps;
// a quiet period of Options.Debounce closes a batch) becomes one reload,
// reported to Options.OnReload and logged. A save that does not change a
// file's bytes reloads nothing. When inotify cannot be used (its watch or
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
func (e *Engine) PauseReloads() {
	e.watchMu.Lock()
	defer e.watchMu.Unlock()
	if e.watcher != nil {
		e.watcher.Pause()
	}
}

// ResumeReloads ends [Engine.PauseReloads], reloading at once if anything
// changed meanwhile.
func (e *Engine) ResumeReloads() {
	e.watchMu.Lock()
	defer e.watchMu.Unlock()
	if e.watcher != nil {
		e.watcher.Resume()
	}
}

func (e *Engine) startWatching(poll time.Duration) error {
	if err := e.replaceWatcher(poll); err != nil {
		return err
	}
	// Saves made between the last load and the watcher's start were not
	// seen by it: catch up (this reloads only if some script differs).
	trigger := "watch"
	if poll > 0 {
		trigger = "poll"
	}
	if _, err := e.reloadFor(context.Background(), trigger, nil); errors.Is(err, ErrClosed) {
		return err
	}
	return nil
}

func (e *Engine) replaceWatcher(poll time.Duration) error {
	e.watchMu.Lock()
	defer e.watchMu.Unlock()
	if e.isClosed() {
		return ErrClosed
	}
	if e.watcher != nil {
		e.watcher.Close()
		e.watcher = nil
	}
	w, err := watch.New(e.roots, watch.Options{
		Debounce: e.opts.Debounce,
		MaxWait:  e.opts.MaxWait,
		Poll:     poll,
		Logger:   e.log,
	}, func(b watch.Batch) { e.onBatch(b, poll > 0) })
	if err != nil {
		return err
	}
	e.watcher = w
	return nil
}

// stopWatching stops the watcher and waits for a reload it started.
func (e *Engine) stopWatching() {
	e.watchMu.Lock()
	defer e.watchMu.Unlock()
	if e.watcher != nil {
		e.watcher.Close()
		e.watcher = nil
	}
}

// onBatch runs on the watcher's goroutine. It must not take watchMu:
// stopWatching holds it while waiting for this goroutine to end.
func (e *Engine) onBatch(b watch.Batch, polling bool) {
	trigger, files := batchTrigger(b, polling, e.log)
	e.reloadFor(context.Background(), trigger, files)
}

// batchTrigger names what started a reload and lists the files of a batch,
// warning about removed scripts.
func batchTrigger(b watch.Batch, polling bool, log *slog.Logger) (trigger string, files []string) {
	for _, c := range b.Changes {
		files = append(files, c.Path)
		if c.Removed {
			log.Warn("hotlua: script removed; objects of the classes it defined keep their last version", "path", c.Path)
		}
	}
	trigger = "watch"
	if polling || b.Rescan {
		trigger = "poll"
	}
	return trigger, files
}
