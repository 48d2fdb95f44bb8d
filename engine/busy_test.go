package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/bindings"
)

// gate lets a test hold Lua code in a loop until it releases it: scripts
// call entered() once they are inside the work, and loop on released().
type gate struct {
	in       chan struct{}
	once     sync.Once
	released atomic.Bool
}

func newGate(t *testing.T) (*gate, *bindings.Registry) {
	g := &gate{in: make(chan struct{})}
	reg := bindings.New()
	if err := reg.Func("entered", func() { g.once.Do(func() { close(g.in) }) }); err != nil {
		t.Fatal(err)
	}
	if err := reg.Func("released", func() bool { return g.released.Load() }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.released.Store(true) })
	return g, reg
}

// waitIn waits until the held work is running.
func (g *gate) waitIn(t *testing.T) {
	t.Helper()
	select {
	case <-g.in:
	case <-time.After(30 * time.Second):
		t.Fatal("the busy work never started")
	}
}

// gatedEngine makes an engine over files, units/goblin.lua and the gate's
// functions, and a goblin of 42 hp to probe it with.
func gatedEngine(t *testing.T, files map[string]string) (e *Engine, dir string, g *gate, probe *Object) {
	t.Helper()
	g, reg := newGate(t)
	files["units/goblin.lua"] = strings.Replace(goblinScript, "%s", "", 1)
	e, dir = newEngine(t, files, func(o *Options) { o.Bindings = reg; o.LoadTimeout = time.Minute })
	probe, err := e.New(context.Background(), "units.goblin", 42)
	if err != nil {
		t.Fatal(err)
	}
	return e, dir, g, probe
}

// checkCallDuringReload writes files, whose top level waits at the gate,
// reloads, and meanwhile calls probe with a 200 ms deadline: with holder ""
// the call must answer, else fail with a busy error naming holder. Then it
// lets the load go on and waits for the reload to succeed, whose report
// must say whether the load held calls, and what it reached.
func checkCallDuringReload(t *testing.T, e *Engine, dir string, g *gate, probe *Object, files map[string]string, holder string) {
	t.Helper()
	writeScripts(t, dir, files)
	done := startReload(e)
	g.waitIn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	hp, err := probe.Call(ctx, "update")
	cancel()
	switch {
	case holder == "" && (err != nil || hp.Any() != float64(42)):
		t.Errorf("a call while the reload loads = %v, %v; want 42", hp, err)
	case holder != "" && (!errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), holder)):
		t.Errorf("a call while the reload loads: %v, want a busy error naming %q", err, holder)
	}
	g.released.Store(true)
	r := awaitReload(t, done)
	switch {
	case holder == "" && (r.Held != 0 || r.HeldBy != ""):
		t.Errorf("report of a load that held no call: Held %v, HeldBy %q", r.Held, r.HeldBy)
	case holder != "" && (r.Held < 200*time.Millisecond || r.HeldBy == "" || !strings.Contains(holder, r.HeldBy)):
		t.Errorf("report of a load that held calls for the probe's 200 ms: Held %v, HeldBy %q, want it in %q", r.Held, r.HeldBy, holder)
	}
}

// reloadResult is what a reload returned.
type reloadResult struct {
	report *Report
	err    error
}

// startReload reloads e on another goroutine; the channel gets its result.
func startReload(e *Engine) <-chan reloadResult {
	done := make(chan reloadResult, 1)
	go func() {
		r, err := e.Reload(context.Background())
		done <- reloadResult{r, err}
	}()
	return done
}

// awaitReload waits for the reload startReload began, which must succeed,
// and returns its report.
func awaitReload(t *testing.T, done <-chan reloadResult) *Report {
	t.Helper()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatalf("reload: %v", res.err)
		}
		return res.report
	case <-time.After(30 * time.Second):
		t.Fatal("the reload never ended")
	}
	return nil
}

const goblinScript = `
local Goblin = {}
Goblin.__index = Goblin
function Goblin:init(hp) self.hp = hp end
function Goblin:update() return self.hp end
function Goblin:spin()
  entered()
  while not released() do end
end
%s
return Goblin
`

const spinningMigrate = `
function Goblin:__migrate(old)
  entered()
  while not released() do end
end`

// TestDeadlineHoldsWhileTheEngineIsBusy calls every entry point that waits
// for the engine with a 200 ms deadline while other work holds it, and
// checks that each returns, with a busy error naming that work, while the
// work still runs; once the work ends, the engine answers and reloads.
func TestDeadlineHoldsWhileTheEngineIsBusy(t *testing.T) {
	rows := []struct {
		name   string
		holder string // in the busy error
		// start begins the busy work; it returns when the work ends.
		start func(t *testing.T, e *Engine, dir string, spinner *Object) error
	}{
		{"a console evaluation loops", "console evaluation", func(t *testing.T, e *Engine, _ string, _ *Object) error {
			return e.Do(Labeled(context.Background(), "console evaluation"), func(L *lua.LState) error {
				return L.DoString("entered() while not released() do end")
			})
		}},
		{"another goroutine runs a long call", "a call of the function at units/goblin.lua:6", func(t *testing.T, e *Engine, _ string, spinner *Object) error {
			_, err := spinner.Call(context.Background(), "spin")
			return err
		}},
		{"a generation loads slowly after reaching into a persisted object", `loading generation 2 (its scripts reached hot.persist("s"))`, func(t *testing.T, e *Engine, dir string, _ *Object) error {
			writeScripts(t, dir, map[string]string{"slow.lua": "local s = hot.persist('s', {})\ns.boss.hp = s.boss.hp + 1\nentered()\nwhile not released() do end\nreturn true\n"})
			_, err := e.Reload(context.Background())
			return err
		}},
		{"__migrate loops", "commit of generation 2 (__migrate of units.goblin)", func(t *testing.T, e *Engine, dir string, _ *Object) error {
			writeScripts(t, dir, map[string]string{"units/goblin.lua": strings.Replace(goblinScript, "%s", spinningMigrate, 1)})
			_, err := e.Reload(context.Background())
			return err
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			g, reg := newGate(t)
			e, dir := newEngine(t, map[string]string{"units/goblin.lua": strings.Replace(goblinScript, "%s", "", 1), "zpersist.lua": "hot.persist('s', {boss = setmetatable({hp = 1}, {})})\nreturn true\n"},
				func(o *Options) { o.Bindings = reg; o.LoadTimeout = time.Minute })
			bg := context.Background()
			spinner, err := e.New(bg, "units.goblin", 1)
			if err != nil {
				t.Fatal(err)
			}
			other, err := e.New(bg, "units.goblin", 42)
			if err != nil {
				t.Fatal(err)
			}
			class, err := e.Class("units.goblin")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- row.start(t, e, dir, spinner) }()
			g.waitIn(t)

			probes := []struct {
				name string
				call func(ctx context.Context) error
			}{
				{"Object.Call", func(ctx context.Context) error { _, err := other.Call(ctx, "update"); return err }},
				{"Engine.New", func(ctx context.Context) error { _, err := e.New(ctx, "units.goblin", 1); return err }},
				{"Engine.CallGlobal", func(ctx context.Context) error { _, err := e.CallGlobal(ctx, "tostring", 1); return err }},
				{"Engine.Emit", func(ctx context.Context) error { return e.Emit(ctx, "tick") }},
				{"Class.Call", func(ctx context.Context) error { _, err := class.Call(ctx, "update", other); return err }},
				{"Engine.Do", func(ctx context.Context) error { return e.Do(ctx, func(*lua.LState) error { return nil }) }},
				{"Engine.Reload", func(ctx context.Context) error { _, err := e.Reload(ctx); return err }},
			}
			for _, p := range probes {
				ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
				start := time.Now()
				err := p.call(ctx)
				elapsed := time.Since(start)
				cancel()
				t.Logf("%s: returned after %v: %v", p.name, elapsed, err)
				if !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s: error %v, want ErrBusy and context.DeadlineExceeded", p.name, err)
				} else if p.name != "Engine.Reload" && !strings.Contains(err.Error(), row.holder) {
					t.Errorf("%s: error %q does not name %q", p.name, err, row.holder)
				}
				if elapsed > 2*time.Second {
					t.Errorf("%s: returned after %v, want about 200ms", p.name, elapsed)
				}
				select {
				case err := <-done:
					t.Fatalf("the busy work ended before the probes did (%v): the test proves nothing", err)
				default:
				}
			}

			g.released.Store(true)
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("the busy work failed: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the busy work did not end once released")
			}
			if hp := call(t, other, "update"); hp != 42.0 {
				t.Errorf("other object answers %v, want its hp 42", hp)
			}
			reload(t, e, dir, map[string]string{"units/goblin.lua": strings.Replace(goblinScript, "%s", "-- again", 1)})
			if hp := call(t, other, "update"); hp != 42.0 {
				t.Errorf("after a reload, other object answers %v, want its hp 42", hp)
			}
		})
	}
}

// TestWaitersAreServedInTurn checks that a goroutine calling in a tight
// loop does not starve another one waiting for the engine: the lock is
// handed over.
func TestWaitersAreServedInTurn(t *testing.T) {
	e, _ := newEngine(t, map[string]string{"units/goblin.lua": strings.Replace(goblinScript, "%s", "", 1)},
		func(o *Options) { o.Bindings = mustGateBindings(t) })
	bg := context.Background()
	obj, err := e.New(bg, "units.goblin", 7)
	if err != nil {
		t.Fatal(err)
	}
	defer callInLoop(t, obj, "update")()
	for range 200 {
		ctx, cancel := context.WithTimeout(bg, 10*time.Second)
		_, err := obj.Call(ctx, "update")
		cancel()
		if err != nil {
			t.Fatalf("a waiting call was starved: %v", err)
		}
	}
}

func mustGateBindings(t *testing.T) *bindings.Registry {
	_, reg := newGate(t)
	return reg
}

// TestCallEachFindsEachObjectsMethod checks that a batch over objects of
// several classes runs each object's own method: its class's, or a
// function in its own field of the name, which wins over the class's.
func TestCallEachFindsEachObjectsMethod(t *testing.T) {
	e, _ := newEngine(t, map[string]string{
		"units/goblin.lua": strings.Replace(goblinScript, "%s", `function Goblin:hit(n) self.hp = self.hp - n end`, 1),
		"units/orc.lua":    strings.Replace(goblinScript, "%s", `function Goblin:hit(n) self.hp = self.hp - 10 * n end`, 1),
	})
	bg := context.Background()
	var objs []*Object
	for i, class := range []string{"units.goblin", "units.goblin", "units.goblin", "units.orc", "units.goblin"} {
		o, err := e.New(bg, class, float64(10*(i+1)))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	if err := e.Do(bg, func(L *lua.LState) error {
		if err := L.DoString(`return function(self, n) self.hp = self.hp + 100 * n end`); err != nil {
			return err
		}
		objs[1].Table().RawSetString("hit", L.Get(-1))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.CallEach(bg, objs, "hit", 1); err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{9, 120, 29, 30, 49} {
		if hp := call(t, objs[i], "update"); hp != want {
			t.Errorf("object %d has hp %v, want %v", i, hp, want)
		}
	}
}

// TestCallEach runs one method over many objects as one call: every
// object runs it, a failure stops the batch and names the object, and
// the engine answers afterwards.
func TestCallEach(t *testing.T) {
	e, _ := newEngine(t, map[string]string{"units/goblin.lua": strings.Replace(goblinScript, "%s", `
function Goblin:hit(n) self.hp = self.hp - n end
function Goblin:fragile(n) if self.hp < 0 then error("dead goblin") end self.hp = self.hp - n end`, 1)})
	other, _ := newEngine(t, map[string]string{"units/goblin.lua": strings.Replace(goblinScript, "%s", "", 1)})
	bg := context.Background()
	var objs []*Object
	for _, hp := range []float64{10, 20, -1, 40} {
		o, err := e.New(bg, "units.goblin", hp)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	stranger, _ := other.New(bg, "units.goblin", 1)
	rows := []struct {
		name    string
		objs    []*Object
		method  string
		wantErr string // "" for none
		wantHP  []float64
	}{
		{"every object runs the method", objs, "hit", "", []float64{9, 19, -2, 39}},
		{"a failure stops the batch at its object", objs, "fragile", "dead goblin (object 2 of the batch)", []float64{8, 18, -2, 39}},
		{"a missing method fails before any call", objs, "nothing", "no such method", []float64{8, 18, -2, 39}},
		{"another engine's object fails before any call", append(objs[:1:1], stranger), "hit", ErrOtherEngine.Error(), []float64{8, 18, -2, 39}},
		{"a nil object fails before any call", append(objs[:1:1], nil), "hit", "object 1 of the batch is nil", []float64{8, 18, -2, 39}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			err := e.CallEach(bg, row.objs, row.method, 1)
			switch {
			case row.wantErr == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case row.wantErr != "" && (err == nil || !strings.Contains(err.Error(), row.wantErr)):
				t.Fatalf("error %v, want it to contain %q", err, row.wantErr)
			}
			for i, o := range objs {
				if hp := call(t, o, "update"); hp != row.wantHP[i] {
					t.Errorf("object %d has hp %v, want %v", i, hp, row.wantHP[i])
				}
			}
		})
	}
}

// TestCallEachFailsOnAFieldThatIsNotAFunction gives one object of a batch
// a field of the method's name that is not a function: the batch fails
// before its first call, naming that object.
func TestCallEachFailsOnAFieldThatIsNotAFunction(t *testing.T) {
	e, _ := newEngine(t, map[string]string{"units/goblin.lua": strings.Replace(goblinScript, "%s", `function Goblin:hit(n) self.hp = self.hp - n end`, 1)})
	bg := context.Background()
	var objs []*Object
	for range 3 {
		o, err := e.New(bg, "units.goblin", 10.0)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	if err := objs[1].Set("hit", 5); err != nil {
		t.Fatal(err)
	}
	err := e.CallEach(bg, objs, "hit", 1)
	if !errors.Is(err, ErrNoMethod) || !strings.Contains(err.Error(), "(object 1)") {
		t.Fatalf("error %v, want ErrNoMethod naming object 1", err)
	}
	if hp := call(t, objs[0], "update"); hp != 10.0 {
		t.Fatalf("the first object has hp %v, want 10: the batch ran before failing", hp)
	}
}
