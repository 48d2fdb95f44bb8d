package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hotlua/hotlua/engine"
)

// Entity is a Go value that carries a Lua object: Go owns the identity and
// position, the object's class (from scripts/units) decides what it does.
// Lua reaches it as self.host.
type Entity struct {
	ID   int
	X, Y float64
	Team string

	obj    *engine.Object
	target *Entity
}

// World is the simulated arena. Tick is called by one goroutine.
type World struct {
	e        *engine.Engine
	entities []*Entity
	rng      *rand.Rand
	ticks    int
	times    []time.Duration // tick durations since the last status line
	actions  map[string]int  // what units did since the last status line
	problem  error           // the first failed call since the last status line
}

// tickDeadline bounds one tick's Lua calls: a unit method that loops, or a
// console evaluation holding the engine, costs the world one late tick, not
// the program.
const tickDeadline = 500 * time.Millisecond

var classes = []string{"units.goblin", "units.archer", "units.healer"}

// NewWorld makes n entities of the demo's classes on two teams.
func NewWorld(ctx context.Context, e *engine.Engine, n int, seed uint64) (*World, error) {
	w := &World{e: e, rng: rand.New(rand.NewPCG(seed, seed)), actions: map[string]int{}}
	for i := range n {
		team := []string{"red", "blue"}[i%2]
		ent := &Entity{ID: i + 1, X: w.rng.Float64() * 100, Y: w.rng.Float64() * 100, Team: team}
		obj, err := e.New(ctx, classes[i%len(classes)], team)
		if err != nil {
			return nil, err
		}
		if err := obj.Set("host", ent); err != nil {
			return nil, err
		}
		ent.obj = obj
		w.entities = append(w.entities, ent)
	}
	for _, ent := range w.entities {
		w.retarget(ent)
	}
	return w, nil
}

// retarget picks a random entity of the other team (of the same team for
// healers, who heal).
func (w *World) retarget(ent *Entity) {
	for {
		t := w.entities[w.rng.IntN(len(w.entities))]
		if t == ent {
			continue
		}
		healer := ent.obj.Class() != nil && ent.obj.Class().Name() == "units.healer"
		if (t.Team == ent.Team) == healer {
			ent.target = t
			return
		}
	}
}

// Tick advances every entity by dt. A script error in one entity's update
// is counted and the tick goes on: the world keeps running. When the tick
// runs past tickDeadline (a runaway method, or the engine busy with a
// console evaluation), the rest of it is skipped. When stop ends (the demo
// is stopping), the tick is abandoned and counts for nothing.
func (w *World) Tick(stop context.Context, dt float64) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(stop, tickDeadline)
	defer cancel()
	for _, ent := range w.entities {
		v, err := ent.obj.Call(ctx, "update", dt, ent.target.obj)
		action := ""
		if err == nil {
			action, _ = v.Str()
		}
		if action == "dead" {
			_, err = w.e.CallGlobal(ctx, "respawn", ent.obj)
			w.retarget(ent)
		}
		if err != nil {
			if stop.Err() != nil {
				return // no failure of the scripts: Ctrl-C
			}
			if w.problem == nil {
				w.problem = err
			}
			if ctx.Err() != nil {
				w.actions["late"]++ // the tick is over: skip the rest
				break
			}
			w.actions["error"]++
			continue
		}
		w.actions[action]++
	}
	w.ticks++
	w.times = append(w.times, time.Since(start))
}

// statusWidth is the most columns a status line takes.
const statusWidth = 120

// statusLegend explains the status line; the demo prints it at start.
const statusLegend = `arena: a status line each second: "ticks" counts ticks so far; "tick p50/p99" is the median and
arena: 99th percentile time of one tick (all units' Lua calls) over that second; "gen" the generation running;
arena: "reload" how the last reload ended; then "error" (failed calls; the first is shown above the line) and "late"
arena: (ticks stopped at 500ms) when there were any, and what units did that second, by action, the most frequent
arena: first; the line is cut at 120 columns, dropping the rarest actions.`

// Status returns the status line, at most statusWidth columns, after a
// line naming the period's first failed call if there was one, and starts a
// new measuring period. reload is the last reload's outcome, in a few words.
func (w *World) Status(reload string) string {
	slices.Sort(w.times)
	pct := func(p float64) time.Duration {
		if len(w.times) == 0 {
			return 0
		}
		return w.times[int(p*float64(len(w.times)-1))]
	}
	// Failures first, then the most frequent actions, so that the cut drops
	// only rare ones.
	failures := map[string]int{"error": 2, "late": 1} // 0 for the actions
	names := slices.SortedFunc(maps.Keys(w.actions), func(a, b string) int {
		return cmp.Or(cmp.Compare(failures[b], failures[a]), cmp.Compare(w.actions[b], w.actions[a]), strings.Compare(a, b))
	})
	var acts []string
	for _, k := range names {
		acts = append(acts, fmt.Sprintf("%s %d", k, w.actions[k]))
	}
	line := fmt.Sprintf("ticks %d | tick p50/p99 %v/%v | %d units | gen %d | reload: %s | %s",
		w.ticks, pct(0.5).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), len(w.entities),
		w.e.Generation(), reload, strings.Join(acts, ", "))
	if r := []rune(line); len(r) > statusWidth {
		line = string(r[:statusWidth-1]) + "…"
	}
	if w.problem != nil {
		line = fmt.Sprintf("error: %v\n%s", w.problem, line)
	}
	w.times = w.times[:0]
	clear(w.actions)
	w.problem = nil
	return line
}
