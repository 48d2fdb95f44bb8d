package sandbox

import (
	"bytes"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// worstAccepted holds, for each construct gopher-lua compiles in more than
// linear time, a generator of n repetitions of it.
var worstAccepted = []struct {
	name string
	gen  func(n int) string
}{
	{"distinct number constants", func(n int) string { return distinct("x = %d\n", n) }},
	{"distinct string constants", func(n int) string { return distinct("x = 's%d'\n", n) }},
	{"distinct field names", func(n int) string { return "return {" + distinct("k%d = 1,", n) + "}" }},
	{"uses of the last of 1000 constants", func(n int) string {
		return distinct("x = %d\n", 1000) + strings.Repeat("x = 999\n", n)
	}},
	{"elseif chain", func(n int) string { return "if x then" + distinct(" elseif x == %d then", n) + " end" }},
	{"forward gotos", func(n int) string { return distinct("goto l%d\n", n) + distinct("::l%d::\n", n) }},
	{"global functions", func(n int) string { return distinct("function f%d() return 1 end\n", n) }},
	{"statements", func(n int) string { return strings.Repeat("x = y\n", n) }},
	{"operator chain", func(n int) string { return "local x = 1 return 1" + strings.Repeat("+x", min(n, 1000)) }},
}

// largestAccepted returns the longest source gen makes that CheckSource
// accepts with the default limits, found by bisection on n.
func largestAccepted(gen func(int) string) string {
	lo, hi := 1, 1<<20
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if CheckSource([]byte(gen(mid)), Limits{}) == nil {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return gen(lo)
}

// BenchmarkCompileWorstAccepted parses and compiles the largest source of
// each quadratic construct that CheckSource accepts: each should take well
// under a second. Run it with -benchtime=3x: one iteration is one compile.
func BenchmarkCompileWorstAccepted(b *testing.B) {
	for _, w := range worstAccepted {
		src := []byte(largestAccepted(w.gen))
		b.Run(w.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				chunk, err := parse.Parse(bytes.NewReader(src), "x.lua")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := lua.Compile(chunk, "x.lua"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
