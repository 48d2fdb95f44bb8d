package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestNewCallsTheClassesNew makes objects of classes that cannot be called
// and have no init, but a new of their own: a factory, whose objects get a
// metatable indexing the class (function M.new(x) return setmetatable(o,
// {__index = M}) end, and the same as a method), and a class as
// Programming in Lua writes it (function Account:new(o)). New calls that
// new with its arguments; the object runs the class's methods, is an
// *Object wherever a call returns one, names its class in errors, and runs
// the new code after a reload, keeping its data.
func TestNewCallsTheClassesNew(t *testing.T) {
	const factory = "local M = {}\nfunction M.new(x)\n  return setmetatable({x = x}, {__index = M})\nend\nfunction M:show() return 'v1 ' .. self.x end\nfunction M:fail() return self.x.y end\nreturn M\n"
	const factoryMethod = "local M = {}\nfunction M:new(x)\n  return setmetatable({x = x}, {__index = self})\nend\nfunction M:show() return 'v1 ' .. self.x end\nfunction M:fail() return self.x.y end\nreturn M\n"
	const prototype = "local Account = {}\nfunction Account:new(o)\n  o = o or {}\n  setmetatable(o, self)\n  self.__index = self\n  return o\nend\nfunction Account:show() return 'v1 ' .. self.x end\nfunction Account:fail() return self.x.y end\nreturn Account\n"
	for name, tc := range map[string]struct {
		script string
		arg    any
		method bool // new is a method (Class:new)
	}{
		"factory":            {factory, 3, false},
		"factory method":     {factoryMethod, 3, true},
		"Programming in Lua": {prototype, map[string]any{"x": 3}, true},
	} {
		t.Run(name, func(t *testing.T) {
			e, dir := newEngine(t, map[string]string{"thing.lua": tc.script})
			ctx := context.Background()
			obj, err := e.New(ctx, "thing", tc.arg)
			if err != nil {
				t.Fatal(err)
			}
			if got := call(t, obj, "show"); got != "v1 3" {
				t.Fatalf("show() = %v, want v1 3", got)
			}
			if c := obj.Class(); c == nil || c.Name() != "thing" {
				t.Fatalf("Class() = %v, want the class thing", c)
			}
			_, err = obj.Call(ctx, "fail")
			if err == nil || !strings.Contains(err.Error(), "in thing:fail") {
				t.Fatalf("fail() error %v, want it to name thing:fail", err)
			}
			reload(t, e, dir, map[string]string{"thing.lua": strings.ReplaceAll(tc.script, "'v1 '", "'v2 '")})
			if got := call(t, obj, "show"); got != "v2 3" {
				t.Fatalf("after the reload, show() = %v, want v2 3", got)
			}
			c, err := e.Class("thing")
			if err != nil {
				t.Fatal(err)
			}
			args := []any{tc.arg}
			if tc.method {
				args = []any{c, tc.arg}
			}
			v, err := c.Call(ctx, "new", args...)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := v.Object(); !ok {
				t.Fatalf("the class's new returned %v, not an *Object", v)
			}
		})
	}
}

// TestNewLeavesWhatIsNoConstructor checks the cases New's constructor rule
// must not catch: a subclass inheriting a base's plain new (Base.new(x),
// which makes the base's objects) is made as before, an object of the
// subclass; and a table a factory class hands out with more than __index in
// its metatable (a read-only view) stays a plain table for Go.
func TestNewLeavesWhatIsNoConstructor(t *testing.T) {
	e, _ := newEngine(t, map[string]string{
		"base.lua": "local Base = {}\nBase.__index = Base\nfunction Base.new(x) return setmetatable({x = x}, Base) end\nfunction Base:who() return 'base' end\nreturn Base\n",
		"sub.lua":  "local Base = require('base')\nlocal Sub = setmetatable({}, {__index = Base})\nSub.__index = Sub\nfunction Sub:who() return 'sub' end\nreturn Sub\n",
		"fac.lua": "local M = {}\nfunction M.new(x) return setmetatable({x = x}, {__index = M}) end\n" +
			"function M.readonly() return setmetatable({}, {__index = M, __newindex = function() error('read-only') end}) end\nreturn M\n",
	})
	ctx := context.Background()
	sub, err := e.New(ctx, "sub")
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, sub, "who"); got != "sub" {
		t.Errorf("e.New(sub):who() = %v, want sub", got)
	}
	fac, err := e.Class("fac")
	if err != nil {
		t.Fatal(err)
	}
	v, err := fac.Call(ctx, "readonly")
	if err != nil {
		t.Fatal(err)
	}
	if obj, ok := v.Object(); ok {
		t.Errorf("a read-only view of the class is the object %v, want a plain table", obj)
	}
}

// TestFactoryObjectsWithMetamethods makes objects with a factory whose
// metatable has metamethods of its own beside __index (__tostring here):
// they are objects of the class for Go too, made by New and named in
// errors.
func TestFactoryObjectsWithMetamethods(t *testing.T) {
	e, _ := newEngine(t, map[string]string{"fac.lua": "local M = {}\nlocal mt = {__index = M, __tostring = function(o) return 'fac ' .. o.x end}\n" +
		"function M.new(x) return setmetatable({x = x}, mt) end\nfunction M:show() return tostring(self) end\nfunction M:fail() return self.x.y end\nreturn M\n"})
	ctx := context.Background()
	obj, err := e.New(ctx, "fac", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, obj, "show"); got != "fac 3" {
		t.Errorf("show() = %v, want fac 3", got)
	}
	if _, err := obj.Call(ctx, "fail"); err == nil || !strings.Contains(err.Error(), "in fac:fail") {
		t.Errorf("fail() error %v, want it to name fac:fail", err)
	}
}

// TestIndexFunctionsStayTheClasses checks a class whose __index is a
// function, here one guarding private names: Go finds its methods in the
// class table, as it did none before (Lua calls the function, which may
// refuse some), and a module's table with an __instanceDict field that is
// no middleclass class is no class.
func TestIndexFunctionsStayTheClasses(t *testing.T) {
	e, _ := newEngine(t, map[string]string{
		"guarded.lua": "local C = {}\nC.__index = function(t, k) if k:sub(1, 1) == '_' then error('private') end return C[k] end\n" +
			"function C._secret() return 'leaked' end\nfunction C:open() return 'open' end\nreturn C\n",
		"cfg.lua": "return {name = 'cfg', __instanceDict = {__index = function() end}}\n",
	})
	ctx := context.Background()
	obj, err := e.New(ctx, "guarded")
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, obj, "open"); got != "open" {
		t.Errorf("open() = %v, want open", got)
	}
	if _, err := obj.Call(ctx, "nosuch"); !errors.Is(err, ErrNoMethod) {
		t.Errorf("nosuch() error %v, want ErrNoMethod", err)
	}
	if c, err := e.Class("cfg"); err == nil {
		t.Errorf("cfg is the class %v, want no class", c)
	}
}
