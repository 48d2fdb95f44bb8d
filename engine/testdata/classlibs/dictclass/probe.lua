-- The probe of the dictclass root: see ../common/README.md.
local check = require("check")
local Dog, Animal = require("animals.dog"), require("animals.animal")

function make(name) return Dog:new(name) end

probe = check.prober(Dog, function(D) return D.__instanceDict end, function(o)
  return {
    {"isInstanceOf(Dog)", o:isInstanceOf(Dog)},
    {"isInstanceOf(Animal)", o:isInstanceOf(Animal)},
    {"isSubclassOf", Dog:isSubclassOf(Animal)},
    {"class", o.class == Dog},
    {"tostring", tostring(o) == "instance of class Dog"},
  }
end)
