-- What Penlight's compat module reads while loading.
local dirsep = package.config:sub(1, 1)
local is_windows = dirsep == "\\"
assert(not is_windows and type(package.path) == "string" and type(package.cpath) == "string")
assert(package.loaded.string == string)
return { dirsep = dirsep }
