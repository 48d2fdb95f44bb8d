package console

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/hotlua/hotlua/engine"
)

// TestHelpDescribesEveryHotFunction checks that help knows each function
// of the hot module that scripts see, and nothing that is not one.
func TestHelpDescribesEveryHotFunction(t *testing.T) {
	e, err := engine.New(engine.Options{Roots: []string{t.TempDir()}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var names []string
	err = e.Do(context.Background(), func(L *lua.LState) error {
		// hot is a read-only view: the functions are its metatable's
		// __index, which the metatable's __metatable hides from
		// GetMetatable.
		hot, _ := L.GetGlobal("hot").(*lua.LTable)
		mt, _ := hot.Metatable.(*lua.LTable)
		lib, ok := mt.RawGetString("__index").(*lua.LTable)
		if !ok {
			return fmt.Errorf("hot is %v, with no table of functions behind it", hot)
		}
		lib.ForEach(func(k, v lua.LValue) {
			if _, fn := v.(*lua.LFunction); fn {
				names = append(names, k.String())
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if documented := slices.Sorted(maps.Keys(hotAPI)); !slices.Equal(names, documented) {
		t.Errorf("hot has %v; help describes %v", names, documented)
	}
}
