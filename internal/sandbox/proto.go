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

// instBx decodes the Bx operand (bits 0-17), and instSbx the signed one.
func instBx(inst uint32) int  { return int(inst & 0x3ffff) }
func instSbx(inst uint32) int { return instBx(inst) - 0x3ffff>>1 }

// maxJump is the farthest gopher-lua's jumps reach (the sBx operand has 18
// bits). Its compiler checks the distance only of jumps to labels: a longer
// loop or branch wraps around silently, to a wrong instruction.
const maxJump = 0x3ffff >> 1

// maxRegisters is the number of registers a function may use (A has 8 bits).
const maxRegisters = 256

// writtenRegisters returns the registers inst writes, [from, to], or
// from > to for none. It errs on the side of too many: an instruction that
// may write every register above A (a call with multiple results) writes
// all of them.
func writtenRegisters(inst uint32) (from, to int) {
	a, b, c := instA(inst), instB(inst), instC(inst)
	switch instOp(inst) {
	case lua.OP_SETGLOBAL, lua.OP_SETUPVAL, lua.OP_SETTABLE, lua.OP_SETTABLEKS, lua.OP_EQ, lua.OP_LT, lua.OP_LE,
		lua.OP_TEST, lua.OP_JMP, lua.OP_RETURN, lua.OP_SETLIST, lua.OP_CLOSE, lua.OP_NOP:
		return 1, 0
	case lua.OP_LOADNIL:
		return a, b
	case lua.OP_SELF:
		return a, a + 1
	case lua.OP_CALL:
		if c > 0 {
			return a, a + max(c-2, 0)
		}
		return a, maxRegisters - 1
	case lua.OP_FORLOOP, lua.OP_FORPREP:
		return a, a + 3
	case lua.OP_VARARG, lua.OP_TFORLOOP, lua.OP_TAILCALL:
		return a, maxRegisters - 1
	}
	return a, a
}

// register names a register of a function.
type register struct {
	p *lua.FunctionProto
	r int
}

// protoFacts is what CheckProto learns about a chunk before judging its
// concatenations: which registers may hold something other than a literal
// constant, where each upvalue comes from, and where jumps land.
type protoFacts struct {
	// variable holds the parameters and the registers some instruction
	// writes with other than OP_LOADK, or that a closure assigns through an
	// upvalue.
	variable map[register]bool
	// loaded holds the registers some OP_LOADK writes.
	loaded map[register]bool
	// origin maps a function's upvalue to the register it captures, in the
	// function that declares the local.
	origin map[register]register
	// targets holds the instructions a jump may land on, by function.
	targets map[*lua.FunctionProto]map[int]bool
	// captures holds, by function, the pseudo-instructions that follow a
	// CLOSURE to name what it captures: they write no register.
	captures map[*lua.FunctionProto]map[int]bool
}

// learnProto returns the facts of proto and of the functions nested in it.
// Without values, it learns only their shape (origin, targets, captures),
// not which registers hold literal constants: that costs a map entry per
// register a call or vararg may write, most of the work.
func learnProto(proto *lua.FunctionProto, values bool) *protoFacts {
	f := &protoFacts{origin: map[register]register{}, targets: map[*lua.FunctionProto]map[int]bool{},
		captures: map[*lua.FunctionProto]map[int]bool{}}
	if values {
		f.variable, f.loaded = map[register]bool{}, map[register]bool{}
	}
	f.learn(proto)
	return f
}

// learn records the facts of p and of the functions nested in it.
func (f *protoFacts) learn(p *lua.FunctionProto) {
	targets, captures := map[int]bool{}, map[int]bool{}
	f.targets[p], f.captures[p] = targets, captures
	values := f.variable != nil
	// The caller writes the parameters, with no instruction of p.
	for r := 0; r < int(p.NumParameters) && values; r++ {
		f.variable[register{p, r}] = true
	}
	code := p.Code
	for pc := 0; pc < len(code); pc++ {
		inst := code[pc]
		switch instOp(inst) {
		case lua.OP_LOADK:
			if values {
				f.loaded[register{p, instA(inst)}] = true
			}
			continue
		case lua.OP_JMP, lua.OP_FORLOOP, lua.OP_FORPREP:
			targets[pc+1+instSbx(inst)] = true
		case lua.OP_LOADBOOL, lua.OP_EQ, lua.OP_LT, lua.OP_LE, lua.OP_TEST, lua.OP_TESTSET, lua.OP_TFORLOOP:
			targets[pc+2] = true // they may skip the next instruction
		case lua.OP_SETUPVAL:
			if o, ok := f.origin[register{p, instB(inst)}]; ok && values {
				f.variable[o] = true
			}
		case lua.OP_CLOSURE:
			if bx := instBx(inst); bx < len(p.FunctionPrototypes) {
				child := p.FunctionPrototypes[bx]
				// The closure's upvalues follow as pseudo-instructions: MOVE
				// captures a local of p, GETUPVAL one of p's upvalues.
				for i := 0; i < int(child.NumUpvalues) && pc+1 < len(code); i++ {
					pc++
					captures[pc] = true
					from := register{p, instB(code[pc])}
					if instOp(code[pc]) == lua.OP_GETUPVAL {
						var ok bool
						if from, ok = f.origin[from]; !ok {
							continue
						}
					}
					f.origin[register{child, i}] = from
				}
				if values {
					f.variable[register{p, instA(inst)}] = true
				}
				continue
			}
		}
		if !values {
			continue
		}
		from, to := writtenRegisters(inst)
		for r := from; r <= min(to, maxRegisters-1); r++ {
			f.variable[register{p, r}] = true
		}
	}
	for _, child := range p.FunctionPrototypes {
		f.learn(child)
	}
}

// constant reports whether reg only ever holds literal constants.
func (f *protoFacts) constant(reg register) bool {
	return f.loaded[reg] && !f.variable[reg]
}

// shortOperand reports whether register r holds a literal constant at
// instruction pc of p, directly or from a local or upvalue that only ever
// holds literal constants: the last instruction before pc that writes r
// loads a constant, or copies such a local or upvalue, and no jump lands
// between the two. It answers false when unsure.
func (f *protoFacts) shortOperand(p *lua.FunctionProto, pc, r int) bool {
	i := f.lastWrite(p, pc, r, true)
	if i < 0 {
		return false
	}
	inst := p.Code[i]
	switch instOp(inst) {
	case lua.OP_LOADK:
		return true
	case lua.OP_MOVE, lua.OP_MOVEN: // MOVEN is a MOVE followed by more
		return f.constant(register{p, instB(inst)})
	case lua.OP_GETUPVAL:
		o, ok := f.origin[register{p, instB(inst)}]
		return ok && f.constant(o)
	}
	return false
}

// lastWrite returns the index of the last instruction before pc of p that
// writes register r, looking back at most 256 instructions, or -1. With
// straight set, it answers -1 past an instruction a jump may land on:
// another path may have written r.
func (f *protoFacts) lastWrite(p *lua.FunctionProto, pc, r int, straight bool) int {
	for i := pc - 1; i >= 0 && i >= pc-256; i-- {
		if straight && f.targets[p][i+1] {
			return -1
		}
		if f.captures[p][i] {
			continue
		}
		if from, to := writtenRegisters(p.Code[i]); r >= from && r <= to {
			return i
		}
	}
	return -1
}

// checkJumps refuses a function longer than any jump reaches that has a
// jump in it: one of them may have been compiled to the wrong place.
func checkJumps(p *lua.FunctionProto) error {
	if len(p.Code) <= maxJump {
		return nil
	}
	for _, inst := range p.Code {
		switch instOp(inst) {
		case lua.OP_JMP, lua.OP_FORLOOP, lua.OP_FORPREP:
			return &SourceError{Line: lineOf(p, maxJump), Message: fmt.Sprintf("a function of %d instructions with a loop or branch in it (gopher-lua's jumps reach %d instructions, and a longer one goes wrong): split it",
				len(p.Code), maxJump)}
		}
	}
	return nil
}

// lineOf returns the line of p's instruction at pc, 0 when unknown.
func lineOf(p *lua.FunctionProto, pc int) int {
	if pc < len(p.DbgSourcePositions) {
		return p.DbgSourcePositions[pc]
	}
	return 0
}

// overwritesBlock reports whether the OP_SETLIST at pc stores a last call's
// or `...`'s values (B 0) into the block of items the constructor stored
// already. gopher-lua's compiler numbers that store's block from the
// items before it, so when they are a positive multiple of FieldsPerFlush
// it repeats the last block's number, and the values land over its items:
// `{1, ..., 50, f()}` gets f's first value at t[1]. The stores of one
// constructor are those into its table's register since its OP_NEWTABLE;
// a nested constructor's table lives in a higher register.
func overwritesBlock(p *lua.FunctionProto, pc int) bool {
	inst := p.Code[pc]
	if instB(inst) != 0 {
		return false
	}
	for i := pc - 1; i >= 0; i-- {
		prev := p.Code[i]
		if instA(prev) != instA(inst) {
			continue
		}
		switch instOp(prev) {
		case lua.OP_NEWTABLE:
			return false
		case lua.OP_SETLIST:
			return instC(prev) == instC(inst)
		}
	}
	return false
}

// CheckProto reports whether a compiled chunk, proto and every function
// nested in it, is free of concatenations of more than
// [Limits.MaxConcatOperands] values other than short ones in one
// expression, of functions longer than gopher-lua's jumps reach (its
// compiler silently wraps a longer loop or branch around), and of table
// constructors whose last call's values it would store over their items
// (see overwritesBlock). A short value is a literal constant, or a local or upvalue
// that only ever holds literal constants (local RED = "\27[31m"): a chain
// of those is bounded by the script's size, however long.
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
	facts := learnProto(proto, true)
	todo := []*lua.FunctionProto{proto}
	for len(todo) > 0 {
		p := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if p == nil {
			continue
		}
		if err := checkJumps(p); err != nil {
			return err
		}
		for pc, inst := range p.Code {
			if instOp(inst) == lua.OP_SETLIST && overwritesBlock(p, pc) {
				return &SourceError{Line: lineOf(p, pc), Message: fmt.Sprintf("a table constructor whose items without keys are a multiple of %d before a last call or `...`: "+
					"gopher-lua stores the call's values over the first items of the last %d instead of after them, silently: append the call's values after the constructor, in a loop",
					lua.FieldsPerFlush, lua.FieldsPerFlush)}
			}
			if instOp(inst) != lua.OP_CONCAT {
				continue
			}
			variable := 0
			for r := instB(inst); r <= instC(inst); r++ {
				if !facts.shortOperand(p, pc, r) {
					variable++
				}
			}
			if n := variable; n > lim.MaxConcatOperands {
				return &SourceError{Line: lineOf(p, pc), Message: fmt.Sprintf("a concatenation of %d values other than literals in one expression (the limit is %d): split it",
					n, lim.MaxConcatOperands)}
			}
		}
		for i := len(p.FunctionPrototypes) - 1; i >= 0; i-- {
			todo = append(todo, p.FunctionPrototypes[i])
		}
	}
	return nil
}
