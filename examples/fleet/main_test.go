package main

import (
	"strings"
	"testing"

	"github.com/hotlua/hotlua/examples/internal/demotest"
)

// TestFleetExample runs the example: every node ACKs the change, NACKs the
// broken change, which is rolled back, and ACKs the fix, whose code the
// live objects then run.
func TestFleetExample(t *testing.T) {
	out := demotest.Start(t, run)
	out.WaitFor("== publish 2: a change")
	out.WaitFor(`eu-1 objects say "hello from generation 3"`)
	out.WaitFor("== publish 3: a broken change")
	out.WaitFor("NACK revision 3 (kept 2)")
	out.WaitFor("rolled back: revision 4")
	out.WaitFor(`us-1 objects say "hello from generation 3"`)
	out.WaitFor("== publish 4: the fix")
	line := out.WaitFor(`us-1 objects say`)
	if !strings.Contains(line, `"fixed, generation 4"`) {
		t.Fatalf("after the fix: %s", line)
	}
	out.WaitFor("done;")
	if err := out.Stop(); err != nil {
		t.Fatal(err)
	}
}
