package engine

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// Value is a result of a call into Lua. Numbers, strings, bools and nil are
// read from it without allocating; tables, functions and userdata were
// converted to Go when the call returned (an instance table is an *Object),
// so a Value never touches the Lua state and is safe to keep and share.
type Value struct {
	lv lua.LValue // the Lua value (nil for the zero Value)
	gv any        // the Go value of a table, function or userdata
}

// IsNil reports whether the value is Lua's nil (or the zero Value).
func (v Value) IsNil() bool { return v.lv == nil || v.lv == lua.LNil }

// Float returns a number, and whether the value was one.
func (v Value) Float() (float64, bool) {
	n, ok := v.lv.(lua.LNumber)
	return float64(n), ok
}

// Int returns a number truncated to an integer, and whether the value was a
// number.
func (v Value) Int() (int64, bool) {
	n, ok := v.lv.(lua.LNumber)
	return int64(n), ok
}

// Str returns a string, and whether the value was one.
func (v Value) Str() (string, bool) {
	s, ok := v.lv.(lua.LString)
	return string(s), ok
}

// Bool returns Lua's truth of the value: false for nil and false only.
func (v Value) Bool() bool { return !v.IsNil() && v.lv != lua.LFalse }

// Object returns the object the value is, if it is an instance of a class.
func (v Value) Object() (*Object, bool) {
	o, ok := v.gv.(*Object)
	return o, ok
}

// Any returns the value as Go: nil, bool, float64, string, *Object for an
// instance, or what the engine's bindings made of another table, a function
// or a userdata.
func (v Value) Any() any {
	switch x := v.lv.(type) {
	case nil, *lua.LNilType:
		return nil
	case lua.LBool:
		return bool(x)
	case lua.LNumber:
		return float64(x)
	case lua.LString:
		return string(x)
	}
	return v.gv
}

// String formats the value for people: strings as they are, others as Lua's
// tostring would, objects as "class@version".
func (v Value) String() string {
	if o, ok := v.Object(); ok {
		return o.String()
	}
	if v.lv == nil {
		return "nil"
	}
	return v.lv.String()
}

// value makes a Value of a Lua result. Called with the engine's lock (e.lk) held.
func (e *Engine) value(lv lua.LValue) (Value, error) {
	switch lv.(type) {
	case *lua.LNilType, lua.LBool, lua.LNumber, lua.LString:
		return Value{lv: lv}, nil
	}
	gv, err := e.fromLua(lv)
	if err != nil {
		return Value{}, err
	}
	return Value{lv: lv, gv: gv}, nil
}

// sameValue reports whether a and b are one Lua value, NaN being the same
// as NaN: for telling whether a field changed.
func sameValue(a, b lua.LValue) bool {
	if a == b {
		return true
	}
	x, ok := a.(lua.LNumber)
	y, ok2 := b.(lua.LNumber)
	return ok && ok2 && math.IsNaN(float64(x)) && math.IsNaN(float64(y))
}
