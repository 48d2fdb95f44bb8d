-- Stands for kikito/middleclass. The protocol: a class is a table whose
-- objects do not use it as their metatable but a hidden instance
-- dictionary, Class.__instanceDict (its own __index); methods set on the
-- class go to the dictionary through __newindex and are copied down into
-- the dictionaries of its subclasses; every object keeps its class in
-- self.class; Class(...) and Class:new(...) make an object and call its
-- initialize(...); isInstanceOf and isSubclassOf compare class tables; a
-- class may declare __index, a function or table its objects fall back on
-- for what the dictionary lacks. As middleclass 4, it keeps no module
-- state: every class(name) is a root.
local lib = {}

-- indexThrough returns what a class declaring __index (a function or a
-- table to fall back on) puts in its dictionary: a function that looks in
-- the dictionary first, then in the fallback; with none declared, the
-- dictionary itself.
local function indexThrough(cls, fallback)
  if fallback == nil then return cls.__instanceDict end
  return function(self, k)
    local v = cls.__instanceDict[k]
    if v ~= nil then return v end
    if type(fallback) == "function" then return (fallback(self, k)) end
    return fallback[k]
  end
end

local function copyDown(cls, key, value)
  if key == "__index" then value = indexThrough(cls, value) end
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

-- Every class made without a base is a root of its own, given the default
-- methods: no class is shared by all, and the library keeps no state.
local defaults = {static = {}, instance = {}}
function defaults.static:allocate() return setmetatable({class = self}, self.__instanceDict) end
function defaults.static:new(...)
  local o = self:allocate()
  o:initialize(...)
  return o
end
function defaults.static:subclass(name) return newClass(name, self) end
function defaults.static:isSubclassOf(other)
  return self.super ~= nil and (self.super == other or self.super:isSubclassOf(other))
end
function defaults.static:include(mixin)
  for k, v in pairs(mixin) do self[k] = v end
  return self
end
function defaults.instance:initialize() end
function defaults.instance:isInstanceOf(c) return self.class == c or self.class:isSubclassOf(c) end
function defaults.instance:__tostring() return "instance of " .. tostring(self.class) end

local function newRoot(name)
  local cls = newClass(name)
  for k, f in pairs(defaults.static) do cls.static[k] = f end
  for k, f in pairs(defaults.instance) do cls[k] = f end
  return cls
end

function lib.class(name, super)
  if super then return super:subclass(name) end
  return newRoot(name)
end
return setmetatable(lib, {__call = function(_, ...) return lib.class(...) end})
