-- Penlight's stringx and lume-style utilities: copy or count a library with pairs.
local stringx = {}
for name, fn in pairs(string) do stringx[name] = fn end
function stringx.startswith(s, prefix) return s:sub(1, #prefix) == prefix end
assert(stringx.upper("a") == "A" and stringx.format("%03d", 7) == "007" and stringx.startswith("hotlua", "hot"))
local count = 0
for _ in pairs(table) do count = count + 1 end
assert(count >= 6 and next(math) ~= nil and package.loaded.string == string)
return stringx
