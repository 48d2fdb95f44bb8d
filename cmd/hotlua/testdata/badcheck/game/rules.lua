local Rules = hot.class("game.rules")
Rules.speed = 0

hot.check(function()
  if Rules.speed <= 0 then return false, "game.rules: speed must be positive" end
  return true
end)

return Rules
