-- The probe of the extendclass root: see ../common/README.md.
local check = require("check")
local Dog, Animal = require("animals.dog"), require("animals.animal")

function make(name) return Dog(name) end

probe = check.prober(Dog, function(D) return D end, function(o)
  return {
    {"is(Dog)", o:is(Dog)},
    {"is(Animal)", o:is(Animal)},
    {"Dog:is(Animal)", Dog:is(Animal)},
    {"super", Dog.super == Animal},
    {"tostring", tostring(o) == "Dog"},
  }
end)
