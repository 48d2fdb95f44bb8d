-- Stands for rxi/classic. The protocol: the module returns the root class;
-- Base:extend() makes a subclass table that copies the base's "__" fields,
-- is its own __index and gets the base as its metatable
-- (setmetatable(Sub, Base)): the subclass is no object of the base; the
-- base's __call makes objects and calls their new(...); is(T) walks the
-- metatable chain; implement(...) copies a mixin's functions in.
local Root = {}
Root.__index = Root

function Root:new() end

function Root:extend()
  local sub = {}
  for k, v in pairs(self) do
    if type(k) == "string" and k:sub(1, 2) == "__" then sub[k] = v end
  end
  sub.__index = sub
  sub.super = self
  return setmetatable(sub, self)
end

function Root:implement(...)
  for _, mixin in ipairs({...}) do
    for k, v in pairs(mixin) do
      if self[k] == nil and type(v) == "function" then self[k] = v end
    end
  end
end

function Root:is(T)
  local mt = getmetatable(self)
  while mt ~= nil do
    if mt == T then return true end
    mt = getmetatable(mt)
  end
  return false
end

function Root:__tostring() return "Object" end

function Root:__call(...)
  local o = setmetatable({}, self)
  o:new(...)
  return o
end

return Root
