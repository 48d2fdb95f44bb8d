package sandbox

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// This file is Lua 5.1's pattern matching (the reference manual's §5.4.1),
// written for the sandbox: a backtracking matcher over the pattern's text,
// as Lua's own is, that charges every step it takes to a budget and bounds
// its recursion, because gopher-lua cannot interrupt a builtin and a
// catastrophic pattern must stop itself. A greedy or lazy item loops over
// the subject instead of recursing per character, so `(.*)` matches a
// subject of any length.

const (
	// maxCaptures is Lua 5.1's LUA_MAXCAPTURES.
	maxCaptures = 32
	// maxMatchDepth bounds the matcher's recursion, which grows with the
	// pattern's items, not with the subject: an item with a '?', '*', '+'
	// or '-' and each capture add a level.
	maxMatchDepth = 10_000

	// bytesPerStep is how many bytes one step pays for where a call reads
	// text whole at each use: a set [...] at each character it tests, a
	// gsub replacement string with '%' at each match. Unpaid, a long one
	// ("[" .. ("a"):rep(1e5) .. "]", or ("%0"):rep(1e6) over empty
	// matches) runs for minutes in Go far under the budget.
	bytesPerStep = 16

	capUnfinished = -1 // a capture whose ')' the matcher has not reached
	capPosition   = -2 // a position capture, ()
)

// patternError is a pattern's syntax error, or a match that ran out of
// budget, raised by the matcher as a panic and returned by search.
type patternError string

func (e patternError) Error() string { return string(e) }

// capture is a capture of the current match: its start in the subject and
// its length, or capUnfinished or capPosition.
type capture struct{ start, len int }

// matcher matches one pattern against one subject. It is not safe for
// concurrent use; a builtin makes one per call.
type matcher struct {
	src, pat string
	// level is how many captures the match has open or closed so far.
	level    int
	captures [maxCaptures]capture
	steps    int // spent of maxSteps
	maxSteps int
}

func newMatcher(src, pat string, maxSteps int) *matcher {
	return &matcher{src: src, pat: pat, maxSteps: maxSteps}
}

func (m *matcher) fail(format string, args ...any) {
	panic(patternError(fmt.Sprintf(format, args...)))
}

// step charges one step to the budget.
func (m *matcher) step() {
	if m.steps++; m.steps > m.maxSteps {
		m.outOfSteps()
	}
}

// outOfSteps is step's failure, out of line so that step is inlined.
//
//go:noinline
func (m *matcher) outOfSteps() {
	panic(m.overBudget())
}

// overBudget is the error of a call that spent more than its budget.
func (m *matcher) overBudget() patternError {
	return patternError(fmt.Sprintf("pattern too complex (more than %d matching steps)", m.maxSteps))
}

// search finds the first match of the pattern (from its offset p, past an
// anchor '^') that starts at or after init, or only at init when anchored.
// It returns the match's span, start -1 when there is none; its captures
// are m.captures[:m.level].
func (m *matcher) search(init, p int, anchored bool) (start, end int, err error) {
	defer m.recoverError(&err)
	for s := init; s <= len(m.src); s++ {
		m.level = 0
		if e := m.match(s, p, 0); e >= 0 {
			return s, e, nil
		}
		if anchored {
			break
		}
	}
	return -1, -1, nil
}

// matchAt matches the pattern from its offset p at s only and returns
// where the match ends, or -1.
func (m *matcher) matchAt(s, p int) (end int, err error) {
	defer m.recoverError(&err)
	m.level = 0
	return m.match(s, p, 0), nil
}

// recoverError, deferred, turns the matcher's panic into *err.
func (m *matcher) recoverError(err *error) {
	if r := recover(); r != nil {
		perr, ok := r.(patternError)
		if !ok {
			panic(r)
		}
		*err = perr
	}
}

// match matches the pattern from offset p against the subject from offset
// s and returns where the match ends, or -1. It consumes the pattern item
// by item, recursing, one level deeper (depth), where an item can match in
// more than one way.
func (m *matcher) match(s, p, depth int) int {
	if depth > maxMatchDepth {
		m.fail("pattern too complex (more than %d nested items)", maxMatchDepth)
	}
	src, pat := m.src, m.pat
	for {
		m.step()
		if p == len(pat) {
			return s
		}
		switch pat[p] {
		case '(':
			if p+1 < len(pat) && pat[p+1] == ')' {
				return m.startCapture(s, p+2, capPosition, depth)
			}
			return m.startCapture(s, p+1, capUnfinished, depth)
		case ')':
			return m.endCapture(s, p+1, depth)
		case '$':
			if p+1 == len(pat) {
				if s == len(src) {
					return s
				}
				return -1
			}
		case '%':
			if p+1 == len(pat) {
				break // classEnd raises the error
			}
			switch c := pat[p+1]; {
			case c == 'b':
				if s = m.matchBalance(s, p+2); s < 0 {
					return -1
				}
				p += 4
				continue
			case c == 'f':
				p += 2
				if p == len(pat) || pat[p] != '[' {
					m.fail("missing '[' after '%%f' in pattern")
				}
				ep := m.classEnd(p)
				var prev, cur byte // '\0' before the start and past the end, as in Lua
				if s > 0 {
					prev = src[s-1]
				}
				if s < len(src) {
					cur = src[s]
				}
				if m.matchSet(prev, p, ep-1) || !m.matchSet(cur, p, ep-1) {
					return -1
				}
				p = ep
				continue
			case '0' <= c && c <= '9':
				if s = m.matchBackReference(s, c); s < 0 {
					return -1
				}
				p += 2
				continue
			}
		}
		// A single-character class, and what follows it.
		var ep int
		var matched bool
		switch c := pat[p]; c {
		case '.':
			ep, matched = p+1, s < len(src)
		case '%', '[':
			ep = m.classEnd(p)
			matched = s < len(src) && m.matchClassAt(src[s], p, ep)
		default:
			ep, matched = p+1, s < len(src) && src[s] == c
		}
		if ep < len(pat) {
			switch pat[ep] {
			case '?':
				if matched {
					if e := m.match(s+1, ep+1, depth+1); e >= 0 {
						return e
					}
				}
				p = ep + 1
				continue
			case '*':
				return m.expandGreedy(s, p, ep, depth)
			case '+':
				if !matched {
					return -1
				}
				return m.expandGreedy(s+1, p, ep, depth)
			case '-':
				return m.expandLazy(s, p, ep, depth)
			}
		}
		if !matched {
			return -1
		}
		s, p = s+1, ep
	}
}

// expandGreedy matches the class at p..ep as many times as it can from s,
// then gives back one character at a time until the rest of the pattern
// matches.
func (m *matcher) expandGreedy(s, p, ep, depth int) int {
	n := 0
	for s+n < len(m.src) && m.matchClassAt(m.src[s+n], p, ep) {
		m.step()
		n++
	}
	for ; n >= 0; n-- {
		if e := m.match(s+n, ep+1, depth+1); e >= 0 {
			return e
		}
	}
	return -1
}

// expandLazy matches the class at p..ep as few times as it can from s for
// the rest of the pattern to match.
func (m *matcher) expandLazy(s, p, ep, depth int) int {
	for {
		if e := m.match(s, ep+1, depth+1); e >= 0 {
			return e
		}
		if s == len(m.src) || !m.matchClassAt(m.src[s], p, ep) {
			return -1
		}
		s++
	}
}

func (m *matcher) startCapture(s, p, length, depth int) int {
	if m.level == maxCaptures {
		m.fail("too many captures")
	}
	m.captures[m.level] = capture{s, length}
	m.level++
	e := m.match(s, p, depth+1)
	if e < 0 {
		m.level--
	}
	return e
}

func (m *matcher) endCapture(s, p, depth int) int {
	l := m.level - 1
	for l >= 0 && m.captures[l].len != capUnfinished {
		l--
	}
	if l < 0 {
		m.fail("invalid pattern capture")
	}
	m.captures[l].len = s - m.captures[l].start
	e := m.match(s, p, depth+1)
	if e < 0 {
		m.captures[l].len = capUnfinished
	}
	return e
}

// matchBalance matches %bxy, x and y at p and p+1, from s.
func (m *matcher) matchBalance(s, p int) int {
	if p+1 >= len(m.pat) {
		m.fail("unbalanced pattern")
	}
	if s >= len(m.src) || m.src[s] != m.pat[p] {
		return -1
	}
	open, close := m.pat[p], m.pat[p+1]
	nesting := 1
	for i := s + 1; i < len(m.src); i++ {
		m.step()
		switch m.src[i] {
		case close:
			if nesting--; nesting == 0 {
				return i + 1
			}
		case open:
			nesting++
		}
	}
	return -1
}

// matchBackReference matches %1-%9 (digit c) from s: the same text as that
// capture, which must be closed.
func (m *matcher) matchBackReference(s int, c byte) int {
	l := int(c - '1')
	if l < 0 || l >= m.level || m.captures[l].len == capUnfinished {
		m.fail("invalid capture index")
	}
	cp := m.captures[l]
	if cp.len == capPosition { // a position matches no text
		return -1
	}
	text := m.src[cp.start : cp.start+cp.len]
	m.steps += len(text)
	m.step()
	if len(m.src)-s >= len(text) && m.src[s:s+len(text)] == text {
		return s + len(text)
	}
	return -1
}

// classEnd returns the end of the single-character class at p: past a
// character, an escape %x, or a set [...].
func (m *matcher) classEnd(p int) int {
	pat := m.pat
	c := pat[p]
	p++
	switch c {
	case '%':
		if p == len(pat) {
			m.fail("malformed pattern (ends with '%%')")
		}
		return p + 1
	case '[':
		start := p
		if p < len(pat) && pat[p] == '^' {
			p++
		}
		// The set's first character is never its end: []] and [^]] hold ']'.
		for {
			if p == len(pat) {
				m.fail("malformed pattern (missing ']')")
			}
			c := pat[p]
			p++
			if c == '%' && p < len(pat) {
				p++
			}
			if p < len(pat) && pat[p] == ']' {
				m.steps += (p - start) / bytesPerStep
				return p + 1
			}
		}
	}
	return p
}

// matchClassAt reports whether c is in the single-character class at
// p..ep.
func (m *matcher) matchClassAt(c byte, p, ep int) bool {
	switch m.pat[p] {
	case '.':
		return true
	case '%':
		return matchClass(c, m.pat[p+1])
	case '[':
		return m.matchSet(c, p, ep-1)
	}
	return m.pat[p] == c
}

// matchSet reports whether c is in the set [...] from p, its '[', to end,
// its ']'.
func (m *matcher) matchSet(c byte, p, end int) bool {
	pat := m.pat
	m.steps += (end - p) / bytesPerStep
	in := true
	p++
	if pat[p] == '^' {
		in = false
		p++
	}
	for ; p < end; p++ {
		switch {
		case pat[p] == '%':
			p++
			if matchClass(c, pat[p]) {
				return in
			}
		case p+2 < end && pat[p+1] == '-':
			if pat[p] <= c && c <= pat[p+2] {
				return in
			}
			p += 2
		case pat[p] == c:
			return in
		}
	}
	return !in
}

// matchClass reports whether c is in the class %cl, in the C locale; a cl
// that names no class stands for itself (%. is '.').
func matchClass(c, cl byte) bool {
	var in bool
	switch cl | 0x20 { // the lower case of a letter
	case 'a':
		in = isLetter(c)
	case 'c':
		in = c < 0x20 || c == 0x7f
	case 'd':
		in = isDigit(c)
	case 'l':
		in = 'a' <= c && c <= 'z'
	case 'p':
		in = '!' <= c && c <= '~' && !isLetter(c) && !isDigit(c)
	case 's':
		in = isSpace(c)
	case 'u':
		in = 'A' <= c && c <= 'Z'
	case 'w':
		in = isLetter(c) || isDigit(c)
	case 'x':
		in = isHexDigit(c)
	case 'z':
		in = c == 0
	default:
		return cl == c
	}
	if 'A' <= cl && cl <= 'Z' {
		return !in
	}
	return in
}

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// captureValue returns value i of the match s..e as Lua gives it:
// capture i, a string or a position (1-based), or the whole match when the
// pattern has no captures and i is 0. It returns an error message for an
// index that names no capture and for a capture left unfinished.
func (m *matcher) captureValue(i, s, e int) (lua.LValue, string) {
	if i >= m.level {
		if i == 0 {
			return lua.LString(m.src[s:e]), ""
		}
		return nil, "invalid capture index"
	}
	switch cp := m.captures[i]; cp.len {
	case capUnfinished:
		return nil, "unfinished capture"
	case capPosition:
		return lua.LNumber(cp.start + 1), ""
	default:
		return lua.LString(m.src[cp.start : cp.start+cp.len]), ""
	}
}
