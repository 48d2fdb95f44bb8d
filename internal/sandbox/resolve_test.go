package sandbox

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestResolveTablesActsOnTheTableStoodFor: with a resolver that maps an
// empty stand-in (a table with a metatable) to a real table, every function
// ResolveTables lists acts on the real table, in a sandboxed state and in a
// trusted one (whose libraries are gopher-lua's own), a table given with
// the one acted on is resolved as what that one holds, what a function
// returns of the table it acted on is the one it was given, and a table
// without a metatable is never handed to the resolver.
func TestResolveTablesActsOnTheTableStoodFor(t *testing.T) {
	const script = `
assert(stand.a == nil and rawget(stand, "a") == 1, "rawget")
rawset(stand, "b", 2)
assert(real.b == 2, "rawset")
local keys = 0
for _ in pairs(stand) do keys = keys + 1 end
assert(keys == 5, "pairs saw " .. keys)
assert(select(2, pairs(stand)) == stand and select(2, ipairs(stand)) == stand, "pairs and ipairs return the table given")
assert(next(stand) ~= nil, "next")
local n = 0
for _, v in ipairs(stand) do n = n + v end
assert(n == 60, "ipairs")
assert(select("#", unpack(stand)) == 3, "unpack")
assert(rawequal(stand, real), "rawequal")
assert(getmetatable(stand) == realMeta, "getmetatable")
table.insert(stand, 40)
assert(real[4] == 40 and table.concat(stand, ",") == "10,20,30,40", "table.insert, table.concat")
assert(table.remove(stand) == 40 and #real == 3, "table.remove")
table.sort(stand, function(x, y) return x > y end)
assert(real[1] == 30, "table.sort")
table.insert(real, stand)
assert(real[4] == real, "a stand-in passed as a value is the table")
`
	for _, trusted := range []bool{false, true} {
		L := NewState(Config{Trusted: trusted, Limits: testLimits})
		real := L.NewTable()
		realMeta := L.NewTable()
		real.Metatable = realMeta
		real.RawSetString("a", lua.LNumber(1))
		for i, v := range []float64{10, 20, 30} {
			real.RawSetInt(i+1, lua.LNumber(v))
		}
		stand := L.NewTable()
		stand.Metatable = L.NewTable()
		plainSeen, valueIn := false, false
		ResolveTables(L, func(L *lua.LState, t, in *lua.LTable) *lua.LTable {
			if t.Metatable == lua.LNil {
				plainSeen = true
			}
			valueIn = valueIn || (t == stand && in == real)
			if t == stand {
				return real
			}
			return t
		})
		L.SetGlobal("stand", stand)
		L.SetGlobal("real", real)
		L.SetGlobal("realMeta", realMeta)
		if err := L.DoString(script + "\nlocal plain = {3, 1} table.sort(plain) rawset(plain, 'x', 1)"); err != nil {
			t.Errorf("trusted %v: %v", trusted, err)
		}
		if !valueIn {
			t.Errorf("trusted %v: the stand-in given as a value was not resolved as what the table acted on holds", trusted)
		}
		if plainSeen {
			t.Errorf("trusted %v: a table without a metatable was handed to the resolver", trusted)
		}
		L.Close()
	}
}
