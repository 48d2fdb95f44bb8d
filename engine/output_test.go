package engine

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
)

// overlapWriter is a writer that is not safe for concurrent use, as a
// host's bytes.Buffer is not: it counts Write calls that began while
// another was running.
type overlapWriter struct {
	busy     atomic.Bool
	overlaps atomic.Int64
	buf      bytes.Buffer
}

func (w *overlapWriter) Write(p []byte) (int, error) {
	if !w.busy.CompareAndSwap(false, true) {
		w.overlaps.Add(1)
		return len(p), nil
	}
	defer w.busy.Store(false)
	return w.buf.Write(p)
}

// What scripts print reaches Options.Stdout one write at a time, although
// the top level of a reload being prepared runs beside the calls: a host
// may pass a writer that is not safe for concurrent use.
func TestScriptOutputIsOneWriteAtATime(t *testing.T) {
	out := &overlapWriter{}
	e, _ := newEngine(t, map[string]string{"talker.lua": `
for i = 1, 50 do print("loading", i) end
local T = hot.class("Talker")
function T:say() for i = 1, 20 do io.write("call ", i, "\n") end end
return T
`}, func(o *Options) { o.Stdout = out })
	ctx := context.Background()
	obj, err := e.New(ctx, "Talker")
	if err != nil {
		t.Fatal(err)
	}
	stop := callInLoop(t, obj, "say")
	for range 20 {
		if _, err := e.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	if n := out.overlaps.Load(); n > 0 {
		t.Fatalf("%d writes to Options.Stdout began while another was running", n)
	}
	if s := out.buf.String(); !strings.Contains(s, "loading\t50\n") || !strings.Contains(s, "call 20\n") {
		t.Fatalf("the output lacks the scripts' lines: %.200q", s)
	}
}
