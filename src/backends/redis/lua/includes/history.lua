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
    ~x  raw events: the most events a rollup keeps raw (set by every apply that keeps raw events)
    <day36>|<type>|<tags>          the rollup of part ~e:  <count>,<sum>,<firstAt>,<lastAt>,<maxAmount> (base 36)
    +<n36>|<day36>|<type>|<tags>   a late part (part "<~e>+<n36>"), never changed again
    *<rollup field>                the rollup's raw events, in the order recorded: <event>,<event>,... with
                                   an event <at - day start> or <at - day start>:<amount> (amount 1 left
                                   out), base 36. Complete while it holds as many events as the rollup
                                   counts; a rollup that counts more than ~x keeps none.
  History log (a list): entries of lines "<day36>|<type>|<tags>\t<count>,<sum>,<firstAt>,<lastAt>,<maxAmount>",
  the rollups one apply added, and with raw events kept, lines "*<day36>|<type>|<tags>\t<event>,...", the
  raw events of the rollup line of the same field in that entry. Mirrored in src/backends/redis/history-codec.ts.
]]
--- @include "includes/integers"
--- @include "includes/codec"

local HISTORY_ROW = 9 -- an event with its own id: type, tags, day, count, sum, firstAt, lastAt, maxAmount, eventId
local LOG_FOLD_AT = 8
-- A log line without captures (validation), and split in two at its tab: the field and the value.
local LOG_LINE_AND_END = "[0-9a-z]+|[^|\n]*|[^\t\n]*\t[0-9a-z]+,[0-9a-z]+,[0-9a-z]+,[0-9a-z]+,[0-9a-z]+\n"
local LOG_FIELD_VALUE = "([^\t\n]+)\t([^\n]+)"
local RAW_LINE_AND_END = "%*[0-9a-z]+|[^|\n]*|[^\t\n]*\t[0-9a-z:,]+\n"
local STAR = 42

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

-- Whether the raw-events lines of an apply request are well-formed ("" is).
local function validRawText(text)
  if type(text) ~= "string" then return false end
  if text == "" then return true end
  return string.gsub(text .. "\n", RAW_LINE_AND_END, "") == ""
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
--
-- Raw-event lines ("*<field>") are appended to the raw events of their rollup's field (moved to the late
-- part with it), while the rollup counts at most ~x events; past that its raw events are deleted. A
-- rollup stored without raw events (they were off, or past ~x) starts none: they could not be complete.
local function foldHistory(histKey, logKey)
  local entries = redis.call("LRANGE", logKey, 0, -1)
  if #entries == 0 then return end
  redis.call("DEL", logKey)
  local status = redis.call("HMGET", histKey, "~t", "~x")
  local archivedThrough = tonumber(status[1]) or -1
  local deltas, order = {}, {}
  local raws, rawOrder -- raw events by rollup field, only when an entry holds any
  for _, entry in ipairs(entries) do
    for field, value in string.gmatch(entry, LOG_FIELD_VALUE) do
      if string.byte(field, 1) == STAR then
        local rollupField = string.sub(field, 2)
        if not raws then raws, rawOrder = {}, {} end
        local r = raws[rollupField]
        if r then
          raws[rollupField] = r .. "," .. value
        else
          raws[rollupField] = value
          rawOrder[#rawOrder + 1] = rollupField
        end
      else
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
  end
  if #order == 0 then return end
  -- Days already archived go to a late part of their own (named once per fold).
  local movedTo
  if archivedThrough >= 0 then
    local late
    for i, field in ipairs(order) do
      if tonumber(string.match(field, "^[0-9a-z]+"), 36) <= archivedThrough then
        late = late or enc36(redis.call("HINCRBY", histKey, "~c", 1))
        local moved = "+" .. late .. "|" .. field
        deltas[moved] = deltas[field]
        order[i] = moved
        if raws then
          movedTo = movedTo or {}
          movedTo[field] = moved
        end
      end
    end
  end
  -- One HMGET: the rollups, then the raw events of those that have raw lines here.
  local names = order
  if raws then
    names = {unpack(order)}
    for i, field in ipairs(rawOrder) do
      rawOrder[i] = (movedTo and movedTo[field]) or field
      raws[rawOrder[i]] = raws[field]
      names[#names + 1] = "*" .. rawOrder[i]
    end
  end
  local stored = redis.call("HMGET", histKey, unpack(names))
  local changed, counts, wasStored = {}, raws and {}, raws and {}
  for i, field in ipairs(order) do
    local r = deltas[field]
    if stored[i] then
      if type(r) == "string" then r = decodeRollup(r) end
      addRollupValue(r, stored[i])
    end
    changed[#changed + 1] = field
    changed[#changed + 1] = type(r) == "string" and r or encodeRollup(r)
    if counts then
      counts[field] = type(r) == "string" and tonumber(string.match(r, "^[^,]+"), 36) or r[1]
      wasStored[field] = stored[i] and true
    end
  end
  if raws then
    local cap, dropped = tonumber(status[2]) or 0, {}
    for i, field in ipairs(rawOrder) do
      local storedRaw = stored[#order + i]
      local count = counts[field]
      if count and count <= cap and (storedRaw or not wasStored[field]) then
        changed[#changed + 1] = "*" .. field
        changed[#changed + 1] = storedRaw and (storedRaw .. "," .. raws[field]) or raws[field]
      elseif storedRaw then
        dropped[#dropped + 1] = "*" .. field
      end
    end
    if #dropped > 0 then redis.call("HDEL", histKey, unpack(dropped)) end
  end
  redis.call("HSET", histKey, unpack(changed))
end

-- The hot path: one apply's rollups appended as one log entry (events with ids only if new), the
-- version moved on, the hash's part name and first counter set set once. `fields`: the hash's length
-- read before this apply (the bound's HLEN). A hash of three fields or more has its part name and
-- counter set already: only an apply makes a hash reach three fields, and it sets both (a seed or a
-- restore leaves at most ~q and ~h; an apply that kept no rollup, ~q and ~e).
--
-- Raw events (`rawText` set: the engine keeps them; `rawCap`: the most a rollup keeps): the raw lines of
-- the rollups in `text` go into the same entry, and a new event with its own id adds its own raw line
-- next to its rollup line (one event: its time and amount are the row's), so both are kept or deduped
-- together.
local function appendHistory(histKey, logKey, text, idRows, counterSet, part, isNewEvent, fields, rawText, rawCap)
  local entry = text
  for i = 1, #idRows, HISTORY_ROW do
    if isNewEvent("h/" .. idRows[i + 8]) then
      local field = enc36(idRows[i + 2]) .. "|" .. idRows[i] .. "|" .. idRows[i + 1]
      local line = field .. "\t" .. enc36(idRows[i + 3]) .. ","
        .. enc36(idRows[i + 4]) .. "," .. enc36(idRows[i + 5]) .. "," .. enc36(idRows[i + 6]) .. "," .. enc36(idRows[i + 7])
      local offset = rawText and idRows[i + 3] == 1 and idRows[i + 5] - idRows[i + 2] * DAY_MS
      if offset and offset >= 0 and offset < DAY_MS then
        line = line .. "\n*" .. field .. "\t" .. enc36(offset) .. (idRows[i + 4] == 1 and "" or ":" .. enc36(idRows[i + 4]))
      end
      if entry == "" then entry = line else entry = entry .. "\n" .. line end
    end
  end
  if rawText and rawText ~= "" then
    if entry == "" then entry = rawText else entry = entry .. "\n" .. rawText end
  end
  redis.call("HINCRBY", histKey, "~q", 1)
  if fields < 3 then redis.call("HSETNX", histKey, "~e", part) end
  if entry == "" then return end
  if fields < 3 then redis.call("HSETNX", histKey, "~h", counterSet) end
  if rawText then redis.call("HSET", histKey, "~x", fmtInt(rawCap)) end
  if redis.call("RPUSH", logKey, entry) >= LOG_FOLD_AT then foldHistory(histKey, logKey) end
end

-- The history part of a subject's apply request without the rollups of the given event types (a stat
-- guard refused them): log lines, id rows and raw-event lines alike.
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
  if history[3] == nil then return {table.concat(lines, "\n"), kept} end
  local raw = {}
  for line in string.gmatch(history[3], "[^\n]+") do
    if not types[string.match(line, "^%*[0-9a-z]+|([^|\n]*)|")] then raw[#raw + 1] = line end
  end
  return {table.concat(lines, "\n"), kept, table.concat(raw, "\n"), history[4]}
end
