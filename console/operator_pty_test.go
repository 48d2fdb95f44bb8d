package console

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotlua/hotlua/engine"
)

// TestOperatorTerminals attaches two consoles, each in a real terminal, to
// a program whose loop calls into the engine all the time, as an operator
// would: the sessions share variables, bind an object by its number, ask
// for help and a method's source, use =expr, recall a multi-line chunk
// from history, stop a runaway loop at its deadline while the program
// keeps ticking, :quit at once, and leave at once, with one message, when
// the program goes away.
func TestOperatorTerminals(t *testing.T) {
	e, err := engine.New(engine.Options{Roots: []string{"testdata/engine/scripts"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ticker, err := e.New(context.Background(), "Player", "ticker")
	if err != nil {
		t.Fatal(err)
	}
	var ticks atomic.Int64
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { // the program's own loop
		for ctx.Err() == nil {
			if _, err := ticker.Call(ctx, "greet"); err == nil {
				ticks.Add(1)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	addr := "unix:" + filepath.Join(t.TempDir(), "c.sock")
	srv, err := Start(ctx, addr, ForEngine(e), ServeOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	dir := t.TempDir()
	one := startTerminal(t, srv.Addr, filepath.Join(dir, "history1"))
	two := startTerminal(t, srv.Addr, filepath.Join(dir, "history2"))
	one.expect("hotlua console, generation 1")
	two.expect("hotlua console, generation 1")

	// One namespace: a variable set in one session is seen in the other.
	// Each step waits for output that its own echo cannot show.
	one.enter(`Player = require("player") shared = Player.new("ann") print("s" .. "et")`)
	one.expect("set")
	two.enter("shared.name")
	two.expect(`"ann"`)

	// Objects by number: :objects lists them, :bind and obj(n) bind them.
	one.enter(":objects Player")
	one.expect("<Player #1 ")
	one.expect(`name = "ticker"`)
	one.expect("<Player #2 ")
	one.enter(":bind boss 2")
	one.expect(`boss = <Player #2 `)
	two.enter("boss == shared, obj(1).name")
	two.expect(`true	"ticker"`)

	// Help, source, =expr.
	two.enter("help(boss)")
	two.expect("object #2 of class Player")
	two.expect("fields: hp, name")
	two.expect("methods: checked, greet, hurt, init, new")
	two.enter(":source Player:hurt")
	two.expect("player.lua:4-7")
	two.expect("   5  	self.hp = self.hp - self:checked(n)")
	two.enter("=boss.hp * 4")
	two.expect("40")

	// A multi-line chunk comes back from history whole, with its newlines.
	one.enter("for i = 1, 2 do")
	one.out.waitFor(t, ">> ")
	if _, err := one.tty.WriteString("print(i * 100 + 1) -- a comment must not swallow the rest\r"); err != nil {
		t.Fatal(err)
	}
	one.out.waitFor(t, ">> ")
	if _, err := one.tty.WriteString("end\r"); err != nil {
		t.Fatal(err)
	}
	one.expect("201")
	one.out.waitFor(t, "> ")
	if _, err := one.tty.WriteString("\x1b[A\r"); err != nil { // up, Enter
		t.Fatal(err)
	}
	one.expect("101")
	one.expect("201")

	// A runaway evaluation stops at its deadline; the program ticks on.
	one.enter(":timeout 300ms")
	one.expect("evaluations stop after 300ms")
	one.enter("while true do end")
	one.expect("stopped: the evaluation ran past the console's deadline of 300ms")
	before := ticks.Load()
	deadline := time.Now().Add(20 * time.Second)
	for ticks.Load() < before+5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if ticks.Load() < before+5 {
		t.Fatalf("the program stopped ticking after the runaway evaluation (%d ticks)", ticks.Load()-before)
	}

	// :quit leaves at once.
	one.enter(":quit")
	if err := one.waitExit("on :quit"); err != nil {
		one.out.mu.Lock()
		t.Errorf("after :quit the client exited with %v; its terminal shows %q", err, one.out.buf[one.out.read:])
		one.out.mu.Unlock()
	}

	// When the program goes away, the other leaves at once, saying so once.
	two.out.waitFor(t, "> ")
	srv.Close()
	if err := two.waitExit("when the program went away"); err == nil {
		t.Error("the client exited 0 when the program went away")
	}
	two.expect("connection closed by the program")
	two.out.mu.Lock()
	all := string(two.out.buf)
	two.out.mu.Unlock()
	if n := strings.Count(all, "connection closed by the program"); n != 1 {
		t.Errorf("the client said %d times that the program went away:\n%s", n, all)
	}
}
