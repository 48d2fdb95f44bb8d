//go:build !linux

package console

import (
	"errors"
	"net"
)

// peerUID is only implemented on Linux; elsewhere every unix-socket peer is
// refused rather than trusted.
func peerUID(*net.UnixConn) (int, error) {
	return -1, errors.New("console: peer credentials not supported on this platform")
}
