package bindings

import (
	"fmt"
	"reflect"
	"runtime"
	"weak"

	lua "github.com/yuin/gopher-lua"
)

// objectKey identifies a Go pointer without keeping it alive.
type objectKey struct {
	typ  reflect.Type
	addr uintptr
}

type objectEntry struct {
	key objectKey
	ud  weak.Pointer[lua.LUserData]
}

// hostType is how scripts see a pointer-to-struct type: one metatable
// shared by every generation's state.
type hostType struct {
	name       string
	meta       *lua.LTable
	hideFields bool // [MethodsOnly]
}

// object returns the one userdata of the Go pointer p (a pointer to a
// struct). The Registry holds it weakly: while any state or the host holds
// the userdata it stays the same value; once none does, it is collected and
// the next conversion makes a new one, which nobody can tell apart.
func (r *Registry) object(p reflect.Value) *lua.LUserData {
	ht := r.hostTypeOf(p.Type())
	key := objectKey{p.Type(), p.Pointer()}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ud := r.objects[key].Value(); ud != nil {
		return ud
	}
	ud := r.factory.NewUserData()
	ud.Value = p.Interface()
	ud.Metatable = ht.meta
	e := objectEntry{key, weak.Make(ud)}
	r.objects[key] = e.ud
	runtime.AddCleanup(ud, r.forget, e)
	return ud
}

// forget drops the entry of a collected userdata, unless a newer userdata
// of the same pointer took its place.
func (r *Registry) forget(e objectEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.objects[e.key] == e.ud {
		delete(r.objects, e.key)
	}
}

// hostTypeOf returns the binding of the pointer type t, binding it by
// reflection the first time.
func (r *Registry) hostTypeOf(t reflect.Type) *hostType {
	r.mu.Lock()
	ht := r.types[t]
	r.mu.Unlock()
	if ht != nil {
		return ht
	}
	ht = r.bindType(t, t.Elem().Name(), nil, typeConfig{})
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.types[t]; old != nil {
		return old
	}
	r.types[t] = ht
	return ht
}

// bindType builds the metatable of the pointer-to-struct type t. fast, when
// not nil, returns a hand-specialised Lua function for a method expression
// or nil when it has none for that signature.
func (r *Registry) bindType(t reflect.Type, name string, fast func(name string, fn any) lua.LGFunction, cfg typeConfig) *hostType {
	if name == "" {
		name = t.String()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	L := r.factory
	ht := &hostType{name: name, meta: L.NewTable(), hideFields: cfg.methodsOnly}
	methods := L.NewTable()
	for i := range t.NumMethod() {
		m := t.Method(i)
		qualified := name + "." + m.Name
		var fn lua.LGFunction
		if fast != nil {
			fn = fast(qualified, m.Func.Interface())
		}
		if fn == nil {
			c, _ := newCallable(qualified, m.Func, true) // a method's bad signature is raised by its calls
			fn = c.invoke(r)
		}
		methods.RawSetString(m.Name, L.NewFunction(fn))
	}
	ht.meta.RawSetString("__metatable", lua.LString("bindings"))
	ht.meta.RawSetString("__tostring", L.NewFunction(ht.tostring))
	if ht.hideFields || len(fieldsOf(t.Elem())) == 0 {
		ht.meta.RawSetString("__index", methods) // the fastest lookup gopher-lua has
		missing := L.NewTable()
		missing.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("bindings: %s has no method %s", ht.name, L.CheckString(2))
			return 0
		}))
		methods.Metatable = missing
	} else {
		ht.meta.RawSetString("__index", L.NewFunction(func(L *lua.LState) int { return r.index(L, ht, methods) }))
	}
	ht.meta.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int { return ht.newIndex(L) }))
	return ht
}

// index is __index of objects with fields: methods first, then fields.
// Any other key is an error, so a typo in a script does not read nil.
func (r *Registry) index(L *lua.LState, ht *hostType, methods *lua.LTable) int {
	key := L.CheckString(2)
	if m := methods.RawGetString(key); m != lua.LNil {
		L.Push(m)
		return 1
	}
	obj := reflect.ValueOf(L.CheckUserData(1).Value).Elem()
	f, ok := fieldNamed(obj.Type(), key)
	if !ok {
		L.RaiseError("bindings: %s has no field or method %s", ht.name, key)
	}
	v, err := obj.FieldByIndexErr(f.index)
	if err != nil { // through a nil embedded pointer
		L.Push(lua.LNil)
		return 1
	}
	lv, err := r.toLua(L, v, 0)
	if err != nil {
		L.RaiseError("bindings: %s.%s: %v", ht.name, key, err)
	}
	L.Push(lv)
	return 1
}

// newIndex is __newindex: it sets a field of the Go struct.
func (ht *hostType) newIndex(L *lua.LState) int {
	key := L.CheckString(2)
	obj := reflect.ValueOf(L.CheckUserData(1).Value).Elem()
	f, ok := fieldNamed(obj.Type(), key)
	if !ok || ht.hideFields {
		L.RaiseError("bindings: %s has no field %s", ht.name, key)
	}
	x, err := fromLuaTo(L.Get(3), f.typ, 0)
	if err != nil {
		L.RaiseError("bindings: %s.%s: %v", ht.name, key, err)
	}
	setField(obj, f, x)
	return 0
}

// tostring is __tostring: the String method when there is one, else the
// type name and address.
func (ht *hostType) tostring(L *lua.LState) int {
	defer guard(L, ht.name+".String")
	v := L.CheckUserData(1).Value
	if s, ok := v.(fmt.Stringer); ok {
		L.Push(lua.LString(s.String()))
	} else {
		L.Push(lua.LString(fmt.Sprintf("%s: %p", ht.name, v)))
	}
	return 1
}

// Type binds the pointer-to-struct type T under name before the engine
// starts: its exported methods and fields for every object of that type,
// and the global table name with name.new{Field = value, ...}, which
// returns a new *T. Methods whose signature has a hand-specialised path
// (see the package documentation) call the Go method directly, with no
// reflection per call; the others are called by reflection. Pointer types
// that are not registered are bound by reflection the first time they are
// converted.
func Type[T any](r *Registry, name string, opts ...TypeOption) error {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("bindings: Type %s: %s is not a pointer to a struct", name, t)
	}
	var cfg typeConfig
	for _, o := range opts {
		o(&cfg)
	}
	fast := func(name string, fn any) lua.LGFunction { return fastCall(name, fn, self[T]) }
	ht := r.bindType(t, name, fast, cfg)
	ctor := r.newFunction(func(L *lua.LState) int {
		p, err := fromLuaTo(L.OptTable(1, L.NewTable()), t, 0)
		if err != nil {
			L.RaiseError("bad argument #1 to %s.new: %v", name, err)
		}
		L.Push(r.object(p))
		return 1
	})
	r.mu.Lock()
	r.types[t] = ht
	r.mu.Unlock()
	r.setGlobal(global{name: name, build: func(L *lua.LState) lua.LValue {
		static := L.NewTable()
		static.RawSetString("new", ctor)
		return static
	}})
	return nil
}

// A TypeOption changes how [Type] binds a type. It is a plain value, used
// only while registering.
type TypeOption func(*typeConfig)

type typeConfig struct {
	methodsOnly bool
}

// MethodsOnly hides the type's fields from scripts (name.new still sets
// them). Methods are then found in a plain table, with no Go __index call
// per lookup: the fastest way to call a host method.
func MethodsOnly() TypeOption {
	return func(c *typeConfig) { c.methodsOnly = true }
}
