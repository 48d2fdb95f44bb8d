//go:build darwin || ios || freebsd || netbsd

package engine

import (
	"syscall"
	"time"
)

// inodeChange returns st's change time, which this system calls Ctimespec.
func inodeChange(st *syscall.Stat_t) time.Time {
	return time.Unix(int64(st.Ctimespec.Sec), int64(st.Ctimespec.Nsec))
}
