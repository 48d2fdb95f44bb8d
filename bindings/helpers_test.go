package bindings

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// newState returns a fresh state with r installed, closed when t ends.
func newState(t testing.TB, r *Registry) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	if err := r.Install(L); err != nil {
		t.Fatal(err)
	}
	run(t, L, asserts)
	return L
}

// asserts are the helpers of the script-driven tests: same compares values
// deeply (NaN equals NaN), dump shows one.
const asserts = `
function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then
    return a == b or (a ~= a and b ~= b)
  end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
function dump(v)
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = tostring(k) .. "=" .. dump(x) end
  return "{" .. table.concat(parts, ", ") .. "}"
end`

// run runs script in L and fails t on an error.
func run(t testing.TB, L *lua.LState, script string) {
	t.Helper()
	if err := L.DoString(script); err != nil {
		t.Fatal(err)
	}
	L.SetTop(0)
}

// runErr runs script in L and checks that it fails with an error containing want.
func runErr(t testing.TB, L *lua.LState, script, want string) {
	t.Helper()
	err := L.DoString(script)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: error %v, want one containing %q", script, err, want)
	}
	L.SetTop(0)
}
