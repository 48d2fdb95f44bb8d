#!/usr/bin/env lua
-- Line numbers stay right after the skipped first line.
assert(debug.getinfo(1, "l").currentline == 3)
return true
