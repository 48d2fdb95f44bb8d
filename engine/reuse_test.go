package engine

import (
	"context"
	"runtime"
	"testing"
)

// TestWhichLibraryModulesOutliveAReload: a class library (its code calls
// setmetatable) with module state, here a counter its functions write,
// keeps its module locals while its source does not change, and a reload
// requiring it holds calls until it is prepared, with a busy error saying
// so; so does one whose value reaches a weak table at the end of the load
// (a registry its functions fill through a helper). A class library without module state, like a helper module, runs
// afresh in every generation: its locals are new, a reload that requires it
// does not hold calls up, and its functions keep no old generation alive.
func TestWhichLibraryModulesOutliveAReload(t *testing.T) {
	const counter = `
local made = 0
function M.count() made = made + 1 return made end
return M
`
	rows := []struct {
		name      string
		lib       string
		after     float64 // count() after the reload (it answered 1 before)
		kept      bool    // its locals outlive the reload
		holdsCall string
	}{
		{"helper module", "local M = {}\nfunction M.clamp(x, lo, hi) return math.max(lo, math.min(hi, x)) end" + counter, 1, false, ""},
		{"class library with module state", "local M = {}\nfunction M.class() return setmetatable({}, {}) end" + counter, 2, true,
			"loading generation 2 (its scripts reached the library lib, kept from generation 1)"},
		// Its functions write only through a helper: its value reaching a
		// weak table at the end of the load is what marks its state.
		{"class library with a weak registry", "local M = {}\nlocal made, reg = {n = 0}, setmetatable({}, {__mode = 'k'})\n" +
			"local function add(t, k) t[k] = (t[k] or 0) + 1 return t[k] end\n" +
			"function M.class(spec) add(reg, spec) return setmetatable(spec, {}) end\n" +
			"function M.count() return add(made, 'n') end\nreturn M\n", 2, true,
			"loading generation 2 (its scripts reached the library lib, kept from generation 1)"},
		{"class library without module state", "local M = {}\nlocal loadedBy = hot.generation()\n" +
			"function M.class(spec) spec.__index = spec return setmetatable(spec, {__call = function(c) return setmetatable({}, c) end}) end\n" +
			"function M.count() return loadedBy end\nreturn M\n", 2, false, ""},
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

			if got := call(t, user, "count"); got != row.after {
				t.Errorf("count after the reload = %v, want %v", got, row.after)
			}
			runtime.GC()
			gens := e.Generations()
			if kept := len(gens) > 1; kept != row.kept {
				t.Errorf("generations in memory = %+v; an old one kept: %v, want %v", gens, kept, row.kept)
			}
		})
	}
}
