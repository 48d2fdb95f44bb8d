// Package syncbuf provides a text buffer that one goroutine may write (a
// logger's sink, say) while another reads it: what tests that check a
// log written by a background goroutine need.
package syncbuf

import (
	"strings"
	"sync"
)

// Buffer collects written bytes. Its methods are safe for concurrent use;
// the zero value is an empty buffer.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p; it never fails.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
