package console

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// ServeOptions configures [Serve]. The zero value serves a unix socket to
// the process's own user with the defaults below. Serve copies it; the
// caller may reuse it.
type ServeOptions struct {
	// Token must be sent by the client as its first line, "AUTH <token>".
	// Required (use [NewToken]) on any listener but a unix socket; on a
	// unix socket the default "" means the first line is just "AUTH".
	Token string
	// AllowedUIDs are the user ids that may connect over a unix socket,
	// checked with SO_PEERCRED. Default: the uid of this process.
	AllowedUIDs []int
	// MaxSessions bounds concurrent sessions; more are refused. Default 4.
	MaxSessions int
	// MaxLineBytes bounds one input line; a longer one ends the session.
	// Default 1 MiB.
	MaxLineBytes int
	// IdleTimeout ends a session that sends nothing for this long while no
	// evaluation runs. Default 30 minutes.
	IdleTimeout time.Duration
	// AuthTimeout bounds the whole wait for a client's first line, however
	// slowly it trickles in; a client that has not authenticated by then
	// is dropped. Default 3s.
	AuthTimeout time.Duration
	// EvalTimeout is the default deadline of one evaluation: code still
	// running after it is stopped, so that one typo never freezes the
	// program. A session changes its own with ":timeout 10s" (or
	// ":timeout off"). Default 5s; negative means no deadline.
	EvalTimeout time.Duration
	// Logger receives a record for every connection and evaluation.
	// Default slog.Default().
	Logger *slog.Logger
	// AllowRemote is passed by [Start] to [Listen]: it permits a tcp
	// address that is not loopback. The token is still required. Default
	// false. [Serve] ignores it.
	AllowRemote bool
}

func (o ServeOptions) withDefaults() ServeOptions {
	if o.AllowedUIDs == nil {
		o.AllowedUIDs = []int{os.Getuid()}
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 4
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = defaultMaxLineBytes
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Minute
	}
	if o.AuthTimeout <= 0 {
		o.AuthTimeout = 3 * time.Second
	}
	if o.EvalTimeout == 0 {
		o.EvalTimeout = DefaultEvalTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// DefaultEvalTimeout is the deadline of an evaluation unless the host
// ([ServeOptions.EvalTimeout]) or the session (:timeout) sets another.
const DefaultEvalTimeout = 5 * time.Second

const (
	// writeTimeout bounds one write to a client.
	writeTimeout = 30 * time.Second
	// maxQueued bounds the requests a client may send ahead of replies.
	maxQueued = 64
	// acceptRetry is the pause after a failed Accept.
	acceptRetry = 100 * time.Millisecond
	// maxBufferedOutput bounds print output waiting for a slow client;
	// beyond it output is dropped rather than stalling the program.
	maxBufferedOutput = 1 << 20
	// maxEventBytes bounds the text of one result or error sent to a
	// client, which is never dropped: a client that sends requests and
	// reads no replies could otherwise make the host hold gigabytes of
	// them (error(string.rep("x", 16 << 20)) 64 times in a row).
	maxEventBytes = 64 << 10
	// maxLoggedBytes bounds the input and the error a log record quotes.
	maxLoggedBytes = 1 << 10
)

// defaultMaxLineBytes is ServeOptions.MaxLineBytes by default.
const defaultMaxLineBytes = 1 << 20

// outputDropped starts the notice that print output was dropped, which a
// client does not count as a failure.
const outputDropped = "console: output dropped:"

// cut returns s, or its first n bytes (ending on a character) and how many
// it leaves out.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s... (%d more bytes)", s[:n], len(s)-n)
}

// ErrTokenRequired is returned by [Serve] for a listener other than a unix
// socket when no token is set.
var ErrTokenRequired = errors.New("console: a token is required except on a unix socket")

// NewToken returns a random token for [ServeOptions.Token].
func NewToken() string { return rand.Text() }

// Serve accepts console sessions on ln until ctx is done, then closes ln,
// ends every session and returns nil. Each session evaluates in t. A
// session that detaches never stops t. Serve closes ln when it returns.
func Serve(ctx context.Context, ln net.Listener, t Target, opts ServeOptions) error {
	defer ln.Close()
	if _, isUnix := ln.(*net.UnixListener); !isUnix && opts.Token == "" {
		return ErrTokenRequired
	}
	opts = opts.withDefaults()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, opts.MaxSessions)
	// Connections that have not authenticated yet have their own, larger,
	// limit: they cannot take the sessions of operators. When it is full
	// the oldest is dropped, so that slow clients cannot lock the operator
	// out; an allowed peer of a unix socket needs no place at all.
	unauthenticated := &waitingRoom{max: 4 * opts.MaxSessions}
	for id := 1; ; id++ {
		conn, err := ln.Accept()
		switch {
		case ctx.Err() != nil:
			if err == nil {
				conn.Close()
			}
			return nil
		case errors.Is(err, net.ErrClosed):
			return fmt.Errorf("console: accept: %w", err)
		case err != nil:
			// Out of file descriptors, for example: wait, keep serving.
			opts.Logger.Warn("console: accept failed", "err", err)
			select {
			case <-time.After(acceptRetry):
			case <-ctx.Done():
			}
			continue
		}
		log := opts.Logger.With("session", id, "peer", peerName(conn))
		room := unauthenticated
		if uc, ok := conn.(*net.UnixConn); ok {
			uid, err := peerUID(uc)
			if err != nil || !slices.Contains(opts.AllowedUIDs, uid) {
				log.Warn("console: connection refused: peer uid not allowed", "uid", uid, "err", err)
				conn.Close()
				continue
			}
			room = nil
		}
		leave := room.enter(conn, log)
		wg.Go(func() {
			serveConn(ctx, conn, t, opts, log, leave, slots)
		})
	}
}

// waitingRoom holds the connections that have not authenticated yet, at
// most max of them: a new one pushes the oldest out. A nil *waitingRoom
// admits everyone. Its methods are safe for concurrent use.
type waitingRoom struct {
	mu      sync.Mutex
	max     int
	waiting []net.Conn // oldest first
}

// enter makes room for conn and returns the function that takes it out
// again once it has authenticated or failed.
func (w *waitingRoom) enter(conn net.Conn, log *slog.Logger) (leave func()) {
	if w == nil {
		return func() {}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.waiting) >= w.max {
		oldest := w.waiting[0]
		w.waiting = w.waiting[1:]
		log.Warn("console: too many unauthenticated connections; dropped the oldest", "max", w.max, "dropped", peerName(oldest))
		oldest.Close()
	}
	w.waiting = append(w.waiting, conn)
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if i := slices.Index(w.waiting, conn); i >= 0 {
			w.waiting = slices.Delete(w.waiting, i, i+1)
		}
	}
}

func peerName(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.Network() + ":" + a.String()
	}
	return c.LocalAddr().Network()
}

// tryAcquire takes a place in sem if there is one.
func tryAcquire(sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
		return false
	}
}

// refuse tells a client why it is refused, briefly, and closes conn.
func refuse(conn net.Conn, log *slog.Logger, why string, max int) {
	log.Warn("console: connection refused: "+why, "max", max)
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = conn.Write([]byte(encode(tagError, "console: "+why)))
	conn.Close()
}

// serveConn authenticates conn, then calls leave (to give up its place
// among the unauthenticated), runs one session on it in a place of slots,
// and closes conn. opts has defaults.
func serveConn(ctx context.Context, conn net.Conn, t Target, opts ServeOptions, log *slog.Logger, leave func(), slots chan struct{}) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	context.AfterFunc(ctx, func() { conn.Close() })

	lr := &lineReader{r: bufio.NewReader(conn), max: opts.MaxLineBytes}
	ok := authenticate(conn, lr, opts.Token, opts.AuthTimeout, log)
	leave()
	if !ok {
		return
	}
	if !tryAcquire(slots) {
		refuse(conn, log, "too many sessions", opts.MaxSessions)
		return
	}
	defer func() { <-slots }()
	log.Info("console: session attached")
	defer log.Info("console: session detached")

	out := newOutbox(conn)
	defer out.closeAndWait()
	sess := NewSession(t)
	sess.SetTimeout(opts.EvalTimeout)
	out.put(encode(tagHello, "hotlua console, "+t.Version()+"; :help lists commands"), false)
	out.put(encode(tagPrompt, sess.Prompt()), false)

	jobs := make(chan request, maxQueued)
	var busy atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for req := range jobs {
			busy.Store(true)
			quit := handle(req, sess, out, log)
			busy.Store(false)
			if quit {
				out.put(encode(tagBye, ""), false)
				out.closeAndWait()
				cancel()
				return
			}
		}
	}()
	defer func() { close(jobs); <-done }()

	// Every request shares the context of the current epoch; INTR cancels
	// it, interrupting what runs and what is queued, and starts a new one.
	ep := newEpoch(ctx)
	defer func() { ep.cancel() }()
	for {
		_ = conn.SetReadDeadline(time.Now().Add(opts.IdleTimeout))
		line, err := lr.next()
		if errors.Is(err, os.ErrDeadlineExceeded) && busy.Load() {
			continue
		}
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				log.Info("console: read ended", "err", err)
			}
			return
		}
		tag, payload := decode(line)
		switch tag {
		case tagInterrupt:
			ep.cancel()
			ep = newEpoch(ctx)
		case tagEval, tagDrop, tagComplete:
			select {
			case jobs <- request{ep.ctx, tag, payload}:
			default:
				log.Warn("console: too many queued requests")
				return
			}
		default:
			out.put(encode(tagError, fmt.Sprintf("console: unknown request %q (send EVAL <code>)", tag)), false)
		}
	}
}

// epoch is the context shared by the requests between two interrupts.
type epoch struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newEpoch(parent context.Context) *epoch {
	ctx, cancel := context.WithCancel(parent)
	return &epoch{ctx, cancel}
}

// request is one queued client request.
type request struct {
	ctx          context.Context
	tag, payload string
}

// handle serves one request and reports whether the client detached.
func handle(req request, sess *Session, out *outbox, log *slog.Logger) (quit bool) {
	switch req.tag {
	case tagDrop:
		sess.Drop()
	case tagComplete:
		partial, names := sess.Complete(req.ctx, req.payload)
		out.put(tagComplete+" "+fmt.Sprint(len(partial))+strings.Join(append([]string{""}, names...), " ")+"\n", false)
		return false
	case tagEval:
		start := time.Now()
		var failure string
		quit = sess.Input(req.ctx, req.payload, func(e Event) {
			if e.Kind == Error && failure == "" {
				failure = e.Text
			}
			text := e.Text
			if e.Kind != Output { // output beyond maxBufferedOutput is dropped instead
				text = cut(text, maxEventBytes)
			}
			out.put(encode(eventTags[e.Kind], text), e.Kind == Output)
		})
		log.Info("console: eval", "input", cut(req.payload, maxLoggedBytes), "duration", time.Since(start), "error", cut(failure, maxLoggedBytes))
		if quit {
			return true // BYE follows, not a prompt the client would wait at
		}
	}
	tag := tagPrompt
	if sess.Prompt() == ContinuationPrompt {
		tag = tagMore
	}
	out.put(encode(tag, sess.Prompt()), false)
	return quit
}

// authenticate reads the first line and checks it is "AUTH <token>" (or
// "AUTH" when token is empty). A line that looks like HTTP is dropped
// without a reply.
func authenticate(conn net.Conn, lr *lineReader, token string, timeout time.Duration, log *slog.Logger) bool {
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	line, err := lr.next()
	if err != nil {
		log.Warn("console: connection dropped before AUTH", "err", err)
		return false
	}
	if looksLikeHTTP(line) {
		log.Warn("console: connection dropped: HTTP request")
		return false
	}
	tag, got := decode(line)
	if tag == tagAuth && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
		return true
	}
	log.Warn("console: authentication failed")
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = conn.Write([]byte(encode(tagError, "console: authentication failed")))
	return false
}

// outbox queues lines for a client and writes them from its own goroutine,
// so that a slow client never blocks the program: droppable lines (print
// output) beyond maxBufferedOutput are discarded with a notice.
type outbox struct {
	mu      sync.Mutex
	lines   []string
	size    int
	dropped bool
	closed  bool
	wake    chan struct{}
	done    chan struct{}
}

func newOutbox(conn net.Conn) *outbox {
	o := &outbox{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go o.run(conn)
	return o
}

func (o *outbox) put(line string, droppable bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	if droppable && o.size+len(line) > maxBufferedOutput {
		o.dropped = true
		return
	}
	if o.dropped {
		o.dropped = false
		o.lines = append(o.lines, encode(tagError, outputDropped+" more than 1 MiB of it was waiting for the client"))
	}
	o.lines = append(o.lines, line)
	o.size += len(line)
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) run(conn net.Conn) {
	defer close(o.done)
	for range o.wake {
		o.mu.Lock()
		batch, closed := o.lines, o.closed
		o.lines, o.size = nil, 0
		o.mu.Unlock()
		if len(batch) > 0 {
			_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := conn.Write([]byte(strings.Join(batch, ""))); err != nil {
				o.mu.Lock()
				o.closed = true
				o.mu.Unlock()
				return
			}
		}
		if closed {
			return
		}
	}
}

// closeAndWait stops accepting lines and waits until the queued ones are
// written (or writing failed).
func (o *outbox) closeAndWait() {
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
	o.mu.Unlock()
	<-o.done
}
