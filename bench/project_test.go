package bench

import (
	"fmt"
	"strings"
)

// projectFiles is the size of the benchmark project.
const projectFiles = 50

// baseSrc is the base class of the project, units/base.lua.
const baseSrc = `-- units/base.lua: the base class of the benchmark project.
local Base = {}
Base.__index = Base

function Base:init(x, y)
  self.x, self.y = x or 0, y or 0
  self.vx, self.vy = 1, 0.5
  self.hp = 100
end

function Base:update(dt)
  self.x = self.x + self.vx * dt
  self.y = self.y + self.vy * dt
  if self.x < 0 or self.x > 100 then self.vx = -self.vx end
  if self.y < 0 or self.y > 100 then self.vy = -self.vy end
end

return Base
`

// classSrc is the template of the project's other classes: %[1]s is the
// class's number.
const classSrc = `-- units/c%[1]s.lua: class units.c%[1]s of the benchmark project.
local Base = require("units.base")
local C = setmetatable({}, {__index = Base})
C.__index = C

local SPEED = %[1]s

function C:init(x, y)
  Base.init(self, x, y)
  self.kind = "c%[1]s"
  self.speed = SPEED
  self.cooldown = 0
end

function C:update(dt)
  Base.update(self, dt)
  self.cooldown = math.max(0, self.cooldown - dt)
  if self.cooldown == 0 and self.hp > 0 then
    self:act(dt)
  end
  return self.x
end

function C:act(dt)
  self.cooldown = 1 / self.speed
  self.vx = self.vx + math.sin(self.x) * dt
  self.vy = self.vy + math.cos(self.y) * dt
end

function C:damage(n)
  self.hp = self.hp - n
  if self.hp <= 0 then self:die() end
end

function C:die()
  self.hp = 0
  self.vx, self.vy = 0, 0
end

function C:describe()
  return string.format("%%s at (%%.1f, %%.1f), hp %%d", self.kind, self.x, self.y, self.hp)
end

function C:distance(other)
  local dx, dy = other.x - self.x, other.y - self.y
  return math.sqrt(dx * dx + dy * dy)
end

function C:nearest(list)
  local best, bestd = nil, math.huge
  for _, o in ipairs(list) do
    local d = self:distance(o)
    if o ~= self and d < bestd then best, bestd = o, d end
  end
  return best, bestd
end

return C
`

// project returns the benchmark project: units/base.lua and 49 classes
// units/c01.lua ... units/c49.lua of about 60 lines each, by path; and the
// classes' module names.
func project() (files map[string]string, classes []string) {
	files = map[string]string{"units/base.lua": baseSrc}
	for i := 1; i < projectFiles; i++ {
		n := fmt.Sprintf("%02d", i)
		files["units/c"+n+".lua"] = fmt.Sprintf(classSrc, n)
		classes = append(classes, "units.c"+n)
	}
	return files, classes
}

// modulePath maps a module name of the project to its file.
func modulePath(module string) string {
	return strings.ReplaceAll(module, ".", "/") + ".lua"
}

// moduleOf maps a file of the project to its module name.
func moduleOf(path string) string {
	return strings.ReplaceAll(strings.TrimSuffix(path, ".lua"), "/", ".")
}
