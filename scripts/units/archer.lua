-- units.archer: keeps its distance and shoots.
local Unit = require("units.unit")
local Archer = hot.class("units.archer", Unit)

Archer.speed = 8
Archer.range = 25
Archer.damage = 3

function Archer:act(dt, target)
  local dx, dy = target.host.X - self.host.X, target.host.Y - self.host.Y
  if dx * dx + dy * dy > self.range * self.range then
    self:move(target.host.X, target.host.Y, dt)
    return "approach"
  end
  target:hit(self.damage * dt * 10)
  return "shoot"
end

return Archer
