//go:build !unix

package bench

// cpuTime returns 0: the process's CPU time is read on unix systems only.
func cpuTime() int64 { return 0 }
