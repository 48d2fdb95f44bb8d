local Object = require("lib.extendclass")
local Animal = Object:extend()
function Animal:new(name) self.name = name end
function Animal:describe() return "animal v1" end
-- migrate here
return Animal
