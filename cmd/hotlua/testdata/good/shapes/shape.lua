-- shapes.shape: the base class of every shape.
local Shape = {}
Shape.__index = Shape

function Shape:init(name)
  self.name = name
end

function Shape:area()
  return 0
end

return Shape
