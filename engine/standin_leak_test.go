package engine

import (
	"context"
	"strings"
	"testing"
)

// TestStandInsDoNotOutliveTheLoad: a reload's top level that puts its
// stand-ins where the identity walk does not go (a table it hangs into a
// persisted one) or hands one to a function of the running generation (a
// persisted object's method) still acts on, and leaves behind, the
// persisted tables themselves, for this generation and the later ones; a
// persisted table keyed by another is indexed by that table through their
// stand-ins.
func TestStandInsDoNotOutliveTheLoad(t *testing.T) {
	const world = `
local World = {}
World.__index = World
function World:put(k, v) rawset(self, k, v) end
function World:me() return self end
function World:keys()
  local n = 0
  for _ in pairs(self) do n = n + 1 end
  return n
end
return World
`
	const main = `
local World = require "world"
local s = hot.persist("s", {})
local q = hot.persist("q", {})
local w = hot.persist("w", function() return setmetatable({}, World) end)
-- gen %d
%s
local P = {}
P.__index = P
function P:same() return rawequal(s.refs.q, q) and s.refs.q == q end
function P:refsCount()
  local n = 0
  for _ in pairs(s.refs.q) do n = n + 1 end
  return n
end
function P:worldKeys() return w:keys() end
function P:put() rawset(s.refs.q, "x", 1) return q.x end
local me = hot.method(w, "me")
local version = hot.version(w)
function P:viaMethod() return me() == w end
function P:version() return version end
function P:aliased() return hot.persist("alias2") == q end
return P
`
	const top = `
local before = hot.persist("q")
s[q] = s[q] or hot.generation()
assert(hot.persist("q") == before, "hot.persist gives another value for q once the load holds the lock")
assert(s[q] == 1 and rawget(s, q) == 1, "a persisted table keyed by another, through their stand-ins")
s.refs = {q = q}
q.n = 1
w:put(hot.generation(), true)
hot.persist("alias" .. hot.generation(), q)`
	e, dir := newEngine(t, map[string]string{"world.lua": world, "p.lua": fmtMain(main, 1, top)})
	p, err := e.New(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	reload(t, e, dir, map[string]string{"p.lua": fmtMain(main, 2, top)})
	if got := call(t, p, "same"); got != true {
		t.Errorf("after the reload a table the top level hung into a persisted one holds a stand-in")
	}
	if got := call(t, p, "worldKeys"); got != float64(2) {
		t.Errorf("a write by the running generation's method on a stand-in was lost: the world has %v keys, want 2", got)
	}
	if got := call(t, p, "viaMethod"); got != true {
		t.Errorf("hot.method of a persisted object at the top level calls its method on a stand-in")
	}
	if got, _ := call(t, p, "version").(string); !strings.HasPrefix(got, "g1:") {
		t.Errorf("hot.version of a persisted object at the top level = %q, want its version", got)
	}
	if got := call(t, p, "aliased"); got != true {
		t.Errorf("a stand-in given to hot.persist under a new key is what the key keeps")
	}
	reload(t, e, dir, map[string]string{"p.lua": fmtMain(main, 3, "")})
	if got := call(t, p, "refsCount"); got != float64(1) {
		t.Errorf("pairs in the next generation sees %v fields of the table, want 1", got)
	}
	if got := call(t, p, "put"); got != float64(1) {
		t.Errorf("rawset in the next generation wrote beside the table: q.x = %v, want 1", got)
	}
}

func fmtMain(main string, gen int, top string) string {
	return strings.Replace(strings.Replace(main, "%d", string(rune('0'+gen)), 1), "%s", top, 1)
}
