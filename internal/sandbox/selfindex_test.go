package sandbox

import "testing"

// TestIndexesSelf: a method that gives its receiver an __index, or makes a
// metatable whose __index is its receiver, indexes self; one that gives
// __index to a table of its own, or reads self's __index, does not.
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
