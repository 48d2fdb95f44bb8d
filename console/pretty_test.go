package console

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestPrettyPrinterBoundsSharedTables prints a table of 1000 references
// to one table of 1000 references to ... (no cycle, 8 levels): without a
// total bound that is 1000^8 entries; the output stays bounded.
func TestPrettyPrinterBoundsSharedTables(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`t = {} for i = 1, 1000 do t[i] = i end
for level = 1, 8 do local u = {} for i = 1, 1000 do u[i] = t end t = u end`); err != nil {
		t.Fatal(err)
	}
	p := &printer{style: inspectStyle, describe: func(lua.LValue) (string, string, bool) { return "", "", false }}
	out := p.format(L.GetGlobal("t"))
	if n := strings.Count(out, "\n"); n > 2*maxPrintedItems {
		t.Fatalf("%d lines printed", n)
	}
	if !strings.Contains(out, "{...}") {
		t.Fatal("no table was cut short")
	}
}
