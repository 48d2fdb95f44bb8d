package sandbox

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// The layout of a gopher-lua v1.1.2 instruction, from its opcode.go
// (opGetOpCode, opGetArgA, opGetArgB and opGetArgC, unexported there): the
// opcode in bits 26-31, A in bits 18-25, C in bits 9-17 and B in bits 0-8.
const (
	instOpShift = 26
	instAShift  = 18
	instAMask   = 0xff
	instCShift  = 9
	instArgMask = 0x1ff // 9 bits, for B and C
)

// instOp, instA, instB and instC decode an instruction as gopher-lua does.
func instOp(inst uint32) int { return int(inst >> instOpShift) }
func instA(inst uint32) int  { return int(inst>>instAShift) & instAMask }
func instB(inst uint32) int  { return int(inst & instArgMask) }
func instC(inst uint32) int  { return int(inst>>instCShift) & instArgMask }

// constantOperand reports whether register r holds a literal constant at
// instruction pc: the last instruction before pc that names r as its A
// operand loads a constant (OP_LOADK). It looks back a bounded way and
// answers false when unsure.
func constantOperand(code []uint32, pc, r int) bool {
	for i := pc - 1; i >= 0 && i >= pc-256; i-- {
		if instA(code[i]) == r {
			return instOp(code[i]) == lua.OP_LOADK
		}
	}
	return false
}

// CheckProto reports whether a compiled chunk, proto and every function
// nested in it, is free of concatenations of more than
// [Limits.MaxConcatOperands] values other than literal constants in one
// expression.
//
// gopher-lua compiles `a .. b .. c .. ...` into one instruction that joins
// all its operands in one allocation, which no deadline or memory watchdog
// can interrupt: with 16 MiB strings, a hundred operands end the process
// with a fatal out-of-memory error. Concatenations split into several
// expressions (local s = a .. b; s = s .. c) run one instruction each, and
// the watchdog of [Guard] sees the heap between them.
//
// The `load` and `loadstring` of [NewState] apply it to the chunks they
// compile; call it on every script compiled for a sandboxed state. The
// message names the line of the expression. CheckProto is safe for
// concurrent use; it only reads proto.
func CheckProto(proto *lua.FunctionProto, lim Limits) error {
	lim = lim.withDefaults()
	todo := []*lua.FunctionProto{proto}
	for len(todo) > 0 {
		p := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if p == nil {
			continue
		}
		for pc, inst := range p.Code {
			if instOp(inst) != lua.OP_CONCAT {
				continue
			}
			variable := 0
			for r := instB(inst); r <= instC(inst); r++ {
				if !constantOperand(p.Code, pc, r) {
					variable++
				}
			}
			if n := variable; n > lim.MaxConcatOperands {
				line := 0
				if pc < len(p.DbgSourcePositions) {
					line = p.DbgSourcePositions[pc]
				}
				return &SourceError{Line: line, Message: fmt.Sprintf("a concatenation of %d values other than literals in one expression (the limit is %d): split it",
					n, lim.MaxConcatOperands)}
			}
		}
		for i := len(p.FunctionPrototypes) - 1; i >= 0; i-- {
			todo = append(todo, p.FunctionPrototypes[i])
		}
	}
	return nil
}
