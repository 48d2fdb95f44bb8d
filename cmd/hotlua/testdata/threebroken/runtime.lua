-- fails at its top level
local cfg = nil
return cfg.speed
