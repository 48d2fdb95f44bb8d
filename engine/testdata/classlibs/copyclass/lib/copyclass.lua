-- Stands for vrld/hump's class. The protocol: Class{...} turns the given
-- table into a class; inheritance and mixins are deep copies of everything
-- listed in its __includes (fields it defines itself win), so a base's
-- methods live in the subclass's own table; the class is its own __index
-- and its metatable's __call makes an object and calls init(...).
local function deepCopy(v, seen)
  if type(v) ~= "table" then return v end
  if seen[v] then return seen[v] end
  local out = {}
  seen[v] = out
  for k, x in pairs(v) do out[deepCopy(k, seen)] = deepCopy(x, seen) end
  return out
end

local function include(cls, other)
  local seen = {[other] = cls}
  for k, v in pairs(other) do
    if cls[k] == nil then cls[k] = deepCopy(v, seen) end
  end
  return cls
end

local function new(spec)
  local includes = spec.__includes or {}
  if getmetatable(includes) then includes = {includes} end
  for _, other in ipairs(includes) do include(spec, other) end
  spec.__index = spec
  spec.init = spec.init or function() end
  return setmetatable(spec, {__call = function(c, ...)
    local o = setmetatable({}, c)
    o:init(...)
    return o
  end})
end

return setmetatable({new = new, include = include}, {__call = function(_, spec) return new(spec) end})
