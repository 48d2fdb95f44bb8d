// Package bindings gives scripts access to their Go host: functions, values
// and types registered once and installed into every fresh Lua state an
// engine builds, and the conversions between Go and Lua values.
package bindings

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
	luar "layeh.com/gopher-luar"
)

// Registry holds the Go functions and values that scripts see as globals.
// An engine owns one Registry and installs it into each generation's state.
//
// Register everything before the engine is created; Install and the
// conversions are called by the engine with its lock held.
type Registry struct {
	globals map[string]any
	order   []string
}

// New returns an empty Registry.
func New() *Registry {
	return &Registry{globals: make(map[string]any)}
}

// Value registers v as the global name in every generation.
func (r *Registry) Value(name string, v any) {
	if _, ok := r.globals[name]; !ok {
		r.order = append(r.order, name)
	}
	r.globals[name] = v
}

// Install sets the registered globals in L.
func (r *Registry) Install(L *lua.LState) error {
	for _, name := range r.order {
		lv, err := r.ToLua(L, r.globals[name])
		if err != nil {
			return fmt.Errorf("bindings: global %s: %w", name, err)
		}
		L.SetGlobal(name, lv)
	}
	return nil
}

// ToLua converts a Go value to a Lua value for use in L.
func (r *Registry) ToLua(L *lua.LState, v any) (lua.LValue, error) {
	switch x := v.(type) {
	case nil:
		return lua.LNil, nil
	case lua.LValue:
		return x, nil
	case bool:
		return lua.LBool(x), nil
	case string:
		return lua.LString(x), nil
	case int:
		return lua.LNumber(x), nil
	case int64:
		return lua.LNumber(x), nil
	case float64:
		return lua.LNumber(x), nil
	case float32:
		return lua.LNumber(x), nil
	}
	return luar.New(L, v), nil
}

// FromLua converts a Lua value to a Go value: nil, bool, float64, string,
// the Go value inside a userdata, or the lua.LValue itself for tables and
// functions.
func (r *Registry) FromLua(v lua.LValue) (any, error) {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(x), nil
	case lua.LNumber:
		return float64(x), nil
	case lua.LString:
		return string(x), nil
	case *lua.LUserData:
		return x.Value, nil
	}
	return v, nil
}
