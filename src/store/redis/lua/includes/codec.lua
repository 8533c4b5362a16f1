--[[
  Compact text encodings of per-subject state (mirrored in src/store/redis/state-codec.ts).
  Numbers inside composite values are base 36 (a ms timestamp is 8 chars instead of 13), which
  keeps a subject with 20 counters and 10 awards under 1 KB of Redis memory.
    counter field <id>:  s<value>,<at>                   (sum)
                         w<at>[,<dayOffset>:<amount>]... (window; offset = day(at) - bucket day)
                         d<value>,<lastDay>,<at>,<mask>  (days; mask bit i = day lastDay - i seen)
                         g<last>,<maxGap>,<maxGapAt>     (gap)
    award field !<code>: <earnedAt> (decimal)  or  <earnedAt>,<retroactive 0|1>,<claimedAt or empty>
]]
local DAY_MS = 86400000
local DAY_MASK_BITS = 53
local B36 = "0123456789abcdefghijklmnopqrstuvwxyz"

local function fmtInt(n)
  return string.format("%.0f", n)
end

local function enc36(n)
  if n == 0 then return "0" end
  local negative = n < 0
  if negative then n = -n end
  local digits = {}
  while n > 0 do
    local r = n % 36
    table.insert(digits, 1, string.sub(B36, r + 1, r + 1))
    n = (n - r) / 36
  end
  local s = table.concat(digits)
  if negative then return "-" .. s end
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
  if kind == "s" then
    local v, at = string.match(raw, "^s([^,]+),([^,]+)$")
    return {k = "s", v = dec36(v), at = dec36(at)}
  elseif kind == "d" then
    local v, ld, at, m = string.match(raw, "^d([^,]+),([^,]+),([^,]+),([^,]+)$")
    return {k = "d", v = dec36(v), ld = dec36(ld), at = dec36(at), m = dec36(m)}
  elseif kind == "g" then
    local last, mg, mga = string.match(raw, "^g([^,]+),([^,]+),([^,]+)$")
    return {k = "g", last = dec36(last), mg = dec36(mg), mga = dec36(mga)}
  elseif kind == "w" then
    local at = nil
    local buckets = {}
    for part in string.gmatch(string.sub(raw, 2), "[^,]+") do
      if not at then
        at = dec36(part)
      else
        local off, n = string.match(part, "^([^:]+):(.+)$")
        buckets[dayOf(at) - dec36(off)] = dec36(n)
      end
    end
    return {k = "w", at = at, b = buckets}
  end
  return nil
end

local function encodeCounter(s)
  if s.k == "s" then
    return "s" .. enc36(s.v) .. "," .. enc36(s.at)
  elseif s.k == "d" then
    return "d" .. enc36(s.v) .. "," .. enc36(s.ld) .. "," .. enc36(s.at) .. "," .. enc36(s.m)
  elseif s.k == "g" then
    return "g" .. enc36(s.last) .. "," .. enc36(s.mg) .. "," .. enc36(s.mga)
  end
  local ref = dayOf(s.at)
  local days = {}
  for d in pairs(s.b) do days[#days + 1] = d end
  table.sort(days)
  local parts = {"w" .. enc36(s.at)}
  for i = 1, #days do
    parts[#parts + 1] = enc36(ref - days[i]) .. ":" .. enc36(s.b[days[i]])
  end
  return table.concat(parts, ",")
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
