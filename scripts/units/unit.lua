-- units.unit: the base class of every unit in the arena, written the
-- idiomatic Lua way. Derived classes live in their own files.
--
-- Each unit is carried by a Go value (self.host, an *arena.Entity): Go owns
-- the position, Lua decides how it changes. Edit this file while the arena
-- runs: every unit, of every derived class, picks up the change.
local Unit = {}
Unit.__index = Unit

Unit.speed = 10   -- arena units per second
Unit.max_hp = 100

function Unit:init(team)
  self.team = team
  self.hp = self.max_hp
  self.kills = 0
end

-- move steps toward (tx, ty) at the unit's speed.
function Unit:move(tx, ty, dt)
  local host = self.host
  local dx, dy = tx - host.X, ty - host.Y
  local d = math.sqrt(dx * dx + dy * dy)
  if d < 0.001 then return 0 end
  local step = math.min(d, self.speed * dt)
  host.X = host.X + dx / d * step
  host.Y = host.Y + dy / d * step
  return d - step
end

-- update runs once per tick; derived classes override act.
function Unit:update(dt, target)
  if self.hp <= 0 then return "dead" end
  return self:act(dt, target)
end

function Unit:act(dt, target)
  self:move(target.host.X, target.host.Y, dt)
  return "walk"
end

function Unit:hit(n)
  self.hp = math.max(0, self.hp - n)
  return self.hp
end

function Unit:describe()
  return string.format("%s #%d hp=%d", hot.version(self), self.host.ID, self.hp)
end

return Unit
