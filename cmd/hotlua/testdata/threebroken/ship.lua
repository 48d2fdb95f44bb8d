local Ship = hot.class("Ship")
function Ship:init() self.speed = 1 end
return Ship
