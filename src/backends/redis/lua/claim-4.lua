--[[
  claim: completed -> claimed plus the reward grant into the subject's free balances, in one step,
  idempotently (claim keys share the namespace of ledger keys per subject).

  Input:
    KEYS[1] state hash (awards)   KEYS[2] balances hash   KEYS[3] idempotency record of (subject, key)
    KEYS[4] dirty set
    ARGV[1] subject   ARGV[2] milestone code   ARGV[3] fingerprint   ARGV[4] now (ms)
    ARGV[5] retention ms   ARGV[6] check restore 0|1
    ARGV[7..] rewards as pairs: item, quantity, item, quantity, ...

  Output: msgpack
    { 0|1 replayed, claimedAt, balances }   balances of the rewarded items after the grant
    { -7 NOT_COMPLETED | -8 ALREADY_CLAIMED | -3 IDEMPOTENCY_CONFLICT | -1 | -9, message }
]]
--- @include "includes/status"
--- @include "includes/codec"
--- @include "includes/balances"
--- @include "includes/subject"
--- @include "includes/idempotency"

local subject, code, fingerprint = ARGV[1], ARGV[2], ARGV[3]
local now, retentionMs = tonumber(ARGV[4]), tonumber(ARGV[5])
if not subject or subject == "" or not code or code == "" or not fingerprint or not now or not retentionMs
  or (#ARGV - 6) % 2 ~= 0 then
  return fail(STATUS.INVALID_INPUT, "claim needs ARGV subject, code, fingerprint, now, retention, restore flag, item/quantity pairs")
end
local rewards = {}
for i = 7, #ARGV, 2 do
  local q = tonumber(ARGV[i + 1])
  if ARGV[i] == "" or not q or q <= 0 or q ~= math.floor(q) then
    return fail(STATUS.INVALID_QUANTITY, "reward " .. ARGV[i] .. " needs a positive integer quantity")
  end
  rewards[#rewards + 1] = {ARGV[i], q}
end
if needsRestore(ARGV[6], KEYS[1]) then return fail(STATUS.RESTORE_NEEDED, "subject needs its snapshot restored", {subject}) end

local stored = readIdempotency(KEYS[3], fingerprint, now)
if stored == false then return fail(STATUS.IDEMPOTENCY_CONFLICT, "idempotency key was used for another request") end
if stored then return cmsgpack.pack({STATUS.REPLAYED, stored[1], stored[2]}) end

local award = decodeAward(redis.call("HGET", KEYS[1], "!" .. code))
if not award then return fail(STATUS.NOT_COMPLETED, "milestone not completed") end
if award[3] >= 0 then return fail(STATUS.ALREADY_CLAIMED, "milestone already claimed", {award[3]}) end

award[3] = now
redis.call("HSET", KEYS[1], "!" .. code, encodeAward(award))
local balances, seen = {}, {}
for _, reward in ipairs(rewards) do
  redis.call("HINCRBY", KEYS[2], "f:" .. reward[1], fmtInt(reward[2]))
end
for _, reward in ipairs(rewards) do
  if not seen[reward[1]] then
    seen[reward[1]] = true
    local free, held = readBalance(KEYS[2], reward[1])
    balances[#balances + 1] = balanceReply(subject, reward[1], free, held)
  end
end
touchSubject(KEYS[1], KEYS[4], subject)
writeIdempotency(KEYS[3], fingerprint, {now, balances}, now, retentionMs)
return cmsgpack.pack({STATUS.OK, now, balances})
