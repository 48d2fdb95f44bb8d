local Object = require("lib.protoclass")
local Animal = Object:new()
function Animal:init(name) self.name = name end
function Animal:describe() return "animal v1" end
-- migrate here
return Animal
