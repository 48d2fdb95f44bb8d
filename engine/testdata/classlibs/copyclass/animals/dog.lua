local Class = require("lib.copyclass")
local Animal = require("animals.animal")
local Loud = require("mixins.loud")
local Dog = Class{__includes = {Animal, Loud}}
function Dog:speak() return self.name .. ": woof v1" end
function Dog:fetch() return "fetch" end
return Dog
