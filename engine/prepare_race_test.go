package engine

import (
	"context"
	"fmt"
	"testing"
)

// TestPrepareReadsNoTableCallsWrite: a reload that reaches no shared state
// prepares beside running calls, so what it reads of the running classes
// must be nothing calls write. Here calls keep writing a field of a base
// class (Base.n) while reloads of its subclass, whose version is worked
// out from its bases, are prepared; under -race a read of the running
// Base by prepare is reported.
func TestPrepareReadsNoTableCallsWrite(t *testing.T) {
	files := map[string]string{
		"base.lua": "local Base = {}\nBase.__index = Base\nfunction Base:bump() Base.n = (Base.n or 0) + 1 Base[Base.n % 7] = true return Base.n end\nreturn Base\n",
		"sub.lua":  "local Base = require('base')\nlocal Sub = setmetatable({}, Base)\nSub.__index = Sub\nfunction Sub:v() return 0 end\nreturn Sub\n",
	}
	e, dir := newEngine(t, files)
	obj, err := e.New(context.Background(), "sub")
	if err != nil {
		t.Fatal(err)
	}
	defer callInLoop(t, obj, "bump")()
	for i := range 20 {
		files["sub.lua"] = fmt.Sprintf("%s-- %d\n", files["sub.lua"], i)
		reload(t, e, dir, map[string]string{"sub.lua": files["sub.lua"]})
	}
}
