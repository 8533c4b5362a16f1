--[[
  The time a ledger script decides expiry with: Redis server time (TIME) when the caller asks for
  it, otherwise the `now` the caller passed (tests with a fake clock).
]]
local function resolveNow(useServerTime, callerNow)
  if useServerTime == "1" then
    local t = redis.call("TIME")
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return tonumber(callerNow)
end
