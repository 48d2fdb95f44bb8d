package console

import (
	"context"
	"regexp"
	"slices"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// maxIndexChain bounds how many __index tables completion follows.
const maxIndexChain = 16

// completable matches the a.b:c path at the end of the text before the
// cursor: group 1 is the path up to its last separator, group 2 the partial
// name being typed.
var completable = regexp.MustCompile(`((?:[A-Za-z_][A-Za-z0-9_]*\s*[.:]\s*)*)([A-Za-z_][A-Za-z0-9_]*)?$`)

// Complete returns the names that can complete the text before the cursor,
// and the partial name they replace: globals and console variables, fields
// of a.b.c paths, and methods (after ':') found through metatables' __index
// tables. It never runs Lua code. At the start of a line, ':' completes
// meta commands.
func (s *Session) Complete(ctx context.Context, before string) (partial string, names []string) {
	if strings.HasPrefix(before, ":") && !strings.Contains(before, " ") && len(s.pending) == 0 {
		for _, c := range commands {
			if strings.HasPrefix(":"+c.name, before) {
				names = append(names, ":"+c.name)
			}
		}
		return before, names
	}
	loc := completable.FindStringSubmatchIndex(before)
	if rest := strings.TrimRight(before[:loc[0]], " \t"); strings.HasSuffix(rest, ".") || strings.HasSuffix(rest, ":") {
		// A field or method of what an expression gives (obj(12).x, t[1]:m),
		// which completion would have to run Lua code to know.
		return "", nil
	}
	m := completable.FindStringSubmatch(before[loc[0]:])
	path, partial := m[1], m[2]
	segments := strings.FieldsFunc(path, func(r rune) bool { return r == '.' || r == ':' || r == ' ' || r == '\t' })
	methodsOnly := strings.HasSuffix(strings.TrimSpace(path), ":")
	_ = s.do(ctx, func(Event) {}, func(L *lua.LState) error {
		v := lua.LValue(s.env)
		for _, seg := range segments {
			t, ok := v.(*lua.LTable)
			if !ok {
				return nil
			}
			v = lookup(t, seg)
		}
		if t, ok := v.(*lua.LTable); ok {
			names = fieldNames(t, partial, methodsOnly)
		}
		return nil
	})
	return partial, names
}

// lookup reads t[key] as Lua would, following __index only through tables.
func lookup(t *lua.LTable, key string) lua.LValue {
	for range maxIndexChain {
		if v := t.RawGetString(key); v != lua.LNil {
			return v
		}
		next, ok := indexTable(t)
		if !ok {
			break
		}
		t = next
	}
	return lua.LNil
}

// indexTable returns t's metatable's __index when it is a table.
func indexTable(t *lua.LTable) (*lua.LTable, bool) {
	mt, ok := t.Metatable.(*lua.LTable)
	if !ok {
		return nil, false
	}
	idx, ok := mt.RawGetString("__index").(*lua.LTable)
	return idx, ok
}

// fieldNames returns the sorted identifier keys starting with prefix of t
// and of the tables on its __index chain; only functions if funcsOnly.
func fieldNames(t *lua.LTable, prefix string, funcsOnly bool) []string {
	seen := map[string]bool{}
	for range maxIndexChain {
		t.ForEach(func(k, v lua.LValue) {
			name, ok := k.(lua.LString)
			if !ok || !strings.HasPrefix(string(name), prefix) || !isIdentifier(string(name)) {
				return
			}
			if funcsOnly && v.Type() != lua.LTFunction {
				return
			}
			seen[string(name)] = true
		})
		next, ok := indexTable(t)
		if !ok {
			break
		}
		t = next
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// methods lists the methods an object reaches through its metatable.
func methods(v lua.LValue) []string {
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil
	}
	idx, ok := indexTable(t)
	if !ok {
		return nil
	}
	return fieldNames(idx, "", true)
}
