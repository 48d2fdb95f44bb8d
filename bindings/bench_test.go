package bindings

import (
	"slices"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	luar "layeh.com/gopher-luar"
)

// entity is the host object of the benchmarks.
type entity struct {
	X, Y float64
}

func (e *entity) Move(dx, dy float64) { e.X += dx; e.Y += dy }

// benchCase is one way to give a Lua loop the value it calls.
type benchCase struct {
	name string
	wrap func(L *lua.LState, e *entity) lua.LValue
}

// benchLoop runs loop(value, b.N) once per case, where loop calls the value
// b.N times, and checks that e.Move ran b.N times.
func benchLoop(b *testing.B, loop string, cases []benchCase) {
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			L := lua.NewState()
			defer L.Close()
			if err := L.DoString(loop); err != nil {
				b.Fatal(err)
			}
			fn := L.Get(-1)
			e := &entity{}
			v := c.wrap(L, e)
			b.ReportAllocs()
			b.ResetTimer()
			if err := L.CallByParam(lua.P{Fn: fn, Protect: true}, v, lua.LNumber(b.N)); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if e.X != float64(b.N) {
				b.Fatalf("X = %v after %d calls", e.X, b.N)
			}
		})
	}
}

// BenchmarkMethodCall runs host:Move(1, 2) from a Lua loop through a
// hand-written lua.LGFunction (methods only, and with fields X and Y
// readable through a Go __index), gopher-luar, and this package: a type
// registered with MethodsOnly, the same type with its fields visible, and
// the type bound by reflection. Compare the medians of several runs.
func BenchmarkMethodCall(b *testing.B) {
	methodsOnly, withFields, reflected := New(), New(), New()
	if err := Type[*entity](methodsOnly, "Entity", MethodsOnly()); err != nil {
		b.Fatal(err)
	}
	if err := Type[*entity](withFields, "Entity"); err != nil {
		b.Fatal(err)
	}
	benchLoop(b, `return function(host, n) for i = 1, n do host:Move(1, 2) end end`, []benchCase{
		{"handwritten", func(L *lua.LState, e *entity) lua.LValue { return handWritten(L, e, false) }},
		{"handwritten-fields", func(L *lua.LState, e *entity) lua.LValue { return handWritten(L, e, true) }},
		{"gopher-luar", func(L *lua.LState, e *entity) lua.LValue { return luar.New(L, e) }},
		{"bindings", func(L *lua.LState, e *entity) lua.LValue { return must(methodsOnly.ToLua(L, e)) }},
		{"bindings-fields", func(L *lua.LState, e *entity) lua.LValue { return must(withFields.ToLua(L, e)) }},
		{"bindings-reflect", func(L *lua.LState, e *entity) lua.LValue { return must(reflected.ToLua(L, e)) }},
	})
}

// BenchmarkFuncCall runs move(1, 2) from a Lua loop, where move is the
// method value e.Move: hand-written, gopher-luar, and this package.
func BenchmarkFuncCall(b *testing.B) {
	r := New()
	benchLoop(b, `return function(move, n) for i = 1, n do move(1, 2) end end`, []benchCase{
		{"handwritten", handWrittenFunc},
		{"gopher-luar", func(L *lua.LState, e *entity) lua.LValue { return luar.New(L, e.Move) }},
		{"bindings", func(L *lua.LState, e *entity) lua.LValue { return must(r.ToLua(L, e.Move)) }},
		{"bindings-reflect", func(L *lua.LState, e *entity) lua.LValue {
			return must(r.ToLua(L, func(dx, dy float64) error { e.Move(dx, dy); return nil }))
		}},
	})
}

// handWrittenFunc is the lua.LGFunction one would write for e.Move.
func handWrittenFunc(L *lua.LState, e *entity) lua.LValue {
	return L.NewFunction(func(L *lua.LState) int {
		e.Move(float64(L.CheckNumber(1)), float64(L.CheckNumber(2)))
		return 0
	})
}

// handWritten binds e the way one would by hand: a methods table as
// __index, or with fields, an __index function trying methods first.
func handWritten(L *lua.LState, e *entity, fields bool) lua.LValue {
	methods := L.NewTable()
	methods.RawSetString("Move", L.NewFunction(func(L *lua.LState) int {
		e := L.CheckUserData(1).Value.(*entity)
		e.Move(float64(L.CheckNumber(2)), float64(L.CheckNumber(3)))
		return 0
	}))
	meta := L.NewTable()
	meta.RawSetString("__index", methods)
	if fields {
		meta.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
			key := L.CheckString(2)
			if m := methods.RawGetString(key); m != lua.LNil {
				L.Push(m)
				return 1
			}
			e := L.CheckUserData(1).Value.(*entity)
			switch key {
			case "X":
				L.Push(lua.LNumber(e.X))
			case "Y":
				L.Push(lua.LNumber(e.Y))
			default:
				L.RaiseError("no field %s", key)
			}
			return 1
		}))
	}
	ud := L.NewUserData()
	ud.Value, ud.Metatable = e, meta
	return ud
}

// BenchmarkRatio measures the ratios of BenchmarkMethodCall and
// BenchmarkFuncCall in a way that resists a noisy machine: each iteration
// runs a batch of 1000 calls of a variant and then of its baseline, and
// each metric is the median ratio of the batch times.
func BenchmarkRatio(b *testing.B) {
	methodsOnly, withFields, reflected, funcs := New(), New(), New(), New()
	if err := Type[*entity](methodsOnly, "Entity", MethodsOnly()); err != nil {
		b.Fatal(err)
	}
	if err := Type[*entity](withFields, "Entity"); err != nil {
		b.Fatal(err)
	}
	const method = `return function(host, n) for i = 1, n do host:Move(1, 2) end end`
	const function = `return function(move, n) for i = 1, n do move(1, 2) end end`
	pairs := []struct {
		metric     string
		loop       string
		base, ours func(L *lua.LState, e *entity) lua.LValue
	}{
		{"method/handwritten", method,
			func(L *lua.LState, e *entity) lua.LValue { return handWritten(L, e, false) },
			func(L *lua.LState, e *entity) lua.LValue { return must(methodsOnly.ToLua(L, e)) }},
		{"fields/handwritten", method,
			func(L *lua.LState, e *entity) lua.LValue { return handWritten(L, e, false) },
			func(L *lua.LState, e *entity) lua.LValue { return must(withFields.ToLua(L, e)) }},
		{"fields/handwritten-fields", method,
			func(L *lua.LState, e *entity) lua.LValue { return handWritten(L, e, true) },
			func(L *lua.LState, e *entity) lua.LValue { return must(withFields.ToLua(L, e)) }},
		{"reflect/handwritten", method,
			func(L *lua.LState, e *entity) lua.LValue { return handWritten(L, e, false) },
			func(L *lua.LState, e *entity) lua.LValue { return must(reflected.ToLua(L, e)) }},
		{"gopher-luar/handwritten", method,
			func(L *lua.LState, e *entity) lua.LValue { return handWritten(L, e, false) },
			func(L *lua.LState, e *entity) lua.LValue { return luar.New(L, e) }},
		{"func/handwritten", function,
			func(L *lua.LState, e *entity) lua.LValue { return handWrittenFunc(L, e) },
			func(L *lua.LState, e *entity) lua.LValue { return must(funcs.ToLua(L, e.Move)) }},
	}
	type runner func() time.Duration
	prepare := func(loop string, wrap func(L *lua.LState, e *entity) lua.LValue) runner {
		L := lua.NewState()
		b.Cleanup(L.Close)
		if err := L.DoString(loop); err != nil {
			b.Fatal(err)
		}
		fn, v := L.Get(-1), wrap(L, &entity{})
		return func() time.Duration {
			start := time.Now()
			if err := L.CallByParam(lua.P{Fn: fn, Protect: true}, v, lua.LNumber(1000)); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
	}
	for _, p := range pairs {
		base, ours := prepare(p.loop, p.base), prepare(p.loop, p.ours)
		ratios := make([]float64, b.N)
		for i := range ratios {
			ratios[i] = float64(ours()) / float64(base())
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], p.metric)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
