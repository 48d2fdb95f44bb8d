package engine

import (
	"context"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestUndoSnapshotFailureFailsTheLoad: a load that reaches a persisted
// table too large to copy for the undo (more than 2^20 fields) fails, even
// when its top level catches that error, and writes nothing into persisted
// tables after it.
func TestUndoSnapshotFailureFailsTheLoad(t *testing.T) {
	const script = `
local big = hot.persist("big", {})
local small = hot.persist("small", {})
local C = {}
C.__index = C
function C.fill(n) for i = 1, n do big[i] = i end end
function C:written() return big.extra ~= nil or small.extra ~= nil end
%s
return C
`
	e, dir := newEngine(t, map[string]string{"c.lua": strings.Replace(script, "%s", "", 1)})
	if err := e.Do(context.Background(), func(L *lua.LState) error {
		return L.DoString(`require("c").fill(1100000)`)
	}); err != nil {
		t.Fatal(err)
	}
	obj, err := e.New(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	writeScripts(t, dir, map[string]string{"c.lua": strings.Replace(script, "%s", `
assert(not pcall(function() return big[1] end))
pcall(function() big.extra = true end)
pcall(function() small.extra = true end)`, 1)})
	if _, err := e.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "too much to restore") {
		t.Errorf("reload = %v, want it failed with the snapshot's error", err)
	}
	v, err := obj.Call(context.Background(), "written")
	if err != nil {
		t.Fatal(err)
	}
	if v.Any() != false {
		t.Errorf("the failed reload's writes into persisted tables were kept")
	}
}
