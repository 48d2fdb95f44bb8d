package bindings

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// ship is a host object with fast-path methods, a reflected one, fields and
// a String method.
type ship struct {
	X, Y  float64
	Name  string
	Cargo []string
	Dock  *ship
	fuel  int
}

func (s *ship) Move(dx, dy float64)     { s.X += dx; s.Y += dy }
func (s *ship) Pos() (float64, float64) { return s.X, s.Y }
func (s *ship) Refuel(n int)            { s.fuel += n }
func (s *ship) Fuel() int               { return s.fuel }
func (s *ship) Crash()                  { panic("hull breach") }
func (s *ship) Rename(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	s.Name = name
	return nil
}
func (s *ship) Load(items ...string) int { s.Cargo = append(s.Cargo, items...); return len(s.Cargo) }
func (s *ship) String() string           { return "ship " + s.Name }

func newShipRegistry(t testing.TB) *Registry {
	t.Helper()
	r := New()
	if err := Type[*ship](r, "Ship"); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestObjectMethodsAndFields(t *testing.T) {
	r := newShipRegistry(t)
	s := &ship{Name: "Kestrel"}
	r.Value("host", s)
	L := newState(t, r)
	run(t, L, `
		host:Move(1, 2)
		local x, y = host:Pos()
		assert(x == 1 and y == 2 and host.X == 1)
		host:Refuel(3)
		assert(host:Fuel() == 3)
		host.Y = 10
		host:Rename("Falcon")
		assert(host.Name == "Falcon" and tostring(host) == "ship Falcon")
		assert(host:Load("ore", "ice") == 2 and same(host.Cargo, {"ore", "ice"}))
		host.Dock = Ship.new{Name = "Base"}
		assert(host.Dock.Name == "Base" and host.Dock == host.Dock)
		assert(getmetatable(host) == "bindings")
	`)
	if s.Y != 10 || s.Name != "Falcon" || s.fuel != 3 || s.Dock.Name != "Base" {
		t.Fatalf("Go object not updated: %+v", s)
	}
	for _, c := range []struct{ script, want string }{
		{`host:Crash()`, "bindings: Ship.Crash panicked: hull breach"},
		{`host:Rename("")`, "Ship.Rename: empty name"},
		{`host:Move(1, "x")`, "bad argument #3 to Ship.Move: number expected, got string"},
		{`host:Refuel(0.5)`, "bad argument #2 to Ship.Refuel: 0.5 is not an int64"},
		{`host.Move(1, 2)`, "bindings: Ship.Move is a method: call it as object:Move(...)"},
		{`host.Load(1)`, "bindings: Ship.Load is a method"},
		{`host:Load({})`, "bad argument #2 to Ship.Load: cannot use a Lua table as string"},
		{`host.X = "far"`, "bindings: Ship.X: cannot use a Lua string as float64"},
		{`return host.fuel`, "bindings: Ship has no field or method fuel"},
		{`host.Speed = 1`, "bindings: Ship has no field Speed"},
		{`Ship.new{Warp = 9}`, "bad argument #1 to Ship.new: bindings.ship has no field Warp"},
	} {
		runErr(t, L, c.script, c.want)
	}
	run(t, L, `assert(pcall(host.Crash, host) == false)`) // the host survives, and so does the state
}

func TestIdentityAcrossStates(t *testing.T) {
	r := newShipRegistry(t)
	s := &ship{Name: "Kestrel"}
	r.Value("host", s)
	other := &ship{}
	var keep []lua.LValue
	for gen := range 2 {
		L := lua.NewState() // a fresh generation each time; the previous one is closed
		if err := r.Install(L); err != nil {
			t.Fatal(err)
		}
		ud, err := r.ToLua(L, s)
		if err != nil {
			t.Fatal(err)
		}
		keep = append(keep, ud)
		L.SetGlobal("again", ud)
		L.SetGlobal("other", must(r.ToLua(L, other)))
		L.SetGlobal("previous", keep[0])
		run(t, L, `
			assert(rawequal(host, again) and rawequal(host, previous))
			local seen = {[host] = true}
			assert(seen[again] and seen[previous] and not seen[other])
			assert(host ~= other)
			host:Move(1, 1)
		`)
		L.Close()
		if gen == 1 {
			if keep[0] != keep[1] {
				t.Fatal("two generations got different userdata for one pointer")
			}
			got, err := r.FromLua(keep[1])
			if err != nil || got != s || s.X != 2 {
				t.Fatalf("FromLua: %v, %v; want the Go pointer, moved twice", got, err)
			}
		}
	}
}

func TestDroppedObjectsAreForgotten(t *testing.T) {
	r := newShipRegistry(t)
	L := newState(t, r)
	for range 100 {
		if _, err := r.ToLua(L, &ship{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20 && r.objectCount() > 0; i++ {
		runtime.GC() // cleanups run on their own goroutine after a cycle
		runtime.Gosched()
	}
	if n := r.objectCount(); n > 0 {
		t.Fatalf("%d of 100 dropped objects still in the identity table", n)
	}
}

func (r *Registry) objectCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.objects)
}

func TestUnregisteredTypeIsBoundByReflection(t *testing.T) {
	r := New()
	s := &ship{Name: "Drifter"}
	r.Value("host", s)
	L := newState(t, r)
	run(t, L, `
		host:Move(1, 2)
		assert(host.X == 1 and host:Fuel() == 0 and tostring(host) == "ship Drifter")
	`)
	runErr(t, L, `host:Crash()`, "bindings: ship.Crash panicked: hull breach")
}

func TestBlockingBindingIsCancelled(t *testing.T) {
	r := New()
	waiting := make(chan struct{})
	if err := r.Func("wait", func(ctx context.Context) error {
		close(waiting)
		<-ctx.Done()
		return ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	L := newState(t, r)
	ctx, cancel := context.WithCancel(context.Background())
	L.SetContext(ctx)
	done := make(chan error)
	go func() { done <- L.DoString(`wait()`) }()
	<-waiting
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "wait: context canceled") {
		t.Fatalf("error %v, want wait: context canceled", err)
	}
}

func TestFunc(t *testing.T) {
	r := New()
	var logged []string
	for name, fn := range map[string]any{
		"add":   func(a, b float64) float64 { return a + b },
		"greet": func(name string, times int) string { return strings.Repeat("hi "+name+" ", times) },
		"note":  func(parts ...string) { logged = append(logged, strings.Join(parts, " ")) },
		"lookup": func(ctx context.Context, key string) (map[string]int, error) {
			return map[string]int{key: 1}, ctx.Err()
		}, // no SetContext: context.Background
		"boom": func() { panic(fmt.Errorf("bad %d", 42)) },
		"raw":  func(L *lua.LState) int { L.Push(lua.LNumber(L.GetTop())); return 1 },
	} {
		if err := r.Func(name, fn); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Func("nope", 3); err == nil {
		t.Error("Func with a non-function: no error")
	}
	if err := r.Func("ch", func(chan int) {}); err == nil || !strings.Contains(err.Error(), "chan int") {
		t.Errorf("Func with a chan parameter: error %v", err)
	}
	L := newState(t, r)
	run(t, L, `
		assert(add(1, 2) == 3)
		assert(greet("bob", 2) == "hi bob hi bob ")
		note("a", "b")
		assert(lookup("k").k == 1)
		assert(raw(1, 2, 3) == 3)
	`)
	runErr(t, L, `boom()`, "bindings: boom panicked: bad 42")
	runErr(t, L, `note("a", 1)`, "bad argument #2 to note: cannot use a Lua number as string")
	if len(logged) != 1 || logged[0] != "a b" {
		t.Fatalf("note logged %q", logged)
	}
}

func TestMethodsOnly(t *testing.T) {
	r := New()
	if err := Type[*ship](r, "Ship", MethodsOnly()); err != nil {
		t.Fatal(err)
	}
	L := newState(t, r)
	run(t, L, `
		local s = Ship.new{Name = "Quiet"}
		s:Move(1, 2)
		assert(tostring(s) == "ship Quiet")`)
	runErr(t, L, `Ship.new{}.X = 1`, "bindings: Ship has no field X")
	runErr(t, L, `return Ship.new{}.Name`, "bindings: Ship has no method Name")
}

func TestTypeRejectsNonPointers(t *testing.T) {
	if err := Type[ship](New(), "Ship"); err == nil {
		t.Fatal("Type of a struct value: no error")
	}
}

// TestStatesShareTypesSafely runs two states on two goroutines over objects
// of one type: the shared metatables are only read, the identity table is
// locked (run with -race).
func TestStatesShareTypesSafely(t *testing.T) {
	r := newShipRegistry(t)
	done := make(chan error)
	for range 2 {
		go func() {
			L := lua.NewState()
			defer L.Close()
			if err := r.Install(L); err != nil {
				done <- err
				return
			}
			L.SetGlobal("mine", must(r.ToLua(L, &ship{})))
			done <- L.DoString(`
				for i = 1, 200 do
					mine:Move(1, 0)
					local other = Ship.new{X = i}
					assert(other.X == i and tostring(other) == "ship ")
				end
				assert(mine.X == 200)`)
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestInstall(t *testing.T) {
	r := New()
	r.Value("a", 1)
	r.Value("bad", make(chan int))
	r.Value("a", "replaced")
	L := lua.NewState()
	defer L.Close()
	err := r.Install(L)
	if err == nil || !strings.Contains(err.Error(), "bindings: install: global bad: chan int: unsupported Go type") {
		t.Fatalf("error %v", err)
	}
	if got := L.GetGlobal("a"); got != lua.LString("replaced") {
		t.Fatalf("a = %v, want the replacing value (the good globals are installed)", got)
	}
}
