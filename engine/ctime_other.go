//go:build !linux

package engine

import (
	"os"
	"time"
)

// changeTime returns the modification time where the inode change time is
// not at hand.
func changeTime(fi os.FileInfo) time.Time { return fi.ModTime() }
