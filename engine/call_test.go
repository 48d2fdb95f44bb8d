package engine

import (
	"context"
	"errors"
	"testing"
)

// TestFailedArgumentConversionLeavesTheEngineAsItWas passes an argument
// that cannot be converted (another engine's object) many times, under a
// context that can be cancelled, and checks that each call fails with
// ErrOtherEngine and leaves nothing behind: the value stack does not fill
// up (the calls push the method and receiver before converting), and a
// later call without a deadline does not run under a failed call's context.
func TestFailedArgumentConversionLeavesTheEngineAsItWas(t *testing.T) {
	script := map[string]string{"counter.lua": "local C = {}\nC.__index = C\nfunction C:init() self.n = 0 end\nfunction C:add(x) self.n = self.n + (x or 1) return self.n end\nreturn C\n"}
	const stackSlots = 2048
	e, _ := newEngine(t, script, func(o *Options) { o.Limits.RegistrySize = stackSlots })
	other, _ := newEngine(t, script)
	bg := context.Background()
	obj, err := e.New(bg, "counter")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := other.New(bg, "counter")
	if err != nil {
		t.Fatal(err)
	}
	// More failures than the value stack has slots for.
	for i := range stackSlots {
		ctx, cancel := context.WithCancel(bg)
		_, err := obj.Call(ctx, "add", stranger)
		cancel()
		if !errors.Is(err, ErrOtherEngine) {
			t.Fatalf("call %d with another engine's object: err = %v, want ErrOtherEngine", i, err)
		}
	}
	v, err := obj.Call(bg, "add", 2)
	if err != nil {
		t.Fatalf("a good call after the failed ones: %v", err)
	}
	if n, _ := v.Float(); n != 2 {
		t.Fatalf("add(2) = %v, want 2: a failed call ran the method", v)
	}
}
