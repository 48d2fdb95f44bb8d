package watch

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// fileState is the last known content of a file: its stat, to skip
// rehashing when nothing moved, and the hash of its bytes, which decides.
type fileState struct {
	info os.FileInfo
	sum  [sha256.Size]byte
}

// walk visits the directory tree at k (file system path full): onDir for
// every directory, including k itself, and onFile for every included
// entry that is not a directory. Hidden directories (.git, Kubernetes'
// ..data) and symbolic links to directories are not descended into.
// Either callback may be nil.
func (w *Watcher) walk(k key, full string, onDir, onFile func(key, string)) {
	if onDir != nil {
		onDir(k, full)
	}
	entries, err := os.ReadDir(full)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			w.log.Warn("watch: cannot read directory", "dir", full, "err", err)
		}
		return
	}
	for _, e := range entries {
		name := e.Name()
		ck := key{root: k.root, rel: path.Join(k.rel, name)}
		cfull := filepath.Join(full, name)
		if e.IsDir() {
			if !hidden(name) {
				w.walk(ck, cfull, onDir, onFile)
			}
			continue
		}
		if onFile != nil && w.opts.Include(ck.rel) {
			onFile(ck, cfull)
		}
	}
}

// syncDir brings the known state of everything under k up to date with
// the file system, recording differences in changes (nil during New). It
// (re)watches every directory it walks. With hashAll it hashes every file;
// otherwise only files whose stat changed.
func (w *Watcher) syncDir(k key, hashAll bool, changes map[key]Change) {
	for dk := range w.dirs {
		if dk.root == k.root && under(dk.rel, k.rel) {
			delete(w.dirs, dk)
			w.unwatchGone(dk)
		}
	}
	seen := make(map[string]bool)
	full := w.path(k)
	if w.isDir(k) {
		if k.rel == "" && w.gone[k.root] {
			delete(w.gone, k.root)
			w.log.Info("watch: script root is back; watching it again", "root", full)
		}
		w.walk(k, full, w.watchDir, func(fk key, _ string) {
			seen[fk.rel] = true
			w.examineFile(fk, hashAll, changes)
		})
	} else if k.rel != "" && w.opts.Include(k.rel) {
		seen[k.rel] = true
		w.examineFile(k, true, changes)
	} else if k.rel == "" {
		w.rootGone(k.root)
	}
	for fk := range w.files {
		if fk.root == k.root && under(fk.rel, k.rel) && !seen[fk.rel] {
			w.forget(fk, changes)
		}
	}
}

// unwatchGone drops the fsnotify watch of a directory that is no longer
// at its path. A directory renamed within the tree keeps its watches (and
// those of its subdirectories) under the old names, so adding them under
// the new names would be a no-op reporting events under the old ones:
// they are dropped first, then added afresh when the new name is walked.
func (w *Watcher) unwatchGone(k key) {
	if w.notify == nil {
		return
	}
	full := w.path(k)
	if w.isDir(k) {
		return
	}
	// The kernel has usually dropped the watch already (deleted
	// directory): ErrNonExistentWatch and EINVAL are expected.
	_ = w.notify.Remove(full)
}

// examineFile compares the file at k with its last known state. With
// hashAll it hashes the file even when its stat did not change.
func (w *Watcher) examineFile(k key, hashAll bool, changes map[key]Change) {
	full := w.path(k)
	old, known := w.files[k]
	fi, err := os.Stat(full)
	if err != nil || !fi.Mode().IsRegular() || !InTree(w.roots[k.root].clean, k.rel) {
		w.forget(k, changes)
		return
	}
	if known && !hashAll && sameFile(old.info, fi) {
		return
	}
	data, _, err := ReadFile(full, w.opts.MaxFileBytes)
	var sum [sha256.Size]byte
	if tl, ok := errors.AsType[*TooLargeError](err); ok {
		// Never read whole: its size and time stand for its content.
		sum = sha256.Sum256(fmt.Appendf(nil, "too large: %d bytes, %v", tl.Size, fi.ModTime()))
	} else if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			w.log.Warn("watch: cannot read file", "file", full, "err", err)
		}
		w.forget(k, changes)
		return
	} else {
		sum = sha256.Sum256(data)
	}
	w.files[k] = fileState{info: fi, sum: sum}
	if !known || old.sum != sum {
		w.record(k, false, changes)
	}
}

// forget drops a file that no longer exists, reporting it if it was known.
func (w *Watcher) forget(k key, changes map[key]Change) {
	if _, known := w.files[k]; !known {
		return
	}
	delete(w.files, k)
	w.record(k, true, changes)
}

func (w *Watcher) record(k key, removed bool, changes map[key]Change) {
	if changes != nil {
		changes[k] = Change{Root: w.roots[k.root].given, Path: k.rel, Removed: removed}
	}
}

// scanStats returns the stat of every included regular file.
func (w *Watcher) scanStats() map[key]os.FileInfo {
	snap := make(map[key]os.FileInfo, len(w.files))
	for i, r := range w.roots {
		w.walk(key{root: i}, r.clean, nil, func(k key, full string) {
			if fi, err := os.Stat(full); err == nil && fi.Mode().IsRegular() {
				snap[k] = fi
			}
		})
	}
	return snap
}

// poll marks every file whose stat changed, or that appeared or
// disappeared, at the previous poll and stayed as it was since (see
// settled); the flush then hashes them.
func (w *Watcher) poll() {
	snap := w.scanStats()
	ready, moving := settled(w.snap, snap, w.moving, w.clock.Now(), w.opts.MaxWait)
	for _, k := range ready {
		w.mark(k, kindFile)
	}
	w.snap, w.moving = snap, moving
}

// settled compares the stats of two polls in a row, prev and cur, given
// the files that moved (changed, appeared or disappeared) between the two
// polls before, and since when. It returns the files that moved then and
// stayed as they were since, to be read, and the files that moved now: a
// file still being written is left alone until two looks agree, or until
// it has kept moving for maxWait.
func settled(prev, cur map[key]os.FileInfo, moving map[key]time.Time, now time.Time, maxWait time.Duration) (ready []key, next map[key]time.Time) {
	next = make(map[key]time.Time)
	moved := func(k key) {
		since, ok := moving[k]
		if !ok {
			since = now
		}
		next[k] = since
	}
	for k, fi := range cur {
		if old, ok := prev[k]; !ok || !sameFile(old, fi) {
			moved(k)
		}
	}
	for k := range prev {
		if _, ok := cur[k]; !ok {
			moved(k)
		}
	}
	for k, since := range moving {
		if _, still := next[k]; !still || now.Sub(since) >= maxWait {
			delete(next, k)
			ready = append(ready, k)
		}
	}
	return ready, next
}

// unfinished reports whether a pending path looks like a save still being
// made: a known file or directory that is gone (it may come back), or a
// file whose new content is empty or refused by Options.Complete.
func (w *Watcher) unfinished() bool {
	for k, kd := range w.pending {
		full := w.path(k)
		if kd == kindDir {
			if !w.isDir(k) && w.knowsUnder(k) {
				return true
			}
			continue
		}
		old, known := w.files[k]
		data, _, err := ReadFile(full, w.opts.MaxFileBytes)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if known {
				return true
			}
		case err != nil: // too large or unreadable: nothing to wait for
		case known && old.sum == sha256.Sum256(data): // back to what it was
		case len(data) == 0 || !w.opts.Complete(k.rel, data):
			return true
		}
	}
	return false
}

// knowsUnder reports whether a file under k is known.
func (w *Watcher) knowsUnder(k key) bool {
	for fk := range w.files {
		if fk.root == k.root && under(fk.rel, k.rel) {
			return true
		}
	}
	return false
}

// rootGone starts looking, every rootRetry, for a root that disappeared,
// so that it is watched again when it comes back.
func (w *Watcher) rootGone(i int) {
	if w.gone[i] {
		return
	}
	w.gone[i] = true
	w.log.Warn("watch: script root is gone; watching for its return", "root", w.roots[i].clean)
	if w.retry == nil {
		w.retry = time.NewTicker(rootRetry)
	}
}

// lookForRoots marks each root that came back, to be walked and watched
// at the next flush.
func (w *Watcher) lookForRoots() {
	for i := range w.gone {
		if fi, err := os.Stat(w.roots[i].clean); err == nil && fi.IsDir() {
			w.mark(key{root: i}, kindDir)
		}
	}
	if len(w.gone) == 0 && w.retry != nil {
		w.retry.Stop()
		w.retry = nil
	}
}

// sameFile reports whether a and b look like the same, unmodified file:
// same identity (a rename over it changes that), size and mtime.
func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// under reports whether rel is dir or inside it ("" is the root).
func under(rel, dir string) bool {
	return dir == "" || rel == dir || strings.HasPrefix(rel, dir+"/")
}

// isDir reports whether k is a directory of the tree, to be walked: a
// root may be a symbolic link to one (a release's "current" link), a
// directory under it may not, as walk does not descend into links.
func (w *Watcher) isDir(k key) bool {
	stat := os.Lstat
	if k.rel == "" {
		stat = os.Stat
	}
	fi, err := stat(w.path(k))
	return err == nil && fi.IsDir()
}

// InTree reports whether every directory on the way from dir to the file
// rel (slash-separated, under dir) is a directory, none a symbolic link:
// whether the file is one a walk of dir, which does not descend into
// links, finds. A directory of the tree swapped for a link to another tree
// must not bring that tree's files in.
func InTree(dir, rel string) bool {
	for p := path.Dir(rel); p != "."; p = path.Dir(p) {
		fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// parent returns the directory containing k.
func parent(k key) key {
	dir := path.Dir(k.rel)
	if dir == "." {
		dir = ""
	}
	return key{root: k.root, rel: dir}
}

func hidden(name string) bool {
	return strings.HasPrefix(name, ".")
}
