-- Prints what string.find, match, gmatch and gsub return for a fixed list
-- of patterns and for generated ones. TestPatternsMatchLua51 runs it in the
-- sandbox and compares its output with patterns.golden, which is what
-- Lua 5.1.5 printed: lua5.1 testdata/patterns.lua > testdata/patterns.golden

-- visible returns v as a string with its control bytes as \ddd: Lua
-- 5.1's print stops at a "\0".
local function visible(v)
  local s, out = tostring(v), {}
  for i = 1, #s do
    local b = s:byte(i)
    out[i] = (b < 32 or b == 127) and "\\" .. b or s:sub(i, i)
  end
  return table.concat(out)
end

local function show(...)
  local n = select("#", ...)
  local out = {}
  for i = 1, n do out[i] = visible((select(i, ...))) end
  return n .. ":" .. table.concat(out, ",")
end

local function message(e)
  e = tostring(e):gsub("^[^\n]-:%d+: ", ""):gsub("^string%.%a+: ", "")
  return (e:match("^[^\n]*"))
end

local function try(f, ...)
  local r = {pcall(f, ...)}
  if not r[1] then return "error: " .. message(r[2]) end
  return show(unpack(r, 2, table.maxn(r)))
end

local function each(s, p)
  local out, n = {}, 0
  for a, b in string.gmatch(s, p) do
    n = n + 1
    out[n] = visible(a) .. (b ~= nil and "|" .. visible(b) or "")
    if n == 20 then break end
  end
  return n .. ":" .. table.concat(out, ",")
end

local function case(s, p)
  print(string.format("%q %q", s, p))
  print("  find   " .. try(string.find, s, p))
  print("  find3  " .. try(string.find, s, p, 3))
  print("  find-2 " .. try(string.find, s, p, -2))
  print("  match  " .. try(string.match, s, p))
  print("  gmatch " .. try(each, s, p))
  print("  gsub   " .. try(string.gsub, s, p, "<%0>"))
  print("  gsub1  " .. try(string.gsub, s, p, "[%1]", 2))
  print("  gsubf  " .. try(string.gsub, s, p, function(a) if a == "" then return nil end return "{" .. tostring(a) .. "}" end))
  print("  gsubt  " .. try(string.gsub, s, p, {a = "A", ["1"] = false, b = 7}))
end

local fixed = {
  {"hello world", "o"}, {"hello world", "l+"}, {"hello world", "^h"}, {"hello world", "d$"},
  {"hello world", "(o)(r)"}, {"hello world", "()ll()"}, {"hello world", "%w+"}, {"hello world", "%s"},
  {"  trim me  ", "^%s*(.-)%s*$"}, {"key = value", "(%w+)%s*=%s*(%w+)"}, {"a,b,,c", "([^,]*)"},
  {"f(a(b)c)d", "%b()"}, {"THE (quick) fox", "%f[%a]%a+"}, {"THE (quick) fox", "%f[%A]"},
  {"abcabc", "(a)(b)(c)%1%2%3"}, {"aaa", "a-"}, {"aaa", "a-$"}, {"aaa", "a*"}, {"aaa", "a?"},
  {"", ""}, {"", "a*"}, {"abc", ""}, {"abc", "^"}, {"abc", "$"}, {"a$b", "a$b"}, {"a^b", "a^b"},
  {"x]y", "[]]"}, {"x]y", "[^]]"}, {"a-z", "[a-]"}, {"a-z", "[%a-]+"}, {"a.b", "%."},
  {"a%b", "%%"}, {"\0a\0", "%z"}, {"\0a\0", "[%z]"}, {"0x1F", "%x+"}, {"Hello", "%u%l+"},
  {"tab\there", "%c"}, {"p.u,n;c!", "%p+"}, {"abc", "%a%"}, {"abc", "[a"}, {"abc", "[a%"},
  {"abc", "%b"}, {"abc", "%ba"}, {"abc", "%f"}, {"abc", "%fa"}, {"abc", "(a"}, {"abc", "a)"},
  {"abc", "%1"}, {"abc", "(a%1)"}, {"abc", "()%1"}, {"abc", "(()b)"}, {"aXb", "%f[%u]."},
  {"THE END", "%f[%z]"}, {"one two  three", "%S+"}, {"12ab34", "%d+()"}, {"[[x]]", "%[(%[?)"},
  {"abc", ".-b"}, {"abc", ".-"}, {"abcd", "(.)(.-)"}, {"aaab", "a+b"}, {"aaab", "^a-b$"},
  {"a+b", "a+b"}, {"a+b", "a%+b"}, {"a.b.c", "[.]"}, {"x=1, y=2", "(%w+)=(%w+)"},
}
for _, c in ipairs(fixed) do case(c[1], c[2]) end

local x = 12345
local function rand(n)
  x = (x * 16807) % 2147483647
  return x % n + 1
end
local ptoks = {"a", "b", ".", "%a", "%d", "[ab]", "[^a]", "%s", "(", ")", "*", "+", "-", "?", "^", "$",
  "%b()", "%f[%a]", "%1", "[a-c]", "%%", "()", "%w", "[%d%s]"}
local stoks = {"a", "b", "c", " ", "(", ")", "1", "%", "ab", "aa"}
for _ = 1, 400 do
  local p, s = {}, {}
  for i = 1, rand(6) do p[i] = ptoks[rand(#ptoks)] end
  for i = 1, rand(9) - 1 do s[i] = stoks[rand(#stoks)] end
  case(table.concat(s), table.concat(p))
end
