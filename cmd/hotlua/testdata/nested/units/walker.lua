-- units.walker, in a script root (testdata/nested) that holds only folders.
local Walker = hot.class("units.walker")

function Walker:init(speed)
  self.speed = speed
end

return Walker
