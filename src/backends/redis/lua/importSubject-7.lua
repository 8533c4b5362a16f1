--[[
  Installs a subject's snapshot if this Redis holds no state for it (no marker, no batch ring), so a
  restore racing with another process, or repeated, is harmless. Values arrive already encoded
  (src/backends/redis/state-codec.ts). A restored subject is not marked dirty: its state is the
  snapshot's. Its awards are counted in the milestone stats once, as it is installed: a Redis that
  needs restores lost its stats with the subjects.

  Input:
    KEYS[1] state hash
    KEYS[2] balances hash
    KEYS[3] holds hash
    KEYS[4] hold timers zset
    KEYS[5] global hold expiry index
    KEYS[6] history hash (only "~h" is restored: the rollups stay in the archive)
    KEYS[7] milestone stats hash
    ARGV[1] msgpack { stateFields, balanceFields, holds, historyCompleteFor or "" }
            stateFields / balanceFields = { field, value, field, value, ... }
            holds = { {holdId, encoded, expiresAt}, ... } (open holds only)

  Output: msgpack
    { 0, installed 0|1 }
    { -1, message }
]]
--- @include "includes/status"
--- @include "includes/integers"
--- @include "includes/subject"
--- @include "includes/milestone-stats"

local decoded, snap = pcall(cmsgpack.unpack, ARGV[1] or "")
if not decoded or type(snap) ~= "table" or type(snap[1]) ~= "table" or type(snap[2]) ~= "table" or type(snap[3]) ~= "table" then
  return fail(STATUS.INVALID_INPUT, "ARGV[1] must be a msgpack [stateFields, balanceFields, holds]")
end
if hasSubjectState(KEYS[1]) then return cmsgpack.pack({STATUS.OK, 0}) end

redis.call("HSET", KEYS[1], "~", "1", unpack(snap[1]))
if #snap[2] > 0 then redis.call("HSET", KEYS[2], unpack(snap[2])) end
if type(snap[4]) == "string" and snap[4] ~= "" then redis.call("HSETNX", KEYS[6], "~h", snap[4]) end
for _, h in ipairs(snap[3]) do
  redis.call("HSET", KEYS[3], h[1], h[2])
  redis.call("ZADD", KEYS[4], fmtInt(h[3]), h[1])
  redis.call("ZADD", KEYS[5], fmtInt(h[3]), h[1])
end
countStoredAwards(KEYS[7], snap[1], 1)
return cmsgpack.pack({STATUS.OK, 1})
