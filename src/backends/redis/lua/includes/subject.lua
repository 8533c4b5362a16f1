--[[
  Per-subject bookkeeping shared by every writing script: the restore marker and dirty marking.
  This Redis holds a subject's state (no snapshot must be loaded) when its state hash has the batch
  ring "~b" (written by every apply) or the marker "~" (written by everything else, and by restore).
]]
local function hasSubjectState(stateKey)
  local present = redis.call("HMGET", stateKey, "~", "~b")
  return present[1] ~= false or present[2] ~= false
end

local function needsRestore(checkRestore, stateKey)
  return checkRestore == "1" and not hasSubjectState(stateKey)
end

local function touchSubject(stateKey, dirtyKey, subject)
  redis.call("HSET", stateKey, "~", "1")
  redis.call("SADD", dirtyKey, subject)
end
