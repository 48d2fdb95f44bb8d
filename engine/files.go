package engine

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hotlua/hotlua/internal/sandbox"
	"github.com/hotlua/hotlua/internal/watch"
)

// fileCache is every script file as the last scan read it. A scan reads a
// file again only when it may have changed: the watcher reported it, or
// (when the scan walks the roots) its status moved. Safe for concurrent
// use; one scan runs at a time.
type fileCache struct {
	mu      sync.Mutex
	files   map[fileRef]*readFile
	walked  bool             // files came from a walk and were kept up to date since
	changed map[fileRef]bool // files the watcher reported since the last scan
	checked map[[sha256.Size]byte]bool
}

// fileRef names a script file: its root, and its path relative to it.
type fileRef struct{ root, rel string }

// readFile is a script as read, with the status of the file it came from.
type readFile struct {
	source
	info   os.FileInfo
	readAt time.Time // taken before reading
}

// racyMargin is how long after a read a file's modification time must lie
// in the past for its status alone to prove it unchanged: a write within
// the file system's timestamp granularity after the read leaves size and
// times as they were. File systems whose times have whole seconds only get
// coarseRacyMargin.
const (
	racyMargin       = 100 * time.Millisecond
	coarseRacyMargin = 2 * time.Second
)

// unchanged reports whether fi, the status of f's file now, proves that
// the file still holds what was read: the same file (device and inode),
// size, modification and change times, and a modification time from well
// before the read. (A write keeps neither time as it was, except within
// one timestamp tick of the last; the change time cannot be set back.)
func (f *readFile) unchanged(fi os.FileInfo) bool {
	if !os.SameFile(f.info, fi) || f.info.Size() != fi.Size() ||
		!f.info.ModTime().Equal(fi.ModTime()) || !changeTime(f.info).Equal(changeTime(fi)) {
		return false
	}
	margin := racyMargin
	if fi.ModTime().Nanosecond() == 0 {
		margin = coarseRacyMargin
	}
	return fi.ModTime().Before(f.readAt.Add(-margin))
}

// noteChanges records the files of a watcher's batch, to be read at the
// next scan; a rescan batch makes the next scan walk every root.
func (c *fileCache) noteChanges(b watch.Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b.Rescan {
		c.walked = false
	}
	if c.changed == nil {
		c.changed = make(map[fileRef]bool)
	}
	for _, ch := range b.Changes {
		c.changed[fileRef{ch.Root, ch.Path}] = true
	}
}

// forgetWalk makes the next scan walk every root.
func (c *fileCache) forgetWalk() {
	c.mu.Lock()
	c.walked = false
	c.mu.Unlock()
}

// scan returns every script under the roots, sorted by module name. With
// walk, or when no walk has been made since the cache was created or a
// rescan, it walks the roots and reads the files whose status moved;
// otherwise it reads only the files the watcher reported. A module defined
// in two roots is an error, as is a file that is too large, is not UTF-8
// text, is precompiled bytecode, or is a symbolic link out of its root
// (unless opts allow it). A failed scan leaves the cache as it was.
func (c *protoCache) scan(roots []string, opts Options, walk bool) ([]source, error) {
	for _, r := range roots {
		if err := checkRoot(r); err != nil { // gone: keep what runs
			return nil, fmt.Errorf("engine: script root %s: %w", r, err)
		}
	}
	fc := &c.files
	fc.mu.Lock()
	defer fc.mu.Unlock()
	sc := scanner{cache: fc, protos: c, opts: opts, limit: sourceLimit(opts.Limits), next: make(map[fileRef]*readFile, len(fc.files)),
		trees: make(map[string]string, len(roots))}
	for _, root := range roots {
		// A root that is a symbolic link (a release's "current" link,
		// swapped atomically to deploy a new tree) is read through its
		// target, resolved once so that one scan reads one tree.
		sc.trees[root] = root
		if target, err := filepath.EvalSymlinks(root); err == nil {
			sc.trees[root] = target
		}
	}
	var err error
	if walk || !fc.walked {
		err = sc.walk(roots)
	} else {
		err = sc.update(roots)
	}
	if err != nil {
		return nil, err
	}
	if len(sc.refused) > 0 {
		srcs, _ := sc.sources(roots) // the files that passed, for Check
		return srcs, joinErrors(sc.refused)
	}
	srcs, err := sc.sources(roots)
	if err != nil {
		return nil, err
	}
	fc.files, fc.walked, fc.changed = sc.next, true, nil
	fc.checked = make(map[[sha256.Size]byte]bool, len(srcs))
	for _, s := range srcs {
		fc.checked[s.hash] = true
	}
	return srcs, nil
}

// scanner is one scan of a fileCache, which it reads and does not change.
type scanner struct {
	cache   *fileCache
	protos  *protoCache
	opts    Options
	limit   int64
	next    map[fileRef]*readFile
	trees   map[string]string // root -> the directory it resolves to
	refused []error           // files refused: every one is reported
}

// sourceLimit is the largest script the limits accept.
func sourceLimit(lim Limits) int64 {
	if lim.MaxSourceBytes > 0 {
		return int64(lim.MaxSourceBytes)
	}
	return sandbox.DefaultMaxSourceBytes
}

// walk looks at every script under the roots.
func (sc *scanner) walk(roots []string) error {
	for _, root := range roots {
		tree := sc.trees[root]
		err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == tree {
					return err
				}
				return nil // a file that vanished mid-scan is picked up by the next reload
			}
			rel, _ := filepath.Rel(tree, p)
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if p != tree && !watch.DefaultInclude(rel+"/x.lua") { // a hidden directory
					return fs.SkipDir
				}
				return nil
			}
			if !watch.DefaultInclude(rel) {
				return nil
			}
			return sc.look(fileRef{root, rel}, p, d.Type()&fs.ModeSymlink != 0)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// update keeps the files of the last scan and looks again at those the
// watcher reported.
func (sc *scanner) update(roots []string) error {
	again := maps.Clone(sc.cache.changed)
	for ref, f := range sc.cache.files {
		if again[ref] || !sc.hasText(f) {
			again[ref] = true
		} else {
			sc.next[ref] = f
		}
	}
	refs := slices.SortedFunc(maps.Keys(again), func(a, b fileRef) int {
		return cmp.Or(strings.Compare(a.root, b.root), strings.Compare(a.rel, b.rel))
	})
	for _, ref := range refs {
		if !slices.Contains(roots, ref.root) {
			continue
		}
		p := filepath.Join(sc.trees[ref.root], filepath.FromSlash(ref.rel))
		fi, err := os.Lstat(p)
		if err != nil {
			continue // removed
		}
		if err := sc.look(ref, p, fi.Mode()&fs.ModeSymlink != 0); err != nil {
			return err
		}
	}
	return nil
}

// look reads the script at p (ref), unless the cache proves it unchanged,
// and adds it to the scan. A file that vanished, or is not a regular file,
// is left out.
func (sc *scanner) look(ref fileRef, p string, isLink bool) error {
	read := p
	if isLink {
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil // dangling, or gone
		}
		if !sc.opts.FollowExternalSymlinks {
			if err := sc.inside(ref.root, target); err != nil {
				sc.refused = append(sc.refused, sourceError(ref.rel, nil, err))
				return nil
			}
		}
		read = target // what was checked is what is read
	}
	fi, err := os.Stat(read)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	if old := sc.cache.files[ref]; old != nil && !sc.cache.changed[ref] && sc.hasText(old) && old.unchanged(fi) {
		sc.next[ref] = old
		return nil
	}
	readAt := time.Now()
	data, info, err := watch.ReadFile(read, sc.limit)
	if err != nil {
		if tl, ok := errors.AsType[*watch.TooLargeError](err); ok {
			sc.refused = append(sc.refused, sourceError(ref.rel, nil, tl))
			return nil
		}
		if errors.Is(err, fs.ErrNotExist) || (info != nil && !info.Mode().IsRegular()) {
			return nil // replaced meanwhile: the next reload sees what came
		}
		sc.refused = append(sc.refused, sourceError(ref.rel, nil, fmt.Errorf("cannot read: %w", err)))
		return nil
	}
	data = sandbox.SkipShebang(data)
	sum := sha256.Sum256(data)
	if !sc.cache.checked[sum] {
		if err := sandbox.CheckSource(data, sc.opts.Limits); err != nil {
			sc.refused = append(sc.refused, sourceError(ref.rel, data, err))
			return nil
		}
	}
	sc.next[ref] = &readFile{
		source: source{root: ref.root, path: ref.rel, module: moduleName(ref.rel), data: data, hash: sum},
		info:   info,
		readAt: readAt,
	}
	return nil
}

// hasText reports whether f's text is at hand: kept, or compiled already.
func (sc *scanner) hasText(f *readFile) bool {
	return f.data != nil || sc.protos.has(protoKey{f.path, f.hash})
}

// inside checks that target, a resolved symbolic link found under root,
// lies inside the tree root resolves to.
func (sc *scanner) inside(root, target string) error {
	rel, err := filepath.Rel(sc.trees[root], target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("symbolic link leads out of the script root (to %s); Options.FollowExternalSymlinks allows it", target)
	}
	return nil
}

// sources returns the scanned scripts sorted by module name, refusing a
// module that two roots define.
func (sc *scanner) sources(roots []string) ([]source, error) {
	files := make([]*readFile, 0, len(sc.next))
	for _, f := range sc.next {
		files = append(files, f)
	}
	rootIndex := func(r string) int { return slices.Index(roots, r) }
	slices.SortFunc(files, func(a, b *readFile) int {
		if d := rootIndex(a.root) - rootIndex(b.root); d != 0 {
			return d
		}
		return strings.Compare(a.path, b.path)
	})
	where := make(map[string]string, len(files)) // module -> root-qualified path
	srcs := make([]source, 0, len(files))
	for _, f := range files {
		if other, dup := where[f.module]; dup {
			return nil, &ScriptError{Path: f.path, Message: fmt.Sprintf("module %s is also defined by %s", f.module, other)}
		}
		where[f.module] = filepath.Join(f.root, f.path)
		srcs = append(srcs, f.source)
	}
	slices.SortFunc(srcs, func(a, b source) int { return strings.Compare(a.module, b.module) })
	return srcs, nil
}

// checkRoot refuses a script root that is not a directory.
func checkRoot(root string) error {
	fi, err := os.Stat(root)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

// dropText lets go of the text of every file, once compiled: the
// prototypes stand for it from now on.
func (c *fileCache) dropText() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.files {
		f.data = nil
	}
}
