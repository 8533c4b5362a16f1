--[[
  claim: completed -> claimed plus the reward grant into the subject's free balances, in one step,
  idempotently (claim keys share the namespace of ledger keys per subject), counted in the milestone
  stats in the same step (a replay counts nothing). Every refusal,
  including a reward that would take a balance past the largest safe integer, is decided before
  the first write.

  Input:
    KEYS[1] state hash (awards, restore marker)
    KEYS[2] balances hash
    KEYS[3] idempotency record of (subject, key)
    KEYS[4] dirty set
    KEYS[5] milestone stats hash
    ARGV[1] subject
    ARGV[2] milestone code
    ARGV[3] request fingerprint (JSON)
    ARGV[4] now (ms)
    ARGV[5] retention ms (idempotency records)
    ARGV[6] check restore marker 0|1
    ARGV[7..] rewards as pairs: item, quantity, item, quantity, ...

  Output: msgpack
    { 0|1 replayed, claimedAt, balances }   balances of the rewarded items after the grant
    { -7 NOT_COMPLETED | -8 ALREADY_CLAIMED | -3 IDEMPOTENCY_CONFLICT | -10 INVALID_QUANTITY | -1 | -9, message }
]]
--- @include "includes/status"
--- @include "includes/integers"
--- @include "includes/codec"
--- @include "includes/balances"
--- @include "includes/subject"
--- @include "includes/idempotency"
--- @include "includes/milestone-stats"

local stateKey, balKey, idemKey, dirtyKey, statsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local subject, code, fingerprint = ARGV[1], ARGV[2], ARGV[3]
local now, retentionMs = tonumber(ARGV[4]), tonumber(ARGV[5])
if not subject or subject == "" or not code or code == "" or not fingerprint or not now or not retentionMs
  or (#ARGV - 6) % 2 ~= 0 then
  return fail(STATUS.INVALID_INPUT, "claim needs ARGV subject, code, fingerprint, now, retention, restore flag, item/quantity pairs")
end
-- The rewards, summed per item in order of first appearance.
local items, totals = {}, {}
for i = 7, #ARGV, 2 do
  local item, quantity = ARGV[i], parseQuantity(ARGV[i + 1])
  if item == "" or not quantity then
    return fail(STATUS.INVALID_QUANTITY, "reward " .. item .. " needs a positive safe integer quantity")
  end
  if not totals[item] then items[#items + 1] = item; totals[item] = 0 end
  totals[item] = totals[item] + quantity
end
if needsRestore(ARGV[6], stateKey) then return fail(STATUS.RESTORE_NEEDED, "subject needs its snapshot restored", {subject}) end

local stored = readIdempotency(idemKey, fingerprint, now)
if stored == false then return fail(STATUS.IDEMPOTENCY_CONFLICT, "idempotency key was used for another request") end
if stored then return cmsgpack.pack({STATUS.REPLAYED, stored[1], stored[2]}) end

local award = decodeAward(redis.call("HGET", stateKey, "!" .. code))
if not award then return fail(STATUS.NOT_COMPLETED, "milestone not completed") end
if award[3] >= 0 then return fail(STATUS.ALREADY_CLAIMED, "milestone already claimed", {award[3]}) end

local balances = {}
for _, item in ipairs(items) do
  local free, held = readBalance(balKey, item)
  if free + held + totals[item] > MAX_SAFE then
    return fail(STATUS.INVALID_QUANTITY, "reward " .. item .. " would exceed the largest safe integer balance")
  end
  balances[#balances + 1] = balanceReply(subject, item, free + totals[item], held)
end

award[3] = now
redis.call("HSET", stateKey, "!" .. code, encodeAward(award))
for _, balance in ipairs(balances) do writeBalance(balKey, balance[2], balance[3], balance[4]) end
touchSubject(stateKey, dirtyKey, subject)
countMilestone(statsKey, code, 0, 1)
writeIdempotency(idemKey, fingerprint, {now, balances}, now, retentionMs)
return cmsgpack.pack({STATUS.OK, now, balances})
