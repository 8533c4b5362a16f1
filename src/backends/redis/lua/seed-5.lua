--[[
  Writes a backfill from history (docs/semantics.md, "History"): counters replayed by the engine
  replace the stored ones, checks the history met are awarded (retroactive) unless already awarded,
  with autoClaim grants (each award counted in the milestone stats in the same step), and the subject
  is marked complete for the counter set. Only if the history
  version is still the one the replay read: otherwise nothing is written (the engine reads again).

  Input:
    KEYS[1] state hash
    KEYS[2] balances hash
    KEYS[3] history hash
    KEYS[4] dirty set
    KEYS[5] milestone stats hash
    ARGV[1] subject
    ARGV[2] msgpack [now, expectVersion, counterSet, counters, awards]
              counters = { counterId, encoded state, ... } (flat)
              awards   = { {code, earnedAt, rewards or 0}, ... }, rewards = { {item, quantity}, ... }

  Output: msgpack
    { 0, conflict 0|1, reached, balances }   reached = { code, earnedAt, 1, claimedAt or -1, ... }
    { -1, message }
]]
--- @include "includes/status"
--- @include "includes/integers"
--- @include "includes/codec"
--- @include "includes/grants"
--- @include "includes/subject"
--- @include "includes/milestone-stats"

local stateKey, balKey, histKey, dirtyKey, statsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local subject = ARGV[1]
local decoded, req = pcall(cmsgpack.unpack, ARGV[2] or "")
if not subject or subject == "" or not decoded or type(req) ~= "table" then
  return fail(STATUS.INVALID_INPUT, "seed needs ARGV subject and a msgpack [now, expectVersion, counterSet, counters, awards]")
end
local now, expectVersion, counterSet, counters, awards = req[1], req[2], req[3], req[4], req[5]
local function isInt(n) return type(n) == "number" and n == math.floor(n) end
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
  if type(a) ~= "table" or type(a[1]) ~= "string" or not isInt(a[2]) or (a[3] ~= 0 and type(a[3]) ~= "table") then
    return fail(STATUS.INVALID_INPUT, "a seed award must be [code, earnedAt, rewards|0]")
  end
end

local version = tonumber(redis.call("HGET", histKey, "~q")) or 0
if version ~= expectVersion then return cmsgpack.pack({STATUS.OK, 1, {}, {}}) end

local changed = {"~", "1"}
for i = 1, #counters do changed[#changed + 1] = counters[i] end
local grants = newGrants(balKey)
local reached = {}
for _, a in ipairs(awards) do
  local field = "!" .. a[1]
  if not redis.call("HGET", stateKey, field) then
    local claimedAt = -1
    if a[3] ~= 0 and grants.stage(a[3]) then claimedAt = now end
    changed[#changed + 1] = field
    changed[#changed + 1] = encodeAward({a[2], 1, claimedAt})
    local n = #reached
    reached[n + 1], reached[n + 2], reached[n + 3], reached[n + 4] = a[1], a[2], 1, claimedAt
    countMilestone(statsKey, a[1], 1, claimedAt >= 0 and 1 or 0)
  end
end
redis.call("HSET", stateKey, unpack(changed))
redis.call("HSET", histKey, "~q", fmtInt(version + 1), "~h", counterSet)
redis.call("SADD", dirtyKey, subject)
return cmsgpack.pack({STATUS.OK, 0, reached, grants.write()})
