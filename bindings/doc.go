// Package bindings gives scripts access to their Go host: functions, values
// and types registered once on a [Registry] and installed into every fresh
// Lua state (generation) an engine builds, and the conversions between Go
// and Lua values.
//
// # Model
//
// The host registers before the engine starts:
//
//	r := bindings.New()
//	r.Func("spawn", world.Spawn)          // a global function
//	r.Value("config", cfg)                // a global value
//	bindings.Type[*Ship](r, "Ship")       // Ship.new{...} and direct calls of *Ship's methods
//
// The engine calls [Registry.Install] on each generation's state before the
// scripts run, so every generation sees the same globals without the host
// doing anything, and [InstallHostHelpers] on the `hot` table it makes.
//
// # Objects and identity
//
// A pointer to a struct becomes a userdata whose metatable gives scripts its
// exported methods (obj:Move(1, 2)) and exported fields (obj.X, obj.X = 3;
// a `lua:"name"` tag renames a field, `lua:"-"` hides it, [MethodsOnly]
// hides them all). Reading a field converts it like any value, so a struct
// or slice field is a copy. An unknown key is an error, so a typo does not
// read nil.
//
// One Go pointer has one userdata per Registry, in every generation: the
// Registry keeps a weak table from pointer to userdata, so equality,
// rawequal and table keys work across reloads, and an object dropped by the
// host and by every state is collected as usual. The metatables and method
// functions are made once per Registry and shared by all states; userdata
// made for one state works in any other.
//
// # Calls
//
// Methods and functions are examined once, when bound. A method of a type
// registered with [Type], or a function registered with [Registry.Func],
// whose signature is one of the common shapes calls the Go code directly,
// with no reflection per call. The shapes, with T the receiver or a first
// argument of type float64, int, string or bool:
//
//	func(T)  func(T, float64)  func(T, int)  func(T, string)  func(T, bool)
//	func(T, float64, float64)  func(T, int, int)  func(T, float64, float64, float64)
//	func(T) float64  func(T) int  func(T) string  func(T) bool  func(T) error
//	func(T) (float64, float64)
//
// BenchmarkRatio measures the cost against a hand-written lua.LGFunction
// doing the same work (medians of 6 runs, each the median of paired
// batches): a method of a type registered with [MethodsOnly] 1.08x; the
// same type with its fields visible 1.8x, because every lookup then goes
// through a Go __index (1.07x a hand-written binding that also exposes
// fields); a function 1.06x. Everything else is called by reflection with
// precomputed parameter types: 4.8x, against 6.9x for gopher-luar.
//
// Arguments convert with the rules of [Registry.FromLuaInto], results with
// [Registry.ToLua]. A first parameter of type context.Context receives the
// call's context (lua.LState.Context, or context.Background when none is
// set), so a blocking binding should select on ctx.Done(). A last result of
// type error raises a Lua error "Name: message" when it is not nil. A bad
// argument raises "bad argument #n to Name: ...", where n counts a method's
// receiver as #1, as gopher-lua's own checks do. A panic
// in a binding becomes the Lua error "bindings: Name panicked: value": a
// script can pcall it, and the host survives.
//
// gopher-luar is not used at run time: its metatables live in each state,
// are rebuilt per generation and locked, and each wrap is a new userdata,
// which defeats identity across reloads. Userdata it made still convert back
// through [Registry.FromLua].
//
// # Conversions
//
// Go to Lua ([Registry.ToLua]): nil, nil pointers, funcs and errors are
// nil, nil slices and maps are empty tables; bools, strings and all number kinds map directly, except
// integers a float64 cannot hold exactly (beyond 2^53 and not exact), which
// are an error; []byte is a string; slices and arrays are sequences; maps
// are tables (a nil or NaN key is an error); structs are tables of their
// fields; pointers to structs are objects; errors are their message; funcs
// are callable. Channels, complex numbers, other pointers and contexts are
// an error. Values nest at most [MaxDepth] deep, which also stops cycles.
//
// Lua to Go: see [Registry.FromLua] for untyped results and
// [Registry.FromLuaInto] for a typed target. Conversions are strict: a
// number is not a string, 1.5 is not an int, 300 is not a uint8, nil is not
// an int.
//
// # Concurrency
//
// A Registry is filled before the engine starts; after that, Install, the
// conversions and the bindings run on the goroutine that runs a state, which
// the engine serialises with its lock. Bound Go methods run on that
// goroutine too: a host object shared with other goroutines needs its own
// locking.
package bindings
