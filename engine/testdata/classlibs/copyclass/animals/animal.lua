local Class = require("lib.copyclass")
local Animal = Class{}
function Animal:init(name) self.name = name end
function Animal:describe() return "animal v1" end
-- migrate here
return Animal
