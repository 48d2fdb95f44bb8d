package engine

import (
	"context"
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/internal/sandbox"
)

// Object is a live instance of a class: a Lua table whose metatable is its
// class's handle. Go code holds it, calls its methods and reads and writes
// its fields; a Go struct can carry one, and the Lua methods reach the Go
// value stored in one of its fields (see [Object.Set]).
//
// An Object is safe for concurrent use; its calls are serialized by its
// engine. It belongs to the engine that made it.
type Object struct {
	e *Engine
	t *lua.LTable
}

// New makes an object of the class called name with the class's own
// constructor convention: a class that can be called (its metatable has
// __call, as the classes of classic, middleclass, 30log, hump and
// Penlight do) is called with args and must return an object; a class with
// no init method but a new function (of its own, or of a base class: the
// constructor of a Programming in Lua class, Account:new(o), or a factory,
// M.new(x) returning setmetatable(o, {__index = M})) has new called with
// args, as a method when its first parameter is self, and must return an
// object; otherwise New makes an empty table of the class and calls
// init(self, args...) when the class has one. To call another constructor
// function, use [Class.Call].
func (e *Engine) New(ctx context.Context, name string, args ...any) (*Object, error) {
	if err := e.lk.lock(ctx); err != nil {
		return nil, err
	}
	defer e.lk.unlock()
	cv, err := e.classVersion(name)
	if err != nil {
		return nil, err
	}
	if mt, ok := cv.owner.Metatable.(*lua.LTable); ok {
		if ctor, ok := mt.RawGetString("__call").(*lua.LFunction); ok {
			return e.construct(ctx, ctor, cv, true, "__call", args)
		}
	}
	init, hasInit := lookup(cv.table, "init").(*lua.LFunction)
	if !hasInit {
		if ctor, self, ok := ownNew(cv.owner); ok {
			return e.construct(ctx, ctor, cv, self, "new", args)
		}
	}
	t := newObjectTable()
	e.attach(t, cv)
	if hasInit {
		if _, err := e.run(ctx, init, t, true, name, "init", args); err != nil {
			return nil, err
		}
	}
	return &Object{e: e, t: t}, nil
}

// construct calls ctor, the constructor called method of cv's class (as
// a method of the class when self is set), for New, and returns the object
// it makes. Called with the engine's lock (e.lk) held.
func (e *Engine) construct(ctx context.Context, ctor *lua.LFunction, cv *classVersion, self bool, method string, args []any) (*Object, error) {
	v, err := e.run(ctx, ctor, cv.owner, self, cv.name, method, args)
	if err != nil {
		return nil, err
	}
	obj, ok := v.Object()
	if !ok {
		called := cv.name + "." + method
		if method == "__call" {
			called = cv.name
		}
		return nil, fmt.Errorf("engine: %s(...) returned a %s, not an object", called, v.lv.Type())
	}
	return obj, nil
}

// ownNew returns the new function of the class cls and whether it is a
// method (its first parameter is self): cls's own, or, as a method only,
// one it inherits (a Programming in Lua subclass's Base:new, which makes
// objects of self). An inherited plain function (Base.new(x)) makes the
// base's objects, so it is none.
func ownNew(cls *lua.LTable) (ctor *lua.LFunction, self, ok bool) {
	if ctor, ok = cls.RawGetString("new").(*lua.LFunction); ok {
		return ctor, ctor.Proto != nil && isMethod(ctor.Proto), true
	}
	if ctor, ok = lookup(cls, "new").(*lua.LFunction); ok && ctor.Proto != nil && isMethod(ctor.Proto) {
		return ctor, true, true
	}
	return nil, false, false
}

// objectFields is how many fields the table of an object that the engine
// makes (New, and hot.class's Class.new) has room for before it grows:
// Go keeps a map of up to 8 entries in one group of slots, which holds
// all of a typical object's fields in about 300 bytes. gopher-lua's
// NewTable, and a Lua {} at its first field, make room for 32 fields and
// 32 array slots instead: about 3.6 KB for an object of 6 fields against
// 1.1 KB, so a batch over many objects (CallEach) reads about a third of
// the memory and stays in cache longer. A wider object grows its map as
// any Lua table does.
const objectFields = 8

// newObjectTable returns an empty table for a new object.
func newObjectTable() *lua.LTable { return newTable(objectFields) }

// Call calls the method on the object with args converted to Lua (numbers,
// strings, bools, nil, *Object, lua.LValue as it is, and whatever the
// engine's bindings convert) and returns its first result as a [Value].
// A Lua error is returned as a *ScriptError naming class and method.
// ctx, when it can be cancelled, interrupts the method.
func (o *Object) Call(ctx context.Context, method string, args ...any) (Value, error) {
	return o.e.call(ctx, o.t, true, "", method, args)
}

// call calls recv[name] under the engine's lock: as a method,
// recv:name(args...), when self is set, else as a function,
// recv.name(args...). A nil recv stands for the current generation's
// globals. The method is looked up on every call, as Lua does: a method a
// script or the console defines at run time is seen at once.
func (e *Engine) call(ctx context.Context, recv *lua.LTable, self bool, class, name string, args []any) (Value, error) {
	if err := e.lk.lock(ctx); err != nil {
		return Value{}, err
	}
	defer e.lk.unlock()
	if e.closed.Load() {
		return Value{}, ErrClosed
	}
	if recv == nil {
		recv = e.L.G.Global
	}
	fn, ok := lookup(recv, name).(*lua.LFunction)
	if !ok {
		return Value{}, fmt.Errorf("%w: %s.%s", ErrNoMethod, e.className(recv, class), name)
	}
	return e.run(ctx, fn, recv, self, class, name, args)
}

// run calls fn, a method or function called name of recv, unless it is
// quarantined, bounded by ctx, and restores the stack: it pushes fn, the
// receiver when self is set, and args, and makes one protected call.
// Called with the engine's lock (e.lk) held. No deferred closure on this
// path: Lua errors come back as errors, and the caller's deferred unlock
// covers a Go panic.
func (e *Engine) run(ctx context.Context, fn *lua.LFunction, recv *lua.LTable, self bool, class, name string, args []any) (Value, error) {
	L := e.L
	e.lk.calling(fn)
	if e.quarantined(recv, class, name) {
		return Value{}, e.quarantineError(recv, class, name)
	}
	var unguard func()
	if ctx.Done() != nil { // Guard is a no-op otherwise: skip even its call
		unguard = sandbox.Guard(L, ctx)
	}
	top := L.GetTop()
	e.gen.pcall.Push(L)
	L.Push(fn)
	n := len(args)
	if self {
		L.Push(recv)
		n++
	}
	var err error
	for _, a := range args {
		var lv lua.LValue
		if lv, err = e.toLua(L, a); err != nil {
			err = fmt.Errorf("engine: %s.%s: %w", e.className(recv, class), name, err)
			break
		}
		L.Push(lv)
	}
	var v Value
	if err == nil {
		// sandbox.PCall, not L.PCall: gopher-lua's own traceback has a
		// line per tail call, gigabytes for a tail-recursive loop stopped
		// at a deadline.
		if err = e.gen.pcall.PCallPushed(L, n, 1); err == nil {
			if len(e.strikes) > 0 {
				delete(e.strikes, methodKey{e.className(recv, class), name})
			}
			v, err = e.value(L.Get(-1))
		} else {
			se := scriptError(err, e.gen.num)
			se.Class, se.Method = e.className(recv, class), name
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				e.strike(methodKey{se.Class, name})
			}
			err = se
		}
	}
	if L.GetTop() == top+1 {
		L.Pop(1) // the result a call leaves: Pop costs a third of what SetTop does
	} else {
		L.SetTop(top)
	}
	if unguard != nil {
		unguard()
	}
	return v, err
}

// quarantined reports whether method name of recv's class is quarantined.
// Called with the engine's lock held. It is small enough to be inlined, so
// a call pays one length check while no method has a strike.
func (e *Engine) quarantined(recv *lua.LTable, class, name string) bool {
	return len(e.strikes) > 0 && e.struckOut(recv, class, name)
}

// struckOut reports whether method name of recv's class has hit its
// deadline QuarantineAfter times in a row. Not inlined, so that
// quarantined stays small enough to be.
//
//go:noinline
func (e *Engine) struckOut(recv *lua.LTable, class, name string) bool {
	return e.opts.QuarantineAfter > 0 && e.strikes[methodKey{e.className(recv, class), name}] >= e.opts.QuarantineAfter
}

func (e *Engine) quarantineError(recv *lua.LTable, class, name string) error {
	return &ScriptError{Class: e.className(recv, class), Method: name, Message: ErrQuarantined.Error(), Generation: e.gen.num, Err: ErrQuarantined}
}

// methodKey names a method of a class, for quarantine.
type methodKey struct{ class, method string }

// strike counts a deadline hit of a method, quarantining it at the limit.
// Called with the engine's lock (e.lk) held.
func (e *Engine) strike(k methodKey) {
	if e.opts.QuarantineAfter <= 0 {
		return
	}
	e.strikes[k]++
	if e.strikes[k] == e.opts.QuarantineAfter {
		e.log.Warn("hotlua: method quarantined until the next reload: its calls keep hitting their deadline", "class", k.class, "method", k.method, "hits", e.strikes[k])
	}
}

// CallEach calls method on each object of objs, in order, with the same
// args (converted once), as one call of the engine: one wait for the
// engine, one protected call and one guard for the whole batch, so a tick
// over many objects costs less than as many Object.Call. Results are
// dropped. The first failure stops the batch: the error is a *ScriptError
// naming the class and method (and, in its message, the object's index in
// objs); the objects before it ran, those after it did not. ctx bounds the
// wait and, when it can be cancelled, the whole batch. A quarantined
// method, or an object without the method, fails the batch before its
// first call: every object's method is looked up before the batch runs,
// so a method that the batch's own calls redefine is seen by the next
// call, not by the rest of this batch. So does a nil object in objs, with
// an error naming its index.
func (e *Engine) CallEach(ctx context.Context, objs []*Object, method string, args ...any) error {
	if err := e.lk.lock(ctx); err != nil {
		return err
	}
	defer e.lk.unlock()
	if e.closed.Load() {
		return ErrClosed
	}
	L := e.L
	lvs := make([]lua.LValue, len(args))
	for i, a := range args {
		lv, err := e.toLua(L, a)
		if err != nil {
			return fmt.Errorf("engine: %s: %w", method, err)
		}
		lvs[i] = lv
	}
	runs, err := e.batchRuns(objs, method)
	if err != nil || len(objs) == 0 {
		return err
	}
	e.lk.calling(runs[0].fn)
	var unguard func()
	if ctx.Done() != nil {
		unguard = sandbox.Guard(L, ctx)
	}
	top := L.GetTop()
	current := 0
	e.gen.pcall.Push(L)
	L.Push(L.NewFunction(func(L *lua.LState) int {
		for r, run := range runs {
			end := len(objs)
			if r+1 < len(runs) {
				end = runs[r+1].start
			}
			for i := run.start; i < end; i++ {
				current = i
				L.Push(run.fn)
				L.Push(objs[i].t)
				for _, a := range lvs {
					L.Push(a)
				}
				L.Call(len(lvs)+1, 0)
			}
		}
		return 0
	}))
	err = e.gen.pcall.PCallPushed(L, 0, 0)
	L.SetTop(top)
	if unguard != nil {
		unguard()
	}
	if err != nil {
		se := scriptError(err, e.gen.num)
		se.Class, se.Method = e.className(objs[current].t, ""), method
		se.Message = fmt.Sprintf("%s (object %d of the batch)", se.Message, current)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			e.strike(methodKey{se.Class, method})
		}
		return se
	}
	return nil
}

// batchRun is a stretch of a batch whose objects run the same function:
// objs[start:] up to the next run's start.
type batchRun struct {
	fn    *lua.LFunction
	start int
}

// batchRuns looks up method on every object of objs, for CallEach, and
// returns the objects' functions as runs. Objects without a field of the
// name and with the same metatable as the last one looked up find the same
// method, of the same class: a run of them is looked up (and checked for
// quarantine) once, and costs each object one raw read of its own field
// and a compare of its metatable. No Lua runs meanwhile, so nothing the
// lookup reads can change. Called with the engine's lock held.
func (e *Engine) batchRuns(objs []*Object, method string) ([]batchRun, error) {
	var runs []batchRun
	var runMeta *lua.LTable // the metatable whose method runFn is
	var runFn *lua.LFunction
	for i, o := range objs {
		if o == nil {
			return nil, fmt.Errorf("engine: CallEach %s: object %d of the batch is nil", method, i)
		}
		if o.e != e {
			return nil, ErrOtherEngine
		}
		// Type assertions, not comparisons with lua.LNil or of two
		// metatables as lua.LValue: those compare interfaces, a runtime
		// call per object.
		v := o.t.RawGetString(method)
		fn, own := v.(*lua.LFunction)
		if !own {
			mt, _ := o.t.Metatable.(*lua.LTable)
			if _, absent := v.(*lua.LNilType); !absent || runFn == nil || mt != runMeta {
				var ok bool
				if fn, ok = lookup(o.t, method).(*lua.LFunction); !ok {
					return nil, fmt.Errorf("%w: %s.%s (object %d)", ErrNoMethod, e.className(o.t, ""), method, i)
				}
				if e.quarantined(o.t, "", method) {
					return nil, e.quarantineError(o.t, "", method)
				}
				runMeta, runFn = mt, fn
			}
			fn = runFn
		} else if e.quarantined(o.t, "", method) {
			return nil, e.quarantineError(o.t, "", method)
		}
		if len(runs) == 0 || runs[len(runs)-1].fn != fn {
			runs = append(runs, batchRun{fn, i})
		}
	}
	return runs, nil
}

// CallGlobal calls the current generation's global function name with args
// and returns its first result, as [Object.Call] does for methods.
func (e *Engine) CallGlobal(ctx context.Context, name string, args ...any) (Value, error) {
	return e.call(ctx, nil, false, "_G", name, args)
}

// lookup finds key in t the way t[key] does, following __index tables. It
// calls no __index function: where one would be called, it returns nil,
// but for an object whose class's __index is a function, where it looks in
// the class table (so Go finds the methods of such a class, though the
// function, which Lua calls, may answer other keys or refuse some).
func lookup(t *lua.LTable, key string) lua.LValue { return lookupVia(t, key, nil) }

// lookupVia is lookup reading, for each table of the chain and each
// metatable, the table via returns for it (via nil: the table itself).
func lookupVia(t *lua.LTable, key string, via func(*lua.LTable) *lua.LTable) lua.LValue {
	for range lua.MaxTableGetLoop {
		if via != nil {
			t = via(t)
		}
		if v := t.RawGetString(key); v != lua.LNil {
			return v
		}
		mt, ok := t.Metatable.(*lua.LTable)
		if !ok {
			return lua.LNil
		}
		if via != nil {
			mt = via(mt)
		}
		next, ok := mt.RawGetString("__index").(*lua.LTable)
		if !ok {
			// An object whose class's __index is a function (middleclass's
			// wrapper of a declared __index, a class's own) finds its
			// methods in the class table, without calling the function.
			// Through via (prepare's view), only in a table via maps: any
			// other may be a stable table calls are writing.
			ud, isHandle := mt.RawGetString(handleKey).(*lua.LUserData)
			if !isHandle {
				return lua.LNil
			}
			if next = classTable(ud); next == nil || via != nil && via(next) == next {
				return lua.LNil
			}
		}
		t = next
	}
	return lua.LNil
}

// className returns known, else the name of the class of the object t, or
// "?". Called with the engine's lock (e.lk) held.
func (e *Engine) className(t *lua.LTable, known string) string {
	if known != "" {
		return known
	}
	if cv := e.classOf(t); cv != nil {
		return cv.name
	}
	return "?"
}

// classOf returns the class version the object t runs: its handle's, or
// its class's for an object a factory made (see factoryClass); nil when t
// is no object. Called with the engine's lock (e.lk) held.
func (e *Engine) classOf(t *lua.LTable) *classVersion {
	if h := handleOf(t); h != nil {
		return h.cur
	}
	return e.factoryClass(t)
}

// factoryClass returns the class of t when t is an object a factory of
// that class made (see constructs): its metatable, which is not the class,
// indexes the class's stable table (setmetatable(o, {__index = M}), with
// metamethods of its own or not). A metatable with a __newindex or a
// __metatable (a read-only view's, a proxy's) makes no object. Such
// objects are not adopted; they follow reloads through that table. It is
// nil for any other table. Called with the engine's lock (e.lk) held.
func (e *Engine) factoryClass(t *lua.LTable) *classVersion {
	mt, ok := t.Metatable.(*lua.LTable)
	if !ok || e.gen == nil || e.gen.classes[t] != nil {
		return nil
	}
	index, ok := mt.RawGetString("__index").(*lua.LTable)
	if !ok || index == mt {
		return nil
	}
	if mt.RawGetString("__newindex") != lua.LNil || mt.RawGetString("__metatable") != lua.LNil {
		return nil
	}
	if cv := e.gen.classes[index]; cv != nil && cv.table == index && !cv.selfIndexed && index.RawGetString("__index") == lua.LNil {
		return cv
	}
	return nil
}

// toLua converts a Go value for use in L. Called with the engine's lock (e.lk) held.
func (e *Engine) toLua(L *lua.LState, v any) (lua.LValue, error) {
	// The common kinds first, by concrete type: the bindings start with a
	// case of an interface type (lua.LValue), a slower dynamic check. A Lua
	// value is handed on in the interface it came in: converting it from
	// its concrete type would box a number again.
	switch x := v.(type) {
	case lua.LNumber, lua.LString, lua.LBool, *lua.LTable:
		return v.(lua.LValue), nil
	case float64:
		return lua.LNumber(x), nil
	case string:
		return lua.LString(x), nil
	case bool:
		return lua.LBool(x), nil
	case *Object:
		if x.e != e {
			return nil, ErrOtherEngine
		}
		return x.t, nil
	case *Class:
		if x.e != e {
			return nil, ErrOtherEngine
		}
		return x.cv.table, nil
	}
	return e.bind.ToLua(L, v)
}

// fromLua converts a Lua value to Go: an instance becomes an *Object.
// Called with the engine's lock (e.lk) held.
func (e *Engine) fromLua(v lua.LValue) (any, error) {
	if t, ok := v.(*lua.LTable); ok && e.classOf(t) != nil {
		return &Object{e: e, t: t}, nil
	}
	return e.bind.FromLua(v)
}

// Get returns the object's own field, raw (no metamethod runs).
func (o *Object) Get(field string) (Value, error) {
	var v Value
	err := o.e.Do(context.Background(), func(*lua.LState) error {
		var err error
		v, err = o.e.value(o.t.RawGetString(field))
		return err
	})
	return v, err
}

// Set sets the object's own field, raw, to v converted to Lua. A Go value
// that is not a number, string, bool or nil is given to scripts through the
// engine's bindings: storing a pointer to the Go struct that carries the
// object lets its Lua methods reach it (self.host:Move(1, 2)).
func (o *Object) Set(field string, v any) error {
	return o.e.Do(context.Background(), func(L *lua.LState) error {
		lv, err := o.e.toLua(L, v)
		if err != nil {
			return err
		}
		o.t.RawSetString(field, lv)
		return nil
	})
}

// Class returns the version of the class the object runs now.
func (o *Object) Class() *Class {
	o.e.lockBackground()
	defer o.e.lk.unlock()
	if cv := o.e.classOf(o.t); cv != nil {
		return &Class{e: o.e, cv: cv}
	}
	return nil
}

// Version returns the version of the code the object runs now.
func (o *Object) Version() Version {
	if c := o.Class(); c != nil {
		return c.Version()
	}
	return Version{}
}

// SetClass gives the object the class c: the Go form of Python's
// instance.__class__ = UpdatedClass. Its fields are untouched; its next call
// runs c's code. With Options.ManualSwap, this is how objects move to a
// new version; otherwise it changes an object's class (an Enemy becomes a
// Boss) and the object follows c's class from then on.
func (o *Object) SetClass(c *Class) error {
	if c.e != o.e {
		return ErrOtherEngine
	}
	return o.e.Do(context.Background(), func(*lua.LState) error {
		o.e.attach(o.t, c.cv)
		return nil
	})
}

// String returns "class@version" (of the version it runs now).
func (o *Object) String() string {
	if c := o.Class(); c != nil {
		return c.String()
	}
	return "object"
}

// Table returns the object's Lua table, for use inside [Engine.Do] only.
func (o *Object) Table() *lua.LTable { return o.t }

// Object wraps an instance table met inside [Engine.Do]; ok is false for a
// value that is not an instance of a class.
func (e *Engine) Object(v lua.LValue) (obj *Object, ok bool) {
	t, isTable := v.(*lua.LTable)
	if !isTable || e.classOf(t) == nil {
		return nil, false
	}
	return &Object{e: e, t: t}, true
}

// Describe reports the class and version of an instance or a class table,
// for use inside [Engine.Do]; ok is false for other values.
func (e *Engine) Describe(v lua.LValue) (class string, version Version, ok bool) {
	t, isTable := v.(*lua.LTable)
	if !isTable {
		return "", Version{}, false
	}
	cv := e.classOf(t)
	if cv == nil && e.gen != nil {
		cv = e.gen.classes[t]
	}
	if cv == nil {
		return "", Version{}, false
	}
	return cv.name, cv.version, true
}
