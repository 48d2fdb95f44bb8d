package sandbox

import lua "github.com/yuin/gopher-lua"

// IndexesSelf reports whether the function p's own code (not the functions
// nested in it) sets self.__index = self, its first parameter's __index
// field to that parameter: the constructor of Programming in Lua's
// classes. A method that gives __index to another table (cls.__index =
// cls, a subclass maker) or makes a metatable of self ({__index = self})
// does not. It is safe for concurrent use; it only reads p.
func IndexesSelf(p *lua.FunctionProto) bool {
	if p.NumParameters == 0 { // register 0 is no self
		return false
	}
	var f *protoFacts
	for pc, inst := range p.Code {
		switch instOp(inst) {
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
			if instA(inst) != 0 || instC(inst) != 0 { // self[k] = self, self in register 0
				continue
			}
			if f == nil {
				f = learnProto(p, false)
			}
			if f.stringOperand(p, pc, instB(inst)) == "__index" {
				return true
			}
		}
	}
	return false
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
