package engine

import (
	"cmp"
	"io"
	"os"
	"sync"
)

// serialWriter passes the writes of scripts on to the host's writer one at
// a time: the top level of a reload being prepared runs beside the calls,
// and the engines of a Shards run in parallel, while the host's writer (a
// bytes.Buffer, a log file) need not be safe for concurrent use. The
// writers made for one Options share their mutex, as Stdout and Stderr are
// often the same writer.
type serialWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s serialWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// serializeOutput makes o's Stdout and Stderr (their defaults when unset)
// serialWriters sharing one mutex, unless they are already.
func serializeOutput(o *Options) {
	if _, done := o.Stdout.(serialWriter); done {
		return
	}
	mu := new(sync.Mutex)
	o.Stdout = serialWriter{mu, cmp.Or(o.Stdout, io.Writer(os.Stdout))}
	o.Stderr = serialWriter{mu, cmp.Or(o.Stderr, io.Writer(os.Stderr))}
}
