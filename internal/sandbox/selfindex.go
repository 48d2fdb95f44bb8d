package sandbox

import lua "github.com/yuin/gopher-lua"

// IndexesSelf reports what the function p's own code (not the functions
// nested in it) makes of its first parameter, self, as an __index: own,
// when it sets self.__index = self (the constructor of Programming in
// Lua's classes); other, when it sets self as another table's __index
// ({__index = self}: a metatable for an object, or for a subclass). A
// write of another table's own __index (cls.__index = cls) is neither. It
// is safe for concurrent use; it only reads p.
func IndexesSelf(p *lua.FunctionProto) (own, other bool) {
	if p.NumParameters == 0 { // register 0 is no self
		return false, false
	}
	indexStores(p, func(_ *protoFacts, _ int, inst uint32) {
		if instC(inst) == 0 { // t.__index = self, self in register 0
			own = own || instA(inst) == 0
			other = other || instA(inst) != 0
		}
	})
	return own, other
}

// IndexUpvalues returns the upvalues whose value the function p's own code
// stores as an __index field ({__index = M}, M an upvalue): the metatable
// a factory gives the objects it makes. It is safe for concurrent use; it
// only reads p.
func IndexUpvalues(p *lua.FunctionProto) []int {
	var ups []int
	indexStores(p, func(f *protoFacts, pc int, inst uint32) {
		if c := instC(inst); c&rkConstant == 0 {
			if i := f.lastWrite(p, pc, c, true); i >= 0 && instOp(p.Code[i]) == lua.OP_GETUPVAL {
				ups = append(ups, instB(p.Code[i]))
			}
		}
	})
	return ups
}

// indexStores calls store for each instruction of p's own code that
// stores a field named __index (t.__index = v, {__index = v}), with what
// it learned of p.
func indexStores(p *lua.FunctionProto, store func(f *protoFacts, pc int, inst uint32)) {
	var f *protoFacts
	for pc, inst := range p.Code {
		if op := instOp(inst); op != lua.OP_SETTABLE && op != lua.OP_SETTABLEKS {
			continue
		}
		if f == nil {
			f = learnProto(p, false)
		}
		if f.stringOperand(p, pc, instB(inst)) == "__index" {
			store(f, pc, inst)
		}
	}
}

// stringOperand returns the string constant the RK operand k names at pc
// of p: a constant, or a register an OP_LOADK of one wrote on the straight
// line before (gopher-lua loads a constant key so); else "".
func (f *protoFacts) stringOperand(p *lua.FunctionProto, pc, k int) string {
	if k&rkConstant != 0 {
		return constantString(p, k&^rkConstant)
	}
	if i := f.lastWrite(p, pc, k, true); i >= 0 && instOp(p.Code[i]) == lua.OP_LOADK {
		return constantString(p, instBx(p.Code[i]))
	}
	return ""
}
