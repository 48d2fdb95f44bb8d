-- Stands for no library: the hand-written classes of Programming in Lua
-- (chapter 16, "Classes" and "Inheritance"). A class is a prototype whose
-- new sets self.__index = self only when it first runs, and a subclass is
-- an object of its base (Dog = Animal:new()). The engine must see both as
-- classes before any object was made.
local Object = {}

function Object:new(o)
  o = o or {}
  setmetatable(o, self)
  self.__index = self
  return o
end

function Object:is_a(class)
  local mt = getmetatable(self)
  while mt do
    if mt == class then return true end
    mt = getmetatable(mt)
  end
  return false
end

return Object
