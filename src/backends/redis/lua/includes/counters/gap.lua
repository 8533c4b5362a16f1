--[[
  The `gap` counter (src/counters/gap.ts): time since the previous increment.
    state  {k = "g", last = latest increment time, mg = largest gap, mga = time that closed it}
    text   G<last>,<maxGap>,<maxGapAt>   (base 36)
  A new counter starts with last = at, so its first increment measures a gap of 0; a late
  increment measures a negative gap and leaves last unchanged.
]]
--- @include "includes/codec"

local GapCounter = {code = "g"}

function GapCounter.decode(raw)
  local last, mg, mga = string.match(raw, "^G([^,]+),([^,]+),([^,]+)$")
  if not last then return nil end
  return {k = "g", last = dec36(last), mg = dec36(mg), mga = dec36(mga)}
end

function GapCounter.encode(st)
  return "G" .. enc36(st.last) .. "," .. enc36(st.mg) .. "," .. enc36(st.mga)
end

function GapCounter.create(at)
  return {k = "g", last = at, mg = 0, mga = 0}
end

function GapCounter.add(st, amount, at, day, keepDays, checks, awards, award)
  local beforeMax, beforeMaxAt = st.mg, st.mga
  local gap = at - st.last
  if gap > st.mg then st.mg, st.mga = gap, at end
  if at > st.last then st.last = at end
  for ci = 1, #checks do
    local check = checks[ci]
    if not awards[check[1]] then
      if beforeMax >= check[2] then
        award(check, beforeMaxAt, true)
      elseif gap >= check[2] then
        award(check, at, false)
      else
        break
      end
    end
  end
end

function GapCounter.measure(st, check, endDay)
  return st.mg
end

function GapCounter.proven(st, check)
  return st.mg, st.mga
end
