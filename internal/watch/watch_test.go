package watch

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// timeout bounds every wait for a batch: generous, because the machine is
// shared and tests run with -race.
const timeout = 5 * time.Second

// harness runs a Watcher on a temporary directory and collects its batches.
type harness struct {
	t        *testing.T
	dir      string
	w        *Watcher
	clock    *ManualClock
	batches  chan Batch
	marked   chan string // every path the watcher marks, in order
	sentinel int
}

// start creates a Watcher on dir (or on t.TempDir() when dir is empty),
// whose debounce runs on a clock that only the test moves: a save made
// by the test is complete before any quiet period can end, however slowly
// this goroutine or the watcher's runs. (Polling and the retry of a lost
// root still tick in real time; what they find waits for the clock too.)
func start(t *testing.T, dir string, opts Options) *harness {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := &harness{t: t, dir: dir, batches: make(chan Batch, 1000), marked: make(chan string, 100_000), clock: NewManualClock()}
	opts.Clock = h.clock
	opts.onMark = func(rel string) {
		select {
		case h.marked <- rel:
		default: // a test that does not read marks
		}
	}
	w, err := New([]string{dir}, opts, func(b Batch) { h.batches <- b })
	if err != nil {
		t.Fatal(err)
	}
	h.w = w
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	})
	return h
}

func (h *harness) path(rel string) string {
	return filepath.Join(h.dir, filepath.FromSlash(rel))
}

func (h *harness) write(rel, content string) {
	h.t.Helper()
	if err := os.WriteFile(h.path(rel), []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// waitFor collects batches until one names rel, failing after timeout. It
// moves the clock on by an hour at a time meanwhile, so that whatever is
// pending is delivered. It returns every batch collected, the last one
// naming rel.
func (h *harness) waitFor(rel string) []Batch {
	h.t.Helper()
	var got []Batch
	deadline := time.After(timeout)
	for {
		h.clock.Advance(time.Hour)
		select {
		case b := <-h.batches:
			got = append(got, b)
			if names(b, rel) {
				return got
			}
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			h.t.Fatalf("no batch named %s within %v; got %+v", rel, timeout, got)
		}
	}
}

// waitMarked waits until the watcher has marked rel: it saw an event for it.
func (h *harness) waitMarked(rel string) {
	h.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case got := <-h.marked:
			if got == rel {
				return
			}
		case <-deadline:
			h.t.Fatalf("the watcher saw no event for %s within %v", rel, timeout)
		}
	}
}

// marks returns the paths the watcher marks until it marks last, in order,
// failing after timeout.
func (h *harness) marks(last string) []string {
	h.t.Helper()
	var got []string
	deadline := time.After(timeout)
	for {
		select {
		case rel := <-h.marked:
			got = append(got, rel)
			if rel == last {
				return got
			}
		case <-deadline:
			h.t.Fatalf("the watcher saw no event for %s within %v; it saw %q", last, timeout, got)
		}
	}
}

// settle writes a new sentinel file and waits for the batch naming it.
// Events are ordered and a flush reads the file system as it is, so every
// operation made before the sentinel is reported at the latest in that
// batch: the batches returned are all there will be for those operations.
func (h *harness) settle() []Batch {
	h.t.Helper()
	h.sentinel++
	rel := fmt.Sprintf("zz-sentinel-%d.lua", h.sentinel)
	h.write(rel, rel)
	return h.waitFor(rel)
}

// expectOne settles and asserts that exactly one batch named rel, with the
// given removal state, and that the file then holds want (if not removed).
// It returns the batches settle collected.
func (h *harness) expectOne(rel string, removed bool, want string) []Batch {
	h.t.Helper()
	batches := h.settle()
	n := 0
	for _, b := range batches {
		for _, c := range b.Changes {
			if c.Path != rel {
				continue
			}
			n++
			if c.Removed != removed {
				h.t.Errorf("change %+v: want Removed=%v", c, removed)
			}
			if c.Root != h.dir {
				h.t.Errorf("change %+v: want Root %q", c, h.dir)
			}
		}
	}
	if n != 1 {
		h.t.Fatalf("%d batches named %s, want exactly 1: %+v", n, rel, batches)
	}
	if removed {
		if _, err := os.Stat(h.path(rel)); !errors.Is(err, os.ErrNotExist) {
			h.t.Errorf("%s still exists: %v", rel, err)
		}
		return batches
	}
	if got, err := os.ReadFile(h.path(rel)); err != nil || string(got) != want {
		h.t.Errorf("%s reads %q, %v; want %q", rel, got, err, want)
	}
	return batches
}

// expectNone settles and asserts that no batch named rel.
func (h *harness) expectNone(rel string) {
	h.t.Helper()
	for _, b := range h.settle() {
		if names(b, rel) {
			h.t.Fatalf("unexpected batch naming %s: %+v", rel, b)
		}
	}
}

// onlyNames fails the test if a batch names a file other than allowed and
// the sentinels: editor debris must never be reported.
func onlyNames(t *testing.T, batches []Batch, allowed ...string) {
	t.Helper()
	for _, b := range batches {
		for _, c := range b.Changes {
			if !slices.Contains(allowed, c.Path) && !strings.HasPrefix(c.Path, "zz-sentinel-") {
				t.Errorf("unexpected change %+v", c)
			}
		}
	}
}

func names(b Batch, rel string) bool {
	return slices.ContainsFunc(b.Changes, func(c Change) bool { return c.Path == rel })
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestWriteInPlace(t *testing.T) {
	h := start(t, "", Options{})
	h.write("a.lua", "return 1")
	for _, b := range h.expectOne("a.lua", false, "return 1") {
		if b.Polled {
			t.Errorf("a batch of fsnotify says it was polled: %+v", b)
		}
	}

	f, err := os.OpenFile(h.path("a.lua"), os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.WriteString(" + 1")
	must(t, err)
	must(t, f.Close())
	h.expectOne("a.lua", false, "return 1 + 1")
}

// A save that leaves the file unfinished for a while (empty after the
// truncation, or half written) is one batch with the final content: an
// unfinished file waits for Settle, a finished one only for Debounce.
func TestTruncateThenWriteLater(t *testing.T) {
	finished := func(_ string, data []byte) bool { return strings.HasSuffix(string(data), "end") }
	for _, tc := range []struct {
		name   string
		opts   Options
		first  string // written after the truncation
		second string
	}{
		{name: "empty for 60ms", second: "return 2 -- end"},
		{name: "half written for 60ms", opts: Options{Complete: finished}, first: "return 2", second: " -- end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.WriteFile(filepath.Join(dir, "a.lua"), []byte("return 1 -- end"), 0o644))
			h := start(t, dir, tc.opts)
			f, err := os.OpenFile(h.path("a.lua"), os.O_WRONLY|os.O_TRUNC, 0)
			must(t, err)
			_, err = f.WriteString(tc.first)
			must(t, err)
			h.waitMarked("a.lua")                  // the watcher saw the unfinished file
			h.clock.Advance(60 * time.Millisecond) // the writer's pause: past Debounce, within Settle
			_, err = f.WriteString(tc.second)
			must(t, err)
			must(t, f.Close())
			h.expectOne("a.lua", false, tc.first+tc.second)
		})
	}
}

func TestVimDefaultSave(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "a.lua"), []byte("return 1"), 0o644))
	h := start(t, dir, Options{})
	// The probe file vim writes to check that the directory is writable.
	h.write("4913", "")
	must(t, os.Chmod(h.path("4913"), 0o644))
	must(t, os.Remove(h.path("4913")))
	// Backup by rename, then a fresh file under the original name.
	must(t, os.Rename(h.path("a.lua"), h.path("a.lua~")))
	f, err := os.OpenFile(h.path("a.lua"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	must(t, err)
	_, err = f.WriteString("return 2")
	must(t, err)
	must(t, f.Close())
	must(t, os.Chmod(h.path("a.lua"), 0o644))
	must(t, os.Remove(h.path("a.lua~")))
	onlyNames(t, h.expectOne("a.lua", false, "return 2"), "a.lua")
}

func TestTempFileRenamedOver(t *testing.T) {
	for _, tmp := range []string{
		"a.lua.tmp",          // mv, many tools
		".a.lua.swx",         // hidden temporary
		"a.lua___jb_tmp___",  // JetBrains safe write
		".vscode-tmp-1.lua",  // hidden even though it ends in .lua
		"sub-tmp-a.lua.part", // downloaders
	} {
		t.Run(tmp, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.WriteFile(filepath.Join(dir, "a.lua"), []byte("return 1"), 0o644))
			h := start(t, dir, Options{})
			h.write(tmp, "return 2")
			must(t, os.Rename(h.path(tmp), h.path("a.lua")))
			onlyNames(t, h.expectOne("a.lua", false, "return 2"), "a.lua")
		})
	}
}

func TestSedInPlace(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "a.lua"), []byte("return 1"), 0o644))
	h := start(t, dir, Options{})
	f, err := os.OpenFile(h.path("sedAbC123"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	must(t, err)
	must(t, f.Chmod(0o644))
	must(t, f.Chmod(0o644))
	_, err = f.WriteString("return 2")
	must(t, err)
	must(t, f.Close())
	must(t, os.Rename(h.path("sedAbC123"), h.path("a.lua")))
	onlyNames(t, h.expectOne("a.lua", false, "return 2"), "a.lua")
}

func TestDeleteThenRecreate(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "a.lua"), []byte("return 1"), 0o644))
	h := start(t, dir, Options{})
	must(t, os.Remove(h.path("a.lua")))
	h.write("a.lua", "return 2")
	h.expectOne("a.lua", false, "return 2")
}

func TestDeleteForGood(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "a.lua"), []byte("return 1"), 0o644))
	h := start(t, dir, Options{})
	must(t, os.Remove(h.path("a.lua")))
	h.expectOne("a.lua", true, "")
}

func TestNewFileInNewSubdirectory(t *testing.T) {
	h := start(t, "", Options{})
	must(t, os.MkdirAll(h.path("a/b"), 0o755))
	h.write("a/b/c.lua", "return 'deep'")
	h.expectOne("a/b/c.lua", false, "return 'deep'")

	// The new directories are watched from now on.
	h.write("a/b/c.lua", "return 'deeper'")
	h.expectOne("a/b/c.lua", false, "return 'deeper'")

	// Removing the directory removes its files.
	must(t, os.RemoveAll(h.path("a")))
	h.expectOne("a/b/c.lua", true, "")
}

func TestWritesIntoNewDirectoryAreSeen(t *testing.T) {
	// A new directory is watched as soon as its creation is seen, so
	// writes into it are events like any other (they extend the quiet
	// period), and not only found by the walk of the flush.
	h := start(t, "", Options{})
	must(t, os.Mkdir(h.path("d"), 0o755))
	h.waitMarked("d")
	for i := range 6 {
		h.write("d/a.lua", fmt.Sprintf("return %d", i))
		h.waitMarked("d/a.lua")
		h.clock.Advance(time.Millisecond) // well within Debounce
	}
	h.expectOne("d/a.lua", false, "return 5")
}

func TestDirectoryRenamed(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "sub/inner"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "sub/inner/x.lua"), []byte("return 1"), 0o644))
	h := start(t, dir, Options{})
	must(t, os.Rename(h.path("sub"), h.path("sub2")))
	batches := h.expectOne("sub/inner/x.lua", true, "")
	if !slices.ContainsFunc(batches, func(b Batch) bool { return names(b, "sub2/inner/x.lua") }) {
		t.Fatalf("rename target not reported: %+v", batches)
	}
	// The moved tree is watched under its new name.
	h.write("sub2/inner/x.lua", "return 2")
	onlyNames(t, h.expectOne("sub2/inner/x.lua", false, "return 2"), "sub2/inner/x.lua")
}

func TestSymlinkedRoot(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "scripts")
	must(t, os.Symlink(real, link))
	h := start(t, link, Options{})
	must(t, os.WriteFile(filepath.Join(real, "a.lua"), []byte("return 1"), 0o644))
	h.expectOne("a.lua", false, "return 1") // checks Root == link, as given
}

func TestKubernetesDataSwap(t *testing.T) {
	dir := t.TempDir()
	// The layout of a ConfigMap volume: visible names are symlinks through
	// ..data, which points at a hidden timestamped directory.
	v1 := filepath.Join(dir, "..2026_01_01")
	must(t, os.Mkdir(v1, 0o755))
	must(t, os.WriteFile(filepath.Join(v1, "a.lua"), []byte("return 1"), 0o644))
	must(t, os.WriteFile(filepath.Join(v1, "b.lua"), []byte("return 'b'"), 0o644))
	must(t, os.Symlink("..2026_01_01", filepath.Join(dir, "..data")))
	must(t, os.Symlink("..data/a.lua", filepath.Join(dir, "a.lua")))
	must(t, os.Symlink("..data/b.lua", filepath.Join(dir, "b.lua")))
	h := start(t, dir, Options{})

	// The kubelet's atomic update.
	v2 := filepath.Join(dir, "..2026_01_02")
	must(t, os.Mkdir(v2, 0o755))
	must(t, os.WriteFile(filepath.Join(v2, "a.lua"), []byte("return 2"), 0o644))
	must(t, os.WriteFile(filepath.Join(v2, "b.lua"), []byte("return 'b'"), 0o644))
	must(t, os.Symlink("..2026_01_02", filepath.Join(dir, "..data_tmp")))
	must(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	must(t, os.RemoveAll(v1))

	for _, b := range h.expectOne("a.lua", false, "return 2") {
		if names(b, "b.lua") {
			t.Errorf("b.lua reported, but its bytes did not change: %+v", b)
		}
	}
}

func TestManyFilesOneBatch(t *testing.T) {
	dir := t.TempDir()
	const n = 100
	for i := range n {
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.lua", i)), []byte("return 0"), 0o644))
	}
	h := start(t, dir, Options{})
	for i := range n {
		h.write(fmt.Sprintf("f%03d.lua", i), fmt.Sprintf("return %d", i+1))
	}
	// The burst is over and seen (events come in order) before any quiet
	// period ends.
	for i := range n {
		h.waitMarked(fmt.Sprintf("f%03d.lua", i))
	}
	batches := h.settle()
	var first *Batch
	for i, b := range batches {
		if names(b, "f000.lua") {
			if first != nil {
				t.Fatalf("changes split over batches: %+v", batches)
			}
			first = &batches[i]
		}
	}
	if first == nil {
		t.Fatal("no batch named the files")
	}
	var got []string
	for _, c := range first.Changes {
		if strings.HasPrefix(c.Path, "f") {
			got = append(got, c.Path)
		}
	}
	if len(got) != n || !slices.IsSorted(got) {
		t.Fatalf("batch has %d sorted=%v file changes, want %d sorted", len(got), slices.IsSorted(got), n)
	}
}

func TestNoBatchWithoutNewBytes(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "a.lua"), []byte("return 1"), 0o644))
	h := start(t, dir, Options{})

	// touch, chmod, and a re-save of identical bytes.
	later := time.Now().Add(time.Hour)
	must(t, os.Chtimes(h.path("a.lua"), later, later))
	must(t, os.Chmod(h.path("a.lua"), 0o600))
	h.write("a.lua", "return 1")
	h.expectNone("a.lua")

	// Changed, then changed back before the watcher looked (held by a
	// pause, which a quiet period shorter than the test's steps is like).
	h.w.Pause()
	h.write("a.lua", "return 2")
	h.write("a.lua", "return 1")
	h.w.Resume()
	h.expectNone("a.lua")

	// Debris only.
	h.write("a.lua~", "x")
	h.write(".a.lua.swp", "x")
	h.write("notes.txt", "x")
	must(t, os.Mkdir(h.path(".git"), 0o755))
	h.write(".git/x.lua", "x")
	onlyNames(t, h.settle())
}

func TestContinuousStreamStillFires(t *testing.T) {
	h := start(t, "", Options{Debounce: 200 * time.Millisecond, MaxWait: 400 * time.Millisecond})
	deadline := time.After(timeout)
	for i := 0; ; i++ {
		// Each write comes well inside the quiet period of the previous
		// one, so only MaxWait can end the batch.
		h.write("a.lua", fmt.Sprintf("return %d", i))
		h.waitMarked("a.lua")
		h.clock.Advance(10 * time.Millisecond) // the pace of the stream
		select {
		case b := <-h.batches:
			if !names(b, "a.lua") {
				t.Fatalf("unexpected batch %+v", b)
			}
			if elapsed := time.Duration(i+1) * 10 * time.Millisecond; elapsed < 400*time.Millisecond {
				t.Fatalf("a batch %v after the first write: before MaxWait", elapsed)
			}
			return
		case <-deadline:
			t.Fatalf("no batch within %v of continuous writes", timeout)
		default:
		}
	}
}

func TestPauseResume(t *testing.T) {
	h := start(t, "", Options{})
	h.w.Pause()
	h.write("a.lua", "return 1")
	h.write("b.lua", "return 2")
	h.write("c.lua", "return 3")
	h.write("c.lua", "return 3 -- edited")
	for _, rel := range []string{"a.lua", "b.lua", "c.lua"} {
		h.waitMarked(rel)
	}
	// An absence can only be observed for a while: every quiet period
	// ends, and nothing comes.
	h.clock.Advance(time.Hour)
	select {
	case b := <-h.batches:
		t.Fatalf("batch while paused: %+v", b)
	case <-time.After(500 * time.Millisecond):
	}
	h.w.Resume()
	batches := h.waitFor("a.lua")
	b := batches[len(batches)-1]
	if len(batches) != 1 || !names(b, "b.lua") || !names(b, "c.lua") || len(b.Changes) != 3 {
		t.Fatalf("want one batch with a, b, c; got %+v", batches)
	}
	h.expectNone("a.lua")
}

func TestPollMode(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "a.lua"), []byte("return 1"), 0o644))
	h := start(t, dir, Options{Poll: 20 * time.Millisecond})
	if m := h.w.Mode(); m != ModePoll {
		t.Fatalf("Mode() = %q, want %q", m, ModePoll)
	}
	h.write("a.lua", "return 22")
	h.expectOne("a.lua", false, "return 22")

	tmp := h.path("a.lua.tmp")
	must(t, os.WriteFile(tmp, []byte("return 333"), 0o644))
	must(t, os.Rename(tmp, h.path("a.lua")))
	h.expectOne("a.lua", false, "return 333")

	must(t, os.MkdirAll(h.path("x/y"), 0o755))
	h.write("x/y/z.lua", "return 'z'")
	h.expectOne("x/y/z.lua", false, "return 'z'")

	later := time.Now().Add(time.Hour)
	must(t, os.Chtimes(h.path("a.lua"), later, later))
	h.expectNone("a.lua")

	must(t, os.Remove(h.path("a.lua")))
	h.expectOne("a.lua", true, "")
}

// withSeams replaces the inotify seams for one test.
func withSeams(t *testing.T, nn func() (*fsnotify.Watcher, error), aw func(*fsnotify.Watcher, string) error) {
	oldNew, oldAdd := newNotifier, addWatch
	t.Cleanup(func() { newNotifier, addWatch = oldNew, oldAdd })
	if nn != nil {
		newNotifier = nn
	}
	if aw != nil {
		addWatch = aw
	}
}

func TestFallbackWhenInotifyUnavailable(t *testing.T) {
	withSeams(t, func() (*fsnotify.Watcher, error) {
		return nil, fmt.Errorf("couldn't initialize inotify: %w", syscall.EMFILE)
	}, nil)
	var logs strings.Builder
	h := start(t, "", Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if m := h.w.Mode(); m != ModePoll {
		t.Fatalf("Mode() = %q, want %q", m, ModePoll)
	}
	if !strings.Contains(logs.String(), "FALLING BACK TO POLLING") {
		t.Errorf("no loud warning logged: %q", logs.String())
	}
	h.write("a.lua", "return 1")
	for _, b := range h.expectOne("a.lua", false, "return 1") {
		if !b.Polled {
			t.Errorf("a batch of the fallback does not say it was polled: %+v", b)
		}
	}
}

func TestFallbackWhenWatchLimitReached(t *testing.T) {
	withSeams(t, nil, func(n *fsnotify.Watcher, dir string) error {
		if strings.Contains(dir, "deep") {
			return syscall.ENOSPC
		}
		return n.Add(dir)
	})
	h := start(t, "", Options{})
	if m := h.w.Mode(); m != ModeFsnotify {
		t.Fatalf("Mode() = %q, want %q", m, ModeFsnotify)
	}
	must(t, os.Mkdir(h.path("deep"), 0o755))
	h.write("deep/a.lua", "return 1")
	batches := h.waitFor("deep/a.lua")
	if !slices.ContainsFunc(batches, func(b Batch) bool { return b.Rescan }) {
		t.Errorf("no Rescan batch after the switch: %+v", batches)
	}
	if m := h.w.Mode(); m != ModePoll {
		t.Fatalf("Mode() = %q after ENOSPC, want %q", m, ModePoll)
	}
	h.write("deep/a.lua", "return 2")
	h.expectOne("deep/a.lua", false, "return 2")
}

func TestCloseLeavesNoGoroutine(t *testing.T) {
	for _, opts := range []Options{{}, {Poll: 10 * time.Millisecond}} {
		before := runtime.NumGoroutine()
		h := start(t, "", opts)
		h.write("a.lua", "return 1")
		h.expectOne("a.lua", false, "return 1")
		h.write("a.lua", "return 2") // leave a batch pending
		must(t, h.w.Close())
		must(t, h.w.Close()) // idempotent
		deadline := time.Now().Add(timeout)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Fatalf("%d goroutines before, %d after Close (poll=%v):\n%s",
					before, runtime.NumGoroutine(), opts.Poll, buf[:runtime.Stack(buf, true)])
			}
			runtime.Gosched()
			time.Sleep(time.Millisecond)
		}
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.lua")
	must(t, os.WriteFile(file, nil, 0o644))
	for name, roots := range map[string][]string{
		"none":     nil,
		"missing":  {filepath.Join(dir, "missing")},
		"not dir":  {file},
		"one good": {dir, filepath.Join(dir, "missing")},
	} {
		w, err := New(roots, Options{}, func(Batch) {})
		if err == nil {
			w.Close()
			t.Errorf("%s: New succeeded", name)
		} else if !strings.HasPrefix(err.Error(), "watch: ") {
			t.Errorf("%s: error %q lacks the package name", name, err)
		}
	}
	if _, err := New([]string{dir}, Options{}, nil); err == nil {
		t.Error("New accepted a nil callback")
	}
}

func TestDefaultInclude(t *testing.T) {
	for rel, want := range map[string]bool{
		"a.lua":             true,
		"lib/util.lua":      true,
		"a.lua~":            false,
		"4913":              false,
		".a.lua.swp":        false,
		".#a.lua":           false,
		"#a.lua#":           false,
		"a.lua.tmp":         false,
		"sedAbC123":         false,
		"a.lua___jb_tmp___": false,
		".git/x.lua":        false,
		"..data/a.lua":      false,
		"readme.md":         false,
	} {
		if got := DefaultInclude(rel); got != want {
			t.Errorf("DefaultInclude(%q) = %v, want %v", rel, got, want)
		}
	}
}

func TestOverflowRescans(t *testing.T) {
	raw, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Skip("no inotify queue limit to overflow:", err)
	}
	var queue int
	if _, err := fmt.Sscan(string(raw), &queue); err != nil || queue > 1<<17 {
		t.Skipf("inotify queue of %q events is too long to overflow quickly", raw)
	}
	dir := t.TempDir()
	batches := make(chan Batch, 100)
	release := make(chan struct{})
	clock := NewManualClock()
	w, err := New([]string{dir}, Options{
		Clock:  clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, func(b Batch) {
		batches <- b
		<-release // the first batch blocks the watcher until released
	})
	must(t, err)
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	defer func() {
		unblock() // even on failure, or Close would wait forever
		must(t, w.Close())
	}()
	h := &harness{t: t, dir: dir, w: w, batches: batches, clock: clock}
	h.write("x.lua", "return 0")
	h.waitFor("x.lua")

	// While the watcher is stuck in the callback, fill the kernel queue.
	// Alternating files, because the kernel merges identical consecutive
	// events.
	a, err := os.Create(h.path("a.lua"))
	must(t, err)
	b, err := os.Create(h.path("b.lua"))
	must(t, err)
	for i := range queue + 100 {
		_, err = a.WriteAt([]byte(fmt.Sprintf("return %06d", i)), 0)
		must(t, err)
		_, err = b.WriteAt([]byte(fmt.Sprintf("return %06d", i)), 0)
		must(t, err)
	}
	must(t, a.Close())
	must(t, b.Close())
	unblock()

	// The events read before the overflow may make a batch of their own
	// (MaxWait); the rescan then finds nothing new.
	var seen []Batch
	deadline := time.After(timeout)
	for {
		clock.Advance(time.Hour)
		select {
		case <-time.After(5 * time.Millisecond):
		case got := <-batches:
			seen = append(seen, got)
			if !got.Rescan {
				continue
			}
			for _, rel := range []string{"a.lua", "b.lua"} {
				if !slices.ContainsFunc(seen, func(b Batch) bool { return names(b, rel) }) {
					t.Fatalf("%s not reported by the rescan: %+v", rel, seen)
				}
			}
			return
		case <-deadline:
			t.Fatalf("no Rescan batch within %v after an overflow: %+v", timeout, seen)
		}
	}
}

// A directory of the tree replaced by a symbolic link (to a tree outside
// the root) is not followed: its old files are reported removed, and what
// lies behind the link is never reported, then or when it changes. With
// fsnotify the directory's own event finds the link; polling finds its file
// gone from the walk and looks at that path again.
func TestDirectorySwappedForSymlinkIsNotFollowed(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts Options
	}{{"fsnotify", Options{}}, {"poll", Options{Poll: 20 * time.Millisecond}}} {
		t.Run(mode.name, func(t *testing.T) {
			dir, elsewhere := t.TempDir(), t.TempDir()
			outside := filepath.Join(elsewhere, "outside")
			must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
			must(t, os.MkdirAll(outside, 0o755))
			must(t, os.WriteFile(filepath.Join(dir, "sub/x.lua"), []byte("return 'inside'"), 0o644))
			must(t, os.WriteFile(filepath.Join(outside, "x.lua"), []byte("return 'outside'"), 0o644))
			h := start(t, dir, mode.opts)
			must(t, os.Rename(h.path("sub"), filepath.Join(elsewhere, "old-sub")))
			must(t, os.Symlink(outside, h.path("sub")))
			removed := false
			for _, b := range h.waitFor("sub/x.lua") {
				for _, c := range b.Changes {
					if c.Path == "sub/x.lua" && !c.Removed {
						t.Fatalf("the file behind the link was reported: %+v", b)
					}
					removed = removed || c.Path == "sub/x.lua"
				}
			}
			if !removed {
				t.Fatal("sub/x.lua, gone from the tree, was not reported removed")
			}
			must(t, os.WriteFile(filepath.Join(outside, "x.lua"), []byte("return 'outside, again'"), 0o644))
			must(t, os.WriteFile(filepath.Join(elsewhere, "old-sub/x.lua"), []byte("return 'moved away'"), 0o644))
			h.expectNone("sub/x.lua")
			if mode.opts.Poll == 0 {
				// Nor is the tree behind the link watched: a new file there
				// is no event at all (events come in order, the mark of a
				// file written after it closes the list).
				must(t, os.WriteFile(filepath.Join(outside, "y.lua"), []byte("return 'y'"), 0o644))
				h.write("after.lua", "return 1")
				for _, rel := range h.marks("after.lua") {
					if rel == "sub/y.lua" {
						t.Fatal("the watcher watches the tree behind the link: it saw sub/y.lua written")
					}
				}
			}
		})
	}
}

// TestDirectoryNamedLikeAScript replaces a script by a directory of the
// same name, a.lua/, holding a script: it was taken for the script (its
// name ends in .lua), so it was never walked nor watched and its scripts
// never reported, then or when written later.
func TestDirectoryNamedLikeAScript(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "a.lua"), []byte("return 1"), 0o644))
	h := start(t, dir, Options{})
	must(t, os.Remove(h.path("a.lua")))
	must(t, os.Mkdir(h.path("a.lua"), 0o755))
	h.write("a.lua/b.lua", "return 2")
	h.expectOne("a.lua/b.lua", false, "return 2")
	h.write("a.lua/b.lua", "return 3")
	h.expectOne("a.lua/b.lua", false, "return 3")
}
