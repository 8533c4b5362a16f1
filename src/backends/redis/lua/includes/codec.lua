--[[
  Compact text encodings of per-subject state (mirrored in src/store/redis/state-codec.ts).
  Numbers inside composite values are base 36 (a ms timestamp is 8 chars instead of 13), sums carry
  no kind letter (the most common counter), and the other kinds start with an uppercase letter (not
  a base-36 digit). This keeps a subject with 20 counters and 10 awards under 1 KB of Redis memory.
    counter field <id>:  <value>,<at>                    (sum)
                         W<at>[,<n0>.<n1>...]            (window; ni = amount of day(at) - i, "" = 0)
                         D<value>,<at>,<mask>            (days; lastDay = day(at); mask bit i = day lastDay - i seen)
                         G<last>,<maxGap>,<maxGapAt>     (gap)
    award field !<code>: <earnedAt> (decimal)  or  <earnedAt>,<retroactive 0|1>,<claimedAt or empty>
]]
local DAY_MS = 86400000
local DAY_MASK_BITS = 53

local function fmtInt(n)
  return string.format("%.0f", n)
end

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

local function decodeCounter(raw)
  if not raw then return nil end
  local kind = string.sub(raw, 1, 1)
  if kind == "D" then
    local v, at, m = string.match(raw, "^D([^,]+),([^,]+),([^,]+)$")
    at = dec36(at)
    return {k = "d", v = dec36(v), ld = dayOf(at), at = at, m = dec36(m)}
  elseif kind == "G" then
    local last, mg, mga = string.match(raw, "^G([^,]+),([^,]+),([^,]+)$")
    return {k = "g", last = dec36(last), mg = dec36(mg), mga = dec36(mga)}
  elseif kind == "W" then
    local at, list = string.match(raw, "^W([^,]+),?(.*)$")
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
  local comma = string.find(raw, ",", 1, true)
  if not comma then return nil end
  return {k = "s", v = tonumber(string.sub(raw, 1, comma - 1), 36), at = tonumber(string.sub(raw, comma + 1), 36)}
end

local function encodeCounter(s)
  if s.k == "s" then
    return enc36(s.v) .. "," .. enc36(s.at)
  elseif s.k == "d" then
    return "D" .. enc36(s.v) .. "," .. enc36(s.at) .. "," .. enc36(s.m)
  elseif s.k == "g" then
    return "G" .. enc36(s.last) .. "," .. enc36(s.mg) .. "," .. enc36(s.mga)
  end
  local ref = dayOf(s.at)
  local oldest = ref
  for d in pairs(s.b) do if d < oldest then oldest = d end end
  local parts = {}
  for d = ref, oldest, -1 do
    local n = s.b[d]
    if n then parts[#parts + 1] = enc36(n) else parts[#parts + 1] = "" end
  end
  if next(s.b) == nil then return "W" .. enc36(s.at) end
  return "W" .. enc36(s.at) .. "," .. table.concat(parts, ".")
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
