-- main: a global tick(dt), which `hotlua run` calls, and a check that
-- `hotlua check` runs.
ticks = hot.persist("ticks", function() return {n = 0} end)

function tick(dt)
  ticks.n = ticks.n + 1
end

hot.check(function()
  local Square = require("shapes.square")
  return Square.new(2):area() == 4, "a square of side 2 must have area 4"
end)
