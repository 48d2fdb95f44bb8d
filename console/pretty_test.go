package console

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestPrettyPrinterBoundsSharedTables prints values that share what they
// hold, with no cycle: a table of 1000 references to one table of 1000
// references to ... (8 levels), 1000^8 entries without a total bound; and
// many references to one 1 MiB string of zero bytes, or such strings as
// keys, each printed as 4 MiB of escapes (the 100,000 entries of a
// console result would be 400 GB). The output stays bounded.
func TestPrettyPrinterBoundsSharedTables(t *testing.T) {
	for _, tc := range []struct{ name, code, cut string }{
		{"shared tables", `t = {} for i = 1, 1000 do t[i] = i end
for level = 1, 8 do local u = {} for i = 1, 1000 do u[i] = t end t = u end`, "{...}"},
		{"a shared large string", `local s = ("\0"):rep(2^20) t = {} for i = 1, 8 do t[i] = s end t = {t, t, t, t, t}`, "... (1048576 bytes)"},
		{"large string keys", `local s = ("\0"):rep(2^20) t = {} for i = 1, 32 do t[s .. i] = i end`, "... (104857"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			if err := L.DoString(tc.code); err != nil {
				t.Fatal(err)
			}
			p := &printer{style: inspectStyle, describe: func(lua.LValue) (string, string, bool) { return "", "", false }}
			out := p.format(L.GetGlobal("t"))
			if n := strings.Count(out, "\n"); n > 2*maxPrintedItems {
				t.Fatalf("%d lines printed", n)
			}
			if len(out) > 16<<20 {
				t.Fatalf("%d bytes printed", len(out))
			}
			if !strings.Contains(out, tc.cut) {
				t.Fatalf("nothing was cut short (%q in the output)", tc.cut)
			}
		})
	}
}
