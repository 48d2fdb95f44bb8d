package sandbox_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hotlua/hotlua/internal/sandbox"
)

// A call into a sandboxed state: Guard for the deadline and the memory
// bound, PCall for the error with a bounded traceback.
func ExampleNewState() {
	L := sandbox.NewState(sandbox.Config{})
	defer L.Close()
	fn, err := L.LoadString(`return string.rep("ab", 3), io.open`)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := sandbox.Guard(L, ctx)
	L.Push(fn)
	err = sandbox.PCall(L, 0, 2)
	done()
	fmt.Println(L.Get(1), L.Get(2), err)
	L.SetTop(0)

	fn, _ = L.LoadString("while true do end")
	done = sandbox.Guard(L, ctx)
	L.Push(fn)
	err = sandbox.PCall(L, 0, 0)
	done()
	fmt.Println(err)
	// Output:
	// ababab nil <nil>
	// <string>:1: context deadline exceeded
	// stack traceback:
	// 	<string>:1: in main chunk
}
