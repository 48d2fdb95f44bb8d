package engine

import (
	"context"
	"strings"
	"testing"
)

// TestLoadHoldingTheLockSeesOneVersionOfEachField: once a load holds the
// engine's lock (it reached a persisted object), it may reach a table of
// plain data both through its stand-in and directly (through the
// object): both see every write, the last one is what the commit keeps,
// and the stand-in it was given stays one value.
func TestLoadHoldingTheLockSeesOneVersionOfEachField(t *testing.T) {
	const script = `
local s = hot.persist("s", {sub = {x = 1}})
local w = hot.persist("w", function() return setmetatable({}, {}) end)
local P = {}
P.__index = P
function P:x() return s.sub.x end
%s
return P
`
	e, dir := newEngine(t, map[string]string{"p.lua": strings.Replace(script, "%s", "w.ref = s.sub", 1)})
	p, err := e.New(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	reload(t, e, dir, map[string]string{"p.lua": strings.Replace(script, "%s", `
local sub = s.sub
s.sub.x = 5
assert(w.ref.x == 5, "through the object the load sees x = " .. tostring(w.ref.x) .. ", not its 5")
w.ref.x = 7
assert(s.sub.x == 7, "through the stand-in the load sees x = " .. tostring(s.sub.x) .. ", not its 7")
assert(s.sub == sub, "the stand-in of s.sub changed once the load held the lock")`, 1)})
	if got := call(t, p, "x"); got != float64(7) {
		t.Errorf("after the commit x = %v, want 7, the load's last write", got)
	}
}
