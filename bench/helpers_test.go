package bench

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/engine"
)

// TestMain prints the Go version and the number of cores in the header of
// a benchmark run, where Parse finds them beside go test's cpu line.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		fmt.Printf("go: %s\ncores: %d\n", runtime.Version(), runtime.NumCPU())
	}
	os.Exit(m.Run())
}

var ctx = context.Background()

// dt is the time step passed to every update call. It is a variable, so
// that no variant gets a constant argument boxed for free.
var dt = 0.016

// moverSrc is the class every call, tick and memory benchmark uses, in the
// engine (as module "mover") and in raw gopher-lua alike: six number fields
// and an update method. Mover.spawn makes objects in Lua and keeps them;
// Mover.tick is the Lua-side loop.
const moverSrc = `
local Mover = {}
Mover.__index = Mover

function Mover.new(x, y)
  local o = setmetatable({}, Mover)
  o:init(x, y)
  return o
end

function Mover:init(x, y)
  self.x, self.y = x, y
  self.vx, self.vy = 1, 0.5
  self.hp, self.speed = 100, 2
end

function Mover:update(dt)
  local x = self.x + self.vx * self.speed * dt
  if x < 0 or x > 100 then self.vx = -self.vx end
  self.x = x
  self.y = self.y + self.vy * self.speed * dt
  return x
end

function Mover.tick(objs, dt)
  for i = 1, #objs do objs[i]:update(dt) end
end

function Mover.spawn(n)
  local all = {}
  for i = 1, n do all[i] = Mover.new(i, i) end
  Mover.pool = all
end

return Mover
`

// mover is the Go struct that does Mover's work: the floor.
type mover struct{ x, y, vx, vy, hp, speed float64 }

func (m *mover) update(dt float64) float64 {
	x := m.x + m.vx*m.speed*dt
	if x < 0 || x > 100 {
		m.vx = -m.vx
	}
	m.x = x
	m.y += m.vy * m.speed * dt
	return x
}

// moverJS is Mover in JavaScript, for goja.
const moverJS = `
class Mover {
  constructor(x, y) { this.x = x; this.y = y; this.vx = 1; this.vy = 0.5; this.hp = 100; this.speed = 2; }
  update(dt) {
    const x = this.x + this.vx * this.speed * dt;
    if (x < 0 || x > 100) this.vx = -this.vx;
    this.x = x;
    this.y = this.y + this.vy * this.speed * dt;
    return x;
  }
}
function tick(objs, dt) { for (let i = 0; i < objs.length; i++) objs[i].update(dt); }
`

// writeFiles writes files (slash path relative to dir -> content) under dir.
func writeFiles(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// options are the engine options for the scripts under dir, logging nothing.
func options(dir string) engine.Options {
	return engine.Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler)}
}

// newEngine writes files into a fresh root and loads it; the engine closes
// when the benchmark ends. It returns the root too.
func newEngine(tb testing.TB, files map[string]string) (*engine.Engine, string) {
	tb.Helper()
	dir := tb.TempDir()
	writeFiles(tb, dir, files)
	e, err := engine.New(options(dir))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e, dir
}

// newObjects makes n engine objects of class, each with init(self, i, i).
func newObjects(tb testing.TB, e *engine.Engine, class string, n int) []*engine.Object {
	tb.Helper()
	objs := make([]*engine.Object, n)
	for i := range objs {
		o, err := e.New(ctx, class, float64(i), float64(i))
		if err != nil {
			tb.Fatal(err)
		}
		objs[i] = o
	}
	return objs
}

// rawClass runs src in L and returns the class table it returns.
func rawClass(tb testing.TB, L *lua.LState, src string) *lua.LTable {
	tb.Helper()
	if err := L.DoString(src); err != nil {
		tb.Fatal(err)
	}
	cls := L.Get(-1).(*lua.LTable)
	L.Pop(1)
	return cls
}

// rawObjects makes n instances of cls from Go, as a raw gopher-lua host
// does: a table, its metatable, and cls.init(t, i, i).
func rawObjects(tb testing.TB, L *lua.LState, cls *lua.LTable, n int) []*lua.LTable {
	tb.Helper()
	init := L.GetField(cls, "init")
	objs := make([]*lua.LTable, n)
	for i := range objs {
		t := L.NewTable()
		L.SetMetatable(t, cls)
		if err := L.CallByParam(lua.P{Fn: init, Protect: true}, t, lua.LNumber(i), lua.LNumber(i)); err != nil {
			tb.Fatal(err)
		}
		objs[i] = t
	}
	return objs
}

// callRaw calls fn(self, dt) as the engine does a method: protected, one
// result, popped.
func callRaw(tb testing.TB, L *lua.LState, fn lua.LValue, self *lua.LTable) {
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, self, lua.LNumber(dt)); err != nil {
		tb.Fatal(err)
	}
	L.Pop(1)
}

// retained returns how many bytes of heap what mk makes keeps alive
// (HeapAlloc after a collection, before and after).
func retained(mk func() any) float64 {
	before := heapAlloc()
	v := mk()
	after := heapAlloc()
	runtime.KeepAlive(v)
	return after - before
}

// heapAlloc returns HeapAlloc after a collection.
func heapAlloc() float64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc)
}
