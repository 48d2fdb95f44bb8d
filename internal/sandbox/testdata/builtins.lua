-- Prints what the builtins the sandbox rewrote for Lua 5.1's results return
-- (tonumber, math.huge and modf, string.upper, lower, char and format,
-- table.insert, remove, foreach and foreachi, unpack, os.date). TestBuiltinsMatchLua51
-- compares the sandbox's output with builtins.golden, which Lua 5.1.5
-- printed: lua5.1 testdata/builtins.lua > testdata/builtins.golden
-- Numbers print through %.14g, as Lua 5.1's tostring does (gopher-lua's
-- tostring gives Go's shortest form, a difference the sandbox keeps).

local function show(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) == "number" then v = string.format("%.14g", v) end
    if type(v) == "string" then v = v:gsub("[%c\128-\255]", function(c) return "\\" .. c:byte() end) end
    out[i] = tostring(v)
  end
  return select("#", ...) .. ":" .. table.concat(out, ",")
end

-- message is an error's text without its position and without the name of
-- the function in "bad argument #n to 'name'", which Lua 5.1 gives as '?'.
local function message(e)
  e = tostring(e):gsub("^[^\n]-:%d+: ", ""):gsub("^(bad argument #%d+ to )%S+", "%1f")
  return (e:match("^[^\n]*"))
end

local function try(label, f, ...)
  local r = {pcall(f, ...)}
  if r[1] then print(label, show(unpack(r, 2, table.maxn(r)))) else print(label, "error: " .. message(r[2])) end
end

for _, s in ipairs({"1e3", "2e-3", "-1e-7", "1.5E3", " 0x1F ", "-0x10", "0X10", "12345678901234567890", "1e",
    "", " ", "1 2", "--1", "+-1", "+1", ".5", "5.", ".", "e5", "1e+", "1e-2", "\t42\n", "0x", "0xg", "1e400", "08"}) do
  try("tonumber " .. string.format("%q", s), tonumber, s)
end
try("tonumber 10 16", tonumber, 10, 16)
try("tonumber ff 16", tonumber, "ff", 16)
try("tonumber zz 36", tonumber, "zz", 36)
try("tonumber 8 8", tonumber, "8", 8)
try("tonumber 1e1 10", tonumber, "1e1", 10)
try("tonumber 0xff 16", tonumber, "0xff", 16)
try("tonumber +101 2", tonumber, "+101", 2)
try("tonumber 0x 16", tonumber, "0x", 16)
try("tonumber 0xff 10", tonumber, "0xff", 10)
-- (tonumber(" -ff", 16) is -255 here, as in Lua 5.2; 5.1's strtoul wraps it to 2^64 - 255.)
try("tonumber number", tonumber, 7)
try("tonumber table", tonumber, {})
try("math.huge", function() return math.huge == 1/0, -math.huge < 0, math.huge > 1e308 end)
try("math.modf", function() local a, b = math.modf(1/0) local c, d = math.modf(-3.5) return a == 1/0, b, c, d end)
try("upper", function() local s = ("\255\233a"):upper() return #s, s, ("abcXYZ"):upper(), ("ABCxyz"):lower() end)
try("char 256", string.char, 256)
try("char -1", string.char, -1)
try("char", string.char, 72, 105, 0)
try("remove", function()
  local t = {1, 2, 3}
  local a = {table.remove(t, 0)} local b = {table.remove(t, -1)} local c = {table.remove(t, 4)}
  return #a, #b, #c, #t, select("#", table.remove({})), table.remove(t), #t, table.remove(t, 1), t[1], #t
end)
try("insert", function() local u = {1, 2} table.insert(u, 1, 0) table.insert(u, "x") local s = table.concat(u, ",") table.insert(u, 7, "y") return s, u[7], u[5] end)
try("insert 4 arguments", table.insert, {}, 1, 2, 3)
try("insert 1 argument", table.insert, {})
-- (table.insert(t, 0, v) is "position out of bounds" here, as in Lua 5.2: 5.1 moves t[0..#t] up, for any position.)
try("unpack 0", unpack, {[0] = "z", "a"}, 0, 1)
try("unpack empty", unpack, {}, 3, 1)
try("unpack nils", unpack, {1, nil, 3}, 1, 3)
try("unpack sparse", function() local t = {[2^21] = "x", [3] = "y"} return unpack(t, 2^21, 2^21), unpack(t, 3, 3) end)
try("foreach", table.foreach, {a = 1}, function(k, v) return k .. v end)
try("foreach nil", table.foreach, {a = 1}, function() end)
try("foreachi", table.foreachi, {5, 6, 7}, function(i, v) if v == 6 then return i end end)
try("foreachi while growing", function() local t, seen = {1, 2, 3}, 0 table.foreachi(t, function(i) seen = i t[#t + 1] = i end) return seen, #t end)
try("format inf", string.format, "%5.1f|%g|%-6g|%E|%+f|% e|%05.1f", 1/0, -1/0, 1/0, 1/0, 1/0, 1/0, -1/0)
for _, t in ipairs({0, 1700000000, 951782400, 1704067199, 1735603200, 1230768000, 43200, 1000000000.7}) do
  try("date " .. string.format("%.14g", t), os.date, "!%a %A %b %B %c|%d %e %H %I %j %m %M %p %S|%U %w %W %x %X %y %Y %%|%D %T %R %F %h %u %C %V %G %g|%k %l %r %n%t|%q %", t)
  try("date *t " .. string.format("%.14g", t), function()
    local d = os.date("!*t", t)
    return d.year, d.month, d.day, d.hour, d.min, d.sec, d.wday, d.yday, d.isdst
  end)
end
try("date default", function() return type(os.date()), #os.date("!%c", 0) end)
try("date nil time", function() return type(os.date("!%Y", nil)), os.date("!*t", nil).year > 2000 end)
try("date *tx", os.date, "!*tx", 0)
try("date outside a C int's years", function() return os.date("!%Y", 0/0), os.date("!%Y", 1e300), os.date("!%Y", -1e300), os.date("!%m-%d %H:%M", 67768036191676000), os.date("!%Y", 67768036191676800), os.date("!%Y", -67768040609740800) end)
