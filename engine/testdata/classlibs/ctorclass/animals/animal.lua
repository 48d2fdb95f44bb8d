local class = require("lib.ctorclass")
local Animal = class()
function Animal:_init(name) self.name = name end
function Animal:describe() return "animal v1" end
-- migrate here
return Animal
