package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/hotlua/hotlua/internal/sandbox"
)

// source is one script file as read from a root.
type source struct {
	root   string // the root directory it was found under
	path   string // relative to root, slash-separated: "units/enemy.lua"
	module string // "units.enemy"
	data   []byte // the text, nil in a script
	hash   [sha256.Size]byte
}

// script is a compiled source. It does not keep the text, which every
// generation would otherwise hold.
type script struct {
	source
	proto *lua.FunctionProto
}

// ModuleName returns the module name of a script, by its slash-separated
// path relative to its root: "units/enemy.lua" is "units.enemy", and
// "units/init.lua" is "units" (so is "units.lua": two scripts that define
// one module are refused).
func ModuleName(rel string) string {
	rel = strings.TrimSuffix(rel, ".lua")
	if dir, base := path.Split(rel); base == "init" && dir != "" {
		rel = strings.TrimSuffix(dir, "/")
	}
	return strings.ReplaceAll(rel, "/", ".")
}

// protoCache keeps what the engines of a Shards share about their script
// files: each file as last read, so that a reload reads again only the
// files that changed, and compiled prototypes by path and content hash, so
// that it recompiles only those. Prototypes are read-only and shared by
// every generation. Safe for concurrent use.
type protoCache struct {
	mu sync.Mutex
	m  map[protoKey]*lua.FunctionProto

	files fileCache
}

type protoKey struct {
	path string
	hash [sha256.Size]byte
}

// compile returns the compiled scripts, compiling what the cache lacks. The
// cache keeps only what this call used, so it never grows past one script
// set. All syntax errors are reported, joined.
// ctx is checked between two files (one file's compile cannot be
// interrupted; CheckSource bounds its time).
func (c *protoCache) compile(ctx context.Context, srcs []source, lim Limits) ([]*script, error) {
	c.mu.Lock()
	old := c.m
	c.mu.Unlock()
	next := make(map[protoKey]*lua.FunctionProto, len(srcs))
	scripts := make([]*script, 0, len(srcs))
	var errs []error
	for _, s := range srcs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("engine: compiling the scripts: %w", err)
		}
		key := protoKey{s.path, s.hash}
		proto := old[key]
		if proto == nil {
			var err error
			if proto, err = compileSource(s, lim); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		next[key] = proto
		s.data = nil
		scripts = append(scripts, &script{source: s, proto: proto})
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	c.mu.Lock()
	c.m = next
	c.mu.Unlock()
	c.files.dropText()
	return scripts, nil
}

// has reports whether the prototype of key is cached.
func (c *protoCache) has(key protoKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key] != nil
}

func compileSource(s source, lim Limits) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(bytes.NewReader(s.data), s.path)
	if err != nil {
		return nil, syntaxError(s, err)
	}
	proto, err := lua.Compile(chunk, s.path)
	if err != nil {
		return nil, compileError(s, err)
	}
	if err := sandbox.CheckProto(proto, lim); err != nil {
		return nil, sourceError(s.path, s.data, err)
	}
	sandbox.TrimProto(proto)
	return proto, nil
}

// syntaxError places an error of gopher-lua's parser in s at the first
// character of the token it is about (an unterminated string or comment
// where it opens, even when the parser saw the end of the file first); at
// the end of the file, where the parser gives no position and no token
// failed, at the end of the last line with text.
func syntaxError(s source, err error) *ScriptError {
	se := scriptError(err, 0)
	if pe, ok := errors.AsType[*parse.Error](err); ok {
		if start := sandbox.TokenStart(s.data, pe.Pos); start.Line != parse.EOF {
			se.Line, se.Column = start.Line, start.Column
			return se
		}
	}
	if se.Line == 0 {
		text := bytes.TrimRight(s.data, " \t\r\n")
		se.Line = bytes.Count(text, []byte("\n")) + 1
		se.Column = len(text) - bytes.LastIndexByte(text, '\n')
	}
	return se
}

// sourceError places a limit the sandbox found in a script, data, at its
// line and column (the line's first character when the column is unknown).
func sourceError(path string, data []byte, err error) *ScriptError {
	se := &ScriptError{Path: path, Message: err.Error(), Err: err}
	if le, ok := errors.AsType[*sandbox.SourceError](err); ok {
		se.Line, se.Column, se.Message = le.Line, le.Column, le.Message
	}
	if se.Line == 0 {
		se.Line = 1
	}
	if se.Column == 0 {
		se.Column = firstColumn(data, se.Line)
	}
	return se
}

// compileError places an error of gopher-lua's compiler ("too many local
// variables", "register overflow") at the line it names: the first line of
// the function it refers to, or line 1 for the main chunk.
func compileError(s source, err error) *ScriptError {
	ce, ok := errors.AsType[*lua.CompileError](err)
	if !ok {
		return scriptError(err, 0)
	}
	se := &ScriptError{Path: s.path, Line: ce.Line, Message: ce.Message, Err: err}
	if se.Line <= 0 {
		se.Line = 1
		se.Message += " (in the main chunk)"
	}
	se.Column = firstColumn(s.data, se.Line)
	return se
}

// firstColumn returns the column of the first character of line in data
// that is not a space, or 1.
func firstColumn(data []byte, line int) int {
	for i := 1; i < line; i++ {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return 1
		}
		data = data[nl+1:]
	}
	n := len(data) - len(bytes.TrimLeft(data, " \t"))
	if n < len(data) && data[n] != '\n' && data[n] != '\r' {
		return n + 1
	}
	return 1
}

// joinErrors returns the only error, or all of them joined one per line;
// errors.As finds the first.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
