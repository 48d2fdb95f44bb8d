-- The game idiom: add to a library table.
function string:split(sep)
  local out = {}
  for piece in self:gmatch("[^" .. sep .. "]+") do out[#out + 1] = piece end
  return out
end
function table.random(t) return t[1] end
assert(#("a,b,c"):split(",") == 3 and table.random({9}) == 9)
return true
