package engine

import (
	"context"
	"runtime"
	"testing"

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
