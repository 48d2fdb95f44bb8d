package sandbox

import (
	"fmt"
	"unicode/utf8"
)

// CheckSource reports whether src is Lua source text that gopher-lua can
// compile without risking the process: at most [Limits.MaxSourceBytes] long,
// valid UTF-8, not a bytecode chunk (a leading ESC byte), and nested at
// most [Limits.MaxNesting] levels deep. gopher-lua's compiler recurses once
// per level, and about 10^6 levels (`not not not ... x`, 4 MB) exceed Go's
// 1 GB stack: a fatal error no recover can catch. The `load` and
// `loadstring` of [NewState] apply it; call it before compiling a script file.
//
// The nesting count is lexical: brackets, blocks (function, do, then,
// repeat) and runs of unary operators (not, -, #), with strings and comments
// skipped. CheckSource is safe for concurrent use.
func CheckSource(src []byte, lim Limits) error {
	lim = lim.withDefaults()
	if len(src) > lim.MaxSourceBytes {
		return fmt.Errorf("sandbox: source too large (%d bytes, max %d)", len(src), lim.MaxSourceBytes)
	}
	if len(src) > 0 && src[0] == 0x1b {
		return fmt.Errorf("sandbox: binary chunks are not allowed")
	}
	if !utf8.Valid(src) {
		return fmt.Errorf("sandbox: source is not valid UTF-8")
	}
	depth, unary, line := 0, 0, 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			if end, ok := longBracketEnd(src, i+2); ok {
				line += countLines(src[i:end])
				i = end
			} else {
				for i < len(src) && src[i] != '\n' {
					i++
				}
			}
			continue
		case c == '[' && isLongBracket(src, i):
			end, _ := longBracketEnd(src, i)
			line += countLines(src[i:end])
			i = end
			unary = 0
			continue
		case c == '"' || c == '\'':
			i++
			for i < len(src) && src[i] != c && src[i] != '\n' {
				if src[i] == '\\' && i+1 < len(src) {
					i++
				}
				i++
			}
			i++
			unary = 0
			continue
		case c == '(' || c == '{' || c == '[':
			depth++
		case c == ')' || c == '}' || c == ']':
			depth--
			unary = 0
		case c == '-' || c == '#':
			unary++
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			switch string(src[i:j]) {
			case "function", "do", "then", "repeat":
				depth++
			case "end", "until", "elseif":
				depth--
			case "not":
				unary++
			case "and", "or", "in", "return", "local", "if", "while", "for", "else":
			default:
				unary = 0
			}
			i = j
			if depth+unary > lim.MaxNesting {
				return fmt.Errorf("sandbox: source nests too deeply (more than %d levels) at line %d", lim.MaxNesting, line)
			}
			continue
		default:
			unary = 0
		}
		i++
		if depth+unary > lim.MaxNesting {
			return fmt.Errorf("sandbox: source nests too deeply (more than %d levels) at line %d", lim.MaxNesting, line)
		}
	}
	return nil
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.'
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
