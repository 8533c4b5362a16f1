--[[
  The `window` counter (src/counters/window.ts): amounts bucketed by UTC day.
    state  {k = "w", b = {day = amount}, at = time of the latest increment}
    text   W<at>[,<n0>.<n1>...]   (n_i = amount of day(at) - i, "" for none; base 36)
  A check sums the buckets of the check[3] days ending on a day; buckets older than the counter's
  largest window (keepDays) are dropped.
]]
--- @include "includes/codec"

local WindowCounter = {code = "w"}

local function windowSum(buckets, endDay, days)
  local total = 0
  for d, n in pairs(buckets) do
    if d <= endDay and d > endDay - days then total = total + n end
  end
  return total
end

function WindowCounter.decode(raw)
  local at, list = string.match(raw, "^W([^,]+),?(.*)$")
  if not at then return nil end
  at = dec36(at)
  local ref = dayOf(at)
  local buckets = {}
  local i, from = 0, 1
  while from <= #list do
    local dot = string.find(list, ".", from, true) or (#list + 1)
    if dot > from then buckets[ref - i] = dec36(string.sub(list, from, dot - 1)) end
    i, from = i + 1, dot + 1
  end
  return {k = "w", at = at, b = buckets}
end

function WindowCounter.encode(st)
  if next(st.b) == nil then return "W" .. enc36(st.at) end
  local ref = dayOf(st.at)
  local oldest = ref
  for d in pairs(st.b) do if d < oldest then oldest = d end end
  local parts = {}
  for d = ref, oldest, -1 do
    local n = st.b[d]
    if n then parts[#parts + 1] = enc36(n) else parts[#parts + 1] = "" end
  end
  return "W" .. enc36(st.at) .. "," .. table.concat(parts, ".")
end

function WindowCounter.create(at)
  return {k = "w", b = {}, at = at}
end

function WindowCounter.add(st, amount, at, day, keepDays, checks, awards, award)
  local buckets, prevAt = st.b, st.at
  local befores = {}
  for ci = 1, #checks do
    local check = checks[ci]
    if not awards[check[1]] then befores[ci] = windowSum(buckets, day, check[3]) end
  end
  local newest = dayOf(st.at)
  local added = amount
  buckets[day] = (buckets[day] or 0) + amount
  if day > newest then
    for d in pairs(buckets) do if d <= day - keepDays then buckets[d] = nil end end
  elseif day <= newest - keepDays then
    buckets[day] = nil -- older than every window: dropped at once
    added = 0
  end
  if at > st.at then st.at = at end
  for ci = 1, #checks do
    local before = befores[ci]
    if before then
      local check = checks[ci]
      if before >= check[2] then
        award(check, prevAt, true)
      elseif before + added >= check[2] then
        award(check, at, false)
      end
    end
  end
end

function WindowCounter.measure(st, check, endDay)
  return windowSum(st.b, endDay, check[3])
end

-- Catch-up: any window ending on a stored day is proven; the best one counts.
function WindowCounter.proven(st, check)
  local best = 0
  for d in pairs(st.b) do
    local s = windowSum(st.b, d, check[3])
    if s > best then best = s end
  end
  return best, st.at
end
