-- units.healer: follows its target and heals it (a healer's target is a
-- friend). Try changing heal and saving while the arena runs.
local Unit = require("units.unit")
local Healer = hot.class("units.healer", Unit)

Healer.heal = 2

function Healer:act(dt, target)
  self:move(target.host.X, target.host.Y, dt)
  target.hp = math.min(target.max_hp, target.hp + self.heal * dt * 10)
  return "heal"
end

return Healer
