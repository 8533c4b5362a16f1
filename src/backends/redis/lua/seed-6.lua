--[[
  Writes a backfill from history (docs/semantics.md, "History"): counters replayed by the engine
  replace the stored ones, checks the history met are awarded (retroactive) unless already awarded,
  with autoClaim grants (each award counted in the milestone stats in the same step), and the subject
  is marked complete for the counter set. Only if the history
  version is still the one the replay read: otherwise nothing is written (the engine reads again).
  Preconditions and seasons (docs/semantics.md): an award is made only once every code it requires is
  awarded (stored, or by this seed; stamped with the latest of those times), and a seasonal one only while
  now is before its availableUntil; dependents on stored counters (catch-up's measure) join in when their
  last precondition lands here. Rounds repeat until one awards nothing (chains), as the memory backend does
  (src/backends/memory/seed-awards.ts).

  Input:
    KEYS[1] state hash
    KEYS[2] balances hash
    KEYS[3] history hash
    KEYS[4] dirty set
    KEYS[5] milestone stats hash
    KEYS[6] rarity counts hash (each award counted for the subject's latest active day, includes/rarity.lua)
    ARGV[1] subject
    ARGV[2] msgpack [now, expectVersion, counterSet, counters, awards, dependents]
              counters   = { counterId, encoded state, ... } (flat)
              awards     = { {code, earnedAt, rewards or 0[, requires or 0, availableUntil or 0]}, ... },
                           rewards = { {item, quantity}, ... }, requires = { code, ... }
              dependents = { {counterId, kind s|w|d|g, check}, ... } or absent; check as applyBatch-n.lua
                           packs it: {code, target, windowDays, rewards or 0, requires or 0, availableUntil or 0}

  Output: msgpack
    { 0, conflict 0|1, reached, balances }   reached = { code, earnedAt, 1, claimedAt or -1, ... }
    { -1, message }
]]
--- @include "includes/status"
--- @include "includes/integers"
--- @include "includes/codec"
--- @include "includes/counters"
--- @include "includes/grants"
--- @include "includes/subject"
--- @include "includes/milestone-stats"
--- @include "includes/rarity"

local stateKey, balKey, histKey, dirtyKey, statsKey, rarityKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local subject = ARGV[1]
local decoded, req = pcall(cmsgpack.unpack, ARGV[2] or "")
if not subject or subject == "" or not decoded or type(req) ~= "table" then
  return fail(STATUS.INVALID_INPUT, "seed needs ARGV subject and a msgpack [now, expectVersion, counterSet, counters, awards]")
end
local now, expectVersion, counterSet, counters, awards, dependents = req[1], req[2], req[3], req[4], req[5], req[6] or {}
local function isInt(n) return type(n) == "number" and n == math.floor(n) end
local function validCodes(list)
  if list == nil or list == 0 then return true end
  if type(list) ~= "table" then return false end
  for _, code in ipairs(list) do if type(code) ~= "string" then return false end end
  return true
end
if not isInt(now) or not isInt(expectVersion) or type(counterSet) ~= "string" or type(counters) ~= "table"
  or #counters % 2 ~= 0 or type(awards) ~= "table" then
  return fail(STATUS.INVALID_INPUT, "seed request must be [now, expectVersion, counterSet, flat counters, awards]")
end
for i = 1, #counters, 2 do
  if type(counters[i]) ~= "string" or type(counters[i + 1]) ~= "string" then
    return fail(STATUS.INVALID_INPUT, "seed counters must be pairs of counterId, encoded state")
  end
end
for _, a in ipairs(awards) do
  if type(a) ~= "table" or type(a[1]) ~= "string" or not isInt(a[2]) or (a[3] ~= 0 and type(a[3]) ~= "table")
    or not validCodes(a[4]) or (a[5] ~= nil and not isInt(a[5])) then
    return fail(STATUS.INVALID_INPUT, "a seed award must be [code, earnedAt, rewards|0, requires|0, availableUntil|0]")
  end
end
if type(dependents) ~= "table" then return fail(STATUS.INVALID_INPUT, "seed dependents must be a list") end
for _, d in ipairs(dependents) do
  local check = type(d) == "table" and d[3]
  if type(check) ~= "table" or type(d[1]) ~= "string" or not COUNTER_KINDS[d[2]] or type(check) ~= "table" or type(check[1]) ~= "string"
    or type(check[2]) ~= "number" or not isInt(check[3]) or (check[4] ~= 0 and type(check[4]) ~= "table")
    or not validCodes(check[5]) or (check[6] ~= nil and not isInt(check[6])) then
    return fail(STATUS.INVALID_INPUT, "a seed dependent must be [counterId, kind s|w|d|g, [code, target, windowDays, rewards|0, requires|0, availableUntil|0]]")
  end
end

local version = tonumber(redis.call("HGET", histKey, "~q")) or 0
if version ~= expectVersion then return cmsgpack.pack({STATUS.OK, 1, {}, {}}) end

local changed = {"~", "1"}
for i = 1, #counters do changed[#changed + 1] = counters[i] end
-- Candidates: {code, passedAt, rewards|0, requires|0, availableUntil|0}, the history's first, then the
-- dependents whose stored counter passes (they are on counters this seed does not replace).
local candidates = {}
for _, a in ipairs(awards) do candidates[#candidates + 1] = {a[1], a[2], a[3], a[4] or 0, a[5] or 0} end
for _, d in ipairs(dependents) do
  local st = decodeCounter(redis.call("HGET", stateKey, d[1]))
  local check = d[3]
  check[3] = math.max(1, check[3])
  if st and st.k == d[2] then
    local measured, at = COUNTER_KINDS[st.k].proven(st, check)
    if measured >= check[2] then candidates[#candidates + 1] = {check[1], at, check[4], check[5] or 0, check[6] or 0} end
  end
end

-- code -> earnedAt of its award (stored or made here), false when it has none; read once per code.
local awardedAt = {}
local function awardOf(code)
  local at = awardedAt[code]
  if at == nil then
    local raw = redis.call("HGET", stateKey, "!" .. code)
    at = raw and decodeAward(raw)[1] or false
    awardedAt[code] = at
  end
  return at
end

local open = {}
for _, c in ipairs(candidates) do
  if not awardOf(c[1]) and not (c[5] ~= 0 and now >= c[5]) then open[#open + 1] = c end
end
local made = {}
local progressed = true
while progressed and #open > 0 do
  progressed = false
  local later = {}
  for _, c in ipairs(open) do
    if not awardedAt[c[1]] then
      local earnedAt, ready = c[2], true
      if c[4] ~= 0 then
        for _, code in ipairs(c[4]) do
          local at = awardOf(code)
          if not at then ready = false break end
          if at > earnedAt then earnedAt = at end
        end
      end
      if ready then
        awardedAt[c[1]] = earnedAt
        made[#made + 1] = {c[1], earnedAt, c[3]}
        progressed = true
      else
        later[#later + 1] = c
      end
    end
  end
  open = later
end

local grants = newGrants(balKey)
local reached = {}
local activeDay = #made > 0 and redis.call("HGET", stateKey, "~a")
activeDay = activeDay and dec36(activeDay) or nil -- nil: not active since rarity counting began (counted on its next apply)
for _, a in ipairs(made) do
  local claimedAt = -1
  if a[3] ~= 0 and grants.stage(a[3]) then claimedAt = now end
  changed[#changed + 1] = "!" .. a[1]
  changed[#changed + 1] = encodeAward({a[2], 1, claimedAt})
  local n = #reached
  reached[n + 1], reached[n + 2], reached[n + 3], reached[n + 4] = a[1], a[2], 1, claimedAt
  countMilestone(statsKey, a[1], 1, claimedAt >= 0 and 1 or 0)
  countHolder(rarityKey, a[1], 1, activeDay)
end
redis.call("HSET", stateKey, unpack(changed))
redis.call("HSET", histKey, "~q", fmtInt(version + 1), "~h", counterSet)
redis.call("SADD", dirtyKey, subject)
return cmsgpack.pack({STATUS.OK, 0, reached, grants.write()})
