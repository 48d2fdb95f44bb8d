package sandbox

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// installLua51 replaces the builtins whose gopher-lua versions give other
// results than Lua 5.1's on input real code passes them (each found by
// running the same calls under lua5.1): tonumber, math.huge, math.modf,
// string.upper, lower and char, table.insert and remove, and unpack;
// and adds table.foreach and foreachi, which Lua 5.1 still has.
func installLua51(L *lua.LState) {
	g := L.G.Global
	g.RawSetString("tonumber", L.NewFunction(toNumber))
	g.RawSetString("unpack", L.NewFunction(unpack))
	m := L.GetGlobal("math").(*lua.LTable)
	m.RawSetString("huge", lua.LNumber(math.Inf(1)))
	m.RawSetString("modf", L.NewFunction(mathModf))
	s := L.GetGlobal("string").(*lua.LTable)
	s.RawSetString("upper", L.NewFunction(func(L *lua.LState) int { return mapBytes(L, 'a', 'z', 'A'-'a') }))
	s.RawSetString("lower", L.NewFunction(func(L *lua.LState) int { return mapBytes(L, 'A', 'Z', 'a'-'A') }))
	s.RawSetString("char", L.NewFunction(stringChar))
	t := L.GetGlobal("table").(*lua.LTable)
	t.RawSetString("insert", L.NewFunction(tableInsert))
	t.RawSetString("remove", L.NewFunction(tableRemove))
	d := dataOf(L)
	t.RawSetString("foreach", L.NewFunction(func(L *lua.LState) int { return d.tableForeach(L, false) }))
	t.RawSetString("foreachi", L.NewFunction(func(L *lua.LState) int { return d.tableForeach(L, true) }))
}

// toNumber is Lua 5.1's tonumber. gopher-lua's reads a numeral without a
// '.' as an integer, so "1e3" and "12345678901234567890" gave nil (a JSON
// decoder's exponents and big integers), and with a base it read numbers
// as themselves rather than as their digits.
func toNumber(L *lua.LState) int {
	base := L.OptInt(2, 10)
	if base == 10 {
		switch v := L.CheckAny(1).(type) {
		case lua.LNumber:
			L.Push(v)
			return 1
		case lua.LString:
			if n, ok := parseNumeral(string(v)); ok {
				L.Push(lua.LNumber(n))
				return 1
			}
		}
		L.Push(lua.LNil)
		return 1
	}
	digits := L.CheckString(1)
	if base < 2 || base > 36 {
		L.ArgError(2, "base out of range")
	}
	if n, ok := parseInBase(digits, base); ok {
		L.Push(lua.LNumber(n))
		return 1
	}
	L.Push(lua.LNil)
	return 1
}

// isSpace is C's isspace.
func isSpace(c byte) bool { return c == ' ' || '\t' <= c && c <= '\r' }

// parseNumeral reads s as Lua 5.1 converts a string to a number: a decimal
// numeral (digits, an optional fraction and exponent) or a hexadecimal
// integer (0x...), with an optional sign and surrounding white space. It
// refuses "inf" and "nan", as Lua 5.2 and later do (5.1 took whatever the C
// library's strtod took).
func parseNumeral(s string) (float64, bool) {
	s = strings.TrimFunc(s, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || body == "" {
		return 0, false
	}
	if len(body) > 2 && body[0] == '0' && body[1]|0x20 == 'x' {
		n, ok := parseDigits(body[2:], 16)
		if ok && s[0] == '-' {
			n = -n
		}
		return n, ok
	}
	i, mantissa := 0, 0
	for i < len(body) && isDigit(body[i]) {
		i, mantissa = i+1, mantissa+1
	}
	if i < len(body) && body[i] == '.' {
		i++
		for i < len(body) && isDigit(body[i]) {
			i, mantissa = i+1, mantissa+1
		}
	}
	if mantissa == 0 {
		return 0, false
	}
	if i < len(body) && body[i]|0x20 == 'e' {
		i++
		if i < len(body) && (body[i] == '+' || body[i] == '-') {
			i++
		}
		exp := i
		for i < len(body) && isDigit(body[i]) {
			i++
		}
		if i == exp {
			return 0, false
		}
	}
	if i != len(body) {
		return 0, false
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil && !errorIsRange(err) { // out of range is ±Inf or 0, as strtod gives
		return 0, false
	}
	return n, true
}

func errorIsRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// parseInBase reads s as tonumber(s, base) does, with C's strtoul's
// syntax: an unsigned integer in base, with an optional sign ('-'
// negates), a "0x" or "0X" prefix in base 16, and surrounding white space.
// Unlike Lua 5.1's it neither saturates at 2^64 nor reads "12\0z" as 12.
func parseInBase(s string, base int) (float64, bool) {
	s = strings.TrimFunc(s, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
	neg := strings.HasPrefix(s, "-")
	if neg || strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if base == 16 && len(s) > 2 && s[0] == '0' && s[1]|0x20 == 'x' {
		s = s[2:]
	}
	n, ok := parseDigits(s, base)
	if neg {
		n = -n
	}
	return n, ok
}

// parseDigits reads s, a non-empty run of digits in base, as a float64.
func parseDigits(s string, base int) (float64, bool) {
	if s == "" {
		return 0, false
	}
	n := 0.0
	for i := 0; i < len(s); i++ {
		c := s[i]
		d := 36
		switch {
		case isDigit(c):
			d = int(c - '0')
		case isLetter(c):
			d = int(c|0x20-'a') + 10
		}
		if d >= base {
			return 0, false
		}
		n = n*float64(base) + float64(d)
	}
	return n, true
}

// mathModf is math.modf with Lua 5.1's results for infinities (the
// infinity and 0; Go's math.Modf gives a NaN fraction).
func mathModf(L *lua.LState) int {
	x := float64(L.CheckNumber(1))
	if math.IsInf(x, 0) {
		L.Push(lua.LNumber(x))
		L.Push(lua.LNumber(0))
		return 2
	}
	i, f := math.Modf(x)
	L.Push(lua.LNumber(i))
	L.Push(lua.LNumber(f))
	return 2
}

// mapBytes is string.upper or lower in the C locale: it shifts the bytes
// from lo to hi by delta and leaves every other byte as it is. gopher-lua's
// are Go's Unicode case mappings, which rewrite each byte that is not
// UTF-8 as the 3 bytes of U+FFFD (binary data and Latin-1 text changed
// length) and change é to É.
func mapBytes(L *lua.LState, lo, hi byte, delta int) int {
	s := L.CheckString(1)
	b := []byte(s)
	for i, c := range b {
		if lo <= c && c <= hi {
			b[i] = byte(int(c) + delta)
		}
	}
	L.Push(lua.LString(b))
	return 1
}

// stringChar is string.char refusing a code outside 0-255, as Lua 5.1
// does ("invalid value"); gopher-lua's wraps it around.
func stringChar(L *lua.LState) int {
	b := make([]byte, L.GetTop())
	for i := range b {
		c := L.CheckInt(i + 1)
		if c < 0 || c > 255 {
			L.ArgError(i+1, "invalid value")
		}
		b[i] = byte(c)
	}
	L.Push(lua.LString(b))
	return 1
}

// rawIndex is t[i] without metamethods, for any integer i: RawGetInt
// reads only the array part, so t[0], t[-1] and a key of the hash part
// (t[2^21] of a sparse table) read nil there.
func rawIndex(t *lua.LTable, i int) lua.LValue { return t.RawGet(lua.LNumber(i)) }

// unpack is Lua 5.1's unpack(t [, i [, j]]), which reads t[i] for any i
// (gopher-lua's gives nil for i < 1). NewState wraps it in fitResults.
func unpack(L *lua.LState) int {
	t := L.CheckTable(1)
	i := L.OptInt(2, 1)
	j := L.OptInt(3, t.Len())
	if i > j {
		return 0
	}
	for k := i; k <= j; k++ {
		L.Push(rawIndex(t, k))
	}
	return j - i + 1
}

// tableInsert is Lua 5.1's table.insert(t, [pos,] v): with a position
// past the end it stores there, and other argument counts are an error. A
// position below 1 is an error, as in Lua 5.2.
func tableInsert(L *lua.LState) int {
	t := L.CheckTable(1)
	end := t.Len() + 1 // the first empty slot
	var pos int
	switch L.GetTop() {
	case 2:
		pos = end
	case 3:
		pos = L.CheckInt(2)
		if pos < 1 {
			// Lua 5.1 moves t[pos..#t] up, for any pos: insert(t, -1e9, v)
			// would loop in Go, where no deadline reaches, a billion times.
			L.ArgError(2, "position out of bounds")
		}
		end = max(end, pos)
		for i := end; i > pos; i-- { // move up t[pos..]
			t.RawSetInt(i, rawIndex(t, i-1))
		}
	default:
		L.RaiseError("wrong number of arguments to 'insert'")
	}
	L.RawSet(t, lua.LNumber(pos), L.Get(L.GetTop()))
	return 0
}

// tableRemove is Lua 5.1's table.remove(t [, pos]): a position outside
// 1..#t removes nothing and returns nothing (gopher-lua's removed the last
// element for 0 or a negative position).
func tableRemove(L *lua.LState) int {
	t := L.CheckTable(1)
	end := t.Len()
	pos := L.OptInt(2, end)
	if pos < 1 || pos > end {
		return 0
	}
	L.Push(t.RawGetInt(pos))
	for ; pos < end; pos++ {
		t.RawSetInt(pos, t.RawGetInt(pos+1))
	}
	t.RawSetInt(end, lua.LNil)
	return 1
}

// tableForeach is Lua 5.1's table.foreach(t, f), or with ordered set its
// table.foreachi: it calls f(k, v) for each field (for 1..#t), and stops
// with the first result that is not nil, which it returns. Like next, it
// sees through the read-only proxies of d.
func (d *stateData) tableForeach(L *lua.LState, ordered bool) int {
	t := L.CheckTable(1)
	f := L.CheckFunction(2)
	call := func(k, v lua.LValue) bool {
		L.Push(f)
		L.Push(k)
		L.Push(v)
		L.Call(2, 1)
		if L.Get(-1) != lua.LNil {
			return true
		}
		L.Pop(1)
		return false
	}
	if ordered {
		for i, n := 1, t.Len(); i <= n; i++ { // the length as it was, as Lua 5.1's
			if call(lua.LNumber(i), rawIndex(t, i)) {
				return 1
			}
		}
		return 0
	}
	for k, v := d.next(t, lua.LNil); k != lua.LNil; k, v = d.next(t, k) {
		if call(k, v) {
			return 1
		}
	}
	return 0
}
