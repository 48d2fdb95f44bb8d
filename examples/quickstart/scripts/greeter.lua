-- greeter: the class the quickstart example reloads. Change the greeting
-- while it runs and save: the next greeting says the new words, and the
-- count goes on, because the object keeps its fields.
local Greeter = hot.class("greeter")

function Greeter:init(name)
  self.name = name
  self.count = 0
end

function Greeter:greet()
  self.count = self.count + 1
  return string.format("Hello, %s! (greeting %d)", self.name, self.count)
end

return Greeter
