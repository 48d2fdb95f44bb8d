local Broken = {}
Broken.__index = Broken

function Broken:oops()
  return 1 +
end

return Broken
