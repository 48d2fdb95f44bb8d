local Walker = require "units.walker"
local speed = Walker.speed.max
