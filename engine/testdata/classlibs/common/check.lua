-- Helpers for the probes. check.run(list) returns "ok" when every entry
-- {name, passed} of list passed, else the names of those that did not, so
-- that a Go test shows which of a library's identity checks failed.
-- check.prober(Dog, metatable, identity) returns probe(o, what): what is
-- "keyed" (a persisted table keyed by the class when first made still
-- finds it; getmetatable(o) is metatable(Dog)) or "identity" (the
-- library's own checks, identity(o)).
local check = {}

function check.run(list)
  local failed = {}
  for _, c in ipairs(list) do
    if not c[2] then failed[#failed + 1] = c[1] end
  end
  if #failed == 0 then return "ok" end
  return "failed: " .. table.concat(failed, ", ")
end

function check.prober(Dog, metatable, identity)
  local byClass = hot.persist("byClass", function() return {} end)
  if next(byClass) == nil then byClass[Dog] = "dogs" end
  return function(o, what)
    if what == "keyed" then
      return check.run({{"byClass[Dog]", byClass[Dog] == "dogs"}, {"getmetatable", getmetatable(o) == metatable(Dog)}})
    end
    return check.run(identity(o))
  end
end

return check
