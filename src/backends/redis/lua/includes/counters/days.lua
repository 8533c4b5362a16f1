--[[
  The `days` counter (src/counters/days.ts): distinct UTC days with an increment.
    state  {k = "d", v = distinct days, ld = latest day, at = time of the latest increment, m = mask}
    text   D<value>,<at>,<mask>   (lastDay = day(at); mask bit i = day lastDay - i seen)
  The mask covers the 53 days ending on lastDay (exact in a Lua double); an increment older than
  that is taken as already seen (bounded memory; docs/semantics.md).
]]
--- @include "includes/codec"
--- @include "includes/counters/tiers"

local DAY_MASK_BITS = 53
local DaysCounter = {code = "d"}

function DaysCounter.decode(raw)
  local v, at, m = string.match(raw, "^D([^,]+),([^,]+),([^,]+)$")
  if not v then return nil end
  at = dec36(at)
  return {k = "d", v = dec36(v), ld = dayOf(at), at = at, m = dec36(m)}
end

function DaysCounter.encode(st)
  return "D" .. enc36(st.v) .. "," .. enc36(st.at) .. "," .. enc36(st.m)
end

function DaysCounter.create(at, day)
  return {k = "d", v = 0, ld = day, at = at, m = 0}
end

function DaysCounter.add(st, amount, at, day, keepDays, checks, awards, award)
  local before, prevAt = st.v, st.at
  if day > st.ld then
    local shift = day - st.ld
    if shift < DAY_MASK_BITS then st.m = (st.m * 2 ^ shift) % 2 ^ DAY_MASK_BITS + 1 else st.m = 1 end
    st.v, st.ld = before + 1, day
  else
    local back = st.ld - day
    if back < DAY_MASK_BITS and math.floor(st.m / 2 ^ back) % 2 == 0 then
      st.m = st.m + 2 ^ back
      st.v = before + 1
    end
  end
  if at > st.at then st.at = at end
  awardCrossedTiers(checks, before, st.v, prevAt, at, awards, award)
end

function DaysCounter.measure(st, check, endDay)
  return st.v
end

function DaysCounter.proven(st, check)
  return st.v, st.at
end
