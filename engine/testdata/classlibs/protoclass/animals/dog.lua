local Animal = require("animals.animal")
local Loud = require("mixins.loud")
local Dog = Animal:new()
for k, v in pairs(Loud) do Dog[k] = v end
function Dog:speak() return self.name .. ": woof v1" end
function Dog:fetch() return "fetch" end
return Dog
