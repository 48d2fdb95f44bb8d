package console

import (
	"context"
	"strings"
	"sync"
)

// Server is a console served in the background by [Start].
// Its methods are safe for concurrent use.
type Server struct {
	// Addr is where it listens, in the form Attach takes ("unix:PATH" or
	// "tcp:HOST:PORT", with the port that "tcp:HOST:0" picked).
	Addr string
	// Token is what clients must send first; set for tcp, "" for unix.
	Token  string
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// Start listens on addr ("" for [DefaultAddr]), makes a token with
// [NewToken] for tcp when opts has none, and serves t in the background
// until ctx is done or Close is called.
func Start(ctx context.Context, addr string, t Target, opts ServeOptions) (*Server, error) {
	if addr == "" {
		addr = DefaultAddr()
	}
	if strings.HasPrefix(addr, "tcp:") && opts.Token == "" {
		opts.Token = NewToken()
	}
	ln, err := Listen(addr, ListenOptions{AllowRemote: opts.AllowRemote})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Server{
		Addr:   ln.Addr().Network() + ":" + ln.Addr().String(),
		Token:  opts.Token,
		cancel: cancel,
		done:   make(chan error, 1),
	}
	go func() { s.done <- Serve(ctx, ln, t, opts) }()
	return s, nil
}

// Close stops serving, ends every session and waits until they have ended.
// It returns Serve's error, every time it is called.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.cancel()
		s.err = <-s.done
	})
	return s.err
}
