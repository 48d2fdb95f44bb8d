package console

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestComplete(t *testing.T) {
	s := NewSession(newFakeTarget())
	ctx := context.Background()
	s.Input(ctx, `p = Player.new("ann"); config = {server = {port = 1, ports = 2}, debug = true}`, func(Event) {})
	tests := []struct {
		before, partial string
		want            []string
	}{
		{"pri", "pri", []string{"print"}},
		{"x = conf", "conf", []string{"config"}},
		{"config.server.po", "po", []string{"port", "ports"}},
		{"config.", "", []string{"debug", "server"}},
		{"p:gr", "gr", []string{"greet"}},
		{"p:", "", []string{"greet", "new"}}, // methods only: not hp or name
		{"p.n", "n", []string{"name", "new"}},
		{"string.up", "up", []string{"upper"}},
		{"nosuch.x", "x", nil},
		{":re", ":re", []string{":reload"}},
		{"print(Pla", "Pla", []string{"Player"}},
	}
	for _, tt := range tests {
		partial, got := s.Complete(ctx, tt.before)
		if partial != tt.partial || !slices.Equal(got, tt.want) {
			t.Errorf("Complete(%q) = %q, %q; want %q, %q", tt.before, partial, got, tt.partial, tt.want)
		}
	}
}

// TestInterruptStopsLoop checks that cancelling the context stops a running
// evaluation and that the session and target keep working.
func TestInterruptStopsLoop(t *testing.T) {
	s := NewSession(newFakeTarget())
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan Event, 10)
	done := make(chan bool)
	go func() {
		done <- s.Input(ctx, `print("spinning") while true do end`, func(e Event) { events <- e })
	}()
	if e := waitEvent(t, events); e.Text != "spinning" {
		t.Fatalf("got %v, want the print", e)
	}
	cancel()
	if e := waitEvent(t, events); e.Kind != Error || e.Text != "interrupted" {
		t.Fatalf("got %v, want interrupted", e)
	}
	<-done
	var out []string
	s.Input(context.Background(), "1 + 1", func(e Event) { out = append(out, e.Text) })
	if strings.Join(out, "\n") != "2" {
		t.Fatalf("after interrupt got %q", out)
	}
}

func waitEvent(t *testing.T, events <-chan Event) Event {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for an event")
		return Event{}
	}
}

// TestSharedNamespace checks that console variables are one namespace per
// program: set in one session, they are seen by another, after a reload,
// and by a session that starts later; locals stay in their chunk; each
// session keeps its own print.
func TestSharedNamespace(t *testing.T) {
	target := newFakeTarget()
	ctx := context.Background()
	eval := func(s *Session, code string) []Event {
		t.Helper()
		var out []Event
		s.Input(ctx, code, func(e Event) { out = append(out, e) })
		return out
	}
	want := func(s *Session, code, text string) {
		t.Helper()
		if got := eval(s, code); len(got) != 1 || got[0].Text != text {
			t.Errorf("%s = %+v, want %q", code, got, text)
		}
	}
	one, two := NewSession(target), NewSession(target)
	eval(one, `boss = Player.new("ann")`)
	eval(one, "local secret = 1")
	want(two, "boss.name", `"ann"`)
	want(two, "secret", "nil")
	eval(two, "boss.hp = 3")
	want(one, "boss.hp", "3")
	if _, err := target.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	later := NewSession(target)
	want(later, "boss:greet()", `"hello ann from generation 2"`)
	if got := eval(later, `print("mine")`); len(got) != 1 || got[0].Kind != Output {
		t.Errorf("print in a later session: %+v", got)
	}
}
