local Player = hot.class("Player")
function Player:init(name) self.name = name; self.hp = 10 end
function Player:greet() return "hello " .. self.name .. " from generation " .. hot.generation() end
return Player
