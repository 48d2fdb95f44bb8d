package bindings

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func TestHostHelpers(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{
		Level:       slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return dropTime(a) },
	}))
	L := newState(t, New())
	hot := L.NewTable()
	L.SetGlobal("hot", hot)
	InstallHostHelpers(L, hot, Host{
		Logger:     logger,
		Generation: func() uint64 { return 7 },
		Now:        func() time.Time { return time.Unix(1700000000, 500_000_000) },
	})
	if err := L.DoString(`
hot.info("spawned", "id", 3, "tags", {"a", "b"})
hot.log("warn", "low fuel", "left", 0.5)
hot.log(-4, "debug by number")
hot.error("odd", "key")
local s = ("x"):rep(2^19) local t = {} for i = 1, 1000 do t[i] = s end
hot.info("shared", "big", {t, t, t})
hot.info("long", "key", s, "other", s)
assert(hot.generation() == 7)
assert(hot.now() == 1700000000.5)`); err != nil {
		t.Fatal(err)
	}
	want := `level=INFO msg=spawned where=<string>:2 id=3 tags="[a b]"
level=WARN msg="low fuel" where=<string>:3 left=0.5
level=DEBUG msg="debug by number" where=<string>:4
level=ERROR msg=odd where=<string>:5 key=!MISSING
level=INFO msg=shared where=<string>:7 big="!the log record would carry more than 1048576 bytes of text"
level=INFO msg=long where=<string>:8 key=` + strings.Repeat("x", 1<<19) + ` other="!the log record would carry more than 1048576 bytes of text"
`
	if out.String() != want {
		t.Fatalf("log:\n%.2000s\nwant:\n%.2000s", out.String(), want)
	}
	if err := L.DoString(`hot.log("loud", "x")`); err == nil || !strings.Contains(err.Error(), "bad argument #1") {
		t.Fatalf("bad level: error %v", err)
	}
}

func TestHostHelpersDefaults(t *testing.T) {
	L := newState(t, New())
	hot := L.NewTable()
	L.SetGlobal("hot", hot)
	InstallHostHelpers(L, hot, Host{})
	before := float64(time.Now().Unix())
	run(t, L, `
		assert(hot.generation() == 0)
		now = hot.now()
		hot.debug("not shown by the default logger")`)
	if now := float64(L.GetGlobal("now").(lua.LNumber)); now < before {
		t.Fatalf("hot.now() = %v, before = %v", now, before)
	}
}

func dropTime(a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// A Lua table registered as a value would be shared by two states running
// at once (a generation loading beside its predecessor's calls): refused.
func TestValueRefusesSharedTable(t *testing.T) {
	r := New()
	r.Value("config", &lua.LTable{Metatable: lua.LNil})
	L := lua.NewState()
	defer L.Close()
	err := r.Install(L)
	if err == nil || !strings.Contains(err.Error(), "bindings: global config: a Lua table") {
		t.Fatalf("Install = %v, want the shared table refused", err)
	}
}
