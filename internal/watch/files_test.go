package watch

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotlua/hotlua/internal/syncbuf"
)

// ReadFile never reads past its limit plus one byte and never blocks on
// what is not a regular file.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	const limit = 64
	for _, tc := range []struct {
		name    string
		make    func(p string) error
		want    string // the content read, when it succeeds
		tooBig  int64  // TooLargeError.Size, when too large
		failure bool   // some other error
	}{
		{name: "at the limit", want: strings.Repeat("x", limit), make: func(p string) error {
			return os.WriteFile(p, []byte(strings.Repeat("x", limit)), 0o644)
		}},
		{name: "empty", make: func(p string) error { return os.WriteFile(p, nil, 0o644) }},
		{name: "one byte over", tooBig: limit + 1, make: func(p string) error {
			return os.WriteFile(p, []byte(strings.Repeat("x", limit+1)), 0o644)
		}},
		{name: "sparse 1 GiB", tooBig: 1 << 30, make: func(p string) error {
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Truncate(1 << 30)
		}},
		{name: "fifo", failure: true, make: func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{name: "directory", failure: true, make: func(p string) error { return os.Mkdir(p, 0o755) }},
		{name: "missing", failure: true, make: func(string) error { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".lua")
			must(t, tc.make(p))
			done := make(chan struct{})
			var data []byte
			var err error
			go func() { data, _, err = ReadFile(p, limit); close(done) }()
			select {
			case <-done:
			case <-time.After(timeout):
				t.Fatal("ReadFile blocked")
			}
			var tl *TooLargeError
			switch {
			case tc.tooBig > 0:
				if !errors.As(err, &tl) || tl.Size != tc.tooBig || tl.Limit != limit || data != nil {
					t.Fatalf("ReadFile = %d bytes, %v; want too large (%d)", len(data), err, tc.tooBig)
				}
			case tc.failure:
				if err == nil {
					t.Fatalf("ReadFile = %q, want an error", data)
				}
			case err != nil || string(data) != tc.want:
				t.Fatalf("ReadFile = %q, %v; want %q", data, err, tc.want)
			}
		})
	}
}

// A file far over the size limit is reported without being read.
func TestLargeFileIsNotRead(t *testing.T) {
	h := start(t, "", Options{})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f, err := os.Create(h.path("big.lua"))
	must(t, err)
	must(t, f.Truncate(1<<30))
	must(t, f.Close())
	batches := h.settle()
	runtime.ReadMemStats(&after)
	if !slices.ContainsFunc(batches, func(b Batch) bool { return names(b, "big.lua") }) {
		t.Fatalf("big.lua not reported: %+v", batches)
	}
	if read := after.TotalAlloc - before.TotalAlloc; read > 64<<20 {
		t.Errorf("%d MiB allocated while watching: the file was read", read>>20)
	}
	// Growing it is a change too.
	must(t, os.Truncate(h.path("big.lua"), 1<<30+1))
	h.expectOneChange("big.lua")
}

// expectOneChange settles and asserts that exactly one batch reported rel
// as changed (not removed), without reading it.
func (h *harness) expectOneChange(rel string) {
	h.t.Helper()
	n := 0
	for _, b := range h.settle() {
		for _, c := range b.Changes {
			if c.Path == rel && !c.Removed {
				n++
			}
		}
	}
	if n != 1 {
		h.t.Fatalf("%d batches reported %s changed, want 1", n, rel)
	}
}

// A root removed and created again is watched again: its files are
// reported, and later saves too.
func TestRootRemovedAndRecreated(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		log  string // what the log says once the root is back
	}{
		{name: "fsnotify", log: "script root is back"},
		{name: "poll", opts: Options{Poll: 20 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
			must(t, os.WriteFile(filepath.Join(dir, "sub/a.lua"), []byte("return 1"), 0o644))
			logs := &syncbuf.Buffer{}
			tc.opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
			h := start(t, dir, tc.opts)
			must(t, os.RemoveAll(dir))
			// Wait until the removal is reported, so that the root is
			// really gone for the watcher before it comes back.
			for {
				batches := h.waitFor("sub/a.lua")
				if c := batches[len(batches)-1].Changes; slices.ContainsFunc(c, func(c Change) bool { return c.Path == "sub/a.lua" && c.Removed }) {
					break
				}
			}
			must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
			h.write("sub/a.lua", "return 2")
			for {
				batches := h.waitFor("sub/a.lua")
				if c := batches[len(batches)-1].Changes; slices.ContainsFunc(c, func(c Change) bool { return c.Path == "sub/a.lua" && !c.Removed }) {
					break
				}
			}
			h.write("sub/a.lua", "return 3")
			h.expectOne("sub/a.lua", false, "return 3")
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, logs)
			}
		})
	}
}

// Polling reads a file only once two polls in a row agree on its status.
func TestPollWaitsForTwoLooks(t *testing.T) {
	dir := t.TempDir()
	stat := func(content string) os.FileInfo {
		p := filepath.Join(dir, "f")
		must(t, os.Remove(p)) // a new inode: a new identity
		must(t, os.WriteFile(p, []byte(content), 0o644))
		fi, err := os.Stat(p)
		must(t, err)
		return fi
	}
	must(t, os.WriteFile(filepath.Join(dir, "f"), nil, 0o644))
	a, b, c := key{rel: "a.lua"}, key{rel: "b.lua"}, key{rel: "c.lua"}
	v1, v2, v3 := stat("1"), stat("22"), stat("333")
	t0 := time.Now()
	const maxWait = time.Second
	for _, tc := range []struct {
		name   string
		polls  []map[key]os.FileInfo // in order; the first is the baseline
		at     []time.Duration       // when each poll after the baseline runs
		ready  [][]key               // what each poll after the baseline reports
		moving []key                 // left moving after the last
	}{
		{name: "unchanged", polls: []map[key]os.FileInfo{{a: v1}, {a: v1}}, at: []time.Duration{0}, ready: [][]key{nil}},
		{name: "changed, then stable", polls: []map[key]os.FileInfo{{a: v1}, {a: v2}, {a: v2}},
			at: []time.Duration{0, 20 * time.Millisecond}, ready: [][]key{nil, {a}}},
		{name: "changing at every poll", polls: []map[key]os.FileInfo{{a: v1}, {a: v2}, {a: v3}, {a: v2}},
			at: []time.Duration{0, 20 * time.Millisecond, 40 * time.Millisecond}, ready: [][]key{nil, nil, nil}, moving: []key{a}},
		{name: "changing for longer than MaxWait", polls: []map[key]os.FileInfo{{a: v1}, {a: v2}, {a: v3}},
			at: []time.Duration{0, maxWait}, ready: [][]key{nil, {a}}},
		{name: "removed, then still gone", polls: []map[key]os.FileInfo{{a: v1, b: v1}, {a: v1}, {a: v1}},
			at: []time.Duration{0, 20 * time.Millisecond}, ready: [][]key{nil, {b}}},
		{name: "created, then stable", polls: []map[key]os.FileInfo{{}, {c: v1}, {c: v1}},
			at: []time.Duration{0, 20 * time.Millisecond}, ready: [][]key{nil, {c}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			moving := map[key]time.Time{}
			var ready []key
			for i := 1; i < len(tc.polls); i++ {
				ready, moving = settled(tc.polls[i-1], tc.polls[i], moving, t0.Add(tc.at[i-1]), maxWait)
				slices.SortFunc(ready, func(x, y key) int { return strings.Compare(x.rel, y.rel) })
				if !slices.Equal(ready, tc.ready[i-1]) {
					t.Fatalf("poll %d reports %v, want %v", i, ready, tc.ready[i-1])
				}
			}
			for _, k := range tc.moving {
				if _, ok := moving[k]; !ok {
					t.Errorf("%v is not left moving: %v", k, moving)
				}
			}
		})
	}
}
