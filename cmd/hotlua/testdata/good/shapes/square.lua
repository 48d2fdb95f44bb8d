-- shapes.square: a square, derived from shapes.shape.
local Shape = require("shapes.shape")
local Square = hot.class("shapes.square", Shape)

function Square:init(side)
  Shape.init(self, "square")
  self.side = side
end

function Square:area()
  return self.side * self.side
end

return Square
