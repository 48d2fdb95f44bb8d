package console

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// slowAuth opens a connection that starts "AUTH" one byte at a time, the
// way a client holding a place among the unauthenticated would; it sends
// the first byte and keeps the rest back.
func slowAuth(t *testing.T, addr string) *rawClient {
	t.Helper()
	c := dialRaw(t, addr)
	if _, err := io.WriteString(c.conn, "A"); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNoLockout fills the places of unauthenticated connections with 20
// slow clients, as issue 12 item 11 describes: the operator still gets in,
// on the unix socket always and on tcp with the token, and every slow
// client is dropped once its auth deadline passes, whatever it trickles.
func TestNoLockout(t *testing.T) {
	opts := ServeOptions{MaxSessions: 2, AuthTimeout: 500 * time.Millisecond} // 8 places for the unauthenticated

	t.Run("unix", func(t *testing.T) {
		addr, ln := listenUnix(t)
		serve(t, ln, opts)
		var slow []*rawClient
		for range 20 {
			slow = append(slow, slowAuth(t, addr))
		}
		op := dialRaw(t, addr)
		op.send("AUTH")
		op.expect("PROMPT > ")
		op.send("EVAL 40 + 2")
		op.expect("RES 42")
		// Every slow client is dropped; trickling bytes does not keep it.
		for _, c := range slow {
			_, _ = io.WriteString(c.conn, "U")
			if got := c.next(); got != "EOF" {
				t.Fatalf("a slow client got %q, want to be dropped", got)
			}
		}
	})

	t.Run("tcp", func(t *testing.T) {
		addr, ln := listenTCP(t)
		token := NewToken()
		o := opts
		o.Token = token
		o.AuthTimeout = time.Minute // only the eviction can let the operator in
		serve(t, ln, o)
		var slow []*rawClient
		for range 20 {
			slow = append(slow, slowAuth(t, addr))
		}
		var stdout, stderr bytes.Buffer
		if code := Exec(addr, token, &stdout, &stderr, "40 + 2"); code != 0 || stdout.String() != "42\n" {
			t.Fatalf("the operator, after 20 slow clients: exit %d, %q, %q", code, stdout.String(), stderr.String())
		}
		// The oldest slow clients made room and were dropped.
		if got := slow[0].next(); got != "EOF" {
			t.Errorf("the oldest slow client got %q, want to be dropped", got)
		}
	})
}

// TestDefaultEvalDeadline checks issue 12 item 3: with no deadline set
// anywhere, a runaway evaluation is stopped, the session works on, and
// :timeout changes the deadline of its own session only.
func TestDefaultEvalDeadline(t *testing.T) {
	s := NewSession(newFakeTarget())
	if s.timeout != DefaultEvalTimeout || DefaultEvalTimeout <= 0 || DefaultEvalTimeout > 10*time.Second {
		t.Fatalf("a new session's deadline is %v, want DefaultEvalTimeout (%v), a few seconds", s.timeout, DefaultEvalTimeout)
	}
	s.SetTimeout(100 * time.Millisecond) // as the host sets it, to keep the test short
	var events []Event
	emit := func(e Event) { events = append(events, e) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Input(context.Background(), "while true do end", emit)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("a runaway evaluation was not stopped at its deadline")
	}
	if len(events) != 1 || events[0].Kind != Error || !strings.Contains(events[0].Text, "deadline of 100ms") {
		t.Errorf("events = %+v, want one error naming the deadline", events)
	}
	events = nil
	s.Input(context.Background(), ":timeout 10s", emit)
	s.Input(context.Background(), "1 + 1", emit)
	if len(events) != 2 || events[0].Text != "evaluations stop after 10s" || events[1].Text != "2" {
		t.Errorf("after :timeout 10s: %+v", events)
	}
	if other := NewSession(newFakeTarget()); other.timeout != DefaultEvalTimeout {
		t.Errorf(":timeout changed another session's deadline to %v", other.timeout)
	}
}
