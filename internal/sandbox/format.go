package sandbox

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// formatSpec is one conversion specification of string.format:
// % flags width .precision conversion.
type formatSpec struct {
	flags, width, prec string // as written; prec includes its '.'
	conv               byte
}

// Bounds of the text one conversion of a number can produce beyond its
// width and precision: an int64 in octal with sign and prefix is at most
// 24 bytes; a float64 with %f, at most 309 digits, a sign and a point.
const (
	intConvBytes   = 32
	floatConvBytes = 320
)

// strFormat is string.format accepting only Lua 5.1's conversion
// specifications: % then at most five flags from "-+ #0", at most two width
// digits, optionally '.' and at most two precision digits, then one of
// c d i o u x X e E f g G q s; or %%. gopher-lua's hands the format to Go's
// fmt.Sprintf, where explicit argument indexes (%[1]s repeated), `*` widths,
// %v of a table (its whole contents) and %T or %p (Go types and addresses)
// are all reachable. Each conversion is bounded before it is formatted, so
// the result never exceeds lim.MaxStringBytes.
//
// Conversions follow Lua 5.1 (C's printf) where gopher-lua's did not: %c
// writes one byte, %u is %d, %o %x %X of a negative number print its two's
// complement, %g without a precision has six significant digits, and %q
// quotes as Lua reads it back, and infinities and NaNs print as C's inf and
// nan. %s accepts any value, as gopher-lua's did and as LuaJIT's and Lua
// 5.2's do, and calls its __tostring (Lua 5.1 refuses all but strings and
// numbers).
func strFormat(L *lua.LState, lim Limits) int {
	f := L.CheckString(1)
	out := make([]byte, 0, min(len(f), lim.MaxStringBytes))
	reserve := func(n int) {
		if n > lim.MaxStringBytes-len(out) {
			L.RaiseError("string.format: result too large (max %d bytes)", lim.MaxStringBytes)
		}
	}
	arg := 1
	for i := 0; i < len(f); {
		if f[i] != '%' {
			j := strings.IndexByte(f[i:], '%')
			if j < 0 {
				j = len(f) - i
			}
			reserve(j)
			out = append(out, f[i:i+j]...)
			i += j
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			reserve(1)
			out = append(out, '%')
			i++
			continue
		}
		spec, n := parseFormatSpec(L, f[i:])
		i += n
		arg++
		if arg > L.GetTop() {
			L.ArgError(arg, "no value")
		}
		out = appendConversion(L, out, spec, arg, reserve)
	}
	L.Push(lua.LString(out))
	return 1
}

// parseFormatSpec parses the specification after a '%' at the start of s
// and returns it and its length, or raises Lua 5.1's error.
func parseFormatSpec(L *lua.LState, s string) (formatSpec, int) {
	var spec formatSpec
	j := 0
	for j < len(s) && strings.IndexByte("-+ #0", s[j]) >= 0 {
		j++
	}
	if j > 5 {
		L.RaiseError("invalid format (repeated flags)")
	}
	spec.flags = s[:j]
	digits := func() string {
		k := j
		for j < len(s) && j-k < 2 && isDigit(s[j]) {
			j++
		}
		return s[k:j]
	}
	spec.width = digits()
	if j < len(s) && s[j] == '.' {
		k := j
		j++
		digits()
		spec.prec = s[k:j]
	}
	if j < len(s) && isDigit(s[j]) {
		L.RaiseError("invalid format (width or precision too long)")
	}
	if j == len(s) {
		L.RaiseError("invalid option '%%%s' to 'format' (the format ends within a conversion)", s)
	}
	if strings.IndexByte("cdiouxXeEfgGqs", s[j]) < 0 {
		r, _ := utf8.DecodeRuneInString(s[j:])
		L.RaiseError("invalid option '%%%c' to 'format'", r)
	}
	spec.conv = s[j]
	return spec, j + 1
}

// appendConversion appends the conversion of argument arg by spec to out,
// calling reserve with a bound of its length first.
func appendConversion(L *lua.LState, out []byte, spec formatSpec, arg int, reserve func(int)) []byte {
	width, prec := atoi2(spec.width), -1
	if spec.prec != "" {
		prec = atoi2(spec.prec[1:])
	}
	switch spec.conv {
	case 'c':
		b := byte(int64(L.CheckNumber(arg)))
		reserve(max(width, 1))
		return appendPadded(out, string([]byte{b}), width, strings.IndexByte(spec.flags, '-') >= 0)
	case 'd', 'i':
		v := int64(L.CheckNumber(arg))
		reserve(intConvBytes + width + max(prec, 0))
		return fmt.Appendf(out, "%"+spec.flags+spec.width+spec.prec+"d", v)
	case 'o', 'u', 'x', 'X':
		v := uint64(int64(L.CheckNumber(arg)))
		verb := string(spec.conv)
		if verb == "u" {
			verb = "d"
		}
		flags := strings.NewReplacer("+", "", " ", "").Replace(spec.flags) // no sign on unsigned, as in C
		reserve(intConvBytes + width + max(prec, 0))
		return fmt.Appendf(out, "%"+flags+spec.width+spec.prec+verb, v)
	case 'e', 'E', 'f', 'g', 'G':
		v := float64(L.CheckNumber(arg))
		if math.IsInf(v, 0) || math.IsNaN(v) {
			reserve(max(width, 4))
			return appendPadded(out, nonFinite(v, spec), width, strings.IndexByte(spec.flags, '-') >= 0)
		}
		p := spec.prec
		if p == "" && (spec.conv == 'g' || spec.conv == 'G') {
			p, prec = ".6", 6 // C's default; Go's would be the shortest representation
		}
		reserve(floatConvBytes + width + max(prec, 0))
		return fmt.Appendf(out, "%"+spec.flags+spec.width+p+string(spec.conv), v)
	case 'q':
		s := L.CheckString(arg)
		reserve(4*len(s) + 2)
		return appendQuoted(out, s)
	default: // 's'
		s := L.ToStringMeta(L.Get(arg)).String()
		if prec >= 0 && prec < len(s) {
			s = s[:prec]
		}
		reserve(max(width, len(s)))
		return appendPadded(out, s, width, strings.IndexByte(spec.flags, '-') >= 0)
	}
}

// nonFinite is C's printf of an infinity or a NaN, for a float conversion:
// inf, -inf, nan or -nan (the sign of a NaN is its sign bit), in upper case
// for %E and %G, with the sign the flags ask for; its width pads with
// spaces, never zeros.
func nonFinite(v float64, spec formatSpec) string {
	s := "inf"
	if math.IsNaN(v) {
		s = "nan"
	}
	switch {
	case math.Signbit(v):
		s = "-" + s
	case strings.IndexByte(spec.flags, '+') >= 0:
		s = "+" + s
	case strings.IndexByte(spec.flags, ' ') >= 0:
		s = " " + s
	}
	if spec.conv == 'E' || spec.conv == 'G' {
		s = strings.ToUpper(s)
	}
	return s
}

// atoi2 converts the at most two digits of s ("" is 0).
func atoi2(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = 10*n + int(s[i]-'0')
	}
	return n
}

// appendPadded appends s padded with spaces to width bytes, on the right
// when left is set.
func appendPadded(out []byte, s string, width int, left bool) []byte {
	pad := max(width-len(s), 0)
	if !left {
		out = append(out, strings.Repeat(" ", pad)...)
	}
	out = append(out, s...)
	if left {
		out = append(out, strings.Repeat(" ", pad)...)
	}
	return out
}

// appendQuoted appends s quoted as Lua 5.1's %q does: in double quotes,
// with ", \ and newline escaped by a backslash, \r as \r and NUL as \000,
// so at most 4*len(s)+2 bytes.
func appendQuoted(out []byte, s string) []byte {
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', '\n':
			out = append(out, '\\', c)
		case '\r':
			out = append(out, `\r`...)
		case 0:
			out = append(out, `\000`...)
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}
