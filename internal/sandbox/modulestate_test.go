package sandbox

import "testing"

// TestModuleStateWrite: the writes of nested functions into module locals
// and the tables they hold are module state; the top level's writes, a
// function's writes into its own locals or an enclosing function's, and a
// lazily required module are not.
func TestModuleStateWrite(t *testing.T) {
	rows := []struct {
		name, src string
		line      int // of the write found, 0 for none
	}{
		{"counter", "local n = 0\nlocal M = {}\nfunction M.next()\n  n = n + 1\n  return n\nend\nreturn M", 4},
		{"registry key", "local classes = {}\nreturn function(c)\n  classes[c] = true\nend", 3},
		{"registry field", "local reg = {}\nreturn function(c) reg.last = c end", 2},
		{"list constructor into a module local", "local all\nreturn function(...) all = {...} end", 2},
		{"rawset", "local reg = {}\nreturn function(k, v)\n  rawset(reg, k, v)\nend", 3},
		{"table.insert", "local list = {}\nreturn function(x)\n  table.insert(list, x)\nend", 3},
		{"deeper closure", "local seen = {}\nreturn function()\n  return function(x)\n    seen[x] = 1\n  end\nend", 4},
		{"top level only", "local M, made = {}, {}\nmade[1] = true\nM.x = 1\nreturn M", 0},
		{"own locals and parameters", "local M = {}\nfunction M.new(spec)\n  local o = {}\n  o.spec = spec\n  spec.__index = spec\n  return o\nend\nreturn M", 0},
		{"an enclosing function's local", "return function()\n  local c = {}\n  c.catch = function(h) c.handler = h end\n  return c\nend", 0},
		{"lazy require", "local compat\nreturn function()\n  compat = compat or require 'pl.compat'\n  return compat\nend", 0},
		{"a value or a module", "local default\nreturn function(v)\n  default = v or require 'x'\nend", 3},
		{"a value or a module, in two statements", "local default\nreturn function(v)\n  local x = v\n  if not x then x = require 'x' end\n  default = x\nend", 5},
		{"a module required on the straight line", "local json\nreturn function()\n  json = require 'json'\nend", 0},
		{"reads only", "local reg = {}\nreturn function(k) return reg[k], rawget(reg, k) end", 0},
		{"a closure capturing a module local", "local get = rawget\nlocal M = {}\nfunction M.init(k)\n  k.__index = function(t, key) return k[key] or get(t, key) end\nend\nreturn M", 0},
		{"other global call", "local reg = {}\nreturn function(k) print(reg, k) end", 0},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			line, found := ModuleStateWrite(compileUntrimmed(t, "m.lua", row.src))
			if found != (row.line != 0) || line != row.line {
				t.Errorf("ModuleStateWrite = line %d, %v; want line %d, %v", line, found, row.line, row.line != 0)
			}
		})
	}
}
