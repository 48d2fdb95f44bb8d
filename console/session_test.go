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
		{"obj(12).", "", nil}, // what an expression gives is not known without running it
		{"config['server'].po", "", nil},
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

// TestInputTheCompilerCannotTakeIsRefused types inputs that gopher-lua's
// compiler cannot take safely: a million nested unary operators (its
// recursion ended the host with Go's fatal stack overflow), the same spread
// over lines of a pending chunk, an operator chain it compiles in quadratic
// time past any deadline, and a concatenation of more values than scripts
// may join in one instruction. Each is refused at once with the line, as
// scripts and load are, and the session still evaluates.
func TestInputTheCompilerCannotTakeIsRefused(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		lines []string
		want  string
	}{
		"nested unary operators": {[]string{"return " + strings.Repeat("#", 1<<20-100) + "x"}, "console:1: source nests too deeply"},
		"nesting over lines":     {[]string{"return f(", strings.Repeat("not ", 5000) + "x)"}, "console:2: source nests too deeply"},
		"operator chain":         {[]string{"return 1" + strings.Repeat("+x", 40000)}, "console:1: expression too long"},
		"long concatenation":     {[]string{"local a = ('x'):rep(2) return a..a..a..a..a..a..a..a..a..a"}, "console:1: a concatenation of 10 values"},
	} {
		t.Run(name, func(t *testing.T) {
			s := NewSession(newFakeTarget())
			var got []Event
			for _, line := range tc.lines {
				s.Input(ctx, line, func(e Event) { got = append(got, e) })
			}
			if len(got) != 1 || got[0].Kind != Error || !strings.HasPrefix(got[0].Text, tc.want) {
				t.Fatalf("got %v, want one error starting %q", got, tc.want)
			}
			var out []string
			s.Input(ctx, "1 + 1", func(e Event) { out = append(out, e.Text) })
			if strings.Join(out, "\n") != "2" {
				t.Fatalf("after the refused input got %q, want 2", out)
			}
		})
	}
}

// TestChunkThatNeverRanSaysSo runs a loop without a deadline in one session
// and a chunk with a short deadline in another: the second waits for the
// program the whole deadline and is not run, and says that, not that it
// ran past its deadline.
func TestChunkThatNeverRanSaysSo(t *testing.T) {
	target := newFakeTarget()
	busy, waiting := NewSession(target), NewSession(target)
	busy.SetTimeout(0)
	waiting.SetTimeout(100 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan Event, 10)
	done := make(chan bool)
	go func() {
		done <- busy.Input(ctx, `print("spinning") while true do end`, func(e Event) { started <- e })
	}()
	if e := waitEvent(t, started); e.Text != "spinning" {
		t.Fatalf("got %v, want the print", e)
	}
	var got []Event
	waiting.Input(context.Background(), "1 + 1", func(e Event) { got = append(got, e) })
	cancel()
	<-done
	if len(got) != 1 || got[0].Kind != Error || !strings.HasPrefix(got[0].Text, "not run: the program stayed busy for the console's deadline of 100ms") {
		t.Fatalf("got %v, want one error saying the chunk was not run", got)
	}
}
