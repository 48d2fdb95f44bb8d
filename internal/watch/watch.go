package watch

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Defaults for the zero values of [Options].
const (
	defaultDebounce     = 15 * time.Millisecond
	defaultSettle       = 100 * time.Millisecond
	defaultMaxWait      = time.Second
	defaultMaxFileBytes = 1 << 20

	// rootRetry is how often a root that disappeared is looked for.
	rootRetry = 100 * time.Millisecond

	// fallbackPoll is the polling interval used after inotify turned out
	// to be unusable and Options.Poll was zero.
	fallbackPoll = 500 * time.Millisecond
)

// Modes reported by [Watcher.Mode].
const (
	ModeFsnotify = "fsnotify"
	ModePoll     = "poll"
)

// Seams for the inotify limits, which a test cannot reach for real without
// changing system-wide settings.
var (
	newNotifier = fsnotify.NewWatcher
	addWatch    = (*fsnotify.Watcher).Add
)

// Options configures a [Watcher]. The zero value watches *.lua scripts with
// fsnotify and the default timings.
//
// Options is a plain value: it is copied by [New] and not read afterwards.
type Options struct {
	// Debounce is the trailing quiet period: a batch whose files all look
	// finished is delivered once no relevant event has arrived for this
	// long. Zero means 15ms.
	Debounce time.Duration

	// Settle is the trailing quiet period of a batch with a file that
	// looks unfinished: removed (it may come back, as editors and
	// checkouts do), empty, or refused by Complete. Zero means 100ms;
	// it is never shorter than Debounce.
	Settle time.Duration

	// MaxWait is the longest delay between the first event of a batch and
	// its delivery, so that a continuous stream of saves still produces
	// batches. Zero means 1s.
	MaxWait time.Duration

	// Poll selects the detection method. Zero means fsnotify, falling back
	// to polling every 500ms (with a warning logged) when inotify cannot be
	// used because a watch or instance limit is reached. A positive value
	// means polling at that interval, comparing size, modification time
	// and file identity, then hashing the files that differ.
	Poll time.Duration

	// MaxFileBytes bounds what is read of a file: a larger file is
	// reported when its size or modification time changes, and never read
	// past MaxFileBytes+1 bytes. Zero means 1 MiB.
	MaxFileBytes int64

	// Complete reports whether data, the content of the file at rel,
	// looks like a finished save (for scripts: it parses). Nil means every
	// file that is not empty does. It is called from the watcher's
	// goroutine only.
	Complete func(rel string, data []byte) bool

	// Include reports whether the file at rel (relative to its root,
	// slash-separated) counts. Nil means [DefaultInclude]: *.lua files
	// that are not editor or tool debris.
	Include func(rel string) bool

	// Clock is the time the debounce runs on. Nil means the real one;
	// tests set a [ManualClock].
	Clock Clock
	// onMark, when set, is called from the watcher's goroutine each time
	// a path is marked to be examined. For tests.
	onMark func(rel string)

	// Logger receives warnings (fallback to polling, overflow, unreadable
	// directories) and debug records of each batch. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Change is one file whose content differs from what the previous batch
// (or, for the first batch, [New]) saw.
//
// A Change is a plain value, safe to copy and share.
type Change struct {
	// Root is the root directory exactly as it was given to [New].
	Root string
	// Path is the file's path relative to Root, slash-separated.
	Path string
	// Removed reports that the file no longer exists (or is no longer a
	// regular file). Otherwise its content changed or it is new.
	Removed bool
}

// Batch is the set of changes delivered together to the callback given to
// [New].
//
// A Batch belongs to the callback that receives it; the watcher does not
// keep or modify it afterwards.
type Batch struct {
	// Changes is sorted by root (in the order given to New), then by path,
	// and names each file at most once.
	Changes []Change
	// Rescan reports that events may have been lost (a kernel queue
	// overflow, or a switch from fsnotify to polling) and that the whole
	// tree was compared against the last known contents. Changes is still
	// complete and exact; a cautious host may reload everything anyway. A
	// Rescan batch is delivered even when Changes is empty.
	Rescan bool
	// Polled reports that the watcher was polling ([ModePoll]) when it
	// made the batch: asked to, or fallen back from fsnotify.
	Polled bool
}

// Watcher watches directory trees and reports batches of changed files.
//
// Pause, Resume, Mode and Close are safe for concurrent use, including from
// the batch callback, except that Close must not be called from the
// callback (it waits for the goroutine running it).
type Watcher struct {
	roots   []root
	opts    Options
	log     *slog.Logger
	onBatch func(Batch)

	mu     sync.Mutex // guards paused and mode
	paused bool
	mode   string

	wake      chan struct{} // Resume asks the loop to deliver what is held
	done      chan struct{} // closed by Close
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	// The fields below belong to the loop goroutine (and to New before it
	// starts).
	running bool
	notify  *fsnotify.Watcher   // nil when polling
	ticker  *time.Ticker        // non-nil when polling
	files   map[key]fileState   // last known content of every included file
	dirs    map[key]bool        // directories walked (and watched)
	snap    map[key]os.FileInfo // what the previous poll saw
	pending map[key]kind        // paths to examine at the next flush
	moving  map[key]time.Time   // polling: files whose stat moved at the last poll, since when
	rescan  bool                // compare the whole tree at the next flush
	armed   bool                // a flush is due
	clock   Clock
	first   time.Time // first event of the pending batch
	last    time.Time // last event of the pending batch
	timer   Timer
	gone    map[int]bool // roots that disappeared, looked for every rootRetry
	retry   *time.Ticker // non-nil while a root is gone
}

type root struct {
	given string // as passed to New, reported in Change.Root
	clean string // cleaned, used to build paths
}

// key names a file or directory: the index of its root and its path
// relative to that root, slash-separated ("" for the root itself).
type key struct {
	root int
	rel  string
}

// kind says how a pending path is examined.
type kind int

const (
	kindFile kind = iota // hash the file
	kindDir              // walk the tree, hashing files whose stat changed
)

// New starts watching roots, recursively, and calls onBatch with each batch
// of changes, from a single goroutine, never concurrently. The content of
// every included file when New returns is the baseline: only later changes
// are reported, so a host should call New before its initial load.
//
// Each root must be an existing directory or a symbolic link to one.
func New(roots []string, opts Options, onBatch func(Batch)) (*Watcher, error) {
	if len(roots) == 0 {
		return nil, errors.New("watch: no roots")
	}
	if onBatch == nil {
		return nil, errors.New("watch: nil batch callback")
	}
	if opts.Debounce <= 0 {
		opts.Debounce = defaultDebounce
	}
	if opts.Settle <= 0 {
		opts.Settle = defaultSettle
	}
	opts.Settle = max(opts.Settle, opts.Debounce)
	if opts.MaxWait <= 0 {
		opts.MaxWait = defaultMaxWait
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = defaultMaxFileBytes
	}
	if opts.Complete == nil {
		opts.Complete = func(string, []byte) bool { return true }
	}
	if opts.Include == nil {
		opts.Include = DefaultInclude
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	w := &Watcher{
		opts:    opts,
		log:     opts.Logger,
		onBatch: onBatch,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		files:   make(map[key]fileState),
		dirs:    make(map[key]bool),
		pending: make(map[key]kind),
		moving:  make(map[key]time.Time),
		gone:    make(map[int]bool),
		clock:   opts.Clock,
	}
	if w.clock == nil {
		w.clock = realClock{}
	}
	w.timer = w.clock.NewTimer(time.Hour)
	w.timer.Stop()
	for _, r := range roots {
		clean := filepath.Clean(r)
		fi, err := os.Stat(clean)
		if err != nil {
			return nil, fmt.Errorf("watch: root: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("watch: root %q is not a directory", r)
		}
		w.roots = append(w.roots, root{given: r, clean: clean})
	}

	if opts.Poll > 0 {
		w.startPolling(opts.Poll)
	} else if n, err := newNotifier(); err != nil {
		w.fallback(err)
	} else {
		w.notify = n
		w.setMode(ModeFsnotify)
	}
	for i := range w.roots {
		w.syncDir(key{root: i}, true, nil)
	}
	if w.ticker != nil {
		w.snap = w.scanStats() // what the first poll compares with
	}

	w.running = true
	w.wg.Add(1)
	go w.run()
	return w, nil
}

// Pause holds batches until [Watcher.Resume]: events are still recorded,
// and nothing is dropped. A batch already being examined or delivered when
// Pause is called completes. Pauses do not nest.
func (w *Watcher) Pause() {
	w.mu.Lock()
	w.paused = true
	w.mu.Unlock()
}

// Resume ends a pause and delivers everything that accumulated during it
// at once, as one batch, without waiting for the debounce period. Files
// changed and changed back while paused are not reported. Resume without
// a pause does nothing.
func (w *Watcher) Resume() {
	w.mu.Lock()
	was := w.paused
	w.paused = false
	w.mu.Unlock()
	if !was {
		return
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Mode reports how changes are detected: [ModeFsnotify] or [ModePoll]. It
// changes from fsnotify to poll when inotify limits force a fallback.
func (w *Watcher) Mode() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mode
}

// Close stops watching and waits until every goroutine the watcher started
// has ended. Pending changes are dropped. Close is idempotent; every call
// returns the result of the first.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() {
		close(w.done)
		w.wg.Wait()
	})
	return w.closeErr
}

func (w *Watcher) setMode(m string) {
	w.mu.Lock()
	w.mode = m
	w.mu.Unlock()
}

func (w *Watcher) isPaused() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.paused
}

// run is the watcher's only goroutine: it receives events, polls, and
// examines and delivers batches.
func (w *Watcher) run() {
	defer w.wg.Done()
	defer func() {
		w.timer.Stop()
		if w.ticker != nil {
			w.ticker.Stop()
		}
		if w.retry != nil {
			w.retry.Stop()
		}
		if w.notify != nil {
			if err := w.notify.Close(); err != nil {
				w.closeErr = fmt.Errorf("watch: close: %w", err)
			}
		}
	}()
	for {
		var (
			events <-chan fsnotify.Event
			errs   <-chan error
			ticks  <-chan time.Time
			retry  <-chan time.Time
		)
		if w.notify != nil {
			events, errs = w.notify.Events, w.notify.Errors
		}
		if w.ticker != nil {
			ticks = w.ticker.C
		}
		if w.retry != nil {
			retry = w.retry.C
		}
		select {
		case <-w.done:
			return
		case ev, ok := <-events:
			if !ok {
				// fsnotify closes its channels only when closed, which
				// only this goroutine does; never spin on a closed one.
				w.fallback(errors.New("watch: fsnotify stopped"))
				continue
			}
			w.handleEvent(ev)
		case err, ok := <-errs:
			if ok {
				w.handleError(err)
			}
		case <-ticks:
			w.poll()
		case <-retry:
			w.lookForRoots()
		case <-w.timer.C():
			w.flush(false)
		case <-w.wake:
			w.flush(true)
		}
	}
}

// handleEvent turns an fsnotify event into a pending path. Events on
// debris (swap files, backups, probes) are dropped here, so they neither
// cost a hash nor delay a batch.
func (w *Watcher) handleEvent(ev fsnotify.Event) {
	k, ok := w.keyOf(ev.Name)
	if !ok {
		return
	}
	if k.rel == "" && ev.Has(fsnotify.Remove|fsnotify.Rename) {
		w.rootGone(k.root) // even if it is back before the flush looks
	}
	switch {
	case w.dirs[k]:
		w.mark(k, kindDir)
	case k.rel != "" && w.opts.Include(k.rel) && !(ev.Has(fsnotify.Create) && isDir(ev.Name)):
		w.mark(k, kindFile)
	default: // a new directory, even one named like a script (a.lua/)
		fi, err := os.Lstat(ev.Name)
		switch {
		case err != nil:
		case fi.IsDir() && !hidden(filepath.Base(ev.Name)):
			// Watch the new tree right away so that writes into it
			// extend the quiet period; the flush scans it.
			w.walk(k, ev.Name, w.watchDir, nil)
			w.mark(k, kindDir)
		case fi.Mode()&os.ModeSymlink != 0:
			// A symlink swap (Kubernetes' ..data) changes what other
			// names in this directory resolve to: re-check them.
			w.mark(parent(k), kindDir)
		}
	}
}

// isDir reports whether name is a directory, not following a symlink.
func isDir(name string) bool {
	fi, err := os.Lstat(name)
	return err == nil && fi.IsDir()
}

func (w *Watcher) handleError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		w.log.Warn("watch: event queue overflowed; rescanning every root", "err", err)
		w.rescan = true
		w.arm()
		return
	}
	w.log.Warn("watch: fsnotify error", "err", err)
}

// mark records a path to examine at the next flush and re-arms the
// debounce timer.
func (w *Watcher) mark(k key, kd kind) {
	if w.opts.onMark != nil {
		w.opts.onMark(k.rel)
	}
	if old, ok := w.pending[k]; !ok || kd > old {
		w.pending[k] = kd
	}
	w.arm()
}

// arm sets the timer to the end of the quiet period, or to the maximum
// wait from the first event, whichever comes first.
func (w *Watcher) arm() {
	now := w.clock.Now()
	if !w.armed {
		w.armed = true
		w.first = now
	}
	w.last = now
	deadline := now.Add(w.opts.Debounce)
	if limit := w.first.Add(w.opts.MaxWait); limit.Before(deadline) {
		deadline = limit
	}
	w.timer.Reset(deadline.Sub(now))
}

// flush examines the pending paths and delivers the resulting batch, unless
// paused, in which case everything stays pending for Resume. Unless now
// is set, a batch with a file that looks unfinished waits until
// Options.Settle after its last event (and at most Options.MaxWait after
// its first).
func (w *Watcher) flush(now bool) {
	if !w.armed || w.isPaused() {
		return
	}
	if !now && !w.rescan {
		deadline := w.last.Add(w.opts.Settle)
		if limit := w.first.Add(w.opts.MaxWait); limit.Before(deadline) {
			deadline = limit
		}
		if now := w.clock.Now(); now.Before(deadline) && w.unfinished() {
			w.timer.Reset(deadline.Sub(now))
			return
		}
	}
	pending, rescan := w.pending, w.rescan
	w.pending, w.rescan, w.armed = make(map[key]kind), false, false

	changes := make(map[key]Change)
	if rescan {
		for i := range w.roots {
			w.syncDir(key{root: i}, true, changes)
		}
	} else {
		// Vanished directories go first, so that a directory renamed
		// within the tree loses its old watches before its new name is
		// walked (see unwatchGone).
		var gone, present []key
		for k, kd := range pending {
			if kd != kindDir {
				w.examineFile(k, true, changes)
			} else if w.isDir(k) {
				present = append(present, k)
			} else {
				gone = append(gone, k)
			}
		}
		for _, k := range append(gone, present...) {
			w.syncDir(k, false, changes)
		}
	}
	if len(changes) == 0 && !rescan {
		return
	}
	b := Batch{Rescan: rescan, Polled: w.Mode() == ModePoll, Changes: make([]Change, 0, len(changes))}
	keys := make([]key, 0, len(changes))
	for k := range changes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.root, b.root), strings.Compare(a.rel, b.rel))
	})
	for _, k := range keys {
		b.Changes = append(b.Changes, changes[k])
	}
	w.log.Debug("watch: batch", "changes", len(b.Changes), "rescan", b.Rescan)
	w.onBatch(b)
}

// watchDir adds an fsnotify watch on a directory, switching to polling
// when the inotify watch limit is reached.
func (w *Watcher) watchDir(k key, full string) {
	w.dirs[k] = true
	if w.notify == nil {
		return
	}
	err := addWatch(w.notify, full)
	switch {
	case err == nil, errors.Is(err, os.ErrNotExist):
		// Gone already: the event for its removal follows.
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EMFILE):
		w.fallback(err)
	default:
		w.log.Warn("watch: cannot watch directory", "dir", full, "err", err)
	}
}

// fallback switches from fsnotify (or from trying it) to polling, loudly,
// and asks for a full rescan since events may have been missed.
func (w *Watcher) fallback(err error) {
	w.log.Warn("watch: inotify cannot be used (raise fs.inotify.max_user_watches or max_user_instances); "+
		"FALLING BACK TO POLLING, changes will be noticed later and cost more",
		"err", err, "interval", fallbackPoll)
	if w.notify != nil {
		if cerr := w.notify.Close(); cerr != nil {
			w.log.Warn("watch: close fsnotify", "err", cerr)
		}
		w.notify = nil
	}
	w.startPolling(fallbackPoll)
	if w.running {
		w.snap = w.scanStats()
		w.rescan = true
		w.arm()
	}
}

func (w *Watcher) startPolling(interval time.Duration) {
	w.setMode(ModePoll)
	w.ticker = time.NewTicker(interval)
}

// keyOf maps an absolute event path to its root and relative path, using
// the deepest root that contains it.
func (w *Watcher) keyOf(name string) (key, bool) {
	best, found := key{}, false
	bestLen := -1
	for i, r := range w.roots {
		if name == r.clean {
			return key{root: i}, true
		}
		prefix := r.clean
		if !strings.HasSuffix(prefix, string(filepath.Separator)) {
			prefix += string(filepath.Separator)
		}
		if strings.HasPrefix(name, prefix) && len(prefix) > bestLen {
			best = key{root: i, rel: filepath.ToSlash(name[len(prefix):])}
			bestLen, found = len(prefix), true
		}
	}
	return best, found
}

// path returns the file system path of k.
func (w *Watcher) path(k key) string {
	return filepath.Join(w.roots[k.root].clean, filepath.FromSlash(k.rel))
}
