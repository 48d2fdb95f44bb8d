package bindings

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"weak"

	lua "github.com/yuin/gopher-lua"
)

// Registry holds the Go functions, values and types that scripts see as
// globals, and the one Lua value each bound Go object has.
//
// An engine owns one Registry and installs it into every generation's state
// with [Registry.Install].
//
// Concurrency: register everything ([Registry.Value], [Registry.Func],
// [Type]) before the engine starts; registration is not synchronised with
// Install. Install, [Registry.ToLua], [Registry.FromLua] and the bindings
// themselves run on the goroutine that runs a state. An engine loads a new
// generation beside the calls of the current one, and shards run in
// parallel, so they may run on several goroutines at once: the shared type
// and identity tables have their own mutex, and the Go values and functions
// you bind must be safe for concurrent use (or only be used by calls).
type Registry struct {
	globals []global
	// factory makes the tables and functions that all generations share
	// (metatables, methods); it never runs code.
	factory *lua.LState

	mu      sync.Mutex // guards types, objects and factory
	types   map[reflect.Type]*hostType
	objects map[objectKey]weak.Pointer[lua.LUserData]
}

type global struct {
	name  string
	value any
	// build, when set, makes the global for one state instead of value.
	build func(L *lua.LState) lua.LValue
}

func (g global) lua(r *Registry, L *lua.LState) (lua.LValue, error) {
	if g.build != nil {
		return g.build(L), nil
	}
	if _, ok := g.value.(*lua.LTable); ok {
		return nil, fmt.Errorf("bindings: global %s: a Lua table would be shared by generations that run at the same time; register a Go map, slice or struct pointer instead", g.name)
	}
	return r.convert(L, g.value)
}

// New returns an empty Registry.
func New() *Registry {
	return &Registry{
		// 128 slots, gopher-lua's least: asked for fewer, it makes its
		// default 5120 (80 KB per engine).
		factory: lua.NewState(lua.Options{SkipOpenLibs: true, RegistrySize: 128, CallStackSize: 8}),
		types:   make(map[reflect.Type]*hostType),
		objects: make(map[objectKey]weak.Pointer[lua.LUserData]),
	}
}

// Value registers v as the global name in every generation. v is converted
// by [Registry.ToLua] in each fresh state, so a pointer to a struct is the
// same Lua value in every generation and a slice is a fresh table in each. A
// lua.LValue is installed as it is, shared by all generations, except a
// table, which Install refuses: a generation loads beside the calls of the
// one before, so a shared table would be written by two states at once.
// Registering a name again replaces it.
func (r *Registry) Value(name string, v any) {
	r.setGlobal(global{name: name, value: v})
}

func (r *Registry) setGlobal(g global) {
	for i := range r.globals {
		if r.globals[i].name == g.name {
			r.globals[i] = g
			return
		}
	}
	r.globals = append(r.globals, g)
}

// Func registers the Go function fn as the global name. Its reflection is
// done now: arguments and results follow the conversion rules of the package
// documentation; a first parameter of type [context.Context] receives the
// call's context and a last result of type error raises a Lua error when it
// is not nil. Common signatures are called directly (see the package
// documentation), others by reflection; a func(*lua.LState) int or
// lua.LGFunction is installed as it is.
func (r *Registry) Func(name string, fn any) error {
	if g, ok := fn.(lua.LGFunction); ok {
		fn = (func(*lua.LState) int)(g)
	}
	if g, ok := fn.(func(*lua.LState) int); ok {
		r.Value(name, r.newFunction(g))
		return nil
	}
	rv := reflect.ValueOf(fn)
	if rv.Kind() != reflect.Func || rv.IsNil() {
		return fmt.Errorf("bindings: Func %s: %T is not a function", name, fn)
	}
	g, err := r.bindFunc(name, rv)
	if err != nil {
		return err
	}
	r.Value(name, r.newFunction(g))
	return nil
}

// bindFunc returns the Lua function calling the Go function fn: directly
// for a common signature, else by reflection.
func (r *Registry) bindFunc(name string, fn reflect.Value) (lua.LGFunction, error) {
	if g := fastFunc(name, fn.Interface()); g != nil {
		return g, nil
	}
	c, err := newCallable(name, fn, false)
	if err != nil {
		return nil, err
	}
	return c.invoke(r), nil
}

// Install sets the registered globals in L. The engine calls it on every
// fresh generation state before the scripts run.
func (r *Registry) Install(L *lua.LState) error {
	var errs []error
	for _, g := range r.globals {
		lv, err := g.lua(r, L)
		if err != nil {
			errs = append(errs, fmt.Errorf("global %s: %w", g.name, err))
			continue
		}
		L.SetGlobal(g.name, lv)
	}
	if len(errs) > 0 {
		return fmt.Errorf("bindings: install: %w", errors.Join(errs...))
	}
	return nil
}

// newFunction returns a Go function value that any state can call.
func (r *Registry) newFunction(fn lua.LGFunction) *lua.LFunction {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.factory.NewFunction(fn)
}
