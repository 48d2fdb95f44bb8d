package engine

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzScript loads arbitrary script bytes and calls an arbitrary method on
// an object of each class they define: whatever the input, the engine
// returns values or errors and the host never panics, hangs or dies.
// Seeds are in testdata/fuzz/FuzzScript; .ci/run fuzzes briefly.
func FuzzScript(f *testing.F) {
	f.Add([]byte(goodClass), "bump")
	f.Add([]byte(badMethods), "loop")
	f.Add([]byte(enemyV1), "damage")
	f.Fuzz(func(t *testing.T, src []byte, method string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "fuzz.lua"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		e, err := New(Options{
			Roots:       []string{dir},
			Logger:      slog.New(slog.DiscardHandler),
			LoadTimeout: 200 * time.Millisecond,
			Limits:      Limits{MaxMemoryBytes: 64 << 20},
		})
		if err != nil {
			var se *ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("load error %T is not a *ScriptError: %v", err, err)
			}
			return
		}
		defer e.Close()
		for _, c := range e.Classes() {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			obj, err := e.New(ctx, c.Name, 1, "x")
			if err == nil {
				obj.Call(ctx, method, 2, "y", obj)
				obj.Get(method)
			}
			cancel()
		}
		if _, err := e.Reload(context.Background()); err != nil {
			var se *ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("reload error %T is not a *ScriptError: %v", err, err)
			}
		}
	})
}
