//go:build unix

package engine

import (
	"os"
	"syscall"
	"time"
)

// changeTime returns the time fi's inode last changed (ctime): a write,
// a chmod or a rename moves it, and no one can set it back.
func changeTime(fi os.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return inodeChange(st)
	}
	return fi.ModTime()
}
