--[[
  A subject's history hash (docs/semantics.md, "History"): rollups of its events per (UTC day, type,
  tags), written by the same script as its counters.
    ~q  version: +1 with every apply (a backfill computed at one version is written only at that version)
    ~h  the counter set the subject's counters are complete for (set by its first history)
    ~e  this hash's part name (a hash created again after a loss writes a new part)
    ~t  archived through this UTC day: an event on such a day goes to a late part of its own
    <day36>|<type>|<tags>            the rollup of part ~e:  <count>,<sum>,<firstAt>,<lastAt>,<maxAmount> (base 36)
    +<version36>|<day36>|<type>|<tags>  a late part (part "<~e>+<version36>"), never changed again
  Mirrored in src/backends/redis/history-codec.ts.
]]
--- @include "includes/integers"
--- @include "includes/codec"

local HISTORY_ROW = 9 -- type, tags, day, count, sum, firstAt, lastAt, maxAmount, eventId

local function decodeRollup(raw)
  local c, s, f, l, m = string.match(raw, "^([^,]+),([^,]+),([^,]+),([^,]+),([^,]+)$")
  return {dec36(c), dec36(s), dec36(f), dec36(l), dec36(m)}
end

local function encodeRollup(r)
  return enc36(r[1]) .. "," .. enc36(r[2]) .. "," .. enc36(r[3]) .. "," .. enc36(r[4]) .. "," .. enc36(r[5])
end

local function partName(digest, now)
  local hex = {}
  for i = 1, #digest do hex[i] = string.format("%02x", string.byte(digest, i)) end
  return enc36(now) .. table.concat(hex)
end

-- Adds one apply's rollups (flat HISTORY_ROW tuples). `isNewEvent(id)` dedupes events with ids.
local function writeHistory(histKey, rows, counterSet, digest, now, isNewEvent)
  local fields = {"~q", "~h", "~t", "~e"}
  for i = 1, #rows, HISTORY_ROW do
    fields[#fields + 1] = enc36(rows[i + 2]) .. "|" .. rows[i] .. "|" .. rows[i + 1]
  end
  local values = redis.call("HMGET", histKey, unpack(fields))
  local version = (tonumber(values[1]) or 0) + 1
  local archivedThrough = tonumber(values[3]) or -1
  local changed = {"~q", fmtInt(version)}
  if not values[4] then
    changed[#changed + 1] = "~e"
    changed[#changed + 1] = partName(digest, now)
  end
  local merged, order = {}, {}
  for i = 1, #rows, HISTORY_ROW do
    local eventId = rows[i + 8]
    if eventId == "" or isNewEvent("h/" .. eventId) then
      local day = rows[i + 2]
      local field, stored
      if day > archivedThrough then
        field = fields[4 + (i + HISTORY_ROW - 1) / HISTORY_ROW]
        stored = values[4 + (i + HISTORY_ROW - 1) / HISTORY_ROW]
      else
        field = "+" .. enc36(version) .. "|" .. enc36(day) .. "|" .. rows[i] .. "|" .. rows[i + 1]
      end
      local r = merged[field]
      if not r then
        order[#order + 1] = field
        if stored then r = decodeRollup(stored) else r = {0, 0, rows[i + 5], rows[i + 6], 0} end
        merged[field] = r
      end
      r[1] = r[1] + rows[i + 3]
      r[2] = r[2] + rows[i + 4]
      if rows[i + 5] < r[3] then r[3] = rows[i + 5] end
      if rows[i + 6] > r[4] then r[4] = rows[i + 6] end
      if rows[i + 7] > r[5] then r[5] = rows[i + 7] end
    end
  end
  if #order > 0 and not values[2] then
    changed[#changed + 1] = "~h"
    changed[#changed + 1] = counterSet
  end
  for _, field in ipairs(order) do
    changed[#changed + 1] = field
    changed[#changed + 1] = encodeRollup(merged[field])
  end
  redis.call("HSET", histKey, unpack(changed))
end
