--[[
  Balances hash of one subject: field f:<item> = free, h:<item> = held; zero fields are deleted
  (only non-zero balances exist).
]]
--- @include "includes/integers"

local function readBalance(balKey, item)
  local v = redis.call("HMGET", balKey, "f:" .. item, "h:" .. item)
  return tonumber(v[1]) or 0, tonumber(v[2]) or 0
end

local function writeBalance(balKey, item, free, held)
  if free == 0 then redis.call("HDEL", balKey, "f:" .. item) else redis.call("HSET", balKey, "f:" .. item, fmtInt(free)) end
  if held == 0 then redis.call("HDEL", balKey, "h:" .. item) else redis.call("HSET", balKey, "h:" .. item, fmtInt(held)) end
end

local function balanceReply(subject, item, free, held)
  return {subject, item, free, held}
end
