-- handlers.session: one client connection of the example server. The server
-- calls on_line(text) for each line the client sends and writes back what it
-- returns (nothing when it returns nil).
--
-- Edit this file while clients are connected: their next line runs the new
-- code, on the same connection, and the session keeps its fields.
local Session = hot.class("handlers.session")

function Session:init(peer)
  self.peer = peer
  self.nick = "guest"
  self.lines = 0
end

function Session:on_line(text)
  self.lines = self.lines + 1
  local nick = text:match("^/nick%s+(%S+)$")
  if nick then
    self.nick = nick
    return "you are now " .. nick
  end
  return "echo: " .. text
end

return Session
