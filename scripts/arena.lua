-- arena: rules of the match, kept across reloads with hot.persist.
local stats = hot.persist("arena.stats", function() return {respawns = 0} end)

-- respawn is called by the host for a dead unit: it comes back at full health.
function respawn(unit)
  stats.respawns = stats.respawns + 1
  unit.hp = unit.max_hp
  return stats.respawns
end

hot.on("reload", function(previous)
  hot.log("info", "arena scripts reloaded", "from", previous, "to", hot.generation())
end)

-- A check a new version must pass before it replaces the running one.
hot.check(function()
  local Goblin = require("units.goblin")
  if Goblin.speed <= 0 then return false, "units.goblin: speed must be positive" end
  return true
end)

return stats
