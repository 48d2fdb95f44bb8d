package sandbox

import lua "github.com/yuin/gopher-lua"

// ModuleStateWrite reports whether a function nested in the chunk proto
// (not its top level, which every load runs afresh) writes state that the
// module keeps between calls, and the line of the first such write. A
// function writes module state when it
//
//   - assigns a module local (a local of the chunk's top level), unless the
//     value is what a call of the global require returned just before: a
//     module required lazily (compat = compat or require "pl.compat") is no
//     state, each load requires its own;
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
				if pc < len(p.DbgSourcePositions) {
					line = p.DbgSourcePositions[pc]
				}
				return line, true
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
		return f.moduleLocal(chunk, p, instB(inst)) && !f.requires(p, pc, instA(inst))
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
// the global require returned, through copies. It looks past the jumps of
// `x = x or require(...)`, whose other path keeps x's own value.
func (f *protoFacts) requires(p *lua.FunctionProto, pc, r int) bool {
	i := f.lastWrite(p, pc, r, false)
	for n := 0; i >= 0 && instOp(p.Code[i]) == lua.OP_MOVE && n < 8; n++ {
		i = f.lastWrite(p, i, instB(p.Code[i]), false)
	}
	return i >= 0 && instOp(p.Code[i]) == lua.OP_CALL && f.globalFunction(p, i, instA(p.Code[i])) == "require"
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
