package sandbox

import (
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// builtinProtos maps each function prototype of a chunk compiled by
// CompileBuiltin to what the function is.
var builtinProtos sync.Map

// CompileBuiltin compiles src, the constant source of a builtin written in
// Lua (a function must be one where a Go function would stand between a
// yield and its coroutine), with chunkName as its name in errors and
// tracebacks, and records its functions as described by what, for
// [Builtin]. It panics if src does not compile: call it to initialize a
// package variable. It is safe for concurrent use, as is the prototype it
// returns, which any number of states may share.
func CompileBuiltin(src, chunkName, what string) *lua.FunctionProto {
	chunk, err := parse.Parse(strings.NewReader(src), chunkName)
	if err != nil {
		panic("sandbox: builtin " + chunkName + ": " + err.Error())
	}
	proto, err := lua.Compile(chunk, chunkName)
	if err != nil {
		panic("sandbox: builtin " + chunkName + ": " + err.Error())
	}
	var record func(p *lua.FunctionProto)
	record = func(p *lua.FunctionProto) {
		builtinProtos.Store(p, what)
		for _, inner := range p.FunctionPrototypes {
			record(inner)
		}
	}
	record(proto)
	return proto
}

// Builtin reports whether fn is a builtin written in Lua, made from a chunk
// of [CompileBuiltin], and what it is: a console describes it so rather
// than as a script's function defined at its chunk's line.
func Builtin(fn *lua.LFunction) (what string, ok bool) {
	if fn.IsG {
		return "", false
	}
	v, ok := builtinProtos.Load(fn.Proto)
	if !ok {
		return "", false
	}
	return v.(string), true
}
