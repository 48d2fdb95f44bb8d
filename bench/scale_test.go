package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/engine"
)

// scaleGroup is how many modules one group of the synthetic project has:
// one base class written the idiomatic way, four classes derived from a
// base in another file (idiomatic), three hot.class classes and two utility
// modules.
const scaleGroup = 10

// scaleBaseSrc is a group's base class, g%[1]s/base.lua.
const scaleBaseSrc = `-- g%[1]s/base.lua: a base class of the synthetic project.
local util = require("g%[1]s.util")
local Base = {}
Base.__index = Base

Base.max_hp = 100
Base.speed = %[2]d

function Base:init(x, y)
  self.x, self.y = x or 0, y or 0
  self.vx, self.vy = 1, 0.5
  self.hp = self.max_hp
end

function Base:update(dt)
  self.x = util.clamp(self.x + self.vx * self.speed * dt, 0, 100)
  self.y = util.clamp(self.y + self.vy * self.speed * dt, 0, 100)
  return self.x
end

function Base:hit(n)
  self.hp = math.max(0, self.hp - n)
  return self.hp
end

function Base:alive() return self.hp > 0 end

function Base:describe()
  return string.format("%%s at (%%.1f, %%.1f) hp %%d", self.kind or "base", self.x, self.y, self.hp)
end

return Base
`

// scaleDerivedSrc is an idiomatic class derived from the base of another
// group (%[2]s): g%[1]s/d%[3]d.lua.
const scaleDerivedSrc = `-- g%[1]s/d%[3]d.lua: a class derived from g%[2]s.base.
local Base = require("g%[2]s.base")
local names = require("g%[1]s.names")
local D = setmetatable({}, {__index = Base})
D.__index = D

local RANGE = %[3]d * 2

function D:init(x, y)
  Base.init(self, x, y)
  self.kind = names.pick(%[3]d)
  self.cooldown = 0
end

function D:update(dt)
  Base.update(self, dt)
  self.cooldown = math.max(0, self.cooldown - dt)
  if self.cooldown == 0 and self:alive() then self:act(dt) end
  return self.x
end

function D:act(dt)
  self.cooldown = 1 / self.speed
  self.vx = self.vx + math.sin(self.x) * dt
  self.vy = self.vy + math.cos(self.y) * dt
end

function D:inRange(other)
  local dx, dy = other.x - self.x, other.y - self.y
  return dx * dx + dy * dy <= RANGE * RANGE
end

function D:nearest(list)
  local best, bestd = nil, math.huge
  for _, o in ipairs(list) do
    local dx, dy = o.x - self.x, o.y - self.y
    local d = dx * dx + dy * dy
    if o ~= self and d < bestd then best, bestd = o, d end
  end
  return best
end

return D
`

// scaleHotSrc is a hot.class class derived from its group's base:
// g%[1]s/h%[2]d.lua.
const scaleHotSrc = `-- g%[1]s/h%[2]d.lua: a hot.class class.
local Base = require("g%[1]s.base")
local util = require("g%[1]s.util")
local H = hot.class("g%[1]s.h%[2]d", Base)

H.speed = %[2]d + 1

function H:init(x, y, team)
  Base.init(self, x, y)
  self.team = team or "red"
  self.kind = "h%[2]d"
  self.charge = 0
end

function H:update(dt)
  self.charge = util.clamp(self.charge + dt, 0, 3)
  if self.charge >= 3 then self:release() end
  return Base.update(self, dt)
end

function H:release()
  self.charge = 0
  self.vx, self.vy = -self.vx, -self.vy
end

function H:heal(n)
  self.hp = math.min(self.max_hp, self.hp + n)
end

return H
`

// scaleUtilSrc is a group's utility module, g%[1]s/util.lua.
const scaleUtilSrc = `-- g%[1]s/util.lua: helper functions.
local M = {}

function M.clamp(v, lo, hi)
  if v < lo then return lo elseif v > hi then return hi end
  return v
end

function M.lerp(a, b, t) return a + (b - a) * t end

function M.sum(xs)
  local s = 0
  for i = 1, #xs do s = s + xs[i] end
  return s
end

function M.keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

return M
`

// scaleNamesSrc is a group's second utility module, a data table with a
// function: g%[1]s/names.lua.
const scaleNamesSrc = `-- g%[1]s/names.lua: names and a picker.
local names = {"scout", "guard", "archer", "mage", "rogue", "knight", "healer", "smith"}
local M = {list = names, group = "g%[1]s"}

function M.pick(i)
  return names[(i - 1) %% #names + 1]
end

return M
`

// scaleProject returns a synthetic project of n modules (n a multiple of
// scaleGroup), by path, and the path of the file its benchmarks edit: a
// derived class.
func scaleProject(n int) (files map[string]string, edited string) {
	groups := n / scaleGroup
	files = make(map[string]string, n)
	for g := range groups {
		id := fmt.Sprintf("%04d", g)
		other := fmt.Sprintf("%04d", (g+1)%groups)
		files["g"+id+"/base.lua"] = fmt.Sprintf(scaleBaseSrc, id, 5+g%7)
		for d := 1; d <= 4; d++ {
			files[fmt.Sprintf("g%s/d%d.lua", id, d)] = fmt.Sprintf(scaleDerivedSrc, id, other, d)
		}
		for h := 1; h <= 3; h++ {
			files[fmt.Sprintf("g%s/h%d.lua", id, h)] = fmt.Sprintf(scaleHotSrc, id, h)
		}
		files["g"+id+"/util.lua"] = fmt.Sprintf(scaleUtilSrc, id)
		files["g"+id+"/names.lua"] = fmt.Sprintf(scaleNamesSrc, id)
	}
	return files, "g0000/d2.lua"
}

// largeEnv names the environment variable that adds the 5,000-module
// project to BenchmarkScale (about 15 s more per run, mostly writing and
// compiling 5,000 files twice) and runs BenchmarkCommitPauseClasses (about
// 50 s). benchtable -large sets it.
const largeEnv = "HOTLUA_BENCH_LARGE"

// scaleSizes returns the project sizes of BenchmarkScale.
func scaleSizes() []int {
	if os.Getenv(largeEnv) != "" {
		return []int{50, 500, 5000}
	}
	return []int{50, 500}
}

// BenchmarkScale measures a synthetic project of 50, 500 and, with
// HOTLUA_BENCH_LARGE=1 in the environment, 5,000 modules (scaleProject):
//
//   - engine: Engine.Reload after one derived class changed (the write is
//     not timed), beside raw-floor, the least any reload can do: a fresh raw
//     gopher-lua state running every module from prototypes compiled once,
//     then closed. Both also report the CPU time the process used per
//     reload (cpu-ns/op, the garbage collector's included), which a machine
//     shared with other work disturbs less than the wall time.
//   - the heap, after a collection: what the engine holds after the reloads
//     (B), beside the raw total, the prototypes plus one state; what one
//     generation holds (B/generation) and that per module (B/module),
//     beside one raw state's. An engine keeps its compiled prototypes and
//     the status of every file (to read only what changed) once, not per
//     generation, so a generation's heap is what a second engine adds when
//     it shares them: engine.Shards of two engines, less the engine. That
//     counts each engine's own bookkeeping (class handles, the bindings
//     registry) with its generation.
//   - then, with the engine's watcher on (Engine.Monitor), five saves of
//     the same file: the mean reload the watcher makes, which reads only
//     the file it reported, from its batch to the commit (watch-ns/op,
//     ReloadEvent.Duration: no debounce), and the process's CPU time from
//     each save to the end of its reload (watch-cpu-ns/op).
func BenchmarkScale(b *testing.B) {
	for _, n := range scaleSizes() {
		files, edited := scaleProject(n)
		b.Run(fmt.Sprintf("modules=%d", n), func(b *testing.B) {
			var protoBytes float64
			var protos map[string]*lua.FunctionProto
			protoBytes = retained(func() any {
				protos = compileTrimmed(b, files)
				return protos
			})
			b.Run("engine", func(b *testing.B) {
				dir := b.TempDir()
				writeFiles(b, dir, files)
				watched := make(chan engine.ReloadEvent, 1)
				opts := options(dir)
				opts.OnReload = func(ev engine.ReloadEvent) {
					if ev.Trigger == "watch" {
						select {
						case watched <- ev:
						default: // never hold the engine's reload up
						}
					}
				}
				before := heapAlloc()
				e, err := engine.New(opts)
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				var cpu int64
				for i := 0; b.Loop(); i++ {
					b.StopTimer()
					writeFiles(b, dir, map[string]string{edited: fmt.Sprintf("%s-- edit %d\n", files[edited], i)})
					b.StartTimer()
					start := cpuTime()
					if _, err := e.Reload(ctx); err != nil {
						b.Fatal(err)
					}
					cpu += cpuTime() - start
				}
				b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
				// After the reloads: what an engine keeps in use, not only once loaded.
				engineBytes := heapAlloc() - before
				runtime.KeepAlive(e)
				reportHeap(b, n, engineBytes, twoShardsHeap(b, dir)-engineBytes)
				watchWall, watchCPU := watchedReloads(b, e, dir, edited, files[edited], watched)
				b.ReportMetric(watchWall, "watch-ns/op")
				b.ReportMetric(watchCPU, "watch-cpu-ns/op")
			})
			b.Run("raw-floor", func(b *testing.B) {
				var L *lua.LState
				stateBytes := retained(func() any {
					L = rawGeneration(b, protos)
					return L
				})
				L.Close()
				start := cpuTime()
				for b.Loop() {
					rawGeneration(b, protos).Close()
				}
				b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
				reportHeap(b, n, protoBytes+stateBytes, stateBytes)
			})
			runtime.KeepAlive(protos)
		})
	}
}

// watchedSaves is how many saves watchedReloads makes.
const watchedSaves = 5

// watchedReloads starts e's watcher and saves the file edited (under dir,
// of text src) watchedSaves times, each time waiting for the reload the
// watcher makes. It returns the mean of the reloads' durations (from the
// watcher's batch to the commit, without the debounce before it) and of
// the CPU time the process used from each save to its reload's end.
func watchedReloads(b *testing.B, e *engine.Engine, dir, edited, src string, watched <-chan engine.ReloadEvent) (wall, cpu float64) {
	if err := e.Monitor(); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, filepath.FromSlash(edited))
	for i := range watchedSaves {
		start := cpuTime()
		if err := os.WriteFile(path, fmt.Appendf(nil, "%s-- saved %d\n", src, i), 0o644); err != nil {
			b.Fatal(err)
		}
		select {
		case ev := <-watched:
			if ev.Err != nil {
				b.Fatal(ev.Err)
			}
			wall += float64(ev.Duration)
		case <-time.After(time.Minute):
			b.Fatal("no reload within a minute of a save")
		}
		cpu += float64(cpuTime() - start)
	}
	return wall / watchedSaves, cpu / watchedSaves
}

// twoShardsHeap returns the heap that engine.Shards of two engines over
// the scripts in dir keep after a reload.
func twoShardsHeap(b *testing.B, dir string) float64 {
	var s *engine.Shards
	heap := retained(func() any {
		var err error
		if s, err = engine.NewShards(options(dir), "a", "b"); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Reload(ctx); err != nil {
			b.Fatal(err)
		}
		return s
	})
	s.Close()
	return heap
}

// reportHeap reports the heap of a whole engine (or raw equivalent) and of
// a generation, and a generation's per module.
func reportHeap(b *testing.B, modules int, whole, generation float64) {
	b.ReportMetric(whole, "B")
	b.ReportMetric(generation, "B/generation")
	b.ReportMetric(generation/float64(modules), "B/module")
}

// BenchmarkContextCheck measures what gopher-lua's per-instruction check of
// a state's context (SetContext, which the engine installs for a load, under
// Options.LoadTimeout, and for a call whose context can end) costs, in raw
// states, beside none:
//
//   - top-level: the top level of every module of the 500-module project,
//     in a fresh state. A module's top level runs few instructions (about 25
//     here): the state, the tables and the closures it makes are the cost.
//   - loop: a Lua loop of 100,000 calls, where the check is paid on every
//     instruction.
func BenchmarkContextCheck(b *testing.B) {
	files, _ := scaleProject(500)
	protos := compileTrimmed(b, files)
	withDeadline := func(L *lua.LState, deadline bool, run func()) {
		if deadline {
			c, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			L.SetContext(c)
			defer L.RemoveContext()
		}
		run()
	}
	for _, deadline := range []bool{true, false} {
		name := "none"
		if deadline {
			name = "deadline"
		}
		b.Run("top-level/"+name, func(b *testing.B) {
			for b.Loop() {
				L := rawState(protos)
				withDeadline(L, deadline, func() { requireAll(b, L, protos) })
				L.Close()
			}
		})
		b.Run("loop/"+name, func(b *testing.B) {
			L := lua.NewState()
			defer L.Close()
			fn, err := L.LoadString(`
local function add(a, b) return a + b end
local s = 0
for i = 1, 100000 do s = add(s, i) end
return s`)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				withDeadline(L, deadline, func() {
					if err := L.CallByParam(lua.P{Fn: fn, Protect: true}); err != nil {
						b.Fatal(err)
					}
				})
			}
		})
	}
}

// pauseObjects is how many live objects BenchmarkCommitPauseClasses keeps.
const pauseObjects = 1_000_000

// spawnerSrc is k/spawner.lua of BenchmarkCommitPauseClasses: spawn(n,
// classes) makes n objects in Lua, spread over the classes k.c0000 ...,
// and keeps them in a persisted table.
const spawnerSrc = `
local Spawner = {}
Spawner.__index = Spawner
function Spawner.spawn(n, classes)
  local pool = hot.persist("pool", function() return {} end)
  local cls = {}
  for i = 0, classes - 1 do cls[i] = require(string.format("k.c%04d", i)) end
  for i = 1, n do pool[#pool + 1] = setmetatable({}, cls[i % classes]) end
end
return Spawner
`

// hookedSrc is a class with a __migrate hook and no objects, the other
// class of BenchmarkCommitPauseClasses's hook=other-class rows.
const hookedSrc = `
local Hooked = {}
Hooked.__index = Hooked
function Hooked:__migrate(old) self.from = old.version end
return Hooked
`

// BenchmarkCommitPauseClasses reloads a one-class change in a project of
// 50, 500 and 5,000 blank classes, one file each, with a million live objects
// spread over them, and reports how long calls were held for the commit
// (Report.Pause, as pause-ns/op) beside the whole reload (ns/op); the
// hook=other-class rows have one more class, with a __migrate hook and no
// objects, which the change does not touch. It runs only with
// HOTLUA_BENCH_LARGE=1 (about 50 s).
func BenchmarkCommitPauseClasses(b *testing.B) {
	if os.Getenv(largeEnv) == "" {
		b.Skip("set " + largeEnv + "=1 (benchtable -large) to run it")
	}
	for _, c := range []struct {
		n    int
		hook string
	}{{50, "none"}, {500, "none"}, {5000, "none"}, {500, "other-class"}, {5000, "other-class"}} {
		n := c.n
		b.Run(fmt.Sprintf("classes=%d/objects=%d/hook=%s", n, pauseObjects, c.hook), func(b *testing.B) {
			files := map[string]string{"k/spawner.lua": spawnerSrc}
			for i := range n {
				files[fmt.Sprintf("k/c%04d.lua", i)] = blankSrc
			}
			if c.hook == "other-class" {
				files["k/hooked.lua"] = hookedSrc
			}
			e, dir := newEngine(b, files)
			spawner, err := e.Class("k.spawner")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := spawner.Call(ctx, "spawn", pauseObjects, n); err != nil {
				b.Fatal(err)
			}
			edited := fmt.Sprintf("k/c%04d.lua", n/2)
			var pause int64
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				writeFiles(b, dir, map[string]string{edited: fmt.Sprintf("%s-- edit %d\n", blankSrc, i)})
				b.StartTimer()
				r, err := e.Reload(ctx)
				if err != nil {
					b.Fatal(err)
				}
				pause += r.Pause.Nanoseconds()
			}
			b.ReportMetric(float64(pause)/float64(b.N), "pause-ns/op")
		})
	}
}
