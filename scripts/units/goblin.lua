-- units.goblin: fast and weak; chases its target and bites.
-- Made with the hot.class helper: Goblin.new(...) calls init.
local Unit = require("units.unit")
local Goblin = hot.class("units.goblin", Unit)

Goblin.speed = 18
Goblin.max_hp = 60
Goblin.bite = 4

function Goblin:act(dt, target)
  local left = self:move(target.host.X, target.host.Y, dt)
  if left < 1 then
    target:hit(self.bite * dt * 10)
    return "bite"
  end
  return "chase"
end

return Goblin
