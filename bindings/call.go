package bindings

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// callable is a Go function or method bound by reflection: the signature is
// examined once, when it is bound, and each call only converts values.
type callable struct {
	name     string
	fn       reflect.Value
	recv     reflect.Type   // the receiver taken from argument 1, or nil for a function
	ctx      bool           // the first parameter after the receiver is a context.Context
	params   []reflect.Type // the parameters scripts pass; for a variadic function the last is the element type
	variadic bool
	errLast  bool  // the last result is an error, raised when not nil
	bad      error // the signature cannot be called from Lua; raised by every call
}

func newCallable(name string, fn reflect.Value, method bool) (*callable, error) {
	t := fn.Type()
	c := &callable{name: name, fn: fn, variadic: t.IsVariadic()}
	in := make([]reflect.Type, t.NumIn())
	for i := range in {
		in[i] = t.In(i)
	}
	if method {
		c.recv, in = in[0], in[1:]
	}
	if len(in) > 0 && in[0] == typeContext {
		c.ctx, in = true, in[1:]
	}
	if c.variadic {
		in[len(in)-1] = in[len(in)-1].Elem()
	}
	c.params = in
	if n := t.NumOut(); n > 0 && t.Out(n-1) == typeError {
		c.errLast = true
	}
	for _, p := range c.params {
		if err := unsupported(p); err != nil {
			c.bad = fmt.Errorf("bindings: %s: cannot be called from Lua: %w", name, err)
		}
	}
	if c.bad != nil && !method {
		return nil, c.bad
	}
	return c, nil
}

// unsupported tells why scripts can never pass a value of type t.
func unsupported(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		return fmt.Errorf("parameter type %s is not supported", t)
	}
	if t == typeContext {
		return fmt.Errorf("a context.Context parameter must come first")
	}
	return nil
}

// invoke returns the Lua function that calls c, converting arguments with
// the rules of [Registry.FromLuaInto] and results with [Registry.ToLua].
func (c *callable) invoke(r *Registry) lua.LGFunction {
	return func(L *lua.LState) int {
		defer guard(L, c.name)
		if c.bad != nil {
			L.RaiseError("%v", c.bad)
		}
		args := make([]reflect.Value, 0, c.fn.Type().NumIn()+L.GetTop())
		pos := 1
		if c.recv != nil {
			ud, ok := L.Get(1).(*lua.LUserData)
			if !ok || reflect.TypeOf(ud.Value) != c.recv {
				badSelf(L, c.name)
			}
			args = append(args, reflect.ValueOf(ud.Value))
			pos = 2
		}
		if c.ctx {
			args = append(args, reflect.ValueOf(callContext(L)))
		}
		fixed := len(c.params)
		if c.variadic {
			fixed--
		}
		for i := 0; i < fixed || c.variadic && pos+i <= L.GetTop(); i++ {
			t := c.params[min(i, len(c.params)-1)]
			x, err := fromLuaTo(L.Get(pos+i), t, 0)
			if err != nil {
				L.RaiseError("bad argument #%d to %s: %v", pos+i, c.name, err)
			}
			args = append(args, x)
		}
		out := c.fn.Call(args)
		if c.errLast {
			if err := out[len(out)-1]; !err.IsNil() {
				L.RaiseError("%s: %v", c.name, err.Interface())
			}
			out = out[:len(out)-1]
		}
		for i, o := range out {
			lv, err := r.toLua(L, o, 0)
			if err != nil {
				L.RaiseError("bindings: %s: result %d: %v", c.name, i+1, err)
			}
			L.Push(lv)
		}
		return len(out)
	}
}

// callContext is the context of the call running in L.
func callContext(L *lua.LState) context.Context {
	if ctx := L.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// guard turns a panic in the binding called name into a Lua error. Lua
// errors raised on the way (gopher-lua panics with *lua.ApiError) pass on.
func guard(L *lua.LState, name string) {
	p := recover()
	if p == nil {
		return
	}
	if _, ok := p.(*lua.ApiError); ok {
		panic(p)
	}
	L.RaiseError("bindings: %s panicked: %v", name, p)
}

func badSelf(L *lua.LState, name string) {
	L.RaiseError("bindings: %s is a method: call it as object:%s(...)", name, methodName(name))
}

func methodName(qualified string) string {
	return qualified[strings.LastIndexByte(qualified, '.')+1:]
}
