package sandbox

import (
	"fmt"
	"unicode/utf8"
)

// SourceError is a script that breaks a limit of [CheckSource] or
// [CheckProto], with the line where it does when there is one. It is
// immutable.
type SourceError struct {
	Line    int // 1-based; 0 for the whole source
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
// compile without risking the process: at most [Limits.MaxSourceBytes] long,
// valid UTF-8, not a bytecode chunk (a leading ESC byte), nested at most
// [Limits.MaxNesting] levels deep, and with at most
// [Limits.MaxExpressionOperators] binary operators in one expression.
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
	if !utf8.Valid(src) {
		return &SourceError{Message: "source is not valid UTF-8"}
	}
	s := sourceScanner{src: src, lim: lim, line: 1}
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
}

func (s *sourceScanner) scan() error {
	src := s.src
	for i := 0; i < len(src); {
		c := src[i]
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
			i = end
			s.literal(true)
		case c == '"' || c == '\'':
			i = s.stringEnd(i)
			s.literal(true)
		case isDigit(c) || c == '.' && i+1 < len(src) && isDigit(src[i+1]):
			i = s.numberEnd(i)
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

// check reports a nesting or an operator count over its limit.
func (s *sourceScanner) check() error {
	if len(s.stack)+s.unary+s.suffix+s.savedSuffix > s.lim.MaxNesting {
		return &SourceError{Line: s.line, Message: fmt.Sprintf("source nests too deeply (more than %d levels)", s.lim.MaxNesting)}
	}
	if s.ops > s.lim.MaxExpressionOperators {
		return &SourceError{Line: s.line, Message: fmt.Sprintf("expression too long (more than %d binary operators): split it", s.lim.MaxExpressionOperators)}
	}
	return nil
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
	if !block && s.prev == tokOperand {
		s.suffix++ // a call or an index
	} else {
		s.suffix = 0
	}
	s.stack = append(s.stack, scanFrame{ops: s.ops, base: s.base, suffix: s.suffix})
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
		s.open(true)
	case "do", "then", "repeat":
		s.reset()
		s.open(true)
	case "end":
		s.close(true)
	case "until", "elseif":
		s.close(true)
		s.reset()
	case "local", "return", "if", "else", "while", "for", "in", "break", "goto":
		s.reset()
	case "and", "or":
		s.binary()
	case "not":
		s.unary++
		s.suffix = 0
		s.prev = tokOther
	default: // a name, nil, true or false
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
		if c == '<' || c == '>' {
			s.binary()
		} else {
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
		s.open(false)
	case ')', ']', '}':
		s.close(false)
	case ',', ';':
		s.reset()
	default: // not Lua: gopher-lua's parser fails on it
		s.suffix = 0
		s.prev = tokOther
	}
	return 1
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
