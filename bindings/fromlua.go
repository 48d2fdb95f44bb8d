package bindings

import (
	"errors"
	"fmt"
	"math"
	"reflect"

	lua "github.com/yuin/gopher-lua"
)

// FromLua converts the Lua value v to a Go value: nil, bool, float64,
// string, the Go value of a userdata, the *lua.LFunction itself for a
// function, and for a table a []any when its keys are exactly 1..n (n > 0),
// a map[string]any when all keys are strings (an empty table too), and
// otherwise a map[any]any whose keys are float64, string or bool. Tables
// nest at most [MaxDepth] deep. Threads and channels are an error.
func (r *Registry) FromLua(v lua.LValue) (any, error) {
	x, err := fromLua(v, 0)
	if err != nil {
		return nil, fmt.Errorf("bindings: %w", err)
	}
	return x, nil
}

// MaxValues bounds the Go values one conversion of a table makes. A table
// reached twice (shared by two fields) is copied twice, so this counts the
// tree the conversion builds, not the tables: a table of 40 levels that
// each share their child would otherwise make 2^40 copies.
const MaxValues = 1_000_000

var errTooMany = fmt.Errorf("the value would make more than %d Go values (shared subtables are copied once per reference)", MaxValues)

// checkSize fails for a table whose conversion would nest deeper than
// MaxDepth, loop, or make more than MaxValues values. It visits each table
// once, so it costs what the table holds, whatever its conversion would.
func checkSize(v lua.LValue) error {
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil
	}
	sizes := make(map[*lua.LTable]int) // tree size of each table seen; -1 while it is being visited
	var size func(t *lua.LTable, depth int) (int, error)
	size = func(t *lua.LTable, depth int) (int, error) {
		switch n, seen := sizes[t]; {
		case seen && n < 0:
			return 0, errDepth // a cycle
		case seen:
			return n, nil
		case depth >= MaxDepth:
			return 0, errDepth
		}
		sizes[t] = -1
		n := 1
		var err error
		t.ForEach(func(k, v lua.LValue) {
			for _, x := range [2]lua.LValue{k, v} {
				if err != nil {
					return
				}
				n++
				if sub, ok := x.(*lua.LTable); ok {
					var m int
					m, err = size(sub, depth+1)
					n += m
				}
				if err == nil && n > MaxValues {
					err = errTooMany
				}
			}
		})
		sizes[t] = n
		return n, err
	}
	_, err := size(t, 0)
	return err
}

func fromLua(v lua.LValue, depth int) (any, error) {
	if depth == 0 {
		if err := checkSize(v); err != nil {
			return nil, err
		}
	}
	switch x := v.(type) {
	case nil, *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(x), nil
	case lua.LNumber:
		return float64(x), nil
	case lua.LString:
		return string(x), nil
	case *lua.LUserData:
		return x.Value, nil
	case *lua.LFunction:
		return x, nil
	case *lua.LTable:
		return tableFromLua(x, depth)
	}
	return nil, fmt.Errorf("cannot convert a Lua %s to Go", v.Type())
}

func tableFromLua(t *lua.LTable, depth int) (any, error) {
	if depth >= MaxDepth {
		return nil, errDepth
	}
	if seq, ok := sequence(t); ok && len(seq) > 0 {
		out := make([]any, len(seq))
		for i, lv := range seq {
			x, err := fromLua(lv, depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i+1, err)
			}
			out[i] = x
		}
		return out, nil
	}
	strs := make(map[string]any)
	var mixed map[any]any
	var err error
	t.ForEach(func(k, lv lua.LValue) {
		if err != nil {
			return
		}
		var x any
		if x, err = fromLua(lv, depth+1); err != nil {
			err = fmt.Errorf("[%s]: %w", k, err)
			return
		}
		if s, ok := k.(lua.LString); ok && mixed == nil {
			strs[string(s)] = x
			return
		}
		if mixed == nil {
			mixed = make(map[any]any, len(strs)+1)
			for s, x := range strs {
				mixed[s] = x
			}
		}
		switch k.(type) {
		case lua.LString, lua.LNumber, lua.LBool:
			key, _ := fromLua(k, depth+1)
			mixed[key] = x
		default:
			err = fmt.Errorf("a %s table key has no Go map key", k.Type())
		}
	})
	switch {
	case err != nil:
		return nil, err
	case mixed != nil:
		return mixed, nil
	}
	return strs, nil
}

// sequence returns t's values 1..n when those are exactly its keys.
func sequence(t *lua.LTable) ([]lua.LValue, bool) {
	ok, count, top := true, 0, 0
	t.ForEach(func(k, _ lua.LValue) {
		n, isNumber := k.(lua.LNumber)
		i := int(n)
		ok = ok && isNumber && i >= 1 && lua.LNumber(i) == n
		count++
		top = max(top, i)
	})
	if !ok || count != top {
		return nil, false
	}
	seq := make([]lua.LValue, top)
	for i := range seq {
		seq[i] = t.RawGetInt(i + 1)
	}
	return seq, true
}

// FromLuaInto converts the Lua value v into *target, which must be a non-nil
// pointer, by target's type: numbers into any integer kind only when they
// are whole and in range, float32 only when in range; strings into strings
// and []byte; a sequence into a slice or an array of the same length; a
// table into a map, a struct (unknown keys are an error, missing ones stay
// zero) or a pointer to a new struct; a userdata whose Go value fits; nil
// into any pointer, slice, map, interface or error; a string into an error.
func (r *Registry) FromLuaInto(v lua.LValue, target any) error {
	rv := reflect.ValueOf(target)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("bindings: FromLuaInto needs a non-nil pointer, not %T", target)
	}
	x, err := fromLuaTo(v, rv.Type().Elem(), 0)
	if err != nil {
		return fmt.Errorf("bindings: %w", err)
	}
	rv.Elem().Set(x)
	return nil
}

// fromLuaTo converts v to a Go value of type t.
func fromLuaTo(v lua.LValue, t reflect.Type, depth int) (reflect.Value, error) {
	if v == nil {
		v = lua.LNil
	}
	if depth == 0 {
		if err := checkSize(v); err != nil {
			return reflect.Value{}, err
		}
	}
	if depth > MaxDepth {
		return reflect.Value{}, errDepth
	}
	if t.Kind() == reflect.Interface && t.NumMethod() == 0 {
		x, err := fromLua(v, depth)
		if err != nil || x == nil {
			return reflect.Zero(t), err
		}
		return assign(t, x), nil
	}
	if reflect.TypeOf(v).AssignableTo(t) {
		return assign(t, v), nil
	}
	if ud, ok := v.(*lua.LUserData); ok && ud.Value != nil && reflect.TypeOf(ud.Value).AssignableTo(t) {
		return assign(t, ud.Value), nil
	}
	if v == lua.LNil && nilable(reflect.Zero(t)) && t != typeContext {
		return reflect.Zero(t), nil
	}
	switch t.Kind() {
	case reflect.Interface:
		if s, ok := v.(lua.LString); ok && t == typeError {
			return assign(t, errors.New(string(s))), nil
		}
	case reflect.Bool:
		if b, ok := v.(lua.LBool); ok {
			return reflect.ValueOf(bool(b)).Convert(t), nil
		}
	case reflect.String:
		if s, ok := v.(lua.LString); ok {
			return reflect.ValueOf(string(s)).Convert(t), nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, ok := v.(lua.LNumber); ok {
			i, err := checkInt(float64(n), t.Bits())
			return reflect.ValueOf(i).Convert(t), err
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n, ok := v.(lua.LNumber); ok {
			u, err := checkUint(float64(n), t.Bits())
			return reflect.ValueOf(u).Convert(t), err
		}
	case reflect.Float32, reflect.Float64:
		if n, ok := v.(lua.LNumber); ok {
			if f := float64(n); t.Kind() == reflect.Float32 && !math.IsInf(f, 0) && math.Abs(f) > math.MaxFloat32 {
				return reflect.Value{}, fmt.Errorf("%v overflows float32", f)
			}
			return reflect.ValueOf(float64(n)).Convert(t), nil
		}
	case reflect.Slice, reflect.Array:
		if s, ok := v.(lua.LString); ok && t.Kind() == reflect.Slice && typeBytes.ConvertibleTo(t) {
			return reflect.ValueOf([]byte(s)).Convert(t), nil
		}
		if tbl, ok := v.(*lua.LTable); ok {
			return sequenceFromLua(tbl, t, depth)
		}
	case reflect.Map:
		if tbl, ok := v.(*lua.LTable); ok {
			return mapFromLua(tbl, t, depth)
		}
	case reflect.Struct:
		if tbl, ok := v.(*lua.LTable); ok {
			return structFromLua(tbl, t, depth)
		}
	case reflect.Pointer:
		if tbl, ok := v.(*lua.LTable); ok && t.Elem().Kind() == reflect.Struct {
			s, err := structFromLua(tbl, t.Elem(), depth)
			if err != nil {
				return reflect.Value{}, err
			}
			p := reflect.New(t.Elem())
			p.Elem().Set(s)
			return p, nil
		}
	}
	return reflect.Value{}, fmt.Errorf("cannot use a Lua %s as %s", v.Type(), t)
}

func assign(t reflect.Type, x any) reflect.Value {
	z := reflect.New(t).Elem()
	z.Set(reflect.ValueOf(x))
	return z
}

// checkInt returns f as an integer of the given bit size, or an error when f
// is not whole (NaN included) or out of range.
func checkInt(f float64, bits int) (int64, error) {
	limit := math.Ldexp(1, bits-1)
	if f != math.Trunc(f) || f < -limit || f >= limit {
		return 0, fmt.Errorf("%v is not an int%d", f, bits)
	}
	return int64(f), nil
}

func checkUint(f float64, bits int) (uint64, error) {
	if f != math.Trunc(f) || f < 0 || f >= math.Ldexp(1, bits) {
		return 0, fmt.Errorf("%v is not a uint%d", f, bits)
	}
	return uint64(f), nil
}

func sequenceFromLua(tbl *lua.LTable, t reflect.Type, depth int) (reflect.Value, error) {
	seq, ok := sequence(tbl)
	if !ok {
		return reflect.Value{}, fmt.Errorf("cannot use a table that is not a sequence as %s", t)
	}
	var out reflect.Value
	if t.Kind() == reflect.Array {
		if len(seq) != t.Len() {
			return reflect.Value{}, fmt.Errorf("cannot use a sequence of %d as %s", len(seq), t)
		}
		out = reflect.New(t).Elem()
	} else {
		out = reflect.MakeSlice(t, len(seq), len(seq))
	}
	for i, lv := range seq {
		x, err := fromLuaTo(lv, t.Elem(), depth+1)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("[%d]: %w", i+1, err)
		}
		out.Index(i).Set(x)
	}
	return out, nil
}

func mapFromLua(tbl *lua.LTable, t reflect.Type, depth int) (reflect.Value, error) {
	out := reflect.MakeMap(t)
	var err error
	tbl.ForEach(func(k, lv lua.LValue) {
		if err != nil {
			return
		}
		var key, x reflect.Value
		if key, err = fromLuaTo(k, t.Key(), depth+1); err != nil {
			err = fmt.Errorf("key %s: %w", k, err)
			return
		}
		if !key.Comparable() {
			err = fmt.Errorf("key %s: a %s cannot be a Go map key", k, key.Type())
			return
		}
		if x, err = fromLuaTo(lv, t.Elem(), depth+1); err != nil {
			err = fmt.Errorf("[%s]: %w", k, err)
			return
		}
		out.SetMapIndex(key, x)
	})
	return out, err
}

func structFromLua(tbl *lua.LTable, t reflect.Type, depth int) (reflect.Value, error) {
	out := reflect.New(t).Elem()
	var err error
	tbl.ForEach(func(k, lv lua.LValue) {
		if err != nil {
			return
		}
		f, ok := fieldNamed(t, lua.LVAsString(k))
		if _, isString := k.(lua.LString); !isString || !ok {
			err = fmt.Errorf("%s has no field %s", t, k)
			return
		}
		var x reflect.Value
		if x, err = fromLuaTo(lv, f.typ, depth+1); err != nil {
			err = fmt.Errorf("field %s: %w", f.name, err)
			return
		}
		setField(out, f, x)
	})
	return out, err
}
