-- Stands for lunarmodules/Penlight's pl.class. The protocol: class(base)
-- makes a class that is a shallow copy of its base with _base set; it is
-- its own __index and its own metatable's __call, a closure over the class
-- table, makes an object and runs the nearest _init up the _base chain;
-- is_a(klass) walks getmetatable(obj) and then _base; class_of is its
-- mirror; every class keeps itself in _class.
local function is_a(self, klass)
  local m = getmetatable(self)
  if klass == nil then return m end
  while m do
    if m == klass then return true end
    m = rawget(m, "_base")
  end
  return false
end

local function class_of(klass, obj) return type(klass) == "table" and is_a(obj, klass) end

local function make(base)
  local c, mt = {}, {}
  if base then
    for k, v in pairs(base) do c[k] = v end
    c._base = base
  end
  c.__index = c
  c._init = nil
  setmetatable(c, mt)
  mt.__call = function(_, ...)
    local obj = setmetatable({}, c)
    local init, b = rawget(c, "_init"), base
    while not init and b do
      init, b = rawget(b, "_init"), rawget(b, "_base")
    end
    if init then init(obj, ...) end
    return obj
  end
  c.is_a, c.class_of, c._class = is_a, class_of, c
  return c
end

return setmetatable({}, {__call = function(_, base) return make(base) end})
