package sandbox

import (
	lua "github.com/yuin/gopher-lua"
)

// TrimProto shrinks every slice of a freshly compiled prototype, and of the
// functions nested in it, to its length, and drops the arg table of those
// that cannot name it.
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
// vararg function a table of its arguments, Lua 5.0's arg: for a chunk,
// each time a module runs, a table with a map of 32 slots. Only a function
// written with a parameter list ending in ... has a local arg that sees
// it; a chunk has none (arg in a chunk is the global), so for it the table
// is garbage from the start. TrimProto clears the flag that asks for it on
// every function without a local arg from its first instruction.
//
// Call TrimProto before the prototype is shared with a state or another
// goroutine: it writes the prototype.
func TrimProto(p *lua.FunctionProto) {
	p.Code = exact(p.Code)
	p.Constants = exact(p.Constants)
	p.FunctionPrototypes = exact(p.FunctionPrototypes)
	p.DbgSourcePositions = exact(p.DbgSourcePositions)
	p.DbgLocals = exact(p.DbgLocals)
	p.DbgCalls = exact(p.DbgCalls)
	p.DbgUpvalues = exact(p.DbgUpvalues)
	if !namesArg(p) {
		p.IsVarArg &^= lua.VarArgNeedsArg
	}
	for _, child := range p.FunctionPrototypes {
		TrimProto(child)
	}
}

// exact returns a copy of s in an array of exactly its length.
func exact[S ~[]E, E any](s S) S {
	out := make(S, len(s))
	copy(out, s)
	return out
}

// namesArg reports whether p has a local called arg from its first
// instruction: the one gopher-lua declares for Lua 5.0's arg table.
func namesArg(p *lua.FunctionProto) bool {
	for _, l := range p.DbgLocals {
		if l.Name == "arg" && l.StartPc == 0 {
			return true
		}
	}
	return false
}
