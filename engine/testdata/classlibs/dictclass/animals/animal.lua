local class = require("lib.dictclass")
local Animal = class("Animal")
function Animal:initialize(name) self.name = name end
function Animal:describe() return "animal v1" end
-- migrate here
return Animal
