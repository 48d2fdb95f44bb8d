package console

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/internal/sandbox"
)

// hotAPI describes the hot module's functions for help.
var hotAPI = map[string]string{
	"class":      "hot.class(name [, base]): a class table; Class.new(...) makes an object and calls its init(...)",
	"persist":    "hot.persist(key, init): the value kept under key across reloads; init (a value or a function) makes the first one",
	"on":         `hot.on(event, fn): a handler: "reload" (fn(previous_generation)), "unload", or an event the host emits`,
	"check":      `hot.check(fn): a check a new generation must pass before it commits: false, "why" (or an error) fails the reload`,
	"version":    `hot.version(v): the version of an object or class, "g3:0123456789ab"`,
	"generation": "hot.generation(): the generation of the calling code",
	"method":     "hot.method(obj, name): a function calling obj:name(...), the method looked up at each call (a callback that keeps no generation alive)",
	"now":        "hot.now(): the host clock in seconds since 1970, with fractions",
	"log":        `hot.log(level, ...): a record in the program's log; level "debug", "info", "warn" or "error"`,
	"debug":      "hot.debug(...): hot.log at level debug",
	"info":       "hot.info(...): hot.log at level info",
	"warn":       "hot.warn(...): hot.log at level warn",
	"error":      "hot.error(...): hot.log at level error",
}

// consoleBuiltins describes the console's own functions for help.
var consoleBuiltins = map[string]string{
	"help":    "help([x]): what x is: an object's class and methods, a class, a library, a host binding, a hot function",
	"obj":     "obj(n): the live object shown as #n (:objects lists them)",
	"objects": "objects([class]): a list of the live objects of class, or of every class, in the order of their numbers",
	"print":   "print(...): prints to this console",
}

// overview is what help() and :help print first.
const overview = `Enter Lua: an expression prints its values, a statement runs; =expr prints
expr, as in Lua 5.1. A chunk may span lines; Ctrl-C interrupts or drops it.

Variables (x = 1) belong to the program's console namespace: every session
sees them, and they survive reloads and detaching; local variables last for
one chunk. Objects print with a number (<units.goblin #12 g3:...>) that stays
theirs for life: obj(12) gets one, objects("units.goblin") lists a class's.
help(x) or :help NAME describes a value, a class, a library or a binding.
An evaluation holds the program while it runs, and is stopped at its
deadline (:timeout shows or sets it).`

// helpFn is help([x]).
func (s *Session) helpFn(L *lua.LState) int {
	if L.GetTop() == 0 {
		s.emitText(overview + "\n\nhot: " + strings.Join(slices.Sorted(maps.Keys(hotAPI)), ", ") + " (help(hot.class) ...)")
		return 0
	}
	s.emitText(s.describeValue(L, L.Get(1), ""))
	return 0
}

// emitText shows text as a result, or prints it outside an evaluation.
func (s *Session) emitText(text string) {
	if s.emit == nil {
		fmt.Println(text)
		return
	}
	s.emit(Event{Result, text})
}

// describeValue says what v is, for help; name is how the user wrote it,
// when known.
func (s *Session) describeValue(L *lua.LState, v lua.LValue, name string) string {
	p := s.printer(L, resultStyle)
	if lib := p.libraryName(v); lib != "" {
		return describeLibrary(L, lib, v.(*lua.LTable))
	}
	if removed := metaString(v, "__removed"); removed != "" {
		return removed + " is not available in the sandbox"
	}
	if class, version, ok := s.target.Describe(v); ok {
		if t, isTable := v.(*lua.LTable); isTable && p.isClass(t) {
			n := len(s.target.Objects(L, class))
			return fmt.Sprintf("class %s %s, %d live objects\nmethods: %s\n(:source %s:METHOD prints one)", class, version, n, strings.Join(fieldNames(t, "", true), ", "), class)
		}
		what := "an object"
		if t, isTable := v.(*lua.LTable); isTable && p.id != nil {
			what = fmt.Sprintf("object #%d", p.id(t))
		}
		return fmt.Sprintf("%s of class %s %s\nfields: %s\nmethods: %s\n(:inspect shows its fields' values; :source %s:METHOD a method's code)",
			what, class, version, strings.Join(ownKeys(v), ", "), strings.Join(methods(v), ", "), class)
	}
	switch v := v.(type) {
	case *lua.LFunction:
		return s.describeFunction(L, v, name)
	case *lua.LUserData:
		return describeGoValue(p, v)
	case *lua.LTable:
		if ctor, ok := v.RawGetString("new").(*lua.LFunction); ok && ctor.IsG {
			return fmt.Sprintf("%s: a host type bound by the program; %s.new{Field = value, ...} makes one\n%s", cmpOr(name, "table"), cmpOr(name, "T"), p.format(v))
		}
	case lua.LString:
		if doc, ok := hotAPI[strings.TrimPrefix(string(v), "hot.")]; ok {
			return doc
		}
		if doc, ok := consoleBuiltins[string(v)]; ok {
			return doc
		}
	}
	return fmt.Sprintf("a %s: %s", v.Type(), p.format(v))
}

// ownKeys returns the sorted keys of an object's own fields.
func ownKeys(v lua.LValue) []string {
	var keys []string
	if t, ok := v.(*lua.LTable); ok {
		t.ForEach(func(k, _ lua.LValue) { keys = append(keys, k.String()) })
	}
	slices.Sort(keys)
	return keys
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// describeFunction says where a function comes from.
func (s *Session) describeFunction(L *lua.LState, fn *lua.LFunction, name string) string {
	if what, ok := sandbox.Builtin(fn); ok {
		return what
	}
	if !fn.IsG {
		return fmt.Sprintf("a Lua function defined at %s:%d-%d", fn.Proto.SourceName, fn.Proto.LineDefined, fn.Proto.LastLineDefined)
	}
	if hot, ok := L.GetGlobal("hot").(*lua.LTable); ok {
		for key, doc := range hotAPI {
			if L.GetField(hot, key) == fn {
				return doc
			}
		}
	}
	for key, doc := range consoleBuiltins {
		if s.builtins.RawGetString(key) == fn {
			return doc
		}
	}
	var found string
	L.G.Global.ForEach(func(k, v lua.LValue) {
		if v == fn && found == "" {
			found = k.String()
		}
	})
	switch {
	case found != "" && !slices.Contains(baseFunctions, found):
		return fmt.Sprintf("%s: a host function bound by the program (Go)", found)
	case found != "":
		return fmt.Sprintf("%s: a function of Lua's base library", found)
	}
	return cmpOr(name, "a function") + ": a builtin (Go) function"
}

// baseFunctions are Lua's base library, the other global builtins being
// the host's.
var baseFunctions = []string{"assert", "collectgarbage", "error", "getmetatable", "ipairs", "load", "loadstring",
	"next", "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset", "select", "setmetatable",
	"tonumber", "tostring", "type", "unpack", "xpcall", "require", "newproxy", "_printregs"}

// describeLibrary lists a library's functions, or the hot API.
func describeLibrary(L *lua.LState, name string, t *lua.LTable) string {
	if name == "hot" {
		var b strings.Builder
		b.WriteString("library hot, the engine's API for scripts:")
		for _, k := range slices.Sorted(maps.Keys(hotAPI)) {
			b.WriteString("\n  " + hotAPI[k])
		}
		return b.String()
	}
	var keys []string
	each := func(t *lua.LTable) {
		t.ForEach(func(k, _ lua.LValue) { keys = append(keys, k.String()) })
	}
	each(t)
	if meta, ok := t.Metatable.(*lua.LTable); ok { // a read-only view reads through its metatable
		if inner, ok := meta.RawGetString("__index").(*lua.LTable); ok {
			each(inner)
		}
	}
	slices.Sort(keys)
	return fmt.Sprintf("library %s: %s", name, strings.Join(slices.Compact(keys), ", "))
}

// describeGoValue lists a Go value's fields and methods as scripts see them.
func describeGoValue(p *printer, ud *lua.LUserData) string {
	var ms []string
	if t := reflect.TypeOf(ud.Value); t != nil {
		for i := range t.NumMethod() {
			ms = append(ms, t.Method(i).Name)
		}
	}
	text := fmt.Sprintf("a Go value bound by the program: %s", p.format(ud))
	if len(ms) > 0 {
		text += "\nmethods (call with v:Name(...)): " + strings.Join(ms, ", ")
	}
	return text
}

// cmdHelp is :help [NAME]: the overview and the commands, a command's
// usage, or what NAME is.
func cmdHelp(s *Session, ctx context.Context, arg string, emit func(Event)) bool {
	if arg == "" {
		var b strings.Builder
		b.WriteString(overview + "\n\nCommands (Ctrl-D detaches):")
		for _, c := range commands {
			fmt.Fprintf(&b, "\n  %-21s %s", ":"+strings.TrimSpace(c.name+" "+c.args), c.help)
		}
		emit(Event{Result, b.String()})
		return false
	}
	for _, c := range commands {
		if ":"+c.name == arg || c.name == arg {
			emit(Event{Result, fmt.Sprintf(":%s %s\n%s", c.name, c.args, c.help)})
			return false
		}
	}
	if doc, ok := hotAPI[strings.TrimPrefix(arg, "hot.")]; ok && strings.HasPrefix(arg, "hot.") {
		emit(Event{Result, doc})
		return false
	}
	err := s.do(ctx, emit, func(L *lua.LState) error {
		v, err := s.resolve(L, arg)
		if err != nil {
			return err
		}
		emit(Event{Result, s.describeValue(L, v, arg)})
		return nil
	})
	if err != nil {
		emit(Event{Error, s.errorText(ctx, err)})
	}
	return false
}

// resolve finds what name stands for: a Lua expression in the console
// environment, or else a module or class name (units.goblin) to require.
func (s *Session) resolve(L *lua.LState, name string) (lua.LValue, error) {
	proto, err := s.compile("return " + name)
	if err == nil {
		fn := L.NewFunctionFromProto(proto)
		fn.Env = s.env
		L.Push(fn)
		if err := L.PCall(0, 1, nil); err == nil {
			v := L.Get(-1)
			L.Pop(1)
			if v != lua.LNil {
				return v, nil
			}
		}
	}
	if req, ok := L.GetGlobal("require").(*lua.LFunction); ok {
		if err := L.CallByParam(lua.P{Fn: req, NRet: 1, Protect: true}, lua.LString(name)); err == nil {
			v := L.Get(-1)
			L.Pop(1)
			return v, nil
		}
	}
	return nil, fmt.Errorf("%s: no such variable, global, module or class", name)
}

// cmdSource is :source Class:method (or Class.method): the method's lines
// from its script, as the file is now.
func cmdSource(s *Session, ctx context.Context, arg string, emit func(Event)) bool {
	i := strings.LastIndexAny(arg, ":.")
	if i <= 0 || i == len(arg)-1 {
		emit(Event{Error, "usage: :source Class:method (for example :source units.goblin:act)"})
		return false
	}
	className, method := arg[:i], arg[i+1:]
	var fn *lua.LFunction
	err := s.do(ctx, emit, func(L *lua.LState) error {
		class, err := s.resolve(L, className)
		if err != nil {
			return err
		}
		f, ok := L.GetField(class, method).(*lua.LFunction)
		switch {
		case !ok:
			return fmt.Errorf("%s has no method %s", className, method)
		case f.IsG:
			return fmt.Errorf("%s is a builtin (Go) function: there is no Lua source", arg)
		}
		fn = f
		return nil
	})
	if err != nil {
		emit(Event{Error, s.errorText(ctx, err)})
		return false
	}
	src, err := s.target.ReadScript(fn.Proto.SourceName)
	if err != nil {
		emit(Event{Error, fmt.Sprintf("%s: %v", fn.Proto.SourceName, err)})
		return false
	}
	lines := strings.Split(string(src), "\n")
	first, last := fn.Proto.LineDefined, min(fn.Proto.LastLineDefined, len(lines))
	if first < 1 || first > last {
		emit(Event{Error, fmt.Sprintf("%s: lines %d-%d are not in the file as it is now", fn.Proto.SourceName, first, last)})
		return false
	}
	var b strings.Builder
	type loadedTarget interface {
		Loaded(context.Context, string, []byte) (bool, error)
	}
	if t, ok := s.target.(loadedTarget); ok {
		if loaded, err := t.Loaded(ctx, fn.Proto.SourceName, src); err == nil && !loaded {
			fmt.Fprintf(&b, "(%s changed since the running generation loaded it: these are its lines %d-%d now, which may not be the method's)\n",
				fn.Proto.SourceName, first, last)
		}
	}
	fmt.Fprintf(&b, "%s:%d-%d", fn.Proto.SourceName, first, last)
	for n := first; n <= last; n++ {
		fmt.Fprintf(&b, "\n%4d  %s", n, lines[n-1])
	}
	emit(Event{Result, b.String()})
	return false
}
