-- LOVE games write requires with slashes.
local util = require "game/util"
local same = require("game.util")
assert(util == same and util.double(2) == 4)
return util
