package sandbox

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// SourceError is a script that breaks a limit of [CheckSource] or
// [CheckProto], with the line where it does when there is one. It is
// immutable.
type SourceError struct {
	Line    int // 1-based; 0 for the whole source
	Column  int // 1-based, in bytes; 0 when unknown
	Message string
}

// Error returns "sandbox: line N: message", or "sandbox: message".
func (e *SourceError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("sandbox: line %d: %s", e.Line, e.Message)
	}
	return "sandbox: " + e.Message
}

// CheckSource reports whether src is Lua source text that gopher-lua can
// compile without risking the process, quickly: at most
// [Limits.MaxSourceBytes] long, not a bytecode chunk (a leading ESC byte),
// nested at most [Limits.MaxNesting] levels deep, with at most
// [Limits.MaxExpressionOperators] binary operators in one expression, at
// most [Limits.MaxElseifs] elseif branches in one if statement, at most
// [Limits.MaxGotos] gotos in one function, at most
// [Limits.MaxConstantLookups] steps of the compiler's constant lookups, and
// at most 25,550 items without keys in one table constructor.
// Strings and comments may hold any bytes, as in Lua 5.1.
// The `load` and `loadstring` of [NewState] apply it; call it before
// compiling a script file, and [CheckProto] after.
//
// gopher-lua's compiler recurses once per nesting level, and about 10^6
// levels (`not not not ... x`, 4 MB; `x()()()...`, 2 MB) exceed Go's 1 GB
// stack: a fatal error no recover can catch. The nesting count is lexical:
// brackets, blocks (function, do, then, repeat), runs of unary operators
// (not, -, #), and the suffixes of one primary expression (each call, index,
// `.name` and `:name` of `a.b:c(x)[y]()`), with strings and comments
// skipped. Its compiler also folds constants in time quadratic in the length
// of an operator chain, without any check of the deadline:
// `return 1+x+x+...` with 40,000 operators compiles for 13 s. Operators are
// counted across brackets, and the count restarts at `,`, `;`, `=`, at the
// statement keywords and between two statements.
//
// The compiler's other quadratic constructs, measured with gopher-lua
// v1.1.2: it looks every constant (string, number, global or field name)
// up in a list of the function's constants, so a function with 20,000
// distinct constants compiles for 2-4 s, and 160,000 uses of the last of
// 1,000 constants for 1 s; CheckSource replays that search (names count as
// constants even where they are locals) and charges one step per entry
// compared. An if statement with 16,000 elseif branches compiles for
// 1.3 s even without constants, and 8,000 forward gotos in one function
// for 0.9 s. Long table constructors, many statements, locals, functions,
// and/or chains and a.b.c chains cost time in proportion to their length
// once their constants are counted.
//
// A table constructor's items without keys are stored 50 at a time, in
// blocks numbered in 9 bits: gopher-lua stores the items past 511 blocks,
// 25,550 items, at wrong indexes, silently (`{7, 7, ...}` with 26,000
// items has length 25,550), and a call or `...` as the next item would
// overwrite the last block, so CheckSource refuses a constructor with more
// than 25,550 such items, counting a last call or `...` as one.
//
// A script that breaks a limit gets a *[SourceError]. CheckSource is safe
// for concurrent use.
func CheckSource(src []byte, lim Limits) error {
	lim = lim.withDefaults()
	if len(src) > lim.MaxSourceBytes {
		return &SourceError{Message: fmt.Sprintf("source too large (%d bytes, max %d)", len(src), lim.MaxSourceBytes)}
	}
	if len(src) > 0 && src[0] == 0x1b {
		return &SourceError{Message: "binary chunks are not allowed"}
	}
	s := sourceScanner{src: src, lim: lim, line: 1}
	s.funcs = []*funcScope{{line: 1, consts: map[string]int{}}}
	return s.scan()
}

// tokenClass is what the previous token was, as far as the scanner cares.
type tokenClass int

const (
	tokOther   tokenClass = iota // an operator, separator, keyword or opening bracket
	tokOperand                   // a name, literal or closing bracket: what a suffix may follow
	tokDot                       // `.` or `:` after an operand: a name follows
)

// scanFrame is what an opening bracket or block saves for its closer.
type scanFrame struct {
	ops, base, suffix int
	// function is set for the block of a function; funcs is then the
	// length of sourceScanner.funcs when it opened.
	function bool
	funcs    int
	// elseifs is the number of elseif branches before this then-block.
	elseifs int
	// table is set for the brace of a table constructor; positional is
	// then the number of its items without a key so far, keyed is set when
	// the current item has one, and line and column are where it opens.
	table        bool
	positional   int
	keyed        bool
	line, column int
}

// funcScope is what CheckSource counts per function.
type funcScope struct {
	line   int            // where the function starts
	consts map[string]int // constants by first appearance, as the compiler lists them
	gotos  int
}

// sourceScanner is the state of one CheckSource pass: a tokenizer just good
// enough to count nesting and operators in valid Lua. Invalid Lua may be
// counted wrongly: gopher-lua parses the whole chunk before compiling it,
// and a syntax error ends the parse before any compilation.
type sourceScanner struct {
	src  []byte
	lim  Limits
	line int
	prev tokenClass
	// stack holds the open brackets and blocks: its length is the nesting depth.
	stack []scanFrame
	// unary is the length of the current run of unary operators.
	unary int
	// suffix is the number of suffixes of the current primary expression,
	// and savedSuffix the sum of those of the enclosing ones (in stack).
	suffix, savedSuffix int
	// ops is the number of binary operators of the current expression, and
	// base the value it restarts from at a separator: 0 in a block, the
	// count at the opening bracket inside brackets, so that neither `f(a, b)`
	// nor a function literal breaks an operator chain around it.
	ops, base int
	// funcs holds the functions being scanned, the main chunk first.
	funcs []*funcScope
	// lookups is the number of steps the compiler's constant lookups take
	// so far; elseifs, the elseif branches of the current if statement.
	lookups, elseifs int
	// err is a limit the last token broke, for check to return.
	err *SourceError
	// tokenStart is the offset of the last token, for an error's column.
	tokenStart, tokenLine int
	// paramsNext is set between `function` and its parameter list.
	paramsNext bool
}

func (s *sourceScanner) scan() error {
	src := s.src
	for i := 0; i < len(src); {
		c := src[i]
		s.tokenStart, s.tokenLine = i, s.line
		switch {
		case c == '\n':
			s.line++
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			if end, ok := longBracketEnd(src, i+2); ok {
				s.line += countLines(src[i:end])
				i = end
			} else {
				for i < len(src) && src[i] != '\n' && src[i] != '\r' {
					i++
				}
			}
			continue
		case c == '[' && isLongBracket(src, i):
			end, _ := longBracketEnd(src, i)
			s.line += countLines(src[i:end])
			s.constant("s", src[i:end])
			i = end
			s.literal(true)
		case c == '"' || c == '\'':
			end := s.stringEnd(i)
			s.constant("s", src[i+1:max(i+1, end-1)])
			i = end
			s.literal(true)
		case isDigit(c) || c == '.' && i+1 < len(src) && isDigit(src[i+1]):
			end := s.numberEnd(i)
			s.constant("n", src[i:end])
			i = end
			s.literal(false)
		case isNameByte(c):
			j := i
			for j < len(src) && isNameByte(src[j]) {
				j++
			}
			s.keyword(src[i:j])
			i = j
		default:
			n := 1
			if i+1 < len(src) {
				n = s.punct(c, src[i+1], i+2 < len(src) && src[i+2] == '.')
			} else {
				s.punct(c, 0, false)
			}
			i += n
		}
		if err := s.check(); err != nil {
			return err
		}
	}
	return nil
}

// check reports a limit the last token broke.
func (s *sourceScanner) check() error {
	switch {
	case s.err != nil:
	case len(s.stack)+s.unary+s.suffix+s.savedSuffix > s.lim.MaxNesting:
		s.fail(fmt.Sprintf("source nests too deeply (more than %d levels)", s.lim.MaxNesting))
	case s.ops > s.lim.MaxExpressionOperators:
		s.fail(fmt.Sprintf("expression too long (more than %d binary operators): split it", s.lim.MaxExpressionOperators))
	default:
		return nil
	}
	s.err.Column = s.column()
	return s.err
}

// fail records that the last token broke a limit, unless one was already.
func (s *sourceScanner) fail(msg string) {
	if s.err == nil {
		s.err = &SourceError{Line: s.tokenLine, Message: msg}
	}
}

// column returns the column, in bytes, where the last token starts.
func (s *sourceScanner) column() int {
	return s.tokenStart - bytes.LastIndexByte(s.src[:s.tokenStart], '\n')
}

// constant records a reference to a constant of the current function, of
// the given kind and text, charging the compiler's linear lookup.
func (s *sourceScanner) constant(kind string, text []byte) {
	fn := s.funcs[len(s.funcs)-1]
	key := kind + string(text)
	i, ok := fn.consts[key]
	if !ok {
		i = len(fn.consts)
		fn.consts[key] = i
	}
	s.lookups += i + 1
	if s.lookups > s.lim.MaxConstantLookups {
		s.fail(fmt.Sprintf("too many distinct constants for gopher-lua's compiler, which looks each one up in a list "+
			"(%d lookup steps so far, more than %d; the function starting at line %d has %d): split the function or its tables across functions or files",
			s.lookups, s.lim.MaxConstantLookups, fn.line, len(fn.consts)))
	}
}

// literal records a string (which may be a call suffix: f"x") or another
// literal, a name starting a primary expression or `...`.
func (s *sourceScanner) literal(isString bool) {
	switch {
	case isString && s.prev == tokOperand:
		s.suffix++
	case s.prev == tokOperand:
		s.reset() // two operands in a row: a new statement
		fallthrough
	default:
		s.suffix = 0
	}
	s.unary = 0
	s.prev = tokOperand
}

// reset ends an expression at a separator or statement keyword.
func (s *sourceScanner) reset() {
	s.ops = s.base
	s.suffix = 0
	s.unary = 0
	s.prev = tokOther
}

// binary records a binary operator.
func (s *sourceScanner) binary() {
	s.ops++
	s.suffix = 0
	s.unary = 0
	s.prev = tokOther
}

// open records an opening bracket, or a block keyword when block is set.
func (s *sourceScanner) open(block bool) {
	s.openFrame(block, false)
}

// openFrame is open, marking the frame of a function's body when function
// is set.
func (s *sourceScanner) openFrame(block, function bool) {
	if !block && s.prev == tokOperand {
		s.suffix++ // a call or an index
	} else {
		s.suffix = 0
	}
	s.stack = append(s.stack, scanFrame{ops: s.ops, base: s.base, suffix: s.suffix, function: function, funcs: len(s.funcs), elseifs: s.elseifs})
	s.elseifs = 0
	// The function's own constants start at its parameter list: the name
	// of `function a.b()` is a constant of the enclosing function.
	s.paramsNext = function
	s.savedSuffix += s.suffix
	s.suffix = 0
	if block {
		s.ops, s.base = 0, 0
	} else {
		s.base = s.ops
	}
	s.prev = tokOther
}

// close records a closing bracket or block keyword: the enclosing
// expression goes on, after its bracket or its function literal.
func (s *sourceScanner) close(block bool) {
	f := scanFrame{}
	if n := len(s.stack); n > 0 {
		f = s.stack[n-1]
		s.stack = s.stack[:n-1]
	}
	if f.function && f.funcs > 0 && f.funcs < len(s.funcs) {
		s.funcs = s.funcs[:f.funcs]
	}
	s.paramsNext = false
	s.elseifs = f.elseifs
	s.savedSuffix -= f.suffix
	s.suffix = f.suffix
	s.base = f.base
	if block {
		s.ops = f.ops
	} else {
		s.ops = max(s.ops, f.ops)
	}
	s.unary = 0
	s.prev = tokOperand
}

// keyword records a name or keyword.
func (s *sourceScanner) keyword(word []byte) {
	switch string(word) {
	case "function":
		s.openFrame(true, true)
	case "do", "then", "repeat":
		s.reset()
		s.open(true)
	case "end":
		s.close(true)
		s.elseifs = 0
	case "until":
		s.close(true)
		s.reset()
	case "elseif":
		s.close(true)
		s.reset()
		// then's frame keeps the count: an if nested in this branch counts its own.
		if s.elseifs++; s.elseifs > s.lim.MaxElseifs {
			s.fail(fmt.Sprintf("if statement with more than %d elseif branches, which gopher-lua's compiler handles in quadratic time: use a table of functions or split it",
				s.lim.MaxElseifs))
		}
	case "goto":
		s.reset()
		fn := s.funcs[len(s.funcs)-1]
		if fn.gotos++; fn.gotos > s.lim.MaxGotos {
			s.fail(fmt.Sprintf("function starting at line %d has more than %d gotos, which gopher-lua's compiler resolves in quadratic time: split it",
				fn.line, s.lim.MaxGotos))
		}
	case "if":
		s.reset()
		s.elseifs = 0
	case "local", "return", "else", "while", "for", "in", "break":
		s.reset()
	case "and", "or":
		s.binary()
	case "not":
		s.unary++
		s.suffix = 0
		s.prev = tokOther
	case "nil", "true", "false":
		s.literal(false)
	default: // a name: a constant unless it names a local
		s.constant("s", word)
		if s.prev == tokDot {
			s.prev = tokOperand
			return
		}
		s.literal(false)
	}
}

// member records a '.' or ':' that selects a member: a suffix of the
// operand before it, if there is one. A method (':') is counted by the call
// that must follow it, so that a:b() is one level, as gopher-lua compiles it.
func (s *sourceScanner) member(method bool) {
	if s.prev == tokOperand {
		if !method {
			s.suffix++
		}
		s.prev = tokDot
	} else {
		s.prev = tokOther
	}
}

// punct records the operator or separator starting with c (followed by
// next and, when dot3, a third '.'), and returns its length in bytes.
func (s *sourceScanner) punct(c, next byte, dot3 bool) int {
	switch c {
	case '.':
		switch {
		case next == '.' && dot3:
			s.literal(false) // ...
			return 3
		case next == '.':
			s.binary()
			return 2
		}
		s.member(false)
	case ':':
		if next == ':' {
			s.reset() // a label
			return 2
		}
		s.member(true)
	case '=', '~', '<', '>':
		if next == '=' {
			s.binary()
			return 2
		}
		switch {
		case c == '<' || c == '>':
			s.binary()
		case c == '=' && s.inTable():
			s.stack[len(s.stack)-1].keyed = true
			s.reset()
		default:
			s.reset()
		}
	case '+', '*', '/', '%', '^':
		s.binary()
	case '-':
		if s.prev == tokOperand {
			s.binary()
		} else {
			s.unary++
			s.suffix = 0
			s.prev = tokOther
		}
	case '#':
		s.unary++
		s.suffix = 0
		s.prev = tokOther
	case '(', '[', '{':
		if c == '(' && s.paramsNext {
			s.paramsNext = false
			s.funcs = append(s.funcs, &funcScope{line: s.line, consts: map[string]int{}})
		}
		s.open(false)
		if c == '{' {
			f := &s.stack[len(s.stack)-1]
			f.table, f.line, f.column = true, s.tokenLine, s.column()
		}
	case ')', ']', '}':
		if c == '}' && s.inTable() && s.prev == tokOperand {
			s.tableItem() // the last item, unless a separator ended it
		}
		s.close(false)
	case ',', ';':
		if s.inTable() {
			s.tableItem()
		}
		s.reset()
	default: // not Lua: gopher-lua's parser fails on it
		s.suffix = 0
		s.prev = tokOther
	}
	return 1
}

// inTable reports whether the innermost open bracket is a table constructor's.
func (s *sourceScanner) inTable() bool {
	return len(s.stack) > 0 && s.stack[len(s.stack)-1].table
}

// tableItem records the end of an item of the innermost table constructor.
// gopher-lua's compiler stores positional items FieldsPerFlush (50) at a
// time with OP_SETLIST, numbering the blocks in its 9-bit C operand: past
// 511 blocks the number wraps to 0, and the items from 25,551 on land at
// indexes -49 to 0, silently. A last item that is a call or `...` counts
// as one: after 25,550 items, its values would overwrite items 25,501 on.
func (s *sourceScanner) tableItem() {
	f := &s.stack[len(s.stack)-1]
	if !f.keyed {
		f.positional++
	}
	f.keyed = false
	if limit := instArgMask * lua.FieldsPerFlush; f.positional > limit {
		s.fail(fmt.Sprintf("the table constructor at line %d:%d has more than %d items without keys, past which gopher-lua stores them at wrong indexes: "+
			"build the table in a loop, or split it into constructors joined in a loop", f.line, f.column, limit))
	}
}

// stringEnd returns the index after the quoted string starting at src[i],
// scanned as gopher-lua's lexer does (parse/lexer.go, scanString): a
// backslash escapes the next character (a line break of \r\n or \n\r
// counting as one), and an unescaped line break ends an unterminated string.
func (s *sourceScanner) stringEnd(i int) int {
	src := s.src
	q := src[i]
	for i++; i < len(src) && src[i] != q && src[i] != '\n' && src[i] != '\r'; i++ {
		if src[i] != '\\' || i+1 == len(src) {
			continue
		}
		i++
		if c := src[i]; c == '\n' || c == '\r' {
			s.line++
			if i+1 < len(src) && (src[i+1] == '\n' || src[i+1] == '\r') && src[i+1] != c {
				i++
			}
		}
	}
	return i + 1
}

// numberEnd returns the index after the number starting at src[i], scanned
// as gopher-lua's lexer does (parse/lexer.go, scanNumber): 0x and hex
// digits, or decimal digits, an optional '.' and digits, and an optional
// exponent: e or E, an optional sign, then any one character (gopher-lua
// reads it unchecked, so 1e+x is one number) and digits.
func (s *sourceScanner) numberEnd(i int) int {
	src := s.src
	if src[i] == '0' && i+1 < len(src) && (src[i+1] == 'x' || src[i+1] == 'X') {
		for i += 2; i < len(src) && isHexDigit(src[i]); i++ {
		}
		return i
	}
	for i++; i < len(src) && isDigit(src[i]); i++ {
	}
	if i < len(src) && src[i] == '.' {
		for i++; i < len(src) && isDigit(src[i]); i++ {
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		if i < len(src) {
			switch _, n := utf8.DecodeRune(src[i:]); src[i] {
			case '\n', '\r':
				s.line++
				if i+1 < len(src) && (src[i+1] == '\n' || src[i+1] == '\r') && src[i+1] != src[i] {
					i++
				}
				i++
			default:
				i += n
			}
		}
		for ; i < len(src) && isDigit(src[i]); i++ {
		}
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isLongBracket reports whether src[i:] opens a long bracket: [[ or [=*[.
func isLongBracket(src []byte, i int) bool {
	j := i + 1
	for j < len(src) && src[j] == '=' {
		j++
	}
	return j < len(src) && src[j] == '['
}

// longBracketEnd returns the index after the long bracket opened at src[i:],
// or false when src[i:] opens none. An unclosed one ends at the end of src.
func longBracketEnd(src []byte, i int) (int, bool) {
	if i >= len(src) || src[i] != '[' || !isLongBracket(src, i) {
		return 0, false
	}
	level := 0
	j := i + 1
	for src[j] == '=' {
		level++
		j++
	}
	for j++; j < len(src); j++ {
		if src[j] != ']' {
			continue
		}
		k := j + 1
		for k < len(src) && src[k] == '=' {
			k++
		}
		if k-j-1 == level && k < len(src) && src[k] == ']' {
			return k + 1, true
		}
	}
	return len(src), true
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// SkipShebang returns src with a first line starting with '#' (a "#!"
// line) turned into spaces, as Lua's file loader skips it; line and column
// numbers stay the same. It returns src itself when there is none.
func SkipShebang(src []byte) []byte {
	if len(src) == 0 || src[0] != '#' {
		return src
	}
	out := bytes.Clone(src)
	for i := 0; i < len(out) && out[i] != '\n' && out[i] != '\r'; i++ {
		out[i] = ' '
	}
	return out
}
