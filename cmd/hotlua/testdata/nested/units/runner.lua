-- units.runner requires its neighbour by its name from the root.
local Walker = require("units.walker")
local Runner = hot.class("units.runner", Walker)

function Runner:init()
  Walker.init(self, 5)
end

return Runner
