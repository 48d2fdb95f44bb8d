//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package engine

import "errors"

// mkfifo reports that the syscall package makes no FIFOs here.
func mkfifo(string) error { return errors.ErrUnsupported }
