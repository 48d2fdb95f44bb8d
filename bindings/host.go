package bindings

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Host is what the `hot` module's helpers report to and read from. The zero
// value works.
//
// Concurrency: the functions are called on the goroutine running the state,
// under the engine's lock; they must not call back into the engine.
type Host struct {
	// Logger receives hot.log and friends. Default: slog.Default().
	Logger *slog.Logger
	// Generation returns the number of the running generation.
	// Default: always 0.
	Generation func() uint64
	// Now is the clock of hot.now. Default: time.Now.
	Now func() time.Time
}

// InstallHostHelpers sets the host helpers in the table hot of state L:
//
//	hot.log(level, msg, key, value, ...)  -- level "debug", "info", "warn" or "error", or a slog level number
//	hot.debug(msg, key, value, ...)       -- and hot.info, hot.warn, hot.error
//	hot.generation()                      -- the running generation's number
//	hot.now()                             -- the host clock in seconds since 1970, with fractions
//
// Log records go to h.Logger with the call's context and a "where"
// attribute naming the script line (chunk:line); values are converted with
// [Registry.FromLua] (a table becomes a list or a map); a record carries at
// most [MaxLogText] bytes of text. The engine calls
// InstallHostHelpers on each generation's state with the `hot` table it made.
func InstallHostHelpers(L *lua.LState, hot *lua.LTable, h Host) {
	if h.Logger == nil {
		h.Logger = slog.Default()
	}
	if h.Generation == nil {
		h.Generation = func() uint64 { return 0 }
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	hot.RawSetString("log", L.NewFunction(func(L *lua.LState) int {
		level, ok := parseLevel(L.Get(1))
		if !ok {
			L.ArgError(1, `"debug", "info", "warn", "error" or a number expected`)
		}
		return h.log(L, level, 2)
	}))
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
		hot.RawSetString(strings.ToLower(level.String()), L.NewFunction(func(L *lua.LState) int {
			return h.log(L, level, 1)
		}))
	}
	hot.RawSetString("generation", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(h.Generation()))
		return 1
	}))
	hot.RawSetString("now", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(float64(h.Now().UnixNano()) / 1e9))
		return 1
	}))
}

// MaxLogText is the most bytes of text (the message, keys and strings,
// each string counted once per reference to it) one log record of hot.log
// carries: the handler formats every reference, so a table of many
// references to one large string would otherwise ask it for gigabytes.
// A message past it is cut short, and a key or value past it logs as an
// error instead.
const MaxLogText = 1 << 20

// log logs the message at argument first and the key-value pairs after it.
func (h Host) log(L *lua.LState, level slog.Level, first int) int {
	ctx := callContext(L)
	if !h.Logger.Enabled(ctx, level) {
		return 0
	}
	msg := L.ToStringMeta(L.Get(first)).String()
	if len(msg) > MaxLogText {
		msg = fmt.Sprintf("%s... (%d bytes)", msg[:MaxLogText], len(msg))
	}
	room := MaxLogText - len(msg)
	attrs := []slog.Attr{slog.String("where", strings.TrimSuffix(L.Where(1), ":"))}
	for i := first + 1; i <= L.GetTop(); i += 2 {
		key := lua.LVAsString(L.Get(i))
		if room -= len(key); room < 0 {
			key = "!TOOLONG"
		}
		var value any = "!MISSING"
		if i+1 <= L.GetTop() {
			var x any
			err := checkSize(L.Get(i + 1))
			if err == nil {
				var n int
				if n, err = textBytes(L.Get(i+1), max(room, 0)); err == nil {
					room -= n
					x, err = fromLua(L.Get(i+1), 0)
				}
			}
			if err != nil {
				x = "!" + err.Error()
			}
			value = x
		}
		attrs = append(attrs, slog.Any(key, value))
	}
	h.Logger.LogAttrs(ctx, level, msg, attrs...)
	return 0
}

// textBytes returns the bytes of text in v, each string counted once per
// reference to it, or errLogTooLarge once they exceed limit. v has passed
// checkSize: it holds no cycle and nests at most MaxDepth deep.
func textBytes(v lua.LValue, limit int) (int, error) {
	sizes := make(map[*lua.LTable]int) // text bytes of each table seen
	var size func(v lua.LValue) int
	size = func(v lua.LValue) int {
		switch v := v.(type) {
		case lua.LString:
			return len(v)
		case *lua.LTable:
			if n, seen := sizes[v]; seen {
				return n
			}
			n := 0
			v.ForEach(func(k, x lua.LValue) {
				if n <= limit {
					n += size(k) + size(x)
				}
			})
			sizes[v] = n
			return n
		}
		return 0
	}
	if n := size(v); n <= limit {
		return n, nil
	}
	return 0, errLogTooLarge
}

var errLogTooLarge = fmt.Errorf("the log record would carry more than %d bytes of text", MaxLogText)

func parseLevel(v lua.LValue) (slog.Level, bool) {
	if n, ok := v.(lua.LNumber); ok {
		return slog.Level(int(n)), true
	}
	var level slog.Level
	s, ok := v.(lua.LString)
	return level, ok && level.UnmarshalText([]byte(s)) == nil
}
