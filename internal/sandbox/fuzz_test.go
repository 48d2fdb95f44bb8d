package sandbox

import (
	"testing"
	"time"
)

// FuzzRun loads arbitrary bytes as a script in a sandboxed state and runs
// it under a short deadline: whatever the script does, the call returns
// (an error is fine) and the state still runs the good snippet with the
// globals it had before.
func FuzzRun(f *testing.F) {
	for _, seed := range []string{
		goodSnippet,
		"x = = 1",
		"while true do end",
		"local function f(n) return f(n + 1) end f(1)",
		`string.rep("x", 1e10)`,
		`local s = "x" while true do s = s .. s end`,
		`string.find(("a"):rep(1e5), ".-.-.-.-b$")`,
		`setmetatable(_G, nil) getmetatable("").__index = {}`,
		`unpack({}, 1, 1e8)`,
		`load(("return " .. ("not "):rep(1e3) .. "1"))`,
		"\x1bLuaQ",
		`string.format("%5.2f %q %-3c %x %g %%", 1.5, "a\0", 65, -1, 0.1)`,
		`xpcall(function() local function f(n) return f(n + 1) end f(1) end, print)`,
		`local s = "x" return s..s..s..s..s..s..s..s..s, os.date("%c")`,
		"return x()()[1].a:b{}\"s\"",
		"string=0",
	} {
		f.Add([]byte(seed))
	}
	lim := Limits{MaxStringBytes: 1 << 20, MaxMemoryBytes: 16 << 20, MaxPatternSteps: 100_000, MaxSourceBytes: 64 << 10}
	f.Fuzz(func(t *testing.T, src []byte) {
		if CheckSource(src, lim) != nil {
			return
		}
		L := NewState(Config{Limits: lim})
		defer L.Close()
		globals := globalsOf(L)
		_ = run(L, string(src), 10*time.Millisecond)
		if err := runWith(L, globals, goodSnippet, 5*time.Second); err != nil {
			t.Fatalf("good snippet after %q: %v", src, err)
		}
	})
}
