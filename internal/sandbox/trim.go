package sandbox

import (
	lua "github.com/yuin/gopher-lua"
)

// TrimProto shrinks every slice of a freshly compiled chunk's prototype,
// and of the functions nested in it, to its length, and drops the chunk's
// arg table, which it cannot name.
//
// gopher-lua v1.1.2 compiles each function into buffers of 1024 slots (its
// code and the source line of each instruction) and keeps them, unsliced,
// in the FunctionProto, beside smaller spare capacity in the constants and
// debug tables: about 150 KB per 60-line class module of the benchmark
// project, against about 12 KB at exact length. A prototype is read-only
// once compiled, so exact copies behave the same
// (TestTrimmedProtosBehaveTheSame). The unexported string constants are
// left as they are.
//
// gopher-lua (CompatVarArg, on by default) also gives every call of a
// vararg function that does not use ... a table of its arguments, Lua
// 5.0's arg: for a chunk, each time a module runs, a table with a map of 32
// slots. A nested function written with a parameter list ending in ... has
// a local arg that sees it, and keeps it; the chunk has none (arg in a
// chunk is the global), so for the chunk the table is garbage from the
// start, and TrimProto clears the flag that asks for it.
//
// chunk must be what lua.Compile returned. Call TrimProto before the
// prototype is shared with a state or another goroutine: it writes the
// prototype.
func TrimProto(chunk *lua.FunctionProto) {
	trimSlices(chunk)
	chunk.IsVarArg &^= lua.VarArgNeedsArg
}

// trimSlices gives p and the functions nested in it slices of exactly their
// length.
func trimSlices(p *lua.FunctionProto) {
	p.Code = exact(p.Code)
	p.Constants = exact(p.Constants)
	p.FunctionPrototypes = exact(p.FunctionPrototypes)
	p.DbgSourcePositions = exact(p.DbgSourcePositions)
	p.DbgLocals = exact(p.DbgLocals)
	p.DbgCalls = exact(p.DbgCalls)
	p.DbgUpvalues = exact(p.DbgUpvalues)
	for _, child := range p.FunctionPrototypes {
		trimSlices(child)
	}
}

// exact returns a copy of s in an array of exactly its length.
func exact[S ~[]E, E any](s S) S {
	out := make(S, len(s))
	copy(out, s)
	return out
}
