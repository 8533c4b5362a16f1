--[[
  Tier comparison for counters whose measure only grows (sum, days): checks are sorted by target,
  so the first one out of reach ends it. A check met before this increment is a milestone added or
  re-activated later: awarded retroactive, stamped with the counter's previous time.
]]

local function awardCrossedTiers(checks, before, after, prevAt, at, awards, award)
  for ci = 1, #checks do
    local check = checks[ci]
    if after < check[2] then break end
    if not awards[check[1]] then
      if before >= check[2] then award(check, prevAt, true) else award(check, at, false) end
    end
  end
end
