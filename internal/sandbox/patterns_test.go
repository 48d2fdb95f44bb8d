package sandbox

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestPatternsMatchLua51 checks string.find, match, gmatch and gsub against
// what Lua 5.1.5 itself returns for the same calls (testdata/patterns.lua,
// whose output under lua5.1 is testdata/patterns.golden): results,
// captures, positions, anchors, empty matches and the pattern errors.
func TestPatternsMatchLua51(t *testing.T) { matchesLua51(t, "testdata/patterns") }

// TestBuiltinsMatchLua51 checks the other builtins the sandbox rewrote
// where gopher-lua's differ from Lua 5.1 (tonumber, math.huge, upper,
// table.remove, ...) the same way, against testdata/builtins.golden.
func TestBuiltinsMatchLua51(t *testing.T) { matchesLua51(t, "testdata/builtins") }

// matchesLua51 runs name.lua in a sandboxed state and compares what it
// prints with name.golden, what lua5.1 printed running it.
func matchesLua51(t *testing.T, name string) {
	code, err := os.ReadFile(name + ".lua")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(name + ".golden")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	L := NewState(Config{Limits: testLimits, Stdout: &out})
	defer L.Close()
	if err := run(L, string(code), time.Minute); err != nil {
		t.Fatal(err)
	}
	got, wantLines := strings.Split(out.String(), "\n"), strings.Split(string(want), "\n")
	if len(got) != len(wantLines) {
		t.Errorf("%d lines, Lua 5.1 printed %d", len(got), len(wantLines))
	}
	header, differences := "", 0
	for i := range min(len(got), len(wantLines)) {
		if !strings.HasPrefix(wantLines[i], " ") {
			header = wantLines[i]
		}
		if got[i] != wantLines[i] && differences < 10 {
			differences++
			t.Errorf("line %d, under %s:\n got %s\nwant %s", i+1, header, got[i], wantLines[i])
		}
	}
}

// TestGmatchBudgetIsPerMatch checks that the step budget bounds each call
// of a gmatch iterator, not the whole loop: a loop whose matches together
// take forty times the budget runs to its end, while one call that needs
// more than the budget fails.
func TestGmatchBudgetIsPerMatch(t *testing.T) {
	L := NewState(Config{Limits: Limits{MaxPatternSteps: 1000}})
	defer L.Close()
	code := `local n = 0 for w in (("a "):rep(1e4)):gmatch("%a+") do n = n + 1 end assert(n == 1e4, n)`
	if err := run(L, code, time.Minute); err != nil {
		t.Errorf("a loop of small matches: %v", err)
	}
	err := run(L, `for w in (("a"):rep(1e4)):gmatch("(.-)b") do end`, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "string.gmatch: pattern too complex (more than 1000 matching steps)") {
		t.Errorf("one match past the budget: %v, want the budget's error", err)
	}
}

// TestLongTextCostsSteps checks that text a call reads whole at each use
// pays steps for its length: a set [...] at each character it tests, a
// gsub replacement with '%' at each match. Unpaid, each case runs its
// 10^8 bytes in a few steps, far under the budget, with no error (the
// same over 10^5-byte texts ran for 48 s and for hours, past any deadline).
func TestLongTextCostsSteps(t *testing.T) {
	for name, code := range map[string]string{
		"set":                                 `string.find(("c"):rep(1e4), "[" .. ("a"):rep(1e4) .. "]")`,
		"gsub replacement over empty matches": `string.gsub(("x"):rep(500), "", ("%0"):rep(1e5))`,
	} {
		t.Run(name, func(t *testing.T) {
			L := NewState(Config{Limits: Limits{MaxPatternSteps: 100_000}})
			defer L.Close()
			err := run(L, code, time.Minute)
			if err == nil || !strings.Contains(err.Error(), "pattern too complex") {
				t.Errorf("got %v, want the step budget's error", err)
			}
		})
	}
}

// TestGsubExpansionIsCapped checks that gsub refuses one expanded
// replacement longer than the result may grow before building it: %0
// repeated multiplies the match, and the expansion was built whole first
// (1 GB allocated here for a result capped at 8 MB; 8 MB of "%0" over an
// 8 MB match asks for 32 TB).
func TestGsubExpansionIsCapped(t *testing.T) {
	L := NewState(Config{Limits: testLimits})
	defer L.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := run(L, `local s = ("x"):rep(5e5) s:gsub(".+", ("%0"):rep(400))`, time.Minute)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "string.gsub: result too large") {
		t.Errorf("got %v, want the result cap's error", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 100<<20 {
		t.Errorf("allocated %d MB for a result capped at 8 MB", grew>>20)
	}
}

// FuzzPattern runs the matcher on any subject and pattern: it must end
// with a match, no match or a pattern error (never a Go panic or a hang),
// a match must lie within the subject, and matching again at the match's
// start must find the same end.
func FuzzPattern(f *testing.F) {
	for _, seed := range [][2]string{{"hello world", "(%w+) (%w+)"}, {"f(a(b))", "%b()"}, {"THE fox", "%f[%a]%a+"},
		{"abcabc", "(a)(b)c%1%2"}, {"aaa", "^a-$"}, {"x]y", "[^]]+"}, {"", "()"}, {"a.b", "[%.%a]*"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, subject, pattern string) {
		m := newMatcher(subject, pattern, 100_000)
		p, anchored := patternStart(pattern)
		s, e, err := m.search(0, p, anchored)
		if err != nil || s < 0 {
			return
		}
		if s > e || e > len(subject) {
			t.Fatalf("match %d..%d in a subject of %d bytes", s, e, len(subject))
		}
		for i := range m.level {
			if cp := m.captures[i]; cp.len >= 0 && (cp.start < s || cp.start+cp.len > e) {
				t.Fatalf("capture %d at %d+%d outside the match %d..%d", i, cp.start, cp.len, s, e)
			}
		}
		again := newMatcher(subject, pattern, 100_000)
		if e2, err := again.matchAt(s, p); err == nil && e2 != e {
			t.Fatalf("the match at %d ends at %d, matching there again ends at %d", s, e, e2)
		}
	})
}
