-- Français : défense, état (a comment in Latin-1, as editors of the 2000s saved it)
local word = "café"
assert(#word == 4 and word:byte(4) == 0xe9)
return word
