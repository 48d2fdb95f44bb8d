package console

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/hotlua/hotlua/engine"
	"github.com/hotlua/hotlua/internal/sandbox"
)

// Prompts shown by a [Session].
const (
	PrimaryPrompt      = "> "
	ContinuationPrompt = ">> "
)

// chunkName is the source name of console input in error messages.
const chunkName = "console"

// EventKind says what an [Event] carries. It is a plain value.
type EventKind int

// The kinds of events a [Session] emits.
const (
	Output EventKind = iota // text printed by the evaluated code
	Result                  // the values of an expression or a command's report
	Error                   // a syntax, runtime or command error
)

// Event is one piece of a session's reply. Text has no trailing newline but
// may span several lines. An Event is a plain value, safe to copy and share.
type Event struct {
	Kind EventKind
	Text string
}

// Session is the transport-independent core of a console: it keeps the
// pending multi-line chunk and the session's view of the console namespace.
//
// Console variables (x = 1) live in one namespace per program, shared by
// every session and kept across reloads and sessions (with hot.persist);
// reads fall through to the current generation's globals. Each session
// adds its own builtins (print, help, obj, objects) in front.
//
// A Session is used by one goroutine at a time; the [Target] it talks to
// may be shared.
type Session struct {
	target  Target
	pending []string
	timeout time.Duration // of one evaluation; 0: none

	// env is the environment of console chunks: empty, its metatable reads
	// builtins (whose metatable reads ns.vars, whose metatable reads the
	// globals) and writes ns.vars.
	ns            *namespace
	env, builtins *lua.LTable
	emit          func(Event)
	limits        sandbox.Limits // what input is held to (see compile)
}

// NewSession returns a Session evaluating in t, with evaluations stopped
// after [DefaultEvalTimeout]. Input is held to the checks scripts pass,
// with t's limits when t has a method Limits() engine.Limits (an engine's
// Target has: the engine's own), else the sandbox's defaults.
func NewSession(t Target) *Session {
	s := &Session{target: t, timeout: DefaultEvalTimeout}
	if lt, ok := t.(interface{ Limits() engine.Limits }); ok {
		s.limits = lt.Limits()
	}
	return s
}

// SetTimeout sets the deadline of each later evaluation; d <= 0 means none.
func (s *Session) SetTimeout(d time.Duration) { s.timeout = max(d, 0) }

// Prompt returns the prompt for the next line: [ContinuationPrompt] while a
// chunk is incomplete, else [PrimaryPrompt].
func (s *Session) Prompt() string {
	if len(s.pending) > 0 {
		return ContinuationPrompt
	}
	return PrimaryPrompt
}

// Drop discards the pending incomplete chunk, if any.
func (s *Session) Drop() { s.pending = nil }

// Input handles one line (or a whole chunk) of input and reports the reply
// through emit, which may be called while the target's state is locked and
// so must not block. A line starting with ':' outside a chunk is a command.
// Input returns true when the user asked to detach (:quit).
func (s *Session) Input(ctx context.Context, text string, emit func(Event)) (quit bool) {
	if ctx.Err() != nil {
		s.Drop()
		emit(Event{Error, errInterrupted.Error()})
		return false
	}
	trimmed := strings.TrimSpace(text)
	if len(s.pending) == 0 {
		if trimmed == "" {
			return false
		}
		if strings.HasPrefix(trimmed, ":") {
			return s.command(ctx, trimmed, emit)
		}
	}
	if len(s.pending) == 0 && strings.HasPrefix(trimmed, "=") {
		text = "return " + strings.TrimPrefix(trimmed, "=") // Lua 5.1's REPL: =expr
	}
	s.pending = append(s.pending, text)
	proto, err := s.compileInput(strings.Join(s.pending, "\n"))
	if errors.Is(err, errIncomplete) {
		return false
	}
	s.pending = nil
	if err != nil {
		emit(Event{Error, err.Error()})
		return false
	}
	s.eval(ctx, proto, emit, func(L *lua.LState, vals []lua.LValue) {
		if len(vals) == 0 {
			return
		}
		p := s.printer(L, resultStyle)
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = p.format(v)
		}
		emit(Event{Result, strings.Join(parts, "\t")})
	})
	return false
}

var (
	errIncomplete  = errors.New("console: incomplete chunk")
	errInterrupted = errors.New("interrupted")
)

// compileInput compiles src as an expression (return src) if it is one,
// else as a statement. It returns errIncomplete when either form ends
// early, at the end of the input, so that more lines may complete it.
func (s *Session) compileInput(src string) (*lua.FunctionProto, error) {
	proto, exprErr := s.compile("return " + src)
	if exprErr == nil {
		return proto, nil
	}
	proto, stmtErr := s.compile(src)
	if stmtErr == nil {
		return proto, nil
	}
	if atEOF(exprErr) || atEOF(stmtErr) {
		return nil, errIncomplete
	}
	// Report the form that got further: "1 +\n+" fails as an expression on
	// line 2, but as a statement already at its first token.
	if pe, ok := exprErr.(*syntaxError); ok {
		if pe.err.Pos.Line == 1 {
			pe.err.Pos.Column -= len("return ")
		}
		if se, ok := stmtErr.(*syntaxError); ok && pe.err.Pos.Line*1e6+pe.err.Pos.Column > se.err.Pos.Line*1e6+se.err.Pos.Column {
			return nil, exprErr
		}
	}
	return nil, stmtErr
}

// compile compiles src, one input, after the checks scripts pass
// ([sandbox.CheckSource] and [sandbox.CheckProto]) with the session's
// limits: gopher-lua's compiler recurses once per nesting level (Go's fatal
// stack overflow ends the host past about a million) and takes quadratic
// time on long operator chains, past any deadline and interrupt.
func (s *Session) compile(src string) (*lua.FunctionProto, error) {
	if err := sandbox.CheckSource([]byte(src), s.limits); err != nil {
		return nil, refused(err)
	}
	chunk, err := parse.Parse(strings.NewReader(src), chunkName)
	if err != nil {
		var pe *parse.Error
		if errors.As(err, &pe) {
			if pe.Pos.Line != parse.EOF {
				pe.Pos = sandbox.TokenStart([]byte(src), pe.Pos)
			}
			return nil, &syntaxError{pe}
		}
		return nil, err
	}
	proto, err := lua.Compile(chunk, chunkName)
	if err != nil {
		return nil, err
	}
	if err := sandbox.CheckProto(proto, s.limits); err != nil {
		return nil, refused(err)
	}
	return proto, nil
}

// refused names the line of an input the sandbox's checks refused, as
// console:line: message.
func refused(err error) error {
	if se, ok := errors.AsType[*sandbox.SourceError](err); ok && se.Line > 0 {
		return fmt.Errorf("%s:%d: %s", chunkName, se.Line, se.Message)
	} else if ok {
		return fmt.Errorf("%s: %s", chunkName, se.Message)
	}
	return err
}

// syntaxError formats a parse error as console:line:col: message.
type syntaxError struct{ err *parse.Error }

func (e *syntaxError) Error() string {
	near := ""
	if e.err.Token != "" {
		near = fmt.Sprintf(" near '%s'", e.err.Token)
	}
	if e.err.Pos.Line == parse.EOF {
		return fmt.Sprintf("%s: %s at end of input", chunkName, e.err.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s%s", chunkName, e.err.Pos.Line, e.err.Pos.Column, e.err.Message, near)
}

func (e *syntaxError) Unwrap() error { return e.err }

func atEOF(err error) bool {
	var pe *parse.Error
	return errors.As(err, &pe) && pe.Pos.Line == parse.EOF
}

// eval runs proto in the console environment and hands its return values to
// render, inside Do. Errors are emitted.
func (s *Session) eval(ctx context.Context, proto *lua.FunctionProto, emit func(Event), render func(*lua.LState, []lua.LValue)) {
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	started := false
	err := s.do(ctx, emit, func(L *lua.LState) error {
		started = true
		fn := L.NewFunctionFromProto(proto)
		fn.Env = s.env
		top := L.GetTop()
		defer L.SetTop(top)
		L.Push(fn)
		if err := L.PCall(0, lua.MultRet, L.NewFunction(shortTraceback)); err != nil {
			return err
		}
		vals := make([]lua.LValue, 0, L.GetTop()-top)
		for i := top + 1; i <= L.GetTop(); i++ {
			vals = append(vals, L.Get(i))
		}
		render(L, vals)
		return nil
	})
	switch {
	case err == nil:
	case !started && s.timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded):
		// The program (another console, a reload, a long call) held the
		// state for the whole deadline: this chunk never ran.
		emit(Event{Error, fmt.Sprintf("not run: the program stayed busy for the console's deadline of %v (%v)", s.timeout, err)})
	default:
		emit(Event{Error, s.errorText(ctx, err)})
	}
}

// do runs fn in the target with the console environment bound to the
// current generation and print routed to emit.
func (s *Session) do(ctx context.Context, emit func(Event), fn func(*lua.LState) error) error {
	return s.target.Do(ctx, func(L *lua.LState) error {
		// emit is set and cleared inside Do, where the program may later
		// call a function defined in the console (and its print).
		s.emit = emit
		defer func() { s.emit = nil }()
		s.bind(L)
		return fn(L)
	})
}

func (s *Session) errorText(ctx context.Context, err error) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("stopped: the evaluation ran past the console's deadline of %v (:timeout changes it)", s.timeout)
	}
	if ctx.Err() != nil {
		return errInterrupted.Error()
	}
	var api *lua.ApiError
	if errors.As(err, &api) && api.Object != nil {
		if str, ok := api.Object.(lua.LString); ok {
			return string(str)
		}
		return "error: " + s.printer(nil, resultStyle).format(api.Object)
	}
	return err.Error()
}

// bind creates the session's environment on first use and points it at
// the generation that L belongs to.
func (s *Session) bind(L *lua.LState) {
	if s.ns == nil {
		if s.ns = sharedNamespace(L); s.ns == nil {
			s.ns = newNamespace(L) // a program without hot.persist: this session's own
		}
		s.env, s.builtins = L.NewTable(), L.NewTable()
		envMeta := L.NewTable()
		envMeta.RawSetString("__index", s.builtins)
		envMeta.RawSetString("__newindex", s.ns.vars)
		L.SetMetatable(s.env, envMeta)
		builtinsMeta := L.NewTable()
		builtinsMeta.RawSetString("__index", s.ns.vars)
		L.SetMetatable(s.builtins, builtinsMeta)
		s.installBuiltins(L)
	}
	s.ns.vars.Metatable.(*lua.LTable).RawSetString("__index", L.G.Global)
	s.bindRemoved(L)
}

// maxPrintBytes is the most one call of the console's print prints, as
// the sandbox's print: arguments repeating one large string would
// otherwise join into far more in one Go call.
const maxPrintBytes = 16 << 20

// print is the console's print: like Lua's, but to the console while the
// console evaluates; a function defined in the console and called later by
// the program prints to standard output, as Lua's print does.
func (s *Session) print(L *lua.LState) int {
	parts := make([]string, L.GetTop())
	n := 0
	for i := range parts {
		parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
		if n += len(parts[i]) + 1; n > maxPrintBytes {
			L.RaiseError("print: output too large (max %d bytes a call)", maxPrintBytes)
		}
	}
	line := strings.Join(parts, "\t")
	if s.emit == nil {
		fmt.Println(line)
		return 0
	}
	s.emit(Event{Output, line})
	return 0
}

// printer returns a printer in style st. Inside Do, L is the target's
// state: objects then get their ids, and library tables and Go values are
// recognised; outside it L is nil.
func (s *Session) printer(L *lua.LState, st style) *printer {
	p := &printer{style: st, describe: s.target.Describe, L: L}
	if L != nil && s.ns != nil {
		p.id = s.ns.ids.id
		p.libraries = libraries(L)
	}
	return p
}

// maxTraceback bounds the frames an error's traceback shows.
const maxTraceback = 8

// shortTraceback is the error handler of console evaluations: it adds the
// innermost frames, at most maxTraceback of them, to a string error when
// there is more than the one its message names. It
// walks the frames itself, since gopher-lua's traceback has a line per tail
// call and grows without bound in a tail-recursive loop.
func shortTraceback(L *lua.LState) int {
	msg, ok := L.Get(1).(lua.LString)
	if !ok {
		return 1
	}
	var frames []string
	for level := 1; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil || dbg.What == "G" || dbg.CurrentLine <= 0 {
			continue
		}
		if len(frames) == maxTraceback {
			frames = append(frames, "\t...")
			break
		}
		where := fmt.Sprintf("in function <%s:%d>", dbg.Source, dbg.LineDefined)
		switch {
		case dbg.What == "main":
			where = "in the main chunk"
		case dbg.Name != "" && dbg.Name != "(anonymous)" && dbg.Name != "main chunk":
			where = "in function " + dbg.Name
		}
		frame := fmt.Sprintf("\t%s:%d: %s", dbg.Source, dbg.CurrentLine, where)
		if len(frames) == 0 || frames[len(frames)-1] != frame {
			frames = append(frames, frame)
		}
	}
	if len(frames) > 1 { // one frame is where the message already points
		msg += lua.LString("\ntraceback:\n" + strings.Join(frames, "\n"))
	}
	L.Push(msg)
	return 1
}
