package sandbox

import (
	"slices"
	"testing"
)

// TestIndexesSelf: a method that gives its receiver an __index indexes
// self (own); one that makes a metatable whose __index is its receiver
// makes self another table's __index (other); one that gives __index to a
// table of its own, or reads self's __index, does neither.
func TestIndexesSelf(t *testing.T) {
	rows := []struct {
		name, src  string
		own, other bool
	}{
		{"self.__index = self", "local C = {}\nfunction C:new(o)\n  o = o or {}\n  setmetatable(o, self)\n  self.__index = self\n  return o\nend\nreturn C", true, false},
		{"{__index = self}", "local C = {}\nfunction C:extend()\n  return setmetatable({}, {__index = self})\nend\nreturn C", false, true},
		{"a subclass maker", "local C = {}\nfunction C:extend()\n  local cls = {}\n  cls.__index = cls\n  return setmetatable(cls, self)\nend\nreturn C", false, false},
		{"an index of a field of self", "local C = {}\nfunction C:view()\n  return setmetatable({}, {__index = self.values})\nend\nreturn C", false, false},
		{"a read of self's __index", "local C = {}\nfunction C:base()\n  return self.__index\nend\nreturn C", false, false},
		{"no parameter", "local C = {}\nfunction C.new()\n  return setmetatable({}, {__index = C})\nend\nreturn C", false, false},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			p := compileUntrimmed(t, "m.lua", row.src)
			if own, other := IndexesSelf(p.FunctionPrototypes[0]); own != row.own || other != row.other {
				t.Errorf("IndexesSelf = %v, %v, want %v, %v", own, other, row.own, row.other)
			}
		})
	}
}

// TestIndexUpvalues: a factory's {__index = M} stores its upvalue M as an
// __index; a proxy of its argument or of a field of M does not.
func TestIndexUpvalues(t *testing.T) {
	rows := []struct {
		name, src string
		want      bool // the function stores its upvalue M as an __index
	}{
		{"{__index = M}", "local M = {}\nfunction M.new(o)\n  return setmetatable(o, {__index = M})\nend\nreturn M", true},
		{"an argument as __index", "local M = {}\nfunction M.readonly(t)\n  M.n = 1\n  return setmetatable({}, {__index = t})\nend\nreturn M", false},
		{"a field of M as __index", "local M = {}\nfunction M.with(t, d)\n  return setmetatable(t, {__index = d or M.defaults})\nend\nreturn M", false},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			p := compileUntrimmed(t, "m.lua", row.src).FunctionPrototypes[0]
			got := slices.ContainsFunc(IndexUpvalues(p), func(i int) bool { return p.DbgUpvalues[i] == "M" })
			if got != row.want {
				t.Errorf("IndexUpvalues = %v (upvalues %v), want M among them: %v", IndexUpvalues(p), p.DbgUpvalues, row.want)
			}
		})
	}
}
