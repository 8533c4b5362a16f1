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
-- A log line without captures (validation), and split in two at its tab: the field and the value.
local LOG_LINE_AND_END = "[0-9a-z]+|[^|\n]*|[^\t\n]*\t[0-9a-z]+,[0-9a-z]+,[0-9a-z]+,[0-9a-z]+,[0-9a-z]+\n"
local LOG_FIELD_VALUE = "([^\t\n]+)\t([^\n]+)"

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

-- Whether a log text from the caller is made of well-formed lines only ("" is). One gsub in C removes
-- every well-formed line; anything left over (a stray byte, a line cut short) was not one.
local function validHistoryText(text)
  if type(text) ~= "string" then return false end
  if text == "" then return true end
  return string.gsub(text .. "\n", LOG_LINE_AND_END, "") == ""
end

-- Adds rollup value `v` into r = {count, sum, firstAt, lastAt, maxAmount}.
local function addRollupValue(r, v)
  local c, s, f, l, m = string.match(v, "^([^,]+),([^,]+),([^,]+),([^,]+),([^,]+)$")
  r[1], r[2] = r[1] + tonumber(c, 36), r[2] + tonumber(s, 36)
  f, l, m = tonumber(f, 36), tonumber(l, 36), tonumber(m, 36)
  if f < r[3] then r[3] = f end
  if l > r[4] then r[4] = l end
  if m > r[5] then r[5] = m end
end

-- Folds the log into the hash's rollups (a late part for days already archived), then empties it.
-- A line's field and value are kept as text until a second one of the same field (or the stored
-- rollup) needs adding: a rollup met once is written as it came, never parsed.
local function foldHistory(histKey, logKey)
  local entries = redis.call("LRANGE", logKey, 0, -1)
  if #entries == 0 then return end
  redis.call("DEL", logKey)
  local archivedThrough = tonumber(redis.call("HGET", histKey, "~t")) or -1
  local deltas, order = {}, {}
  for _, entry in ipairs(entries) do
    for field, value in string.gmatch(entry, LOG_FIELD_VALUE) do
      local d = deltas[field]
      if not d then
        deltas[field] = value
        order[#order + 1] = field
      else
        if type(d) == "string" then
          d = decodeRollup(d)
          deltas[field] = d
        end
        addRollupValue(d, value)
      end
    end
  end
  if #order == 0 then return end
  -- Days already archived go to a late part of their own (named once per fold).
  if archivedThrough >= 0 then
    local late
    for i, field in ipairs(order) do
      if tonumber(string.match(field, "^[0-9a-z]+"), 36) <= archivedThrough then
        late = late or enc36(redis.call("HINCRBY", histKey, "~c", 1))
        local moved = "+" .. late .. "|" .. field
        deltas[moved] = deltas[field]
        order[i] = moved
      end
    end
  end
  local stored = redis.call("HMGET", histKey, unpack(order))
  local changed = {}
  for i, field in ipairs(order) do
    local r = deltas[field]
    if stored[i] then
      if type(r) == "string" then r = decodeRollup(r) end
      addRollupValue(r, stored[i])
    end
    changed[#changed + 1] = field
    changed[#changed + 1] = type(r) == "string" and r or encodeRollup(r)
  end
  redis.call("HSET", histKey, unpack(changed))
end

-- The hot path: one apply's rollups appended as one log entry (events with ids only if new), the
-- version moved on, the hash's part name and first counter set set once. `fields`: the hash's length
-- read before this apply (the bound's HLEN). A hash of three fields or more has its part name and
-- counter set already: only an apply makes a hash reach three fields, and it sets both (a seed or a
-- restore leaves at most ~q and ~h; an apply that kept no rollup, ~q and ~e).
local function appendHistory(histKey, logKey, text, idRows, counterSet, part, isNewEvent, fields)
  local entry = text
  for i = 1, #idRows, HISTORY_ROW do
    if isNewEvent("h/" .. idRows[i + 8]) then
      local line = enc36(idRows[i + 2]) .. "|" .. idRows[i] .. "|" .. idRows[i + 1] .. "\t" .. enc36(idRows[i + 3]) .. ","
        .. enc36(idRows[i + 4]) .. "," .. enc36(idRows[i + 5]) .. "," .. enc36(idRows[i + 6]) .. "," .. enc36(idRows[i + 7])
      if entry == "" then entry = line else entry = entry .. "\n" .. line end
    end
  end
  redis.call("HINCRBY", histKey, "~q", 1)
  if fields < 3 then redis.call("HSETNX", histKey, "~e", part) end
  if entry == "" then return end
  if fields < 3 then redis.call("HSETNX", histKey, "~h", counterSet) end
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
