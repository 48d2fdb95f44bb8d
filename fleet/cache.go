package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Cache is a node's local copy of its bundles, in one directory:
//
//	bundles/<digest>/   the bundle that runs and the one it replaced, each complete or absent
//	current             a symbolic link to the bundle the engine loads (its script root)
//	good                a symbolic link to the last bundle that loaded
//	state.json          the revision and bundle of good, the last revision that failed, their epoch
//
// The engine's script root is [Cache.Root]; the node swaps the current link
// by an atomic rename and reloads. At start, current is set back to good, so
// a node that cannot reach NATS runs the last bundle that loaded.
//
// A Cache belongs to one node: two nodes must not share its directory. Its
// methods are called by that node's goroutine only.
type Cache struct {
	dir string
}

// cacheState is what state.json holds.
type cacheState struct {
	Revision uint64 `json:"revision"`         // the release revision good was loaded for
	Bundle   string `json:"bundle"`           // the digest good points at
	Failed   uint64 `json:"failed,omitempty"` // the last revision that failed here
	Epoch    string `json:"epoch,omitempty"`  // the release epoch Revision and Failed count in
}

// emptyBundle is the directory current points at before any bundle loaded.
const emptyBundle = "empty"

// OpenCache opens (making it when needed) the cache in dir and points its
// current link at the last good bundle, or at an empty script root when no
// bundle has loaded yet.
func OpenCache(dir string) (*Cache, error) {
	c := &Cache{dir: dir}
	if err := os.MkdirAll(filepath.Join(dir, "bundles", emptyBundle), 0o755); err != nil {
		return nil, fmt.Errorf("fleet: cache: %w", err)
	}
	st, err := c.state()
	if err != nil {
		return nil, err
	}
	target := emptyBundle
	if st.Bundle != "" {
		if _, err := os.Stat(filepath.Join(dir, "bundles", st.Bundle)); err == nil {
			target = st.Bundle
		}
	}
	if err := c.link("current", target); err != nil {
		return nil, err
	}
	return c, nil
}

// Root returns the script root to give the engine: the current link.
func (c *Cache) Root() string { return filepath.Join(c.dir, "current") }

// Dir returns the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// link points dir/name at bundles/target, atomically (a new link renamed
// over the old one).
func (c *Cache) link(name, target string) error {
	tmp := filepath.Join(c.dir, "."+name+".tmp")
	os.Remove(tmp)
	if err := os.Symlink(filepath.Join("bundles", target), tmp); err != nil {
		return fmt.Errorf("fleet: cache: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, name)); err != nil {
		return fmt.Errorf("fleet: cache: %w", err)
	}
	return nil
}

// state reads state.json; a missing file is the zero state.
func (c *Cache) state() (cacheState, error) {
	var st cacheState
	data, err := os.ReadFile(filepath.Join(c.dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("fleet: cache: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return cacheState{}, fmt.Errorf("fleet: cache: state.json: %w", err)
	}
	return st, nil
}

// saveState writes state.json atomically.
func (c *Cache) saveState(st cacheState) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.dir, ".state.json.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("fleet: cache: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, "state.json")); err != nil {
		return fmt.Errorf("fleet: cache: %w", err)
	}
	return nil
}

// store verifies a bundle's archive and unpacks it into bundles/<digest>.
func (c *Cache) store(digest string, archive []byte, maxBytes int64) error {
	files, err := verify(digest, archive, maxBytes)
	if err != nil {
		return err
	}
	_, err = unpack(files, filepath.Join(c.dir, "bundles"), digest)
	return err
}

// has reports whether bundle digest is unpacked here.
func (c *Cache) has(digest string) bool {
	_, err := os.Stat(filepath.Join(c.dir, "bundles", digest))
	return err == nil
}

// prune removes the unpacked bundles other than keep (and the empty root),
// so that the cache holds what runs and what it replaced, not every bundle
// ever loaded.
func (c *Cache) prune(keep ...string) error {
	entries, err := os.ReadDir(filepath.Join(c.dir, "bundles"))
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if e.Name() == emptyBundle || slices.Contains(keep, e.Name()) {
			continue
		}
		errs = append(errs, os.RemoveAll(filepath.Join(c.dir, "bundles", e.Name())))
	}
	return errors.Join(errs...)
}
