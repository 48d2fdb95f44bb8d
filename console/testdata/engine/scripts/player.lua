local Player = hot.class("Player")
function Player:init(name) self.name = name; self.hp = 10 end
function Player:greet() return "hello " .. self.name .. " from generation " .. hot.generation() end
function Player:hurt(n)
	self.hp = self.hp - self:checked(n)
	return self.hp
end
function Player:checked(n)
	if n < 0 then error("negative damage") end
	return n
end
return Player
