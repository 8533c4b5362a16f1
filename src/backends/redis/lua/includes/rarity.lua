--[[
  Rarity counts (docs/semantics.md, "Rarity"), in one global hash (redis-keys.ts `rarity`):
    a:<day36>         players whose latest apply was on that UTC day
    <day36>:<code>    of those players, how many hold the award <code>
  A subject's state hash keeps the UTC day of its latest apply in "~a" (base 36). Its first apply of a day
  moves it, with every award it holds, from that day to today, so a window's counts are the sums of its
  days' fields and nothing ever scans players. Mirrored in src/backends/memory/memory-rarity.ts.
]]
--- @include "includes/codec"

local RARITY_KEEP_DAYS = 400 -- the longest window is a year; older days are dropped

local function addRarity(rarityKey, field, delta)
  if redis.call("HINCRBY", rarityKey, field, delta) == 0 then redis.call("HDEL", rarityKey, field) end
end

-- One more (1) or one fewer (-1) holder of code among the players last active on activeDay (a day
-- number, or nil for a subject not active since rarity counting began: it is counted on its next apply).
local function countHolder(rarityKey, code, delta, activeDay)
  if activeDay then addRarity(rarityKey, enc36(activeDay) .. ":" .. code, delta) end
end

-- Drops the fields of days before beforeDay (once per day: by the day's first active player).
local function pruneRarity(rarityKey, beforeDay)
  local cursor = "0"
  repeat
    local page = redis.call("HSCAN", rarityKey, cursor, "COUNT", 1000)
    cursor = page[1]
    local old = {}
    for i = 1, #page[2], 2 do
      local field = page[2][i]
      local day36 = string.match(field, "^a:(%w+)$") or string.match(field, "^(%w+):")
      if day36 and dec36(day36) < beforeDay then old[#old + 1] = field end
    end
    if #old > 0 then redis.call("HDEL", rarityKey, unpack(old)) end
  until cursor == "0"
end

-- The subject applies something today: its first apply of the day moves it (and its awards) to today.
-- last: its "~a" field as the caller read it (false/nil when absent). Returns the day its awards count
-- under (today, or a later day a process with a clock ahead wrote).
local function noteActivity(rarityKey, stateKey, today, last)
  if not last then last = nil end
  local lastDay = last and dec36(last)
  if lastDay and lastDay >= today then return lastDay end
  local todayText = enc36(today)
  if redis.call("HINCRBY", rarityKey, "a:" .. todayText, 1) == 1 then pruneRarity(rarityKey, today - RARITY_KEEP_DAYS) end
  local movable = lastDay and lastDay >= today - RARITY_KEEP_DAYS
  if movable then addRarity(rarityKey, "a:" .. last, -1) end
  for _, field in ipairs(redis.call("HKEYS", stateKey)) do
    if string.byte(field, 1) == 33 then -- "!<code>": an award
      local code = string.sub(field, 2)
      addRarity(rarityKey, todayText .. ":" .. code, 1)
      if movable then addRarity(rarityKey, last .. ":" .. code, -1) end
    end
  end
  redis.call("HSET", stateKey, "~a", todayText)
  return today
end

-- Takes a subject out (erase): its active day and every award it held, from a state hash's flat pairs.
local function forgetActivity(rarityKey, flat)
  local activeDay
  for i = 1, #flat, 2 do
    if flat[i] == "~a" then activeDay = dec36(flat[i + 1]) end
  end
  if not activeDay then return end
  addRarity(rarityKey, "a:" .. enc36(activeDay), -1)
  for i = 1, #flat, 2 do
    if string.byte(flat[i], 1) == 33 then countHolder(rarityKey, string.sub(flat[i], 2), -1, activeDay) end
  end
end
