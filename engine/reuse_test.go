package engine

import (
	"context"
	"runtime"
	"testing"
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
			e, dir, g, probe := gatedEngine(t, map[string]string{
				"lib.lua":  row.lib,
				"user.lua": "local lib = require('lib')\nlocal U = {}\nU.__index = U\nfunction U:count() return lib.count() end\nreturn U\n",
			})
			user, err := e.New(context.Background(), "user")
			if err != nil {
				t.Fatal(err)
			}
			if got := call(t, user, "count"); got != float64(1) {
				t.Fatalf("count = %v, want 1", got)
			}
			checkCallDuringReload(t, e, dir, g, probe, map[string]string{"slow.lua": "require('lib')\nentered()\nwhile not released() do end\nreturn true\n"}, row.holdsCall)

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
