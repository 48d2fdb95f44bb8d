-- The probe of the registryclass root: see ../common/README.md.
local check = require("check")
local class = require("lib.registryclass")
local Dog, Animal = require("animals.dog"), require("animals.animal")

function make(name) return Dog(name) end

probe = check.prober(Dog, function(D) return D end, function(o)
  return {
    {"instanceOf(Dog)", o:instanceOf(Dog)},
    {"instanceOf(Animal)", o:instanceOf(Animal)},
    {"subclassOf", Dog:subclassOf(Animal)},
    {"isInstance", class.isInstance(o)},
    {"isClass", class.isClass(Dog)},
    {"class", o.class == Dog},
    {"tostring", tostring(o) == "instance of Dog"},
  }
end)
