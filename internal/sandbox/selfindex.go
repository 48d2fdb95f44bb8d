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
	var f *protoFacts
	for pc, inst := range p.Code {
		switch instOp(inst) {
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
			if instC(inst) != 0 { // t[k] = self, self in register 0
				continue
			}
			if f == nil {
				f = learnProto(p, false)
			}
			if f.stringOperand(p, pc, instB(inst)) == "__index" {
				if instA(inst) == 0 {
					own = true
				} else {
					other = true
				}
			}
		}
	}
	return own, other
}

// IndexUpvalues returns the upvalues whose value the function p's own code
// stores as an __index field ({__index = M}, M an upvalue): the metatable
// a factory gives the objects it makes. It is safe for concurrent use; it
// only reads p.
func IndexUpvalues(p *lua.FunctionProto) []int {
	var f *protoFacts
	var ups []int
	for pc, inst := range p.Code {
		switch instOp(inst) {
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
			c := instC(inst)
			if c&rkConstant != 0 {
				continue
			}
			if f == nil {
				f = learnProto(p, false)
			}
			if f.stringOperand(p, pc, instB(inst)) != "__index" {
				continue
			}
			if i := f.lastWrite(p, pc, c, true); i >= 0 && instOp(p.Code[i]) == lua.OP_GETUPVAL {
				ups = append(ups, instB(p.Code[i]))
			}
		}
	}
	return ups
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
