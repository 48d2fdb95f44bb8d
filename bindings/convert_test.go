package bindings

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

type point struct {
	X, Y   float64
	Label  string `lua:"label"`
	Secret string `lua:"-"`
	hidden int
}

type named int

type brokenError struct{}

func (brokenError) Error() string { panic("no message") }

type inner struct{ Ship *ship }

type Embedded struct{ Z int }

// outer reaches Z through an exported embedded struct and Ship through an
// unexported one, which reflect cannot read.
type outer struct {
	inner
	*Embedded
}

func TestToLua(t *testing.T) {
	r := New()
	L := newState(t, r)
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	for _, c := range []struct {
		name string
		in   any
		want string // the value as a Lua literal, checked by a script
	}{
		{"nil", nil, "nil"},
		{"true", true, "true"},
		{"string", "hi", `"hi"`},
		{"int", -42, "-42"},
		{"int8", int8(-8), "-8"},
		{"uint16", uint16(65535), "65535"},
		{"uint64 2^63", uint64(1) << 63, "2^63"},
		{"int64 max exact", int64(1) << 53, "2^53"},
		{"float32", float32(0.5), "0.5"},
		{"NaN", math.NaN(), "0/0"},
		{"Inf", math.Inf(-1), "-1/0"},
		{"named int", named(7), "7"},
		{"bytes", []byte("raw"), `"raw"`},
		{"slice", []int{1, 2, 3}, "{1, 2, 3}"},
		{"nil slice", []string(nil), "{}"},
		{"array", [2]bool{true, false}, "{true, false}"},
		{"map", map[string]int{"a": 1}, "{a = 1}"},
		{"int keys", map[int]string{2: "b"}, `{[2] = "b"}`},
		{"struct", point{X: 1, Y: 2, Label: "p", Secret: "s"}, `{X = 1, Y = 2, label = "p"}`},
		{"embedded", outer{inner{&ship{}}, &Embedded{3}}, `{Z = 3}`},
		{"nil embedded", outer{}, `{}`},
		{"nested", []any{map[string]any{"k": []float64{1.5}}}, "{{k = {1.5}}}"},
		{"error", errors.New("boom"), `"boom"`},
		{"nil error", error(nil), "nil"},
		{"lua value", lua.LString("as is"), `"as is"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			lv, err := r.ToLua(L, c.in)
			if err != nil {
				t.Fatal(err)
			}
			L.SetGlobal("got", lv)
			run(t, L, `assert(same(got, `+c.want+`), "got " .. dump(got))`)
		})
	}
	for _, c := range []struct {
		name string
		in   any
		want string
	}{
		{"chan", make(chan int), "chan int: unsupported"},
		{"complex", 1i, "complex128: unsupported"},
		{"pointer to int", new(int), "only pointers to structs"},
		{"int64 beyond 2^53", int64(1)<<53 + 1, "does not fit a Lua number exactly"},
		{"uint64 max", uint64(math.MaxUint64), "does not fit a Lua number exactly"},
		{"context", context.Background(), "a context.Context is not a script value"},
		{"chan in slice", []any{1, make(chan int)}, "[1]: chan int"},
		{"NaN key", map[float64]int{math.NaN(): 1}, "not a valid table key"},
		{"cycle", cyclic, "nest deeper than 100"},
		{"func taking a chan", func(chan int) {}, "parameter type chan int is not supported"},
		{"panicking Error", brokenError{}, "converting bindings.brokenError panicked: no message"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.ToLua(L, c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "bindings: ") {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestToLuaFunc(t *testing.T) {
	r := New()
	L := newState(t, r)
	lv, err := r.ToLua(L, func(a, b int) (int, error) {
		if b == 0 {
			return 0, errors.New("division by zero")
		}
		return a / b, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	L.SetGlobal("div", lv)
	run(t, L, `assert(div(7, 2) == 3)`)
	runErr(t, L, `div(1, 0)`, "division by zero")
	runErr(t, L, `div(1.5, 1)`, "bad argument #1 to func(int, int) (int, error): 1.5 is not an int64")
}

func TestFromLua(t *testing.T) {
	r := New()
	L := newState(t, r)
	for _, c := range []struct {
		lua  string
		want any
	}{
		{"nil", nil},
		{"true", true},
		{"1.5", 1.5},
		{`"s"`, "s"},
		{"{}", map[string]any{}},
		{"{1, 'a', true}", []any{1.0, "a", true}},
		{"{a = 1, b = {2}}", map[string]any{"a": 1.0, "b": []any{2.0}}},
		{"{[1] = 'x', [3] = 'z'}", map[any]any{1.0: "x", 3.0: "z"}},
		{"{1, k = 'v'}", map[any]any{1.0: 1.0, "k": "v"}},
		{"{[true] = 1}", map[any]any{true: 1.0}},
	} {
		run(t, L, "v = "+c.lua)
		got, err := r.FromLua(L.GetGlobal("v"))
		if err != nil {
			t.Fatalf("%s: %v", c.lua, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.lua, got, c.want)
		}
	}
	run(t, L, "f = function() end")
	if got, _ := r.FromLua(L.GetGlobal("f")); got != L.GetGlobal("f") {
		t.Errorf("a function: got %#v, want the *lua.LFunction", got)
	}
	for _, c := range []struct{ lua, want string }{
		{"coroutine.create(function() end)", "cannot convert a Lua thread"},
		{"{[{}] = 1}", "a table table key has no Go map key"},
		{"(function() local t = {} t.t = t return t end)()", "nest deeper than 100"},
	} {
		run(t, L, "v = "+c.lua)
		if _, err := r.FromLua(L.GetGlobal("v")); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.lua, err, c.want)
		}
	}
}

func TestFromLuaInto(t *testing.T) {
	r := New()
	L := newState(t, r)
	check := func(script string, target any, want any) {
		t.Helper()
		run(t, L, "v = "+script)
		if err := r.FromLuaInto(L.GetGlobal("v"), target); err != nil {
			t.Fatalf("%s: %v", script, err)
		}
		if got := reflect.ValueOf(target).Elem().Interface(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", script, got, want)
		}
	}
	var (
		i   int
		i8  int8
		u   uint32
		f32 float32
		s   string
		b   bool
		bs  []byte
		sl  []int
		arr [2]string
		m   map[string]float64
		p   point
		pp  *point
		e   error
		a   any
		lv  lua.LValue
		n   named
	)
	check("-3", &i, -3)
	check("127", &i8, int8(127))
	check("2^32 - 1", &u, uint32(math.MaxUint32))
	check("0.25", &f32, float32(0.25))
	check("1/0", &f32, float32(math.Inf(1)))
	check(`"x"`, &s, "x")
	check("true", &b, true)
	check(`"raw"`, &bs, []byte("raw"))
	check("{1, 2}", &sl, []int{1, 2})
	check("{}", &sl, []int{})
	check("nil", &sl, []int(nil))
	check(`{"a", "b"}`, &arr, [2]string{"a", "b"})
	check("{x = 1.5}", &m, map[string]float64{"x": 1.5})
	check(`{X = 1, label = "l"}`, &p, point{X: 1, Label: "l"})
	check(`{Y = 2}`, &pp, &point{Y: 2})
	check(`"failed"`, &e, errors.New("failed"))
	check("nil", &e, error(nil))
	check("{1}", &a, []any{1.0})
	check("{}", &a, map[string]any{})
	run(t, L, "v = {}")
	if err := r.FromLuaInto(L.GetGlobal("v"), &lv); err != nil || lv != L.GetGlobal("v") {
		t.Errorf("a table into a lua.LValue: %v, %v", lv, err)
	}
	check("9", &n, named(9))
	var o outer
	check("{Z = 4}", &o, outer{Embedded: &Embedded{4}})
	for _, c := range []struct {
		script string
		target any
		want   string
	}{
		{"1.5", &i, "1.5 is not an int64"},
		{"0/0", &i, "NaN is not an int64"},
		{"128", &i8, "128 is not an int8"},
		{"-1", &u, "-1 is not a uint32"},
		{"1e39", &f32, "overflows float32"},
		{"1", &s, "cannot use a Lua number as string"},
		{"nil", &i, "cannot use a Lua nil as int"},
		{`"1"`, &i, "cannot use a Lua string as int"},
		{"{1, nil, 3}", &sl, "not a sequence"},
		{"{1, 'x'}", &sl, "[2]: cannot use a Lua string as int"},
		{"{'a'}", &arr, "a sequence of 1 as [2]string"},
		{"{Z = 1}", &p, "has no field Z"},
		{"{Secret = 's'}", &p, "has no field Secret"},
		{"{hidden = 1}", &p, "has no field hidden"},
		{"{X = 'x'}", &p, "field X: cannot use a Lua string as float64"},
		{"{[1] = 1}", &m, "key 1: cannot use a Lua number as string"},
		{"print", &i, "cannot use a Lua function as int"},
		{`"ab"`, &[]named{}, "cannot use a Lua string as []bindings.named"},
		{`"abc"`, &[2]byte{}, "cannot use a Lua string as [2]uint8"},
	} {
		run(t, L, "v = "+c.script)
		err := r.FromLuaInto(L.GetGlobal("v"), c.target)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s into %T: error %v, want one containing %q", c.script, c.target, err, c.want)
		}
	}
	var ctx context.Context
	if err := r.FromLuaInto(lua.LNil, &ctx); err == nil {
		t.Error("nil into a context.Context: no error")
	}
	if err := r.FromLuaInto(lua.LNil, i); err == nil {
		t.Error("FromLuaInto into a non-pointer: no error")
	}
}

// TestConversionsNeverPanic converts every kind of Lua value into every kind
// of Go target, and back: each either works or is an error.
func TestConversionsNeverPanic(t *testing.T) {
	r := New()
	L := newState(t, r)
	run(t, L, `values = {1, -1.5, 0/0, 1/0, 2^70, "s", "", true, false, {}, {1, 2}, {a = {b = {}}},
		{[{}] = 1}, print, coroutine.create(print)}`)
	values := []lua.LValue{lua.LNil, must(r.ToLua(L, &ship{}))}
	L.GetGlobal("values").(*lua.LTable).ForEach(func(_, v lua.LValue) { values = append(values, v) })
	targets := []any{
		new(int), new(int8), new(uint), new(uint64), new(uintptr), new(float32), new(float64), new(bool),
		new(string), new(named), new([]byte), new([3]byte), new([]int), new([1]string), new(map[string]int),
		new(map[bool]any), new(point), new(*point), new(*ship), new(ship), new(outer), new(error),
		new(any), new(context.Context), new(fmt.Stringer), new(lua.LValue), new(*lua.LTable),
		new(chan int), new(func()), new(complex128), new([][]map[string]*point),
	}
	for _, v := range values {
		for _, target := range targets {
			_ = r.FromLuaInto(v, target) // must not panic
			if x := reflect.ValueOf(target).Elem().Interface(); x != nil {
				_, _ = r.ToLua(L, x)
			}
		}
		_, _ = r.FromLua(v)
	}
}

// A table whose levels share their child converts to a tree of 2^levels
// copies: refused before any copy is made, quickly.
func TestFromLuaRefusesExplodingSharedTables(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`local t = {} for i = 1, 40 do t = {t, t} end shared = t`); err != nil {
		t.Fatal(err)
	}
	r := New()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := r.FromLua(L.GetGlobal("shared"))
	if err == nil || !strings.Contains(err.Error(), "more than 1000000 Go values") {
		t.Fatalf("FromLua = %v, want the size refused", err)
	}
	var target []any
	if err := r.FromLuaInto(L.GetGlobal("shared"), &target); err == nil {
		t.Fatal("FromLuaInto accepted it")
	}
	// A bound Go function's argument goes through the same check.
	if err := r.Func("take", func(any) {}); err != nil {
		t.Fatal(err)
	}
	if err := r.Install(L); err != nil {
		t.Fatal(err)
	}
	if err := L.DoString(`take(shared)`); err == nil || !strings.Contains(err.Error(), "more than 1000000 Go values") {
		t.Fatalf("take(shared) = %v, want the size refused", err)
	}
	// Tables as keys of a map[any]any are an error, not a panic.
	if err := L.DoString(`keyed = {[{1}] = true}`); err != nil {
		t.Fatal(err)
	}
	var m map[any]any
	if err := r.FromLuaInto(L.GetGlobal("keyed"), &m); err == nil || !strings.Contains(err.Error(), "cannot be a Go map key") {
		t.Fatalf("FromLuaInto(table keys) = %v", err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("refusing allocated %d bytes, want no copy made", n)
	}
	// A table shared a few times converts, copied.
	if err := L.DoString(`local leaf = {1, 2} small = {a = leaf, b = leaf}`); err != nil {
		t.Fatal(err)
	}
	v, err := r.FromLua(L.GetGlobal("small"))
	if err != nil || len(v.(map[string]any)) != 2 {
		t.Fatalf("small shared table: %v, %v", v, err)
	}
}

// TestFieldNames checks the names tools show for a Go value's fields: the
// ones scripts see, tags applied, hidden ones left out.
func TestFieldNames(t *testing.T) {
	type inner struct{ Deep int }
	type value struct {
		ID     int
		Name   string `lua:"name"`
		Secret string `lua:"-"`
		hidden int
		inner
	}
	got := FieldNames(&value{hidden: 1})
	if strings.Join(got, ",") != "ID,name" {
		t.Errorf("FieldNames = %q, want ID, name", got)
	}
	if FieldNames(3) != nil || FieldNames(nil) != nil {
		t.Error("FieldNames of a non-struct is not nil")
	}
}
