-- Libraries keep debug.traceback as their error handler.
local ok, msg = xpcall(function() error("boom") end, debug.traceback)
assert(not ok and msg:find("boom", 1, true))
assert(debug.traceback("here"):find("^here\nstack traceback:"))
local info = debug.getinfo(1, "S")
assert(info.short_src == "traceback.lua" and info.source == "@traceback.lua")
return true
