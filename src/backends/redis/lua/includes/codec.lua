--[[
  Number and award encodings shared by the scripts (mirrored in src/backends/redis/state-codec.ts).
  Numbers inside composite values are base 36 (a ms timestamp is 8 chars instead of 13); each counter
  kind's text is in includes/counters/<kind>.lua. This keeps a subject with 20 counters and 10 awards
  under 1 KB of Redis memory.
    award field !<code>: <earnedAt> (decimal)  or  <earnedAt>,<retroactive 0|1>,<claimedAt or empty>
]]
--- @include "includes/integers"

local DAY_MS = 86400000

-- Base-36 digits as bytes, built right to left into a reused buffer (string.char is C; building
-- the string by concatenation costs several times more). Large values (timestamps) repeat within a
-- call (counters touched by the same event slot), so they are memoized per call.
local enc36Buffer, enc36Memo = {}, {}
local function enc36(n)
  if n < 36 and n >= 0 then
    if n < 10 then return string.char(48 + n) end
    return string.char(87 + n)
  end
  local memo = enc36Memo[n]
  if memo then return memo end
  local v, i = n, 15
  if v < 0 then v = -v end
  while v > 0 do
    local r = v % 36
    i = i - 1
    if r < 10 then enc36Buffer[i] = 48 + r else enc36Buffer[i] = 87 + r end
    v = (v - r) / 36
  end
  if n < 0 then i = i - 1; enc36Buffer[i] = 45 end -- "-"
  local s = string.char(unpack(enc36Buffer, i, 14))
  enc36Memo[n] = s
  return s
end

local function dec36(s)
  if string.sub(s, 1, 1) == "-" then return -tonumber(string.sub(s, 2), 36) end
  return tonumber(s, 36)
end

local function dayOf(t)
  return math.floor(t / DAY_MS)
end

-- award = {earnedAt, retroactive (0|1), claimedAt (or -1)}
local function decodeAward(raw)
  if not raw then return nil end
  local e, r, c = string.match(raw, "^([^,]+),([01]),(.*)$")
  if not e then return {tonumber(raw), 0, -1} end
  if c == "" then return {tonumber(e), tonumber(r), -1} end
  return {tonumber(e), tonumber(r), tonumber(c)}
end

local function encodeAward(a)
  if a[2] == 0 and a[3] < 0 then return fmtInt(a[1]) end
  if a[3] < 0 then return fmtInt(a[1]) .. "," .. a[2] .. "," end
  return fmtInt(a[1]) .. "," .. a[2] .. "," .. fmtInt(a[3])
end
