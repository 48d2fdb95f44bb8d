package console

import (
	"context"

	lua "github.com/yuin/gopher-lua"
)

// Target is the live program a console talks to: in hotlua, an adapter
// around the engine. A Target is shared by every session of a server, so all
// of its methods must be safe for concurrent use.
type Target interface {
	// Do runs fn with exclusive use of the current generation's Lua state,
	// serialized with every other use of that state, and returns fn's error.
	// Do must honor ctx both while waiting for the state and while fn runs:
	// it calls L.SetContext(ctx) before fn and L.RemoveContext() after, so
	// that a console interrupt stops a running loop. fn must not keep L.
	Do(ctx context.Context, fn func(L *lua.LState) error) error
	// Describe reports the class and version of an object value; ok is
	// false for plain values. It is called only inside Do.
	Describe(v lua.LValue) (class, version string, ok bool)
	// Reload builds a new generation and reports what changed.
	Reload(ctx context.Context) (summary string, err error)
	// Version names the current generation, for example "generation 3".
	Version() string
	// Classes returns one formatted line per class.
	Classes() []string
	// Objects returns the live objects of class, or of every class when
	// class is empty. It is called only inside Do, with Do's state.
	Objects(L *lua.LState, class string) []*lua.LTable
	// ReadScript returns the current text of the script whose source name
	// (as a function's Proto.SourceName has it) is path. A Target that
	// also has Loaded(ctx context.Context, path string, data []byte) (bool,
	// error), telling whether data is the text its current generation
	// loaded, lets :source say when the file changed since.
	ReadScript(path string) ([]byte, error)
	// Errors returns recent reload errors, formatted path:line:col: message.
	Errors() []string
}

// GenerationLister is what a Target may implement for :generations: one
// line per generation still in memory, with what keeps an old one alive.
type GenerationLister interface {
	Generations() []string
}
