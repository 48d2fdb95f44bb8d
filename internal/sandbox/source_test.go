package sandbox

import (
	"fmt"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// setListLimit is the most items without keys gopher-lua v1.1.2 stores
// right in one table constructor: 511 OP_SETLIST blocks of 50.
const setListLimit = 25550

// TestTableConstructorLimit checks both sides of the limit: at it the
// sandbox accepts the constructor and the table is whole, past it
// CheckSource refuses it and raw gopher-lua indeed builds a wrong table.
func TestTableConstructorLimit(t *testing.T) {
	items := func(n int) string { return strings.Repeat("7,", n) }
	tests := []struct {
		name string
		code string // a chunk returning the table
		want int    // its length in Lua 5.1
	}{
		{"plain items", "return {" + items(setListLimit) + "}", setListLimit},
		{"plain items past the limit", "return {" + items(setListLimit+1) + "}", setListLimit + 1},
		{"last item a call", "local function f() return 8, 9 end return {" + items(setListLimit-1) + "f()}", setListLimit + 1},
		{"last item a call past the limit", "local function f() return 8, 9 end return {" + items(setListLimit) + "f()}", setListLimit + 2},
		{"last item ...", "return (function(...) return {" + items(setListLimit-1) + "...} end)(8, 9)", setListLimit + 1},
		{"last item ... past the limit", "return (function(...) return {" + items(setListLimit) + "...} end)(8, 9)", setListLimit + 2},
		{"keyed items do not count", "return {" + strings.Repeat("[1] = 7, x = 7; ", 2000) + items(setListLimit) + "}", setListLimit},
		{"nested tables count in their own", "return {" + strings.Repeat("{"+items(setListLimit)+"}, ", 2) + items(setListLimit-2) + "}", setListLimit},
	}
	L := NewState(Config{Limits: testLimits})
	defer L.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			over := strings.HasSuffix(tt.name, "past the limit")
			err := CheckSource([]byte(tt.code), Limits{})
			if !over {
				if err != nil {
					t.Fatalf("CheckSource: %v, want nil", err)
				}
				check := fmt.Sprintf("local t = (function() %s end)()\nassert(#t == %d and t[%d] ~= nil and t[%d] == nil, #t)", tt.code, tt.want, tt.want, tt.want+1)
				if err := run(L, check, 10*time.Second); err != nil {
					t.Errorf("the table is not whole: %v", err)
				}
				return
			}
			want := fmt.Sprintf("sandbox: line 1: the table constructor at line 1:%d has more than %d items without keys", strings.IndexByte(tt.code, '{')+1, setListLimit)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "build the table in a loop") {
				t.Errorf("CheckSource: %v, want %q and how to avoid it", err, want)
			}
			if got := rawLength(t, tt.code); got == tt.want {
				t.Errorf("raw gopher-lua builds the whole table (%d items): the limit may be lifted", got)
			}
		})
	}
}

// rawLength returns the length of the table code returns in a plain gopher-lua state.
func rawLength(t *testing.T, code string) int {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(code); err != nil {
		t.Fatal(err)
	}
	return L.ToTable(-1).Len()
}

func TestLoadRefusesAnOverlongConstructor(t *testing.T) {
	L := NewState(Config{Limits: testLimits})
	defer L.Close()
	code := fmt.Sprintf(`local f, err = load("local t = {" .. ("7,"):rep(%d) .. "}")
assert(f == nil and err:find("more than %d items without keys", 1, true), err)`, setListLimit+1, setListLimit)
	if err := run(L, code, 10*time.Second); err != nil {
		t.Error(err)
	}
}
