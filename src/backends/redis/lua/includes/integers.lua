--[[
  Integers as scripts store and check them. Redis hashes hold text, and Lua numbers are doubles:
  every quantity and balance stays within the largest safe integer, so the TypeScript side reads
  it back exactly.
]]
local MAX_SAFE = 9007199254740991

-- An integer as decimal text without an exponent (tostring would write 1e+15).
local function fmtInt(n)
  return string.format("%.0f", n)
end

-- A positive safe integer from an argument, or nil.
local function parseQuantity(raw)
  local q = tonumber(raw)
  if not q or q <= 0 or q ~= math.floor(q) or q > MAX_SAFE then return nil end
  return q
end
