package engine

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Sentinel errors. Test for them with errors.Is.
var (
	// ErrClosed is returned by every call on an engine after Close.
	ErrClosed = errors.New("engine: closed")
	// ErrNoClass is returned when a class name is not defined by the current generation.
	ErrNoClass = errors.New("engine: no such class")
	// ErrNoMethod is returned when an object's class has no method of the name called.
	ErrNoMethod = errors.New("engine: no such method")
	// ErrQuarantined is returned, without running it, for a method whose
	// calls kept hitting their deadline (see Options.QuarantineAfter).
	ErrQuarantined = errors.New("engine: method quarantined after repeated deadline hits; it runs again after the next reload")
	// ErrOtherEngine is returned when an object is used with an engine that did not create it.
	ErrOtherEngine = errors.New("engine: object belongs to another engine")
)

// ScriptError is an error raised by a script: a syntax error found while
// compiling, a runtime error in a module's top level, in a method, in a
// check or in a hook. It prints as "path:line:col: message" (col only when
// known) so that editors can jump to it; a syntax error is placed at the
// first character of the token it is about.
//
// A ScriptError is immutable once returned and safe to share.
type ScriptError struct {
	Path       string // script path relative to its root, slash-separated ("units/enemy.lua"); empty when unknown
	Line       int    // 1-based; 0 when unknown
	Column     int    // 1-based; 0 when unknown
	Message    string // the message without its position prefix
	Traceback  string // Lua stack traceback, when one was taken
	Generation uint64 // the generation whose code raised it (for reloads: the one being prepared)
	Class      string // the class whose method raised it, when known
	Method     string // the method that raised it, when known
	Err        error  // the underlying error, for errors.As and errors.Is
}

// Error returns "path:line:col: message", leaving out the parts that are unknown.
func (e *ScriptError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	}
	if e.Class != "" && e.Method != "" {
		fmt.Fprintf(&b, "in %s:%s: ", e.Class, e.Method)
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ScriptError) Unwrap() error { return e.Err }

// positionPrefix matches the "chunk:line: " prefix gopher-lua puts on runtime
// errors. Chunk names are script paths relative to their root.
var positionPrefix = regexp.MustCompile(`^([^\s:][^:\n]*\.lua):(\d+): `)

// scriptError converts an error from compiling or running Lua into a
// *ScriptError. Errors that are already ScriptErrors are returned as they are.
func scriptError(err error, gen uint64) *ScriptError {
	if se, ok := errors.AsType[*ScriptError](err); ok {
		return se
	}
	se := &ScriptError{Generation: gen, Err: err, Message: err.Error()}
	if pe, ok := errors.AsType[*parse.Error](err); ok {
		se.Path = pe.Pos.Source
		se.Message = pe.Message
		if pe.Pos.Line == parse.EOF {
			se.Message += " at end of file"
		} else {
			se.Line, se.Column = pe.Pos.Line, pe.Pos.Column
			if pe.Token != "" {
				se.Message += fmt.Sprintf(" near '%s'", pe.Token)
			}
		}
		return se
	}
	if ae, ok := errors.AsType[*lua.ApiError](err); ok {
		se.Message = lua.LVAsString(ae.Object)
		if se.Message == "" && ae.Object != nil {
			se.Message = ae.Object.String()
		}
		se.Traceback = ae.StackTrace
	}
	se.Message = strings.TrimSpace(se.Message)
	if m := positionPrefix.FindStringSubmatch(se.Message); m != nil {
		se.Path = m[1]
		se.Line, _ = strconv.Atoi(m[2])
		se.Message = se.Message[len(m[0]):]
	} else if m := tracebackFrame.FindStringSubmatch(se.Traceback); m != nil {
		// error("x", 0), or an error object that is no string: no
		// position in the message, but the script that raised it is the
		// traceback's first script frame.
		se.Path = m[1]
		se.Line, _ = strconv.Atoi(m[2])
	}
	return se
}

// tracebackFrame matches the first frame of a traceback that is in a
// script (a Go function's frame reads "[G]:").
var tracebackFrame = regexp.MustCompile(`(?m)^\t([^\s:\[][^:\n]*\.lua):(\d+): `)
