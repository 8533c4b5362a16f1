--[[
  transferCredit: the third step of a transfer between two shards, on the receiver's shard. Credits the
  escrowed quantity to the receiver, or refuses it (the receiver became unknown to the caller's
  permission, or would pass the largest safe balance since transferPrepare): either outcome is kept
  under the saga's id, so running this step again (a retry, or reconciliation after a crash) answers
  the same outcome and credits nothing twice.

  Input:
    KEYS[1] to: state hash (restore marker)
    KEYS[2] to: balances hash
    KEYS[3] to: holds hash
    KEYS[4] to: hold timers zset
    KEYS[5] to: dirty set of the shard
    KEYS[6] to: hold expiry index of the shard
    KEYS[7] to: history hash
    KEYS[8] the saga's credit record
    ARGV[1] to (the receiver)
    ARGV[2] caller now (ms)
    ARGV[3] use server time 0|1
    ARGV[4] retention ms (idempotency records, settled holds)
    ARGV[5] check restore markers 0|1
    ARGV[6] item
    ARGV[7] quantity
    ARGV[8] allow a new receiver 0|1

  Output: msgpack
    { 0, balance (to), expiredHolds }                 credited (now or before)
    { -10 INVALID_QUANTITY | -12 UNKNOWN_SUBJECT, message, expiredHolds }   refused (now or before)
    { -9 RESTORE_NEEDED, message, subjects to restore }   nothing written
]]
--- @include "includes/ledger"
--- @include "includes/transfer"

local to, refusal = openLedger(KEYS, ARGV)
if not to then return refusal end
local item, quantity, allowNew = ARGV[6], parseQuantity(ARGV[7]), ARGV[8]
if not item or item == "" or not quantity or (allowNew ~= "0" and allowNew ~= "1") then
  return fail(STATUS.INVALID_INPUT, "transferCredit needs ARGV item, quantity, allowNew")
end
local recorded = redis.call("GET", KEYS[8])
if recorded then
  local outcome = cmsgpack.unpack(recorded)
  return cmsgpack.pack({outcome[1], outcome[2], {}})
end
refusal = restoreRefusal(ARGV[5], {to})
if refusal then return refusal end

local expired = expireLedgerHolds(to)
local outcome
local free, held = readBalance(to.balKey, item)
if allowNew == "0" and not subjectKnown(to, KEYS[7]) then
  outcome = {STATUS.UNKNOWN_SUBJECT, unknownReceiverMessage(to.subject)}
elseif free + held + quantity > MAX_SAFE then
  outcome = {STATUS.INVALID_QUANTITY, overflowMessage(to.subject)}
else
  writeBalance(to.balKey, item, free + quantity, held)
  touchSubject(to.stateKey, to.dirtyKey, to.subject)
  outcome = {STATUS.OK, balanceReply(to.subject, item, free + quantity, held)}
end
redis.call("SET", KEYS[8], cmsgpack.pack(outcome), "PX", fmtInt(to.retentionMs))
return cmsgpack.pack({outcome[1], outcome[2], expired})
