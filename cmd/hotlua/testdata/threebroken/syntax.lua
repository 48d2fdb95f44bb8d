-- a syntax error
local function f()
  return = 1
end
