package bindings

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// probe has one method of each fast-path shape, and one that scripts cannot
// call; calls append to log.
type probe struct{ log []string }

func (p *probe) note(format string, args ...any) { p.log = append(p.log, fmt.Sprintf(format, args...)) }

func (p *probe) None()                       { p.note("None") }
func (p *probe) Num(a float64)               { p.note("Num %v", a) }
func (p *probe) Int(a int)                   { p.note("Int %v", a) }
func (p *probe) Str(a string)                { p.note("Str %v", a) }
func (p *probe) Bool(a bool)                 { p.note("Bool %v", a) }
func (p *probe) Num2(a, b float64)           { p.note("Num2 %v %v", a, b) }
func (p *probe) Int2(a, b int)               { p.note("Int2 %v %v", a, b) }
func (p *probe) Num3(a, b, c float64)        { p.note("Num3 %v %v %v", a, b, c) }
func (p *probe) GetNum() float64             { return 1.5 }
func (p *probe) GetInt() int                 { return 1<<60 + 1 } // more than a float64 holds exactly
func (p *probe) GetStr() string              { return "s" }
func (p *probe) GetBool() bool               { return true }
func (p *probe) Fail() error                 { return errors.New("failed") }
func (p *probe) GetNum2() (float64, float64) { return 3, 4 }
func (p *probe) Unsupported(chan int)        {}

func TestFastPathShapes(t *testing.T) {
	pt := reflect.TypeFor[*probe]()
	for i := range pt.NumMethod() {
		m := pt.Method(i)
		fast := fastCall(m.Name, m.Func.Interface(), self[*probe]) != nil
		if want := m.Name != "Unsupported"; fast != want {
			t.Errorf("%s: fast path %v, want %v", m.Name, fast, want)
		}
	}
	r := New()
	if err := Type[*probe](r, "Probe"); err != nil {
		t.Fatal(err)
	}
	p := &probe{}
	r.Value("p", p)
	L := newState(t, r)
	run(t, L, `
		p:None() p:Num(0.5) p:Int(-2) p:Str("x") p:Bool(false)
		p:Num2(1, 2) p:Int2(3, 4) p:Num3(5, 6, 7)
		assert(p:GetNum() == 1.5 and p:GetStr() == "s" and p:GetBool() == true)
		local a, b = p:GetNum2()
		assert(a == 3 and b == 4)`)
	want := "None|Num 0.5|Int -2|Str x|Bool false|Num2 1 2|Int2 3 4|Num3 5 6 7"
	if got := strings.Join(p.log, "|"); got != want {
		t.Fatalf("calls %q, want %q", got, want)
	}
	for _, c := range []struct{ script, want string }{
		{`p:GetInt()`, "does not fit a Lua number exactly"},
		{`p:Fail()`, "Probe.Fail: failed"},
		{`p:Unsupported()`, "bindings: Probe.Unsupported: cannot be called from Lua: parameter type chan int is not supported"},
		{`p:Int2(1, 2^63)`, "bad argument #3 to Probe.Int2: 9.223372036854776e+18 is not an int64"},
		{`p:Bool(nil)`, "bad argument #2 to Probe.Bool: boolean expected, got nil"},
		{`p:Str(1)`, "bad argument #2 to Probe.Str: string expected, got number"},
		{`p.None({})`, "bindings: Probe.None is a method: call it as object:None(...)"},
	} {
		runErr(t, L, c.script, c.want)
	}
}

func TestFastFuncs(t *testing.T) {
	r := New()
	var got []string
	for name, fn := range map[string]any{
		"byNumber": func(a float64, b string) { got = append(got, fmt.Sprintf("%v %v", a, b)) },
		"byInt":    func(a int) int { return a * 2 },
		"byString": func(s string) string { return strings.ToUpper(s) },
		"byBool":   func(b bool) bool { return !b },
	} {
		if fastFunc(name, fn) == nil {
			t.Errorf("%s: no fast path", name)
		}
		if err := r.Func(name, fn); err != nil {
			t.Fatal(err)
		}
	}
	L := newState(t, r)
	run(t, L, `
		byNumber(1.5, "x")
		assert(byInt(21) == 42 and byString("a") == "A" and byBool(true) == false)`)
	runErr(t, L, `byInt("21")`, "bad argument #1 to byInt: number expected, got string")
	if len(got) != 1 || got[0] != "1.5 x" {
		t.Fatalf("byNumber got %q", got)
	}
}
