package engine

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// linkedReleases writes two versions of enemy.lua, in dir/v1 and dir/v2
// (whose speak says "v2"), and returns dir/current, a link to v1.
func linkedReleases(t *testing.T) string {
	dir := t.TempDir()
	writeScripts(t, filepath.Join(dir, "v1"), map[string]string{"units/enemy.lua": enemyV1})
	writeScripts(t, filepath.Join(dir, "v2"), map[string]string{"units/enemy.lua": strings.Replace(enemyV1, `return "grr"`, `return "v2"`, 1)})
	current := filepath.Join(dir, "current")
	if err := os.Symlink("v1", current); err != nil {
		t.Fatal(err)
	}
	return current
}

// A root that is a symbolic link is read through its target, and swapping
// the link (rename of a new link over it, as deploys and Kubernetes' ..data
// do) makes the next reload load the new tree.
func TestSymlinkedRootIsReadThroughItsTarget(t *testing.T) {
	current := linkedReleases(t)
	e, err := New(Options{Roots: []string{current}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	obj, err := e.New(context.Background(), "units.enemy")
	if err != nil {
		t.Fatalf("class of the linked tree: %v", err)
	}
	if got := call(t, obj, "speak"); got != "grr" {
		t.Fatalf("speak = %v, want grr", got)
	}
	if err := os.Symlink("v2", current+".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(current+".tmp", current); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := call(t, obj, "speak"); got != "v2" {
		t.Fatalf("speak after the swap = %v, want v2", got)
	}
}

// Deploy after swapping the link prepares the new tree and, with
// DeferCommit, leaves it for CommitPending in every shard.
func TestDeployWaitsForCommitPendingWithDeferCommit(t *testing.T) {
	current := linkedReleases(t)
	s, err := NewShards(Options{Roots: []string{current}, DeferCommit: true, Logger: slog.New(slog.DiscardHandler)}, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if reports, err := s.Deploy(context.Background()); err != nil || len(reports) != 0 {
		t.Fatalf("Deploy with nothing changed = %v, %v; want no reports", reports, err)
	}
	if err := os.Remove(current); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("v2", current); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deploy(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range s.Names() {
		e := s.Shard(name)
		if !e.HasPending() || e.Generation() != 1 {
			t.Fatalf("shard %s: pending %v generation %d; want a prepared reload on generation 1", name, e.HasPending(), e.Generation())
		}
		if _, err := e.CommitPending(); err != nil {
			t.Fatal(err)
		}
		if e.Generation() != 2 {
			t.Fatalf("shard %s: generation %d after CommitPending, want 2", name, e.Generation())
		}
	}
}

// TestModuleDefinedTwiceNamesBothFiles loads a module defined by two files,
// in one root (a.b.lua and a/b.lua) and in two: the error names the second
// file at its first line and the first relative to their root, or by its
// own root when that is another.
func TestModuleDefinedTwiceNamesBothFiles(t *testing.T) {
	one := t.TempDir()
	writeScripts(t, one, map[string]string{"a.b.lua": "return {}", "a/b.lua": "return {}"})
	_, err := New(Options{Roots: []string{one}, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || err.Error() != "a/b.lua:1:1: module a.b is also defined by a.b.lua" {
		t.Errorf("one root: error %v, want a/b.lua:1:1 naming a.b.lua", err)
	}
	first, second := t.TempDir(), t.TempDir()
	writeScripts(t, first, map[string]string{"x.lua": "return {}"})
	writeScripts(t, second, map[string]string{"x.lua": "return {}"})
	_, err = New(Options{Roots: []string{first, second}, Logger: slog.New(slog.DiscardHandler)})
	if want := "x.lua:1:1: module x is also defined by " + filepath.Join(first, "x.lua"); err == nil || err.Error() != want {
		t.Errorf("two roots: error %v, want %q", err, want)
	}
}

// TestBrokenLinkIsRefused loads a root where a script is a symbolic link
// to nothing, and one that is a loop of links: each is refused, named at
// its path, where it was skipped without a word (hotlua check said ok).
func TestBrokenLinkIsRefused(t *testing.T) {
	for name, links := range map[string][][2]string{
		"dangling": {{"b.lua", "/nonexistent/b.lua"}},
		"loop":     {{"b.lua", "c.lua"}, {"c.lua", "b.lua"}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeScripts(t, dir, map[string]string{"a.lua": "return {}"})
			for _, l := range links {
				if err := os.Symlink(l[1], filepath.Join(dir, l[0])); err != nil {
					t.Fatal(err)
				}
			}
			_, err := New(Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler)})
			if err == nil || !strings.Contains(err.Error(), "b.lua:1:1: symbolic link cannot be followed") {
				t.Errorf("error %v, want b.lua refused as a link that cannot be followed", err)
			}
		})
	}
}
