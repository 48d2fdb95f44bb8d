//go:build unix && !(darwin || ios || freebsd || netbsd)

package engine

import (
	"syscall"
	"time"
)

// inodeChange returns st's change time, which this system calls Ctim.
func inodeChange(st *syscall.Stat_t) time.Time {
	return time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec))
}
