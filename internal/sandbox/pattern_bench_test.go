package sandbox

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// everydayPatterns are string calls as scripts make them: a trim, a split,
// a key=value parse, a template fill and a word count.
var everydayPatterns = map[string]string{
	"trim":     `return (("   some padded text   "):match("^%s*(.-)%s*$"))`,
	"split":    `local n = 0 for w in ("alpha,beta,,gamma,delta"):gmatch("([^,]*)") do n = n + 1 end return n`,
	"keyvalue": `local k, v = ("speed = 12.5"):match("^(%w+)%s*=%s*(%S+)$") return v`,
	"template": `return (("hello ${name}, you have ${n} new ${what}"):gsub("%${(%w+)}", {name = "ann", n = 3, what = "items"}))`,
	"words":    `local _, n = ("the quick brown fox jumps over the lazy dog"):gsub("%a+", "") return n`,
}

// BenchmarkEverydayPatterns compares the sandbox's string.find, match,
// gmatch and gsub with gopher-lua's own on everydayPatterns, each chunk
// compiled once: sub-benchmarks raw and sandbox, in the same run.
func BenchmarkEverydayPatterns(b *testing.B) {
	for name, code := range everydayPatterns {
		for _, kind := range []string{"raw", "sandbox"} {
			b.Run(name+"/"+kind, func(b *testing.B) {
				var L *lua.LState
				if kind == "raw" {
					L = lua.NewState()
				} else {
					L = NewState(Config{})
				}
				defer L.Close()
				fn, err := L.LoadString(code)
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					L.Push(fn)
					L.Call(0, 1)
					L.Pop(1)
				}
			})
		}
	}
}
