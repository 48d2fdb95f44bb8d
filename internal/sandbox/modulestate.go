package sandbox

import lua "github.com/yuin/gopher-lua"

// ModuleStateWrite reports whether a function nested in the chunk proto
// (not its top level, which every load runs afresh) writes state that the
// module keeps between calls, and the line of the first such write. A
// function writes module state when it
//
//   - assigns a module local (a local of the chunk's top level), unless the
//     value is what a call of the global require returned just before, or
//     the local itself if it is set: a module required lazily (compat =
//     compat or require "pl.compat") is no state, each load requires its
//     own;
//   - or writes into a table it loaded from a module local just before, in
//     straight-line code: t[k] = v, a table constructor's list, or the
//     first argument of a call of the global rawset or table.insert
//     (registry[cls] = true, table.insert(instances, obj)).
//
// It misses other paths to a module's tables: a table reached through a
// field of a module local (M.registry[k] = v), one loaded before a branch
// or loop, a local alias of rawset or table.insert, a helper function that
// writes into the table it is given. It is safe for concurrent use; it
// only reads proto.
func ModuleStateWrite(proto *lua.FunctionProto) (line int, found bool) {
	f := learnProto(proto, false)
	todo := append([]*lua.FunctionProto(nil), proto.FunctionPrototypes...)
	for len(todo) > 0 {
		p := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if p == nil {
			continue
		}
		todo = append(todo, p.FunctionPrototypes...)
		for pc, inst := range p.Code {
			if f.writesModuleState(proto, p, pc, inst) {
				return lineOf(p, pc), true
			}
		}
	}
	return 0, false
}

// writesModuleState reports whether instruction inst, at pc of the function
// p nested in chunk, writes module state (see ModuleStateWrite).
func (f *protoFacts) writesModuleState(chunk, p *lua.FunctionProto, pc int, inst uint32) bool {
	switch instOp(inst) {
	case lua.OP_SETUPVAL:
		return f.moduleLocal(chunk, p, instB(inst)) && !f.requires(p, pc, instA(inst), instB(inst))
	case lua.OP_SETTABLE, lua.OP_SETTABLEKS, lua.OP_SETLIST:
		return f.loadsModuleLocal(chunk, p, pc, instA(inst))
	case lua.OP_CALL, lua.OP_TAILCALL:
		switch f.globalFunction(p, pc, instA(inst)) {
		case "rawset", "table.insert":
			return f.loadsModuleLocal(chunk, p, pc, instA(inst)+1)
		}
	}
	return false
}

// moduleLocal reports whether upvalue u of p is a local of chunk's top level.
func (f *protoFacts) moduleLocal(chunk, p *lua.FunctionProto, u int) bool {
	o, ok := f.origin[register{p, u}]
	return ok && o.p == chunk
}

// loadsModuleLocal reports whether register r holds, at pc of p, a module
// local's value, loaded on the straight line before.
func (f *protoFacts) loadsModuleLocal(chunk, p *lua.FunctionProto, pc, r int) bool {
	i := f.lastWrite(p, pc, r, true)
	return i >= 0 && instOp(p.Code[i]) == lua.OP_GETUPVAL && f.moduleLocal(chunk, p, instB(p.Code[i]))
}

// requires reports whether register r holds, at pc of p, what a call of
// the global require returned, through copies, to be assigned to upvalue
// u: on the straight line before (m = require "x"), or as the second
// operand of an or whose first is u itself (compat = compat or
// require "pl.compat"), whose other path keeps u's own value. Another
// first operand (d = v or require "x") is a value of its own.
func (f *protoFacts) requires(p *lua.FunctionProto, pc, r, u int) bool {
	if f.requireCall(p, pc, r, true) >= 0 {
		return true
	}
	i := f.requireCall(p, pc, r, false)
	if i < 0 {
		return false
	}
	// The or's test sets the call's register to its first operand, or
	// tests it there, a few instructions before the call.
	rc := instA(p.Code[i])
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		first := -1
		switch inst := p.Code[j]; {
		case instOp(inst) == lua.OP_TESTSET && instA(inst) == rc:
			first = instB(inst)
		case instOp(inst) == lua.OP_TEST && instA(inst) == rc:
			first = rc
		default:
			continue
		}
		k := f.lastWrite(p, j, first, true)
		return k >= 0 && instOp(p.Code[k]) == lua.OP_GETUPVAL && instB(p.Code[k]) == u
	}
	return false
}

// requireCall returns the index of the call of the global require whose
// result register r holds at pc of p, through copies, or -1; with straight
// set, only on the straight line before (see lastWrite).
func (f *protoFacts) requireCall(p *lua.FunctionProto, pc, r int, straight bool) int {
	i := f.lastWrite(p, pc, r, straight)
	for n := 0; i >= 0 && instOp(p.Code[i]) == lua.OP_MOVE && n < 8; n++ {
		i = f.lastWrite(p, i, instB(p.Code[i]), straight)
	}
	if i >= 0 && instOp(p.Code[i]) == lua.OP_CALL && f.globalFunction(p, i, instA(p.Code[i])) == "require" {
		return i
	}
	return -1
}

// globalFunction names the global function (as "rawset" or "table.insert")
// that register r holds at pc of p, loaded on the straight line before, or
// returns "".
func (f *protoFacts) globalFunction(p *lua.FunctionProto, pc, r int) string {
	i := f.lastWrite(p, pc, r, true)
	if i < 0 {
		return ""
	}
	inst := p.Code[i]
	switch instOp(inst) {
	case lua.OP_GETGLOBAL:
		return constantString(p, instBx(inst))
	case lua.OP_GETTABLEKS:
		key := instC(inst)
		if key&rkConstant == 0 {
			return ""
		}
		if lib := f.globalFunction(p, i, instB(inst)); lib == "table" {
			return lib + "." + constantString(p, key&^rkConstant)
		}
	}
	return ""
}

// rkConstant marks an RK operand (B or C) that indexes the constants
// rather than the registers (gopher-lua's opBitRk).
const rkConstant = 1 << 8

// constantString returns the string constant k of p, or "".
func constantString(p *lua.FunctionProto, k int) string {
	if k < len(p.Constants) {
		if s, ok := p.Constants[k].(lua.LString); ok {
			return string(s)
		}
	}
	return ""
}
