--[[
  Per-subject bookkeeping shared by every writing script: the restore marker (field "~" in the
  state hash: this Redis holds the subject's state, so no snapshot must be loaded) and dirty marking.
]]
local function needsRestore(checkRestore, stateKey)
  return checkRestore == "1" and redis.call("HEXISTS", stateKey, "~") == 0
end

local function touchSubject(stateKey, dirtyKey, subject)
  redis.call("HSET", stateKey, "~", "1")
  redis.call("SADD", dirtyKey, subject)
end
