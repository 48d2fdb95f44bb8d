local name = ...
assert(name == "game.util", "a module's chunk gets its name as ...")
local M = {}
function M.double(x) return 2 * x end
return M
