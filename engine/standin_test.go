package engine

import (
	"context"
	"strings"
	"testing"
)

const persistedClass = `
local s = hot.persist("s", {n = 1, sub = {}})
local q = hot.persist("q", {})
local P = {}
P.__index = P
function P:get() return s.n end
function P:bump() s.n = s.n + 1 return s.n end
function P:same() return s == hot.persist("s") and q == hot.persist("q") and (s.sub.q == nil or s.sub.q == q) end
function P:queue() return table.concat(q, ",") end
%s
return P
`

// TestLoadKeepsPersistedValuesWithoutHoldingCalls: a reload whose top level
// only takes hot.persist values loads beside running calls, and its
// functions then use the persisted tables themselves; a top level that
// reaches into one (indexing, pairs, #, rawget, the table library) sees and
// changes the table itself, holding calls until the load is prepared.
func TestLoadKeepsPersistedValuesWithoutHoldingCalls(t *testing.T) {
	rows := []struct {
		name      string
		top       string // the reload's top level, before it waits at the gate
		holdsCall string // "" when calls are answered while it loads
		queue     string // q after the reload
	}{
		{"takes the values only", "", "", ""},
		{"reaches into them", `
assert(s.n == 2 and #q == 0 and rawget(s, "n") == 2)
local keys = 0
for k in pairs(s) do keys = keys + 1 end
assert(keys == 2 and next(s) ~= nil)
table.insert(q, "boot")
q[#q + 1] = "ready"
assert(#q == 2 and select(2, ipairs(q))[1] == "boot")
rawset(s, "loaded", true)
s.sub.q = q`, `loading generation 2 (its scripts reached hot.persist("s"))`, "boot,ready"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			e, dir, g, probe := gatedEngine(t, map[string]string{"p.lua": strings.Replace(persistedClass, "%s", "", 1)})
			p, err := e.New(context.Background(), "p")
			if err != nil {
				t.Fatal(err)
			}
			if got := call(t, p, "bump"); got != float64(2) {
				t.Fatalf("bump = %v, want 2", got)
			}
			checkCallDuringReload(t, e, dir, g, probe, map[string]string{"p.lua": strings.Replace(persistedClass, "%s", row.top+"\nentered()\nwhile not released() do end", 1)}, row.holdsCall)

			if got := call(t, p, "same"); got != true {
				t.Errorf("the new functions hold stand-ins, not the persisted tables")
			}
			if got := call(t, p, "bump"); got != float64(3) {
				t.Errorf("bump after the reload = %v, want 3", got)
			}
			if got := call(t, p, "queue"); got != row.queue {
				t.Errorf("q after the reload = %q, want %q", got, row.queue)
			}
			v, err := e.CallGlobal(context.Background(), "tostring", 0)
			if err != nil || v.Any() != "0" {
				t.Fatalf("the engine does not answer after the reload: %v %v", v, err)
			}
		})
	}
}
