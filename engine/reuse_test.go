package engine

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestWhichLibraryModulesOutliveAReload: a helper module that makes no
// objects runs afresh in every generation, so a reload that requires it
// does not hold calls up and its functions keep no old generation alive; a
// class library (its code calls setmetatable) keeps its module locals while
// its source does not change, and a reload requiring it holds calls until
// it is prepared, with a busy error saying so.
func TestWhichLibraryModulesOutliveAReload(t *testing.T) {
	const counter = `
local made = 0
function M.count() made = made + 1 return made end
return M
`
	rows := []struct {
		name      string
		lib       string
		kept      bool // its locals outlive the reload
		holdsCall string
	}{
		{"helper module", "local M = {}\nfunction M.clamp(x, lo, hi) return math.max(lo, math.min(hi, x)) end" + counter, false, ""},
		{"class library", "local M = {}\nfunction M.class() return setmetatable({}, {}) end" + counter, true,
			"loading generation 2 (its scripts reached the library lib, kept from generation 1)"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			g, reg := newGate(t)
			e, dir := newEngine(t, map[string]string{
				"lib.lua":          row.lib,
				"user.lua":         "local lib = require('lib')\nlocal U = {}\nU.__index = U\nfunction U:count() return lib.count() end\nreturn U\n",
				"units/goblin.lua": strings.Replace(goblinScript, "%s", "", 1),
			}, func(o *Options) { o.Bindings = reg; o.LoadTimeout = time.Minute })
			bg := context.Background()
			user, err := e.New(bg, "user")
			if err != nil {
				t.Fatal(err)
			}
			other, err := e.New(bg, "units.goblin", 42)
			if err != nil {
				t.Fatal(err)
			}
			if got := call(t, user, "count"); got != float64(1) {
				t.Fatalf("count = %v, want 1", got)
			}

			writeScripts(t, dir, map[string]string{"slow.lua": "require('lib')\nentered()\nwhile not released() do end\nreturn true\n"})
			done := make(chan error, 1)
			go func() { _, err := e.Reload(bg); done <- err }()
			g.waitIn(t)
			ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
			hp, err := other.Call(ctx, "update")
			cancel()
			switch {
			case row.holdsCall == "" && err != nil:
				t.Errorf("a call while the reload loads: %v, want an answer", err)
			case row.holdsCall == "" && hp.Any() != float64(42):
				t.Errorf("a call while the reload loads = %v, want 42", hp.Any())
			case row.holdsCall != "" && (!errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), row.holdsCall)):
				t.Errorf("a call while the reload loads: %v, want a busy error naming %q", err, row.holdsCall)
			}
			g.released.Store(true)
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("reload: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the reload never ended")
			}

			want := float64(1)
			if row.kept {
				want = 2
			}
			if got := call(t, user, "count"); got != want {
				t.Errorf("count after the reload = %v, want %v", got, want)
			}
			runtime.GC()
			gens := e.Generations()
			if kept := len(gens) > 1; kept != row.kept {
				t.Errorf("generations in memory = %+v; an old one kept: %v, want %v", gens, kept, row.kept)
			}
		})
	}
}
