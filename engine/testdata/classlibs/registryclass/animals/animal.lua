local class = require("lib.registryclass")
local Animal = class("Animal")
function Animal:init(name) self.name = name end
function Animal:describe() return "animal v1" end
-- migrate here
return Animal
