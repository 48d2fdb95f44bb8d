package console

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/bindings"
)

// style sets the limits of a printer.
type style struct {
	maxDepth  int  // tables nested deeper print as {...}
	maxItems  int  // entries per table before "... (n more)"
	width     int  // a table that fits in width columns prints on one line
	multiline bool // always print tables that have entries one entry a line
}

var (
	resultStyle  = style{maxDepth: 4, maxItems: 50, width: 80}
	inspectStyle = style{maxDepth: 8, maxItems: 1000, width: 80, multiline: true}
)

// printer formats Lua values for people: tables with sorted keys, within
// depth and item limits; a table already being printed shows as <cycle>;
// objects show their class and version.
type printer struct {
	style
	describe func(lua.LValue) (class, version string, ok bool)
	path     []*lua.LTable // the tables being printed, outermost first
	// items counts the entries printed so far: past maxPrintedItems, tables
	// print as {...}, so that a table shared by many others (a DAG, no
	// cycle) cannot multiply into an output of maxItems^maxDepth entries.
	items int
	// text counts the bytes of strings printed so far: past
	// maxPrintedText, strings print cut short, so that many references to
	// one large string cannot multiply into gigabytes either.
	text int

	// Set inside Do only (see Session.printer):
	L         *lua.LState            // reads the fields of Go values
	id        func(*lua.LTable) int  // an object's number, shown as #n
	libraries map[*lua.LTable]string // library tables, shown as <library name>
}

func (p *printer) format(v lua.LValue) string {
	var b strings.Builder
	p.write(&b, v, 0, 0)
	return b.String()
}

// write formats v at the given indentation and nesting depth.
func (p *printer) write(b *strings.Builder, v lua.LValue, indent, depth int) {
	if name := p.libraryName(v); name != "" {
		b.WriteString("<library " + name + ">")
		return
	}
	if name := metaString(v, "__removed"); name != "" {
		b.WriteString("<" + name + ": not available in the sandbox>")
		return
	}
	if class, version, ok := p.describe(v); ok {
		tag := class
		if t, isTable := v.(*lua.LTable); isTable && p.id != nil && t.Metatable != lua.LNil && !p.isClass(t) {
			tag += fmt.Sprintf(" #%d", p.id(t))
		}
		b.WriteString("<" + strings.TrimSpace(tag+" "+version) + ">")
		if _, isTable := v.(*lua.LTable); !isTable {
			return
		}
		b.WriteString(" ")
	}
	if ud, ok := v.(*lua.LUserData); ok && p.L != nil {
		if fields := p.goFields(ud); fields != nil {
			fmt.Fprintf(b, "<%T> ", ud.Value)
			v = fields
		}
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		b.WriteString(p.scalar(v))
		return
	}
	switch {
	case slices.Contains(p.path, t):
		b.WriteString("<cycle>")
		return
	case depth >= p.maxDepth || p.items >= maxPrintedItems:
		b.WriteString("{...}")
		return
	}
	p.path = append(p.path, t)
	defer func() { p.path = p.path[:len(p.path)-1] }()

	entries, more := p.entries(t)
	p.items += len(entries)
	if len(entries) == 0 {
		b.WriteString("{}")
		return
	}
	if !p.multiline {
		if line, ok := p.oneLine(entries, more, depth, p.width-indent); ok {
			b.WriteString(line)
			return
		}
	}
	pad := strings.Repeat("  ", indent/2+1)
	b.WriteString("{")
	lineLen := 0 // of the current line of packed sequence items, 0 if none
	for _, e := range entries {
		// Sequence items that are not tables share lines.
		if _, isTable := e.value.(*lua.LTable); e.key == "" && !isTable {
			item := p.format(e.value) + ","
			if lineLen > 0 && lineLen+1+len(item) <= p.width {
				b.WriteString(" " + item)
				lineLen += 1 + len(item)
				continue
			}
			b.WriteString("\n" + pad + item)
			lineLen = len(pad) + len(item)
			continue
		}
		lineLen = 0
		b.WriteString("\n" + pad + e.key)
		p.write(b, e.value, len(pad), depth+1)
		b.WriteString(",")
	}
	b.WriteString("\n")
	if more > 0 {
		fmt.Fprintf(b, "%s... (%d more)\n", pad, more)
	}
	b.WriteString(pad[2:] + "}")
}

// maxPrintedItems bounds the entries one printer prints, over all tables.
const maxPrintedItems = 100_000

// libraryName returns the name of a library table, or "".
func (p *printer) libraryName(v lua.LValue) string {
	if t, ok := v.(*lua.LTable); ok {
		if name, ok := p.libraries[t]; ok {
			return name
		}
		return metaString(t, "__library")
	}
	return ""
}

// isClass reports whether t is a class table rather than an object: its
// own __index is set, as a class's is.
func (p *printer) isClass(t *lua.LTable) bool {
	return t.RawGetString("__index") != lua.LNil
}

// goFields returns a table of the fields scripts see on a Go value bound
// by the bindings, read through them, or nil when it has none or they
// cannot be read (a type bound with its methods only).
func (p *printer) goFields(ud *lua.LUserData) *lua.LTable {
	names := bindings.FieldNames(ud.Value)
	if len(names) == 0 {
		return nil
	}
	fields := p.L.NewTable()
	for _, name := range names {
		p.L.Push(p.L.NewFunction(func(L *lua.LState) int {
			L.Push(L.GetField(L.Get(1), name))
			return 1
		}))
		p.L.Push(ud)
		if err := p.L.PCall(1, 1, nil); err != nil {
			return nil
		}
		fields.RawSetString(name, p.L.Get(-1))
		p.L.Pop(1)
	}
	return fields
}

// oneLine formats entries as {a, b = c}, reporting false if the result
// would be wider than width or contain a line break.
func (p *printer) oneLine(entries []entry, more, depth, width int) (string, bool) {
	var b strings.Builder
	b.WriteString("{")
	for i, e := range entries {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.key)
		p.write(&b, e.value, 0, depth+1)
		if b.Len() > width {
			return "", false
		}
	}
	if more > 0 {
		fmt.Fprintf(&b, ", ... (%d more)", more)
	}
	b.WriteString("}")
	s := b.String()
	return s, len(s) <= width && !strings.Contains(s, "\n")
}

// entry is a table entry with its key already formatted ("" for the
// sequence part, else "name = " or "[key] = ").
type entry struct {
	key   string
	value lua.LValue
}

// entries returns t's entries in order: the sequence 1..n first, then the
// other keys sorted (numbers, strings, booleans, then the rest), at most
// maxItems of them, and how many were left out.
func (p *printer) entries(t *lua.LTable) ([]entry, int) {
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	var keys []lua.LValue
	t.ForEach(func(k, _ lua.LValue) {
		if num, ok := k.(lua.LNumber); ok && float64(num) == float64(int(num)) && int(num) >= 1 && int(num) <= n {
			return
		}
		keys = append(keys, k)
	})
	slices.SortFunc(keys, compareKeys)
	total := n + len(keys)
	var out []entry
	for i := 1; i <= n && len(out) < p.maxItems; i++ {
		out = append(out, entry{"", t.RawGetInt(i)})
	}
	for _, k := range keys {
		if len(out) >= p.maxItems {
			break
		}
		out = append(out, entry{p.formatKey(k), t.RawGet(k)})
	}
	return out, total - len(out)
}

func compareKeys(a, b lua.LValue) int {
	rank := func(v lua.LValue) int {
		switch v.Type() {
		case lua.LTNumber:
			return 0
		case lua.LTString:
			return 1
		case lua.LTBool:
			return 2
		}
		return 3
	}
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	switch a := a.(type) {
	case lua.LNumber:
		return cmp.Compare(a, b.(lua.LNumber))
	case lua.LString:
		return cmp.Compare(a, b.(lua.LString))
	case lua.LBool:
		return cmp.Compare(strconv.FormatBool(bool(a)), strconv.FormatBool(bool(b.(lua.LBool))))
	}
	return cmp.Compare(a.Type().String()+a.String(), b.Type().String()+b.String())
}

func (p *printer) formatKey(k lua.LValue) string {
	if s, ok := k.(lua.LString); ok && isIdentifier(string(s)) {
		return string(s) + " = "
	}
	if t, ok := k.(*lua.LTable); ok {
		return "[" + t.String() + "] = "
	}
	return "[" + p.scalar(k) + "] = "
}

// maxPrintedText bounds the bytes of strings one printer prints.
const maxPrintedText = 1 << 20

// scalar formats a value that is not a table.
func (p *printer) scalar(v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		room := max(maxPrintedText-p.text, 0)
		if len(v) > room {
			p.text = maxPrintedText
			return strconv.Quote(string(v[:room])) + fmt.Sprintf("... (%d bytes)", len(v))
		}
		p.text += len(v)
		return strconv.Quote(string(v))
	case *lua.LFunction:
		if v.IsG {
			return "function: builtin"
		}
		return fmt.Sprintf("function: %s:%d", v.Proto.SourceName, v.Proto.LineDefined)
	case *lua.LUserData:
		return fmt.Sprintf("userdata: %T", v.Value)
	}
	return v.String()
}

var keywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "goto": true, "if": true, "in": true,
	"local": true, "nil": true, "not": true, "or": true, "repeat": true, "return": true,
	"then": true, "true": true, "until": true, "while": true,
}

func isIdentifier(s string) bool {
	if s == "" || keywords[s] {
		return false
	}
	for i, c := range s {
		if c != '_' && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && (i == 0 || !('0' <= c && c <= '9')) {
			return false
		}
	}
	return true
}
