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

// fileCache is every script file as the last scan read it, and every
// directory as the last walk listed it. A scan reads a file again only
// when it may have changed: the watcher reported it, or (when the scan
// walks the roots) its status moved; a walk lists a directory again only
// when its status moved. Safe for concurrent use; one scan runs at a time.
type fileCache struct {
	mu      sync.Mutex
	files   map[fileRef]*readFile
	order   []fileRef           // the keys of files, in the order of the scripts the scan returned
	dirs    map[dirRef]*listing // the directories the last walk listed
	walked  bool                // files came from a walk and were kept up to date since
	changed map[fileRef]bool    // files the watcher reported since the last scan
	checked map[[sha256.Size]byte]bool
}

// fileRef names a script file: its root, and its path relative to it.
type fileRef struct{ root, rel string }

// seen is the status of a file or directory as a scan found it.
type seen struct {
	info   os.FileInfo
	readAt time.Time // taken before the status and the reading
}

// readFile is a script as read, with the status of the file it came from.
type readFile struct {
	source
	seen
}

// dirRef names a directory a walk lists: the root it lies under, and its
// path in the tree the root resolves to.
type dirRef struct{ root, dir string }

// listing is what a walk keeps of a directory: its status when it was
// listed, and its entries that a walk visits, by name. A directory whose
// status did not move since has the same entries: creating, removing or
// renaming an entry changes its modification time, and replacing it
// changes its inode. A file's own content is not in its directory's
// status, which is why every file is looked at on every walk.
type listing struct {
	seen
	entries []dirEntry
}

// dirEntry is one entry of a listing: a directory to descend (not a
// hidden one), or a script file, which may be a symbolic link.
type dirEntry struct {
	path   string  // the entry's path, under the tree
	ref    fileRef // its root and slash-separated path relative to the root
	isDir  bool
	isLink bool
}

// racyMargin is how long after a file last changed a read of it must come
// for its status alone to prove it unchanged since: a write within the
// file system's timestamp granularity of the last one leaves size and
// times as they were, even when it came after the read. File systems
// whose times have whole seconds only get coarseRacyMargin.
const (
	racyMargin       = 100 * time.Millisecond
	coarseRacyMargin = 2 * time.Second
)

// unchanged reports whether fi, the status of the file or directory now,
// proves that it still holds what was read: the same file (device and
// inode), size, modification and change times, and a read that came after
// the file settled. (A write keeps neither time as it was, except within
// one timestamp tick of the last; the change time cannot be set back.)
func (f *seen) unchanged(fi os.FileInfo) bool {
	if !os.SameFile(f.info, fi) || f.info.Size() != fi.Size() ||
		!f.info.ModTime().Equal(fi.ModTime()) || !changeTime(f.info).Equal(changeTime(fi)) {
		return false
	}
	return f.readAt.After(settled(fi))
}

// settled returns when the file of status fi is past its racy margin: the
// margin after the later of its change and modification times. The
// modification time alone does not say when the file last changed: it can
// be set back right after a write (touch -d, cp -p, rsync -t, tar), the
// change time cannot.
func settled(fi os.FileInfo) time.Time {
	last := changeTime(fi)
	if mt := fi.ModTime(); mt.After(last) {
		last = mt
	}
	margin := racyMargin
	if last.Nanosecond() == 0 {
		margin = coarseRacyMargin
	}
	return last.Add(margin)
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
		sc.dirs = make(map[dirRef]*listing, len(fc.dirs))
		err = sc.walk(roots)
	} else {
		err = sc.update(roots)
	}
	if err != nil {
		return nil, err
	}
	if len(sc.refused) > 0 {
		srcs, _, _ := sc.sources(roots) // the files that passed, for Check
		return srcs, joinErrors(sc.refused)
	}
	srcs, order, err := sc.sources(roots)
	if err != nil {
		return nil, err
	}
	fc.files, fc.order, fc.walked, fc.changed = sc.next, order, true, nil
	if sc.dirs != nil {
		fc.dirs = sc.dirs
	}
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
	added   bool                // next has a file the cache has not
	dirs    map[dirRef]*listing // the directories a walk listed, nil for an update
	trees   map[string]string   // root -> the directory it resolves to
	refused []error             // files refused: every one is reported
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
		if err := sc.walkDir(root, sc.trees[root], ""); err != nil {
			return err
		}
	}
	return nil
}

// walkDir looks at every script under dir, which is rel (slash-separated,
// "" for the root itself) under root, in the order of their paths. An
// error listing the root is returned; a directory under it that vanished
// mid-scan is left out, for the next reload to pick up.
func (sc *scanner) walkDir(root, dir, rel string) error {
	l, err := sc.list(root, dir, rel)
	if err != nil {
		if rel == "" {
			return err
		}
		return nil
	}
	for _, d := range l.entries {
		if d.isDir {
			err = sc.walkDir(root, d.path, d.ref.rel)
		} else {
			err = sc.look(d.ref, d.path, d.isLink)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// list returns the listing of dir (rel under root): the last walk's, if
// the directory's status proves it still holds, or else read again.
func (sc *scanner) list(root, dir, rel string) (*listing, error) {
	key := dirRef{root, dir}
	readAt := time.Now()
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() { // replaced since its parent was listed
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	if old := sc.cache.dirs[key]; old != nil && old.unchanged(fi) {
		sc.dirs[key] = old
		return old, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	l := &listing{seen: seen{info: fi, readAt: readAt}}
	for _, d := range entries {
		ref := fileRef{root, d.Name()}
		if rel != "" {
			ref.rel = rel + "/" + ref.rel
		}
		switch {
		case d.IsDir() && !watch.DefaultInclude(ref.rel+"/x.lua"): // a hidden directory
		case d.IsDir() || watch.DefaultInclude(ref.rel):
			l.entries = append(l.entries, dirEntry{path: filepath.Join(dir, d.Name()), ref: ref, isDir: d.IsDir(), isLink: d.Type()&fs.ModeSymlink != 0})
		}
	}
	sc.dirs[key] = l
	return l, nil
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
		tree := sc.trees[ref.root]
		p := filepath.Join(tree, filepath.FromSlash(ref.rel))
		fi, err := os.Lstat(p)
		if err != nil || !watch.InTree(tree, ref.rel) {
			continue // removed, or its directory is now a link the walk would not follow
		}
		if err := sc.look(ref, p, fi.Mode()&fs.ModeSymlink != 0); err != nil {
			return err
		}
	}
	return nil
}

// look reads the script at p (ref), unless the cache proves it unchanged,
// and adds it to the scan. A file that vanished, or is not a regular file,
// is left out; a symbolic link that cannot be followed (dangling, a loop,
// a target it may not read) or that leads out of the root is refused: a
// deploy that removes a link's target before writing the new one fails
// the reload in between, which keeps the running version.
func (sc *scanner) look(ref fileRef, p string, isLink bool) error {
	read := p
	if isLink {
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			if _, lerr := os.Lstat(p); lerr == nil { // dangling or a loop, not gone
				sc.refused = append(sc.refused, sourceError(ref.rel, nil, fmt.Errorf("symbolic link cannot be followed: %w", err)))
			}
			return nil
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
	old := sc.cache.files[ref]
	if old == nil {
		sc.added = true
	} else if !sc.cache.changed[ref] && sc.hasText(old) && old.unchanged(fi) {
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
		source: source{root: ref.root, path: ref.rel, module: ModuleName(ref.rel), data: data, hash: sum},
		seen:   seen{info: info, readAt: readAt},
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

// sources returns the scanned scripts sorted by module name, and their
// files in that order, refusing a module that two roots define. When the
// scan found the files of the last one, they come in its order.
func (sc *scanner) sources(roots []string) ([]source, []fileRef, error) {
	if order := sc.cache.order; !sc.added && len(order) == len(sc.next) {
		srcs := make([]source, len(order))
		for i, ref := range order {
			srcs[i] = sc.next[ref].source
		}
		return srcs, order, nil
	}
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
	where := make(map[string]*readFile, len(files)) // module -> the file defining it
	for _, f := range files {
		if other, dup := where[f.module]; dup {
			named := other.path // relative to the root they share, or qualified by its own
			if other.root != f.root {
				named = filepath.Join(other.root, other.path)
			}
			return nil, nil, &ScriptError{Path: f.path, Line: 1, Column: 1, Message: fmt.Sprintf("module %s is also defined by %s", f.module, named)}
		}
		where[f.module] = f
	}
	slices.SortFunc(files, func(a, b *readFile) int { return strings.Compare(a.module, b.module) })
	srcs := make([]source, len(files))
	order := make([]fileRef, len(files))
	for i, f := range files {
		srcs[i], order[i] = f.source, fileRef{f.root, f.path}
	}
	return srcs, order, nil
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
