--[[
  The `sum` counter (src/counters/sum.ts): the lifetime sum of amounts.
    state  {k = "s", v = value, at = time of the latest increment}
    text   <value>,<at>   (base 36, no kind letter: the most common counter)
]]
--- @include "includes/codec"
--- @include "includes/counters/tiers"

local SumCounter = {code = "s"}

function SumCounter.decode(raw)
  local comma = string.find(raw, ",", 1, true)
  if not comma then return nil end
  return {k = "s", v = tonumber(string.sub(raw, 1, comma - 1), 36), at = tonumber(string.sub(raw, comma + 1), 36)}
end

function SumCounter.encode(st)
  return enc36(st.v) .. "," .. enc36(st.at)
end

function SumCounter.create(at)
  return {k = "s", v = 0, at = at}
end

-- Adds one increment and awards the checks it passes; `award(check, earnedAt, retroactive)`.
function SumCounter.add(st, amount, at, day, keepDays, checks, awards, award)
  local before, prevAt = st.v, st.at
  st.v = before + amount
  if at > st.at then st.at = at end
  awardCrossedTiers(checks, before, st.v, prevAt, at, awards, award)
end

function SumCounter.measure(st, check, endDay)
  return st.v
end

-- Catch-up: the measure the stored state proves, and the time to stamp a retroactive award with.
function SumCounter.proven(st, check)
  return st.v, st.at
end
