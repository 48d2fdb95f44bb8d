package engine

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hotlua/hotlua/internal/syncbuf"
)

// allySrc is a second class whose object must keep its data whatever
// happens to units/enemy.lua.
const allySrc = "local A = hot.class('ally')\nfunction A:init(name) self.name = name end\nfunction A:hello() return 'hi ' .. self.name end\nreturn A\n"

// enemyV2 deals twice the damage of enemyV1.
var enemyV2 = strings.Replace(enemyV1, "self.hp - n", "self.hp - 2 * n", 1)

// world is an engine with an enemy (hp 10) and an ally ("bo") alive.
type world struct {
	e           *Engine
	dir         string
	enemy, ally *Object
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newWorld(t *testing.T, opts ...func(*Options)) *world {
	t.Helper()
	e, dir := newEngine(t, map[string]string{"units/enemy.lua": enemyV1, "ally.lua": allySrc}, opts...)
	w := &world{e: e, dir: dir}
	var err error
	if w.enemy, err = e.New(context.Background(), "units.enemy"); err != nil {
		t.Fatal(err)
	}
	w.enemy.Set("hp", 10)
	if w.ally, err = e.New(context.Background(), "ally", "bo"); err != nil {
		t.Fatal(err)
	}
	return w
}

// alive checks that both objects answer with their data, the enemy with
// damage n taken off hp at each call: it returns the hp left.
func (w *world) alive(t *testing.T, damage float64) float64 {
	t.Helper()
	if got := call(t, w.ally, "hello"); got != "hi bo" {
		t.Fatalf("ally says %v, want hi bo", got)
	}
	return call(t, w.enemy, "damage", damage).(float64)
}

// stillReloading saves enemyV2 and checks that a reload commits it and
// the enemy runs it.
func (w *world) stillReloading(t *testing.T) {
	t.Helper()
	before := w.alive(t, 0)
	gen := w.e.Generation()
	rep := reload(t, w.e, w.dir, map[string]string{"units/enemy.lua": enemyV2})
	if rep.Generation != gen+1 {
		t.Fatalf("reload committed generation %d, want %d", rep.Generation, gen+1)
	}
	if got := w.alive(t, 1); got != before-2 {
		t.Fatalf("enemy has %v hp after a hit of the new version, want %v", got, before-2)
	}
}

// A save still being written (empty, or cut before its last line) must
// not orphan a class that live objects use; a script deleted for good
// does, as the report says.
func TestHalfWrittenSaveKeepsClass(t *testing.T) {
	cut := strings.TrimSuffix(strings.TrimSpace(enemyV1), "return Enemy")
	for _, tc := range []struct {
		name     string
		save     func(t *testing.T, w *world)
		resave   string // written while the reload waits to look again
		orphaned bool   // the reload commits with units.enemy orphaned
	}{
		{name: "empty", save: func(t *testing.T, w *world) { writeScripts(t, w.dir, map[string]string{"units/enemy.lua": ""}) }},
		{name: "cut before return", save: func(t *testing.T, w *world) { writeScripts(t, w.dir, map[string]string{"units/enemy.lua": cut}) }},
		{name: "cut, with a #! line", save: func(t *testing.T, w *world) {
			writeScripts(t, w.dir, map[string]string{"units/enemy.lua": "#!/usr/bin/env lua\n" + cut})
		}},
		{name: "empty, then finished", resave: enemyV2, save: func(t *testing.T, w *world) {
			writeScripts(t, w.dir, map[string]string{"units/enemy.lua": ""})
		}},
		{name: "deleted for good", orphaned: true, save: func(t *testing.T, w *world) {
			if err := os.Remove(filepath.Join(w.dir, "units/enemy.lua")); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			if tc.resave != "" {
				old := waitToSettle
				t.Cleanup(func() { waitToSettle = old })
				waitToSettle = func(context.Context) error {
					writeScripts(t, w.dir, map[string]string{"units/enemy.lua": tc.resave})
					return nil
				}
			}
			tc.save(t, w)
			rep, err := w.e.Reload(context.Background())
			switch {
			case tc.resave != "":
				if err != nil || rep.Generation != 2 || w.alive(t, 1) != 8 {
					t.Fatalf("reload = %v, %v; want the finished save committed", rep, err)
				}
				return
			case tc.orphaned:
				if err != nil || len(rep.Orphaned) != 1 || rep.Orphaned[0].Class != "units.enemy" || rep.Orphaned[0].Objects != 1 {
					t.Fatalf("reload = %v, %v; want units.enemy orphaned with its object", rep, err)
				}
				if got := w.alive(t, 1); got != 9 {
					t.Fatalf("orphaned enemy has %v hp, want the old version's 9", got)
				}
				writeScripts(t, w.dir, map[string]string{"units/enemy.lua": enemyV1})
				if _, err := w.e.Reload(context.Background()); err != nil {
					t.Fatal(err)
				}
			default:
				var se *ScriptError
				if !errors.Is(err, ErrClassUndefined) || !errors.As(err, &se) || se.Path != "units/enemy.lua" ||
					!strings.Contains(err.Error(), "no longer defines class units.enemy, which 1 live objects use (it did not change when read again)") {
					t.Fatalf("reload = %v, %v; want an error naming units/enemy.lua and units.enemy", rep, err)
				}
				if g := w.e.Generation(); g != 1 {
					t.Fatalf("generation %d after a refused reload", g)
				}
				if got := w.alive(t, 1); got != 9 {
					t.Fatalf("enemy has %v hp, want 9 from the running version", got)
				}
				if _, err := w.e.New(context.Background(), "units.enemy"); err != nil {
					t.Fatalf("New after a refused reload: %v", err)
				}
			}
			w.stillReloading(t)
		})
	}
}

// Files are checked before they are read: a huge (sparse) file is
// refused by its size, a FIFO named like a script is not waited on.
func TestFilesCheckedBeforeRead(t *testing.T) {
	for _, tc := range []struct {
		name    string
		lim     Limits
		make    func(t *testing.T, p string)
		wantErr string // "" for a reload that skips the file
	}{
		{name: "sparse 1 GiB", wantErr: "big.lua:1:1: source too large (1073741824 bytes, max 1048576)", make: func(t *testing.T, p string) {
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Truncate(1 << 30); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}},
		{name: "one byte over the limit", lim: Limits{MaxSourceBytes: 4096}, wantErr: "big.lua:1:1: source too large (4097 bytes, max 4096)",
			make: func(t *testing.T, p string) {
				if err := os.WriteFile(p, []byte("--"+strings.Repeat("x", 4095)), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "fifo", make: func(t *testing.T, p string) {
			if err := mkfifo(p); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, func(o *Options) { o.Limits.MaxSourceBytes = tc.lim.MaxSourceBytes })
			p := filepath.Join(w.dir, "big.lua")
			tc.make(t, p)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			done := make(chan error, 1)
			go func() { _, err := w.e.Reload(context.Background()); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("Reload hangs on the file")
			}
			runtime.ReadMemStats(&after)
			if read := after.TotalAlloc - before.TotalAlloc; read > 64<<20 {
				t.Errorf("the reload allocated %d MiB: the file was read", read>>20)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("Reload: %v; want %q", err, tc.wantErr)
			}
			// New refuses it the same way.
			_, err = New(Options{Roots: []string{w.dir}, Limits: tc.lim, Logger: w.e.log})
			if tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("New: %v; want %q", err, tc.wantErr)
			}
			w.alive(t, 1)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			w.stillReloading(t)
		})
	}
}

// A script that is a symbolic link out of its root is refused unless the
// host allows it; links inside the root are followed.
func TestSymlinksOutOfRoot(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "outside.lua")
	writeScripts(t, filepath.Dir(outside), map[string]string{"outside.lua": "return hot.class('evil')\n"})
	for _, tc := range []struct {
		name    string
		follow  bool
		link    func(dir string) error
		wantErr string
		class   string // defined once the link loads
	}{
		{name: "file outside", link: func(dir string) error { return os.Symlink(outside, filepath.Join(dir, "evil.lua")) },
			wantErr: "evil.lua:1:1: symbolic link leads out of the script root"},
		{name: "relative path outside", link: func(dir string) error {
			rel, err := filepath.Rel(dir, outside)
			if err != nil {
				return err
			}
			return os.Symlink(rel, filepath.Join(dir, "evil.lua"))
		}, wantErr: "evil.lua:1:1: symbolic link leads out of the script root"},
		{name: "file outside, allowed", follow: true, class: "evil",
			link: func(dir string) error { return os.Symlink(outside, filepath.Join(dir, "evil.lua")) }},
		{name: "directory outside is not descended", link: func(dir string) error {
			return os.Symlink(filepath.Dir(outside), filepath.Join(dir, "ext"))
		}},
		{name: "inside the root", class: "ally2", link: func(dir string) error {
			writeScripts(t, dir, map[string]string{"..v1/a.lua": "return hot.class('ally2')\n"})
			if err := os.Symlink("..v1", filepath.Join(dir, "..data")); err != nil {
				return err
			}
			return os.Symlink("..data/a.lua", filepath.Join(dir, "a.lua"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, func(o *Options) { o.FollowExternalSymlinks = tc.follow })
			if err := tc.link(w.dir); err != nil {
				t.Fatal(err)
			}
			_, err := w.e.Reload(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("Reload: %v; want %q", err, tc.wantErr)
				}
				if _, err := New(Options{Roots: []string{w.dir}, Logger: w.e.log}); err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("New: %v; want %q", err, tc.wantErr)
				}
				w.alive(t, 1)
				os.Remove(filepath.Join(w.dir, "evil.lua"))
			} else if err != nil {
				t.Fatalf("Reload: %v", err)
			}
			if tc.class != "" {
				if _, err := w.e.New(context.Background(), tc.class); err != nil {
					t.Fatalf("New(%s): %v", tc.class, err)
				}
			}
			w.stillReloading(t)
		})
	}
}

// A directory of the root swapped for a symbolic link to a tree outside
// it while the engine watches is not followed: the reload the watcher's
// batch makes sees the directory's scripts gone, as a full walk does, and
// never runs what lies behind the link.
func TestDirectorySwappedForLinkOutOfRoot(t *testing.T) {
	elsewhere := t.TempDir()
	outside := filepath.Join(elsewhere, "outside")
	writeScripts(t, outside, map[string]string{"x.lua": "return 'outside'\n"})
	w := newWorld(t)
	writeScripts(t, w.dir, map[string]string{"sub/x.lua": "return 'inside'\n"})
	required := func() (any, error) {
		v, err := w.e.CallGlobal(context.Background(), "require", "sub.x")
		return v.Any(), err
	}
	if _, err := w.e.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, err := required(); v != "inside" {
		t.Fatalf("require(sub.x) = %v, %v; want inside", v, err)
	}
	if err := os.Rename(filepath.Join(w.dir, "sub"), filepath.Join(elsewhere, "old-sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(w.dir, "sub")); err != nil {
		t.Fatal(err)
	}
	for _, reload := range []struct {
		name string
		run  func() error
	}{
		{"the watcher's", func() error { _, err := watchReload(w.e, "sub/x.lua"); return err }},
		{"a manual", func() error { _, err := w.e.Reload(context.Background()); return err }},
	} {
		if err := reload.run(); err != nil {
			t.Fatalf("%s reload: %v", reload.name, err)
		}
		if v, err := required(); err == nil || v == "outside" {
			t.Fatalf("after %s reload, require(sub.x) = %v, %v; want not found", reload.name, v, err)
		}
	}
	w.stillReloading(t)
}

// A Kubernetes ConfigMap swap (..data re-pointed) inside a root reloads
// the new content.
func TestConfigMapSwapReloads(t *testing.T) {
	w := newWorld(t)
	writeScripts(t, w.dir, map[string]string{"..v1/cfg.lua": "return 1\n", "..v2/cfg.lua": "return 2\n"})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("..v1", filepath.Join(w.dir, "..data")))
	must(os.Symlink("..data/cfg.lua", filepath.Join(w.dir, "cfg.lua")))
	speed := func() any {
		t.Helper()
		v, err := w.e.CallGlobal(context.Background(), "require", "cfg")
		if err != nil {
			t.Fatal(err)
		}
		return v.Any()
	}
	if _, err := w.e.Reload(context.Background()); err != nil || speed() != 1.0 {
		t.Fatalf("Reload: %v, speed %v", err, speed())
	}
	must(os.Symlink("..v2", filepath.Join(w.dir, "..data_tmp")))
	must(os.Rename(filepath.Join(w.dir, "..data_tmp"), filepath.Join(w.dir, "..data")))
	if _, err := w.e.Reload(context.Background()); err != nil || speed() != 2.0 {
		t.Fatalf("Reload after the swap: %v, speed %v", err, speed())
	}
	w.stillReloading(t)
}

// A reload reads again only the files that may have changed: the ones
// the watcher names, or, for a manual reload, those whose size, times or
// inode moved.
func TestReloadReadsOnlyChangedFiles(t *testing.T) {
	files := map[string]string{"a.lua": "return 1\n", "b.lua": "return 2\n", "sub/c.lua": "return 3\n"}
	for _, tc := range []struct {
		name   string
		reload func(e *Engine) error
	}{
		{name: "manual", reload: func(e *Engine) error { _, err := e.Reload(context.Background()); return err }},
		{name: "watcher", reload: func(e *Engine) error { _, err := watchReload(e, "a.lua"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeScripts(t, dir, files)
			age(t, dir)
			e, err := New(Options{Roots: []string{dir}, Logger: discard()})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			cached := func(rel string) *readFile {
				e.protos.files.mu.Lock()
				defer e.protos.files.mu.Unlock()
				return e.protos.files.files[fileRef{e.roots[0], rel}]
			}
			b, c := cached("b.lua"), cached("sub/c.lua")
			writeScripts(t, dir, map[string]string{"a.lua": "return 10\n"})
			if err := tc.reload(e); err != nil {
				t.Fatal(err)
			}
			if cached("b.lua") != b || cached("sub/c.lua") != c {
				t.Error("unchanged files were read again")
			}
			if v, err := e.CallGlobal(context.Background(), "require", "a"); err != nil || v.Any() != 10.0 {
				t.Errorf("a = %v, %v; want 10", v, err)
			}
		})
	}
}

// A manual reload reads again a file rewritten within one timestamp tick
// of the read before, with the same size and its modification time set
// back as cp -p, rsync -t or tar do: its status is as that read found it,
// but its change time says it changed too recently to prove anything.
func TestRecentChangeTimeIsNotTrusted(t *testing.T) {
	e, dir := agedEngine(t, map[string]string{"a.lua": "return 1\n"})
	p := filepath.Join(dir, "a.lua")
	before, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	writeScripts(t, dir, map[string]string{"a.lua": "return 2\n"})
	if err := os.Chtimes(p, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if changeTime(fi).Equal(fi.ModTime()) {
		t.Skip("no inode change time here")
	}
	// No test can write twice within one tick: the cache is told that the
	// read of the old content found the status the file has now, just
	// after its change time, as that read would have.
	e.protos.files.mu.Lock()
	f := e.protos.files.files[fileRef{e.roots[0], "a.lua"}]
	f.info, f.readAt = fi, changeTime(fi).Add(racyMargin/2)
	e.protos.files.mu.Unlock()
	if _, err := e.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, err := e.CallGlobal(context.Background(), "require", "a"); err != nil || v.Any() != 2.0 {
		t.Errorf("a = %v, %v; want 2: the rewrite went unseen", v, err)
	}
}

// age sets the times of every file and directory under dir to the same
// time an hour back, and waits until their status alone proves them
// unchanged: until the racy margin after their change times, which
// setting the times moved, has passed.
func age(t *testing.T, dir string) {
	t.Helper()
	old := time.Now().Add(-time.Hour).Truncate(time.Hour)
	var last time.Time
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Chtimes(p, old, old); err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err == nil && settled(fi).After(last) {
			last = settled(fi)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A wait for a time, not an event: before it, no status proves a file
	// unchanged. The file times lie at or before the clock's reading, so
	// a read after the wait comes after last.
	time.Sleep(time.Until(last) + time.Millisecond)
}

// agedEngine writes files into a fresh root, ages it and loads it.
func agedEngine(t *testing.T, files map[string]string) (*Engine, string) {
	t.Helper()
	dir := t.TempDir()
	writeScripts(t, dir, files)
	age(t, dir)
	e, err := New(Options{Roots: []string{dir}, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, dir
}

// A manual reload lists again only the directories whose status moved:
// editing a file keeps every listing, adding one relists its directory
// alone.
func TestReloadListsOnlyChangedDirectories(t *testing.T) {
	e, dir := agedEngine(t, map[string]string{"a.lua": "return 1\n", "sub/b.lua": "return 2\n", "sub/deep/c.lua": "return 3\n"})
	listings := func() map[string]*listing {
		e.protos.files.mu.Lock()
		defer e.protos.files.mu.Unlock()
		m := make(map[string]*listing)
		for ref, l := range e.protos.files.dirs {
			m[ref.dir] = l
		}
		return m
	}
	before := listings()
	writeScripts(t, dir, map[string]string{"sub/b.lua": "return 20\n"})
	if _, err := e.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := listings()
	if len(after) != 3 {
		t.Fatalf("%d directories listed, want 3", len(after))
	}
	for d, l := range after {
		if before[d] != l {
			t.Errorf("%s was listed again, though no entry of it changed", d)
		}
	}
	writeScripts(t, dir, map[string]string{"sub/new.lua": "return 4\n"})
	if _, err := e.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	for d, l := range listings() {
		if relisted, sub := after[d] != l, d == filepath.Join(dir, "sub"); relisted != sub {
			t.Errorf("%s listed again: %v, want %v", d, relisted, sub)
		}
	}
	for mod, want := range map[string]float64{"a": 1, "sub.b": 20, "sub.deep.c": 3, "sub.new": 4} {
		if v, err := e.CallGlobal(context.Background(), "require", mod); err != nil || v.Any() != want {
			t.Errorf("%s = %v, %v; want %v", mod, v, err, want)
		}
	}
}

// A manual reload sees every change to the entries of a directory whose
// last listing it keeps: a file or directory added, a file removed or
// renamed, a directory replaced by another of the same name.
func TestReloadSeesNewEntriesOfListedDirectories(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string)
		want   map[string]any // module -> what requiring it returns; nil: it is gone
	}{
		{name: "file added", change: func(t *testing.T, dir string) {
			writeScripts(t, dir, map[string]string{"sub/new.lua": "return 'new'\n"})
		}, want: map[string]any{"sub.new": "new", "sub.b": "b"}},
		{name: "file removed", change: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "sub/b.lua")); err != nil {
				t.Fatal(err)
			}
		}, want: map[string]any{"sub.b": nil, "sub.c": "c"}},
		{name: "file renamed", change: func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, "sub/b.lua"), filepath.Join(dir, "sub/d.lua")); err != nil {
				t.Fatal(err)
			}
		}, want: map[string]any{"sub.b": nil, "sub.d": "b", "sub.c": "c"}},
		{name: "directory added", change: func(t *testing.T, dir string) {
			writeScripts(t, dir, map[string]string{"sub/more/m.lua": "return 'm'\n"})
		}, want: map[string]any{"sub.more.m": "m", "sub.b": "b"}},
		{name: "directory replaced", change: func(t *testing.T, dir string) {
			other := filepath.Join(dir, ".other")
			// Of the same times and size as the one it replaces.
			writeScripts(t, other, map[string]string{"b.lua": "return 'other b'\n", "e.lua": "return 'e'\n"})
			age(t, other)
			if err := os.RemoveAll(filepath.Join(dir, "sub")); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(other, filepath.Join(dir, "sub")); err != nil {
				t.Fatal(err)
			}
			age(t, dir)
		}, want: map[string]any{"sub.b": "other b", "sub.c": nil, "sub.e": "e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, dir := agedEngine(t, map[string]string{"a.lua": "return 'a'\n", "sub/b.lua": "return 'b'\n", "sub/c.lua": "return 'c'\n"})
			tc.change(t, dir)
			if _, err := e.Reload(context.Background()); err != nil {
				t.Fatal(err)
			}
			tc.want["a"] = "a"
			for mod, want := range tc.want {
				v, err := e.CallGlobal(context.Background(), "require", mod)
				if want == nil && err == nil {
					t.Errorf("%s still loads: %v", mod, v)
				} else if want != nil && (err != nil || v.Any() != want) {
					t.Errorf("%s = %v, %v; want %v", mod, v, err, want)
				}
			}
		})
	}
}

// A manual reload right after a write of the same size sees the new bytes,
// even when the write kept the file's times (same timestamp tick).
func TestSameSizeEditRightAfterReadIsSeen(t *testing.T) {
	e, dir := newEngine(t, map[string]string{"a.lua": "return 1\n"})
	for i := 2; i <= 9; i++ {
		src := "return " + string(rune('0'+i)) + "\n"
		writeScripts(t, dir, map[string]string{"a.lua": src})
		if _, err := e.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		if v, err := e.CallGlobal(context.Background(), "require", "a"); err != nil || v.Any() != float64(i) {
			t.Fatalf("a = %v, %v; want %d", v, err, i)
		}
	}
}

// engine.New refuses a script root that is not a directory.
func TestRootMustBeDirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.lua")
	writeScripts(t, dir, map[string]string{"a.lua": "return 1"})
	for name, root := range map[string]string{"file": file, "missing": filepath.Join(dir, "missing")} {
		_, err := New(Options{Roots: []string{root}, Logger: discard()})
		if err == nil || !strings.HasPrefix(err.Error(), "engine: script root "+root+": ") {
			t.Errorf("%s: New = %v, want an error naming the root", name, err)
		}
	}
}

// watchModes starts watching by fsnotify or by polling.
var watchModes = []struct {
	name  string
	start func(e *Engine) error
}{
	{"fsnotify", (*Engine).Monitor},
	{"poll", func(e *Engine) error { return e.SetPollInterval(10 * time.Millisecond) }},
}

// monitoredWorld is a world whose engine watches its root and reports its
// reloads on a channel, logging into logs.
func monitoredWorld(t *testing.T, start func(*Engine) error) (*world, chan ReloadEvent, *syncbuf.Buffer) {
	t.Helper()
	events := make(chan ReloadEvent, 1000)
	logs := &syncbuf.Buffer{}
	w := newWorld(t, func(o *Options) {
		o.Debounce = 20 * time.Millisecond
		o.Settle = 2 * time.Second
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
		o.OnReload = func(ev ReloadEvent) { events <- ev }
	})
	if ev := nextEvent(t, events); ev.Trigger != "initial" {
		t.Fatalf("first event %+v", ev)
	}
	if err := start(w.e); err != nil {
		t.Fatal(err)
	}
	return w, events, logs
}

// untilCommitted reads events until a reload commits a version of the
// enemy whose hit of 1 takes perHit hp (1 for enemyV1, 2 for enemyV2, ...),
// failing on any reload that orphaned a class.
func untilCommitted(t *testing.T, w *world, events chan ReloadEvent, perHit float64) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Report != nil && len(ev.Report.Orphaned) > 0 {
				t.Fatalf("a reload orphaned %+v", ev.Report.Orphaned)
			}
			if ev.Err != nil {
				continue
			}
			if before := w.alive(t, 0); w.alive(t, 1) == before-perHit {
				return
			}
		case <-deadline:
			t.Fatal("the saved version was never committed")
		}
	}
}

// With Monitor running, a root removed and created again is watched again.
func TestMonitorHealsWhenRootComesBack(t *testing.T) {
	for _, mode := range watchModes {
		t.Run(mode.name, func(t *testing.T) {
			w, events, logs := monitoredWorld(t, mode.start)
			if err := os.RemoveAll(w.dir); err != nil {
				t.Fatal(err)
			}
			// The failed reloads while it is gone change nothing.
			for ev := nextEvent(t, events); ev.Err == nil || !strings.Contains(ev.Err.Error(), "script root"); ev = nextEvent(t, events) {
				if ev.Report != nil {
					t.Fatalf("a reload committed while the root was gone: %+v", ev.Report)
				}
			}
			w.alive(t, 1)
			writeScripts(t, w.dir, map[string]string{"ally.lua": allySrc})
			saveAtomically(t, w.dir, "units/enemy.lua", enemyV2)
			untilCommitted(t, w, events, 2)
			if mode.name == "fsnotify" && !strings.Contains(logs.String(), "script root is back") {
				t.Errorf("log does not say the root is back:\n%s", logs)
			}
			saveAtomically(t, w.dir, "units/enemy.lua", enemyV1)
			untilCommitted(t, w, events, 1)
		})
	}
}

// A writer rewriting a class's script over and over, in steps (truncate,
// half, rest), never makes a reload orphan the class, and its last save
// is what runs.
func TestRewrittenScriptNeverOrphansItsClass(t *testing.T) {
	for _, mode := range watchModes {
		t.Run(mode.name, func(t *testing.T) {
			w, events, _ := monitoredWorld(t, mode.start)
			p := filepath.Join(w.dir, "units/enemy.lua")
			half := len(enemyV2) / 2
			for i := range 30 {
				src := enemyV2
				if i%2 == 1 {
					src = enemyV1
				}
				f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString(src[:half])
				time.Sleep(5 * time.Millisecond) // part of the pattern: a slow writer
				f.WriteString(src[half:])
				f.Close()
				time.Sleep(5 * time.Millisecond)
			}
			// The last save hits for 3: only it can be what runs at the end.
			saveAtomically(t, w.dir, "units/enemy.lua", strings.Replace(enemyV1, "self.hp - n", "self.hp - 3 * n", 1))
			untilCommitted(t, w, events, 3)
		})
	}
}
