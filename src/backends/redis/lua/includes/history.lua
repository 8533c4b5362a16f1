--[[
  A subject's history (docs/semantics.md, "History"): rollups of its events per (UTC day, type, tags).
  The apply only appends (one log entry per apply, written by the same script as its counters); the log
  is folded into the hash's rollups when it reaches LOG_FOLD_AT entries, before every read of the hash
  and before every export, so the hot path does no read-modify-write per rollup.

  History hash:
    ~q  version: +1 with every apply (a backfill computed at one version is written only at that version)
    ~h  the counter set the subject's counters are complete for (set by its first history)
    ~e  this hash's part name (a hash created again after a loss writes a new part)
    ~t  archived through this UTC day: an event on such a day goes to a late part of its own
    ~c  late parts made so far (names them)
    <day36>|<type>|<tags>          the rollup of part ~e:  <count>,<sum>,<firstAt>,<lastAt>,<maxAmount> (base 36)
    +<n36>|<day36>|<type>|<tags>   a late part (part "<~e>+<n36>"), never changed again
  History log (a list): entries of lines "<day36>|<type>|<tags>\t<count>,<sum>,<firstAt>,<lastAt>,<maxAmount>",
  the rollups one apply added. Mirrored in src/backends/redis/history-codec.ts.
]]
--- @include "includes/integers"
--- @include "includes/codec"

local HISTORY_ROW = 9 -- an event with its own id: type, tags, day, count, sum, firstAt, lastAt, maxAmount, eventId
local LOG_FOLD_AT = 8
local LOG_ROLLUP = "([0-9a-z]+)|([^|\n]*)|([^\t\n]*)\t([0-9a-z]+),([0-9a-z]+),([0-9a-z]+),([0-9a-z]+),([0-9a-z]+)"
local LOG_LINE = "^" .. LOG_ROLLUP .. "$"

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

-- Whether a log text from the caller is made of well-formed lines only ("" is).
local function validHistoryText(text)
  if type(text) ~= "string" then return false end
  for line in string.gmatch(text, "[^\n]+") do
    if not string.find(line, LOG_LINE) then return false end
  end
  return true
end

-- Folds the log into the hash's rollups (a late part for days already archived), then empties it.
local function foldHistory(histKey, logKey)
  local entries = redis.call("LRANGE", logKey, 0, -1)
  if #entries == 0 then return end
  redis.call("DEL", logKey)
  local archivedThrough = tonumber(redis.call("HGET", histKey, "~t")) or -1
  local deltas, order, late = {}, {}, nil
  for _, entry in ipairs(entries) do
    for day36, kind, tags, c, s, f, l, m in string.gmatch(entry, LOG_ROLLUP) do
      local field
      if tonumber(day36, 36) > archivedThrough then
        field = day36 .. "|" .. kind .. "|" .. tags
      else
        late = late or enc36(redis.call("HINCRBY", histKey, "~c", 1))
        field = "+" .. late .. "|" .. day36 .. "|" .. kind .. "|" .. tags
      end
      local cc, ss, ff, ll, mm = tonumber(c, 36), tonumber(s, 36), tonumber(f, 36), tonumber(l, 36), tonumber(m, 36)
      local d = deltas[field]
      if not d then
        deltas[field] = {cc, ss, ff, ll, mm}
        order[#order + 1] = field
      else
        d[1], d[2] = d[1] + cc, d[2] + ss
        if ff < d[3] then d[3] = ff end
        if ll > d[4] then d[4] = ll end
        if mm > d[5] then d[5] = mm end
      end
    end
  end
  if #order == 0 then return end
  local stored = redis.call("HMGET", histKey, unpack(order))
  local changed = {}
  for i, field in ipairs(order) do
    local r = deltas[field]
    if stored[i] then
      local o = decodeRollup(stored[i])
      r[1], r[2] = r[1] + o[1], r[2] + o[2]
      if o[3] < r[3] then r[3] = o[3] end
      if o[4] > r[4] then r[4] = o[4] end
      if o[5] > r[5] then r[5] = o[5] end
    end
    changed[#changed + 1] = field
    changed[#changed + 1] = encodeRollup(r)
  end
  redis.call("HSET", histKey, unpack(changed))
end

-- The hot path: one apply's rollups appended as one log entry (events with ids only if new), the
-- version moved on, the hash's part name and first counter set set once.
local function appendHistory(histKey, logKey, text, idRows, counterSet, part, isNewEvent)
  local entry = text
  for i = 1, #idRows, HISTORY_ROW do
    if isNewEvent("h/" .. idRows[i + 8]) then
      local line = enc36(idRows[i + 2]) .. "|" .. idRows[i] .. "|" .. idRows[i + 1] .. "\t" .. enc36(idRows[i + 3]) .. ","
        .. enc36(idRows[i + 4]) .. "," .. enc36(idRows[i + 5]) .. "," .. enc36(idRows[i + 6]) .. "," .. enc36(idRows[i + 7])
      if entry == "" then entry = line else entry = entry .. "\n" .. line end
    end
  end
  redis.call("HINCRBY", histKey, "~q", 1)
  redis.call("HSETNX", histKey, "~e", part)
  if entry == "" then return end
  redis.call("HSETNX", histKey, "~h", counterSet)
  if redis.call("RPUSH", logKey, entry) >= LOG_FOLD_AT then foldHistory(histKey, logKey) end
end

-- The history part of a subject's apply request without the rollups of the given event types (a stat
-- guard refused them): log lines and id rows alike.
local function withoutTypes(history, types)
  local lines = {}
  for line in string.gmatch(history[1], "[^\n]+") do
    if not types[string.match(line, "^[0-9a-z]+|([^|\n]*)|")] then lines[#lines + 1] = line end
  end
  local rows, kept = history[2], {}
  for i = 1, #rows, HISTORY_ROW do
    if not types[rows[i]] then
      for k = i, i + HISTORY_ROW - 1 do kept[#kept + 1] = rows[k] end
    end
  end
  return {table.concat(lines, "\n"), kept}
end
