--[[
  The autoClaim grants of one subject's new awards (applyBatch, seed): rewards are staged against the
  free balances, read once per item, and written together at the end. A grant that would take a
  balance past the largest safe integer is refused whole and stages nothing (the award stays claimable).
]]
--- @include "includes/integers"
--- @include "includes/balances"

local function newGrants(balKey)
  local staged, order = {}, {}
  local grants = {}

  -- Stages `rewards` ({ {item, quantity}, ... }); false when an item's free + held would pass MAX_SAFE
  -- (the ledger keeps that sum below it, so a hold can always return to free).
  function grants.stage(rewards)
    local after = {}
    for _, reward in ipairs(rewards) do
      local item = reward[1]
      local free = after[item] or staged[item]
      if free == nil then free = tonumber(redis.call("HGET", balKey, "f:" .. item)) or 0 end
      free = free + reward[2]
      if free + (tonumber(redis.call("HGET", balKey, "h:" .. item)) or 0) > MAX_SAFE then return false end
      after[item] = free
    end
    for item, free in pairs(after) do
      if staged[item] == nil then order[#order + 1] = item end
      staged[item] = free
    end
    return true
  end

  -- Writes the staged balances; returns them flat: { item, free, held, ... }.
  function grants.write()
    local balances = {}
    for _, item in ipairs(order) do
      redis.call("HSET", balKey, "f:" .. item, fmtInt(staged[item]))
      local free, held = readBalance(balKey, item)
      local n = #balances
      balances[n + 1], balances[n + 2], balances[n + 3] = item, free, held
    end
    return balances
  end

  return grants
end
