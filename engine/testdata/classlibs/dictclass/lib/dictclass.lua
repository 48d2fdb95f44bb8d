-- Stands for kikito/middleclass. The protocol: a class is a table whose
-- objects do not use it as their metatable but a hidden instance
-- dictionary, Class.__instanceDict (its own __index); methods set on the
-- class go to the dictionary through __newindex and are copied down into
-- the dictionaries of its subclasses; every object keeps its class in
-- self.class; Class(...) and Class:new(...) make an object and call its
-- initialize(...); isInstanceOf and isSubclassOf compare class tables.
local lib = {}

local function copyDown(cls, key, value)
  cls.__instanceDict[key] = value
  for sub in pairs(cls.subclasses) do
    if rawget(sub.__declared, key) == nil then copyDown(sub, key, value) end
  end
end

local function declare(cls, key, value)
  cls.__declared[key] = value
  if value == nil and cls.super then value = cls.super.__instanceDict[key] end
  copyDown(cls, key, value)
end

local function newClass(name, super)
  local dict = {}
  dict.__index = dict
  local cls = {name = name, super = super, static = {}, __instanceDict = dict, __declared = {}, subclasses = {}}
  setmetatable(cls.static, {__index = function(_, k)
    local v = rawget(dict, k)
    if v == nil and super then return super.static[k] end
    return v
  end})
  setmetatable(cls, {
    __index = cls.static,
    __newindex = declare,
    __tostring = function() return "class " .. name end,
    __call = function(c, ...) return c:new(...) end,
  })
  if super then
    for k, v in pairs(super.__instanceDict) do
      if k ~= "__index" then copyDown(cls, k, v) end
    end
    super.subclasses[cls] = true
  end
  return cls
end

local Root = newClass("Object")
function Root.static:allocate() return setmetatable({class = self}, self.__instanceDict) end
function Root.static:new(...)
  local o = self:allocate()
  o:initialize(...)
  return o
end
function Root.static:subclass(name) return newClass(name, self) end
function Root.static:isSubclassOf(other)
  return self.super ~= nil and (self.super == other or self.super:isSubclassOf(other))
end
function Root.static:include(mixin)
  for k, v in pairs(mixin) do self[k] = v end
  return self
end
function Root:initialize() end
function Root:isInstanceOf(c) return self.class == c or self.class:isSubclassOf(c) end
function Root:__tostring() return "instance of " .. tostring(self.class) end

function lib.class(name, super) return (super or Root):subclass(name) end
return setmetatable(lib, {__call = function(_, ...) return lib.class(...) end})
