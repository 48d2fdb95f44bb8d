// Package watch reports which script files changed under a set of root
// directories, in debounced batches that each describe a finished save.
//
// A [Watcher] is created with [New] and a callback. The callback receives a
// [Batch]: the files whose bytes differ from the previous batch, sorted,
// each named once, and marked Removed when they are gone. One editor save is
// one batch, however the editor performs it; a hundred files written by a
// `git checkout` are one batch too.
//
// # Directories, not files
//
// Editors rarely write a file in place. Vim renames the original to a
// backup and creates a new file; VS Code, JetBrains IDEs, mv and sed -i
// write a temporary file and rename it over the original. A watch on the
// file itself would follow the old inode into the backup, or vanish with
// it. The watcher therefore watches directories, every directory of every
// root (hidden ones such as .git excepted), and adds directories created
// later as soon as it sees them. It also walks each new directory, because
// `mkdir -p a/b` followed by a write reports only `a`: files land before
// any watch exists, and only a scan finds them.
//
// Events are hints, never facts. An event only marks a path to look at;
// what is reported is decided later by reading the file system. Events on
// editor and tool debris (swap files, backups, probe files, temporaries,
// anything [Options].Include rejects) are dropped at once.
//
// # Debounce
//
// A save is a sequence of events spread over milliseconds (truncate, then
// write; create, write, chmod, rename). Reading the file in the middle of
// it would load half a file. The watcher waits for a quiet period
// (Options.Debounce, 15ms by default) after the last event before looking.
// If a file it is about to report then looks unfinished (it is gone, empty,
// or Options.Complete refuses it: for scripts, it does not parse), the
// batch waits for a longer quiet period (Options.Settle, 100ms by default),
// so that "truncate, then write 60ms later" or "delete, then create" is one
// batch with the final content, while a finished save is reported quickly.
// So that a continuous stream of writes cannot postpone a batch forever,
// no batch waits longer than Options.MaxWait (1s by default) after its
// first event.
//
// Files are never read past Options.MaxFileBytes (1 MiB by default) plus
// one byte: a larger file is reported when its size or time changes, and
// only regular files are opened (a FIFO named like a script is not waited
// on). [ReadFile] is that bounded read, for the watcher's callers too.
//
// # Hashing
//
// When the quiet period ends, every marked file is read and hashed
// (SHA-256) and compared with the hash kept from the previous batch. Only
// files whose bytes differ are reported, so a touch, a chmod or a re-save of
// identical bytes reports nothing, and a file changed and changed back
// within one quiet period reports nothing either. Deleting a file and
// re-creating it with new bytes is a change, not a removal. Walks that are
// not about a specific file (a new or renamed directory, a symlink swap)
// hash only the files whose size, modification time or identity moved.
//
// # Symbolic links
//
// A root may be a symbolic link to a directory; changes are reported
// against the root as given. Names inside a root that are symbolic links to
// files are followed. Kubernetes mounts ConfigMaps as visible symlinks
// through a hidden `..data` symlink that is swapped atomically: an event on
// any symlink makes the watcher re-check its whole directory, so the swap
// reports exactly the files whose content changed. Symbolic links to
// directories inside a root are not descended into, and replacing the root
// symlink itself is not noticed (watch its parent instead).
//
// # A root that disappears
//
// When a root is removed (`rm -rf`, a deploy replacing it), its files are
// reported removed and the watcher logs a warning and looks for the root
// every 100ms; when it is back, it is walked and watched again (logged),
// and its files are reported as they are.
//
// # Polling
//
// Where inotify is unavailable (network file systems, or when the
// fs.inotify.max_user_watches or max_user_instances limit is reached), the
// watcher polls: at each interval it walks the roots, compares each file's
// size, modification time and identity with the previous walk, and hashes
// only those that differ, once two walks in a row agree on them: a file
// still being written is not read. Polling is used when Options.Poll is set, and
// automatically, with a loud warning in the log, when inotify fails with
// ENOSPC or EMFILE, at start or later when a new directory cannot be
// watched. A change that keeps a file's size and lands within the file
// system's timestamp granularity can escape polling.
//
// # Rescans
//
// When the kernel's event queue overflows, or when the watcher switches to
// polling, events may have been lost. The watcher then compares every file
// under every root with its last known hash and delivers the result with
// Batch.Rescan set, even when nothing changed. The changes listed are
// still exact.
//
// # Pause and resume
//
// [Watcher.Pause] holds batches (a `git pull` in progress, say); events
// keep being recorded. [Watcher.Resume] delivers the net effect of
// everything that happened meanwhile as one batch, at once.
//
// # Goroutines
//
// A Watcher runs one goroutine of its own (plus fsnotify's reader), which
// receives events, polls, hashes and calls the callback; a slow callback
// delays detection but loses nothing short of a kernel queue overflow,
// which triggers a rescan. [Watcher.Close] stops them all and waits.
package watch
