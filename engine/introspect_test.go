package engine

import (
	"context"
	"runtime"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// TestObjectsInDo checks that code inside Do (the console) can list live
// objects, by class and all of them, without waiting for itself.
func TestObjectsInDo(t *testing.T) {
	e, dir := newEngine(t, map[string]string{
		"a.lua": "local A = hot.class('a') return A",
		"b.lua": "local B = hot.class('b') return B",
	})
	var keep []*Object
	for _, name := range []string{"a", "a", "b"} {
		o, err := e.New(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		keep = append(keep, o)
	}
	counts := map[string]int{}
	err := e.Do(context.Background(), func(L *lua.LState) error {
		for _, name := range []string{"a", "b", "", "nobody"} {
			counts[name] = len(e.ObjectsInDo(L, name))
		}
		counts["other state"] = len(e.ObjectsInDo(lua.NewState(), ""))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a": 2, "b": 1, "": 3, "nobody": 0, "other state": 0}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("ObjectsInDo(%q) has %d objects, want %d", k, counts[k], n)
		}
	}
	if roots := e.Roots(); len(roots) != 1 || roots[0] != dir {
		t.Errorf("Roots() = %q, want [%s]", roots, dir)
	}
	runtime.KeepAlive(keep)
}

// TestRestoredAfterFailedSave checks that undoing a broken save is
// reported: a reload fails, then the file gets back the running bytes, and
// OnReload hears Restored once, with the file, so a status line can clear
// its failure.
func TestRestoredAfterFailedSave(t *testing.T) {
	events := make(chan ReloadEvent, 16)
	good := "local A = hot.class('a') return A"
	e, dir := newEngine(t, map[string]string{"a.lua": good}, func(o *Options) {
		o.OnReload = func(ev ReloadEvent) { events <- ev }
		o.Debounce = 5 * time.Millisecond
	})
	next := func() ReloadEvent {
		t.Helper()
		for {
			select {
			case ev := <-events:
				if ev.Trigger != "initial" {
					return ev
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no reload event within 20s")
			}
		}
	}
	if err := e.SetPollInterval(10 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	writeScripts(t, dir, map[string]string{"a.lua": "local A = hot.class('a'"})
	if ev := next(); ev.Err == nil {
		t.Fatalf("a broken save: %+v, want a failure", ev)
	}
	writeScripts(t, dir, map[string]string{"a.lua": good})
	ev := next()
	if !ev.Restored || ev.Err != nil || ev.Report != nil || ev.Generation != 1 || len(ev.Files) != 1 || ev.Files[0] != "a.lua" {
		t.Errorf("the undone save: %+v, want Restored for a.lua on generation 1", ev)
	}
}
