-- A help text built from colour constants: 44 values in one expression.
local RED, GREEN, BOLD, RESET = "\27[31m", "\27[32m", "\27[1m", "\27[0m"
local help = BOLD .. "usage" .. RESET .. ": game " .. GREEN .. "[options]" .. RESET .. "\n"
  .. RED .. "-a" .. RESET .. " option 0" .. "\n"
  .. RED .. "-b" .. RESET .. " option 1" .. "\n"
  .. RED .. "-c" .. RESET .. " option 2" .. "\n"
  .. RED .. "-d" .. RESET .. " option 3" .. "\n"
  .. RED .. "-e" .. RESET .. " option 4" .. "\n"
  .. RED .. "-f" .. RESET .. " option 5" .. "\n"
  .. RED .. "-g" .. RESET .. " option 6" .. "\n"
  .. RED .. "-h" .. RESET .. " option 7" .. "\n"
  .. RED .. "-i" .. RESET .. " option 8" .. "\n"
  .. BOLD .. "end" .. RESET
assert(help:find("option 8", 1, true))
return help
