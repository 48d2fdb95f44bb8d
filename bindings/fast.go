package bindings

import (
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// fastCall returns a Lua function that calls fn with no reflection, or nil
// when fn's type is not one of the common shapes below. The first parameter
// has type T and is read by first: the receiver of a method expression, or
// the first argument of a function. Each call costs about what a
// hand-written lua.LGFunction does: a type assertion per argument and a
// direct call.
func fastCall[T any](name string, fn any, first arg[T]) lua.LGFunction {
	switch f := fn.(type) {
	case func(T):
		return call1(name, f, first)
	case func(T, float64):
		return call2(name, f, first, number)
	case func(T, int):
		return call2(name, f, first, integer)
	case func(T, string):
		return call2(name, f, first, str)
	case func(T, bool):
		return call2(name, f, first, boolean)
	case func(T, float64, float64):
		return call3(name, f, first, number, number)
	case func(T, int, int):
		return call3(name, f, first, integer, integer)
	case func(T, float64, float64, float64):
		return call4(name, f, first, number, number, number)
	case func(T) float64:
		return get(name, f, first, pushNumber)
	case func(T) int:
		return get(name, f, first, pushInt)
	case func(T) string:
		return get(name, f, first, pushString)
	case func(T) bool:
		return get(name, f, first, pushBool)
	case func(T) error:
		return get(name, f, first, raiseNonNil(name))
	case func(T) (float64, float64):
		return get(name, func(x T) [2]float64 { a, b := f(x); return [2]float64{a, b} }, first, pushNumbers)
	}
	return nil
}

// fastFunc is fastCall for a function whose first parameter is a float64,
// an int, a string or a bool.
func fastFunc(name string, fn any) lua.LGFunction {
	if g := fastCall(name, fn, number); g != nil {
		return g
	}
	if g := fastCall(name, fn, integer); g != nil {
		return g
	}
	if g := fastCall(name, fn, str); g != nil {
		return g
	}
	return fastCall(name, fn, boolean)
}

// arg reads argument n of the binding name, raising a Lua error on a bad
// one. n counts a method's receiver, as gopher-lua's own checks do.
type arg[A any] func(L *lua.LState, n int, name string) A

func call1[T any](name string, f func(T), a arg[T]) lua.LGFunction {
	return func(L *lua.LState) int {
		defer guard(L, name)
		f(a(L, 1, name))
		return 0
	}
}

func call2[T, A any](name string, f func(T, A), t arg[T], a arg[A]) lua.LGFunction {
	return func(L *lua.LState) int {
		defer guard(L, name)
		f(t(L, 1, name), a(L, 2, name))
		return 0
	}
}

func call3[T, A, B any](name string, f func(T, A, B), t arg[T], a arg[A], b arg[B]) lua.LGFunction {
	return func(L *lua.LState) int {
		defer guard(L, name)
		f(t(L, 1, name), a(L, 2, name), b(L, 3, name))
		return 0
	}
}

func call4[T, A, B, C any](name string, f func(T, A, B, C), t arg[T], a arg[A], b arg[B], c arg[C]) lua.LGFunction {
	return func(L *lua.LState) int {
		defer guard(L, name)
		f(t(L, 1, name), a(L, 2, name), b(L, 3, name), c(L, 4, name))
		return 0
	}
}

func get[T, R any](name string, f func(T) R, t arg[T], push func(*lua.LState, R) int) lua.LGFunction {
	return func(L *lua.LState) int {
		defer guard(L, name)
		return push(L, f(t(L, 1, name)))
	}
}

// self reads the receiver of a method, argument 1.
func self[T any](L *lua.LState, n int, name string) T {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if p, ok := ud.Value.(T); ok {
			return p
		}
	}
	badSelf(L, name)
	var zero T
	return zero
}

func badArg(L *lua.LState, n int, name, want string) {
	L.RaiseError("bad argument #%d to %s: %s expected, got %s", n, name, want, L.Get(n).Type())
}

func number(L *lua.LState, n int, name string) float64 {
	if v, ok := L.Get(n).(lua.LNumber); ok {
		return float64(v)
	}
	badArg(L, n, name, "number")
	return 0
}

func integer(L *lua.LState, n int, name string) int {
	i, err := checkInt(number(L, n, name), strconv.IntSize)
	if err != nil {
		L.RaiseError("bad argument #%d to %s: %v", n, name, err)
	}
	return int(i)
}

func str(L *lua.LState, n int, name string) string {
	if v, ok := L.Get(n).(lua.LString); ok {
		return string(v)
	}
	badArg(L, n, name, "string")
	return ""
}

func boolean(L *lua.LState, n int, name string) bool {
	if v, ok := L.Get(n).(lua.LBool); ok {
		return bool(v)
	}
	badArg(L, n, name, "boolean")
	return false
}

func pushNumber(L *lua.LState, f float64) int { L.Push(lua.LNumber(f)); return 1 }
func pushString(L *lua.LState, s string) int  { L.Push(lua.LString(s)); return 1 }
func pushBool(L *lua.LState, b bool) int      { L.Push(lua.LBool(b)); return 1 }

func pushNumbers(L *lua.LState, fs [2]float64) int {
	L.Push(lua.LNumber(fs[0]))
	L.Push(lua.LNumber(fs[1]))
	return 2
}

func pushInt(L *lua.LState, i int) int {
	lv, err := intToLua(int64(i))
	if err != nil {
		L.RaiseError("bindings: result: %v", err)
	}
	L.Push(lv)
	return 1
}

func raiseNonNil(name string) func(*lua.LState, error) int {
	return func(L *lua.LState, err error) int {
		if err != nil {
			L.RaiseError("%s: %v", name, err)
		}
		return 0
	}
}
