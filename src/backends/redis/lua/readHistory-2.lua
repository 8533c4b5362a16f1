--[[
  Reads a subject's history hash (includes/history.lua) as ONE string: its fields and values joined by
  newlines (no field or value holds one: tags are JSON, which escapes them). With selectors, only the
  rollups one of them selects: the field holds the selector's "|<type>|" and each of its tag fragments
  (src/model/history.ts, HistorySelector). A hundred fields as separate RESP replies cost the caller
  several times more to parse than one string it splits.

  The history log is folded into the hash first (includes/history.lua), so the reply is complete.

  Input:
    KEYS[1] history hash
    KEYS[2] history log
    ARGV[1] number of selectors (0: every rollup)
    ARGV[2..] one selector each: "|<type>|", then its tag fragments, joined by NUL bytes

  Output: msgpack
    { 0, "field\nvalue\nfield\nvalue..." }   ("" for an empty hash)
    { -1, message }
]]
--- @include "includes/status"
--- @include "includes/history"

local count = tonumber(ARGV[1])
if not count or count < 0 or #ARGV ~= 1 + count then
  return fail(STATUS.INVALID_INPUT, "readHistory needs ARGV[1] the number of selectors, then one selector each")
end
foldHistory(KEYS[1], KEYS[2])
local all = redis.call("HGETALL", KEYS[1])
if count == 0 then return cmsgpack.pack({STATUS.OK, table.concat(all, "\n")}) end
local selectors = {}
for i = 1, count do
  local needles = {}
  for needle in string.gmatch(ARGV[1 + i], "[^%z]+") do needles[#needles + 1] = needle end
  selectors[i] = needles
end
local kept = {}
for i = 1, #all, 2 do
  local field = all[i]
  local keep = string.byte(field, 1) == 126 -- "~": a status field
  for s = 1, #selectors do
    if keep then break end
    local needles = selectors[s]
    keep = true
    -- The first "|<type>|" of a field is its type (day and version are base 36, no "|"); tags come last.
    for n = 1, #needles do
      if not string.find(field, needles[n], 1, true) then keep = false break end
    end
  end
  if keep then
    kept[#kept + 1] = field
    kept[#kept + 1] = all[i + 1]
  end
end
return cmsgpack.pack({STATUS.OK, table.concat(kept, "\n")})
