-- The probe of the ctorclass root: see ../common/README.md.
local check = require("check")
local Dog, Animal = require("animals.dog"), require("animals.animal")

function make(name) return Dog(name) end

probe = check.prober(Dog, function(D) return D end, function(o)
  return {
    {"is_a(Dog)", o:is_a(Dog)},
    {"is_a(Animal)", o:is_a(Animal)},
    {"is_a()", o:is_a() == Dog},
    {"class_of", Dog:class_of(o)},
    {"_class", o._class == Dog},
    {"_base", Dog._base == Animal},
  }
end)
