-- Stands for Yonaba/30log. The protocol: the library keeps registries of
-- every class and every object in module locals and its methods refuse
-- tables it did not register; class(name) makes a class; Class:extend(name)
-- copies the class (inheritance by copying) and sets it as the subclass's
-- metatable; Class(...) and Class:new(...) make an object that keeps its
-- class in self.class, gets copies of the class's table fields, and runs
-- init(...); with(mixin) copies a mixin's functions in.
local classes, objects = {}, {}

local function copy(from, into)
  into = into or {}
  for k, v in pairs(from) do
    if type(v) == "table" and k ~= "__index" and not classes[v] and not objects[v] then v = copy(v) end
    into[k] = v
  end
  return into
end

local shared = {}
function shared.__call(cls, ...) return cls:new(...) end
function shared.__tostring(t)
  if objects[t] then return "instance of " .. tostring(rawget(t.class, "name")) end
  if classes[t] then return "class " .. tostring(rawget(t, "name")) end
  return "?"
end

local api = {}
function api.isClass(t) return classes[t] == true end
function api.isInstance(t) return objects[t] == true end

local methods = {}
function methods.new(cls, ...)
  assert(classes[cls], "new: expected a class")
  local o = {class = cls}
  objects[o] = true
  for k, v in pairs(cls) do
    if type(v) == "table" and k ~= "__index" and k ~= "class" and k ~= "super" and not classes[v] then o[k] = copy(v) end
  end
  setmetatable(o, cls)
  if cls.init then cls.init(o, ...) end
  return o
end
function methods.extend(cls, name)
  assert(classes[cls], "extend: expected a class")
  local sub = copy(cls)
  classes[sub] = true
  sub.name, sub.__index, sub.super = name, sub, cls
  return setmetatable(sub, cls)
end
function methods.subclassOf(cls, other)
  assert(classes[cls] and classes[other], "subclassOf: expected classes")
  local s = cls.super
  while s do
    if s == other then return true end
    s = s.super
  end
  return false
end
function methods.instanceOf(o, cls)
  assert(objects[o], "instanceOf: expected an instance")
  assert(classes[cls], "instanceOf: expected a class")
  return o.class == cls or o.class:subclassOf(cls)
end
function methods.subclasses(cls)
  local out = {}
  for c in pairs(classes) do
    if c ~= cls and c:subclassOf(cls) then out[#out + 1] = c end
  end
  return out
end
function methods.with(cls, ...)
  for _, mixin in ipairs({...}) do
    for k, v in pairs(mixin) do
      if type(v) == "function" then cls[k] = v end
    end
  end
  return cls
end

local function define(name)
  local c = copy(methods)
  classes[c] = true
  c.name, c.__index, c.__call, c.__tostring = name, c, shared.__call, shared.__tostring
  return setmetatable(c, shared)
end

return setmetatable(api, {__call = function(_, name) return define(name) end})
