package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hotlua/hotlua/examples/internal/demotest"
)

// TestQuickstartEditsItsCopy runs the example with -edit: its greeting
// changes once it has moved the greeter to the updated class, and the
// greeter keeps counting, since its fields survive.
func TestQuickstartEditsItsCopy(t *testing.T) {
	cfg := config{scripts: "scripts", every: 10 * time.Millisecond, edit: true}
	out := demotest.Start(t, func(ctx context.Context, w io.Writer) error { return run(ctx, cfg, w) })
	var seen []string
	howdy := ""
	for line := range out.Lines() {
		seen = append(seen, line)
		if strings.HasPrefix(line, "Howdy") {
			howdy = line
			break
		}
	}
	if err := out.Stop(); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(seen, "\n")
	if howdy == "" {
		t.Fatalf("the greeting never changed; output:\n%s", text)
	}
	var n int
	fmt.Sscanf(howdy, "Howdy, world! (greeting %d)", &n)
	if n < 3 || !strings.Contains(seen[len(seen)-2], " -> greeter@g2:") {
		t.Errorf("output:\n%s\nwant the greeter moved to generation 2, then greeting 3 or later to say Howdy", text)
	}
	for _, want := range []string{"Hello, world! (greeting 1)", "Hello, world! (greeting 2)", "quickstart: editing "} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q; it was:\n%s", want, text)
		}
	}
}
