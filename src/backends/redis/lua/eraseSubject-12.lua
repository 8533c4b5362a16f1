--[[
  Erases everything this Redis holds for one subject (a deletion request): state, event ids, balances,
  holds and their timers, history and its log, the apply outbox, and its entries in the dirty set and the hold expiry index;
  its awards and claims are taken out of the milestone stats, and it and its awards out of the rarity counts,
  in the same step. Its
  idempotency records are separate keys, deleted by the caller (SCAN of the subject's key pattern).

  Input:
    KEYS[1] state hash
    KEYS[2] event-id zset
    KEYS[3] balances hash
    KEYS[4] holds hash
    KEYS[5] hold timers zset
    KEYS[6] history hash
    KEYS[7] dirty set
    KEYS[8] global hold expiry index
    KEYS[9] history log
    KEYS[10] milestone stats hash
    KEYS[11] apply outbox hash
    KEYS[12] rarity counts hash (includes/rarity.lua)
    ARGV[1] subject

  Output: msgpack { 0, keys deleted }  or  { -1, message }
]]
--- @include "includes/status"
--- @include "includes/milestone-stats"
--- @include "includes/rarity"

local subject = ARGV[1]
if not subject or subject == "" then return fail(STATUS.INVALID_INPUT, "eraseSubject needs ARGV[1] subject") end
local holdIds = redis.call("HKEYS", KEYS[4])
for i = 1, #holdIds, 500 do
  redis.call("ZREM", KEYS[8], unpack(holdIds, i, math.min(i + 499, #holdIds)))
end
redis.call("SREM", KEYS[7], subject)
local state = redis.call("HGETALL", KEYS[1])
countStoredAwards(KEYS[10], state, -1)
forgetActivity(KEYS[12], state)
local deleted = redis.call("DEL", KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[9], KEYS[11])
return cmsgpack.pack({STATUS.OK, deleted})
