package bindings

import (
	"context"
	"fmt"
	"math"
	"reflect"

	lua "github.com/yuin/gopher-lua"
)

// MaxDepth is how deeply tables and Go containers may nest in a conversion.
// Deeper values, cycles included, are an error instead of a stack overflow.
const MaxDepth = 100

var (
	typeError   = reflect.TypeFor[error]()
	typeContext = reflect.TypeFor[context.Context]()
	typeLValue  = reflect.TypeFor[lua.LValue]()
	typeBytes   = reflect.TypeFor[[]byte]()
)

var errDepth = fmt.Errorf("values nest deeper than %d (a cycle?)", MaxDepth)

// ToLua converts the Go value v to a Lua value for use in L, following the
// rules of the package documentation. A value it cannot convert is an error
// that names its type; a panic in the value's own Error method is an error
// too.
func (r *Registry) ToLua(L *lua.LState, v any) (lua.LValue, error) {
	lv, err := r.convert(L, v)
	if err != nil {
		return lua.LNil, fmt.Errorf("bindings: %w", err)
	}
	return lv, nil
}

// convert is ToLua without the package name on its errors.
func (r *Registry) convert(L *lua.LState, v any) (lv lua.LValue, err error) {
	switch x := v.(type) {
	case nil:
		return lua.LNil, nil
	case lua.LValue:
		return x, nil
	case bool:
		return lua.LBool(x), nil
	case string:
		return lua.LString(x), nil
	case float64:
		return lua.LNumber(x), nil
	}
	defer func() {
		if p := recover(); p != nil {
			lv, err = nil, fmt.Errorf("converting %T panicked: %v", v, p)
		}
	}()
	return r.toLua(L, reflect.ValueOf(v), 0)
}

func (r *Registry) toLua(L *lua.LState, rv reflect.Value, depth int) (lua.LValue, error) {
	if depth > MaxDepth {
		return nil, errDepth
	}
	for rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return lua.LNil, nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return lua.LNil, nil
	}
	t := rv.Type()
	switch {
	case t.Implements(typeLValue):
		if nilable(rv) && rv.IsNil() {
			return lua.LNil, nil
		}
		return rv.Interface().(lua.LValue), nil
	case t.Implements(typeContext):
		return nil, fmt.Errorf("%s: a context.Context is not a script value (a binding receives it as its first parameter)", t)
	case t.Implements(typeError):
		if nilable(rv) && rv.IsNil() {
			return lua.LNil, nil
		}
		return lua.LString(rv.Interface().(error).Error()), nil
	}
	switch rv.Kind() {
	case reflect.Bool:
		return lua.LBool(rv.Bool()), nil
	case reflect.String:
		return lua.LString(rv.String()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intToLua(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintToLua(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return lua.LNumber(rv.Float()), nil
	case reflect.Pointer:
		if rv.IsNil() {
			return lua.LNil, nil
		}
		if t.Elem().Kind() != reflect.Struct {
			return nil, fmt.Errorf("%s: only pointers to structs are bound as objects", t)
		}
		return r.object(rv), nil
	case reflect.Slice:
		if t == typeBytes {
			return lua.LString(rv.Bytes()), nil
		}
		return r.sequenceToLua(L, rv, depth)
	case reflect.Array:
		return r.sequenceToLua(L, rv, depth)
	case reflect.Map:
		return r.mapToLua(L, rv, depth)
	case reflect.Struct:
		return r.structToLua(L, rv, depth)
	case reflect.Func:
		if rv.IsNil() {
			return lua.LNil, nil
		}
		g, err := r.bindFunc(t.String(), rv)
		if err != nil {
			return nil, err
		}
		return L.NewFunction(g), nil
	}
	return nil, fmt.Errorf("%s: unsupported Go type", t)
}

func nilable(rv reflect.Value) bool {
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return true
	}
	return false
}

// intToLua converts i, refusing integers a Lua number (a float64) cannot
// hold exactly.
func intToLua(i int64) (lua.LValue, error) {
	if f := float64(i); f >= 0x1p63 || int64(f) != i {
		return nil, fmt.Errorf("%d does not fit a Lua number exactly", i)
	}
	return lua.LNumber(i), nil
}

func uintToLua(u uint64) (lua.LValue, error) {
	if f := float64(u); f >= 0x1p64 || uint64(f) != u {
		return nil, fmt.Errorf("%d does not fit a Lua number exactly", u)
	}
	return lua.LNumber(u), nil
}

func (r *Registry) sequenceToLua(L *lua.LState, rv reflect.Value, depth int) (lua.LValue, error) {
	t := L.CreateTable(rv.Len(), 0)
	for i := range rv.Len() {
		lv, err := r.toLua(L, rv.Index(i), depth+1)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		t.RawSetInt(i+1, lv)
	}
	return t, nil
}

func (r *Registry) mapToLua(L *lua.LState, rv reflect.Value, depth int) (lua.LValue, error) {
	t := L.CreateTable(0, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		k, err := r.toLua(L, it.Key(), depth+1)
		if err != nil {
			return nil, fmt.Errorf("key %v: %w", it.Key(), err)
		}
		if n, ok := k.(lua.LNumber); k == lua.LNil || ok && math.IsNaN(float64(n)) {
			return nil, fmt.Errorf("key %v: not a valid table key", it.Key())
		}
		v, err := r.toLua(L, it.Value(), depth+1)
		if err != nil {
			return nil, fmt.Errorf("[%v]: %w", it.Key(), err)
		}
		t.RawSet(k, v)
	}
	return t, nil
}

func (r *Registry) structToLua(L *lua.LState, rv reflect.Value, depth int) (lua.LValue, error) {
	fields := fieldsOf(rv.Type())
	t := L.CreateTable(0, len(fields))
	for _, f := range fields {
		fv, err := rv.FieldByIndexErr(f.index)
		if err != nil { // through a nil embedded pointer
			continue
		}
		lv, err := r.toLua(L, fv, depth+1)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.name, err)
		}
		t.RawSetString(f.name, lv)
	}
	return t, nil
}
