-- The probe of the copyclass root: see ../common/README.md.
local check = require("check")
local Dog, Animal = require("animals.dog"), require("animals.animal")

function make(name) return Dog(name) end

probe = check.prober(Dog, function(D) return D end, function(o)
  return {
    {"getmetatable", getmetatable(o) == Dog},
    {"includes", Dog.__includes[1] == Animal},
    {"own method", rawget(Dog, "describe") ~= nil},
  }
end)
