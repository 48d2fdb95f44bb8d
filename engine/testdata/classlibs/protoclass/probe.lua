-- The probe of the protoclass root: see ../common/README.md.
local check = require("check")
local Dog, Animal = require("animals.dog"), require("animals.animal")
local Object = require("lib.protoclass")

function make(name) return Dog:new({name = name}) end

probe = check.prober(Dog, function(D) return D end, function(o)
  return {
    {"is_a(Dog)", o:is_a(Dog)},
    {"is_a(Animal)", o:is_a(Animal)},
    {"is_a(Object)", o:is_a(Object)},
    {"getmetatable(o)", getmetatable(o) == Dog},
    {"getmetatable(Dog)", getmetatable(Dog) == Animal},
    {"Dog.__index", Dog.__index == Dog},
  }
end)
