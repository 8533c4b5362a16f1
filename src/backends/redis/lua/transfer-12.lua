--[[
  transfer: moves free quantity from one subject to another atomically, idempotently (the key is
  scoped to `from`). Both subjects' restore markers are checked before anything is written, then
  both subjects' due holds are expired lazily. A receiver this store has never seen (none of its
  balances, holds, history or state but the restore marker) is refused with UNKNOWN_SUBJECT unless
  the caller allows a new receiver (a gift to a new player). Both subjects' keys are in KEYS: the two
  must be of one shard (always, on a single Redis); between two shards of a Cluster the transfer runs
  as a saga instead (transferPrepare, transferDebit, transferCredit, transferSettle).

  Input:
    KEYS[1]  from: state hash (restore marker)
    KEYS[2]  from: balances hash
    KEYS[3]  from: holds hash
    KEYS[4]  from: hold timers zset
    KEYS[5]  dirty set of the shard
    KEYS[6]  hold expiry index of the shard
    KEYS[7]  idempotency record of (from, key)
    KEYS[8]  to: state hash (restore marker)
    KEYS[9]  to: balances hash
    KEYS[10] to: holds hash
    KEYS[11] to: hold timers zset
    KEYS[12] to: history hash
    ARGV[1] from
    ARGV[2] caller now (ms)
    ARGV[3] use server time 0|1
    ARGV[4] retention ms (idempotency records, settled holds)
    ARGV[5] check restore markers 0|1
    ARGV[6] to (not from)
    ARGV[7] item
    ARGV[8] quantity (positive safe integer)
    ARGV[9] request fingerprint (JSON)
    ARGV[10] allow a new receiver 0|1 (a permission, not part of the fingerprint)

  Output: msgpack
    { 0|1 replayed, balances (from, then to), expiredHolds (of both subjects) }
    { -9 RESTORE_NEEDED, message, subjects to restore }   nothing written
    { -2 INSUFFICIENT | -3 IDEMPOTENCY_CONFLICT | -10 INVALID_QUANTITY | -12 UNKNOWN_SUBJECT | -1, message, expiredHolds }
]]
--- @include "includes/ledger"
--- @include "includes/idempotency"
--- @include "includes/transfer"

local from, refusal = openLedger(KEYS, ARGV)
if not from then return refusal end
local toSubject, item, fingerprint, allowNew = ARGV[6], ARGV[7], ARGV[9], ARGV[10]
local quantity = parseQuantity(ARGV[8])
if not quantity then return fail(STATUS.INVALID_QUANTITY, "quantity must be a positive safe integer") end
if not toSubject or toSubject == "" or toSubject == from.subject or not item or item == "" or not fingerprint
  or (allowNew ~= "0" and allowNew ~= "1") then
  return fail(STATUS.INVALID_INPUT, "transfer needs ARGV a `to` other than `from`, item, fingerprint and allowNewReceiver 0|1")
end
local to = openSecondLedger(from, toSubject, KEYS[8], KEYS[9], KEYS[10], KEYS[11])
refusal = restoreRefusal(ARGV[5], {from, to})
if refusal then return refusal end

local expired = expireLedgerHolds(from)
for _, h in ipairs(expireLedgerHolds(to)) do expired[#expired + 1] = h end
local stored = readIdempotency(KEYS[7], fingerprint, from.now)
if stored == false then return fail(STATUS.IDEMPOTENCY_CONFLICT, "idempotency key was used for another request", expired) end
if stored then return cmsgpack.pack({STATUS.REPLAYED, stored[1], expired}) end

if allowNew == "0" and not subjectKnown(to, KEYS[12]) then
  return fail(STATUS.UNKNOWN_SUBJECT, unknownReceiverMessage(to.subject), expired)
end

local free, held = readBalance(from.balKey, item)
if free < quantity then
  return fail(STATUS.INSUFFICIENT, "free " .. fmtInt(free) .. " < requested " .. fmtInt(quantity), expired)
end
local toFree, toHeld = readBalance(to.balKey, item)
if toFree + toHeld + quantity > MAX_SAFE then
  return fail(STATUS.INVALID_QUANTITY, overflowMessage(to.subject), expired)
end
writeBalance(from.balKey, item, free - quantity, held)
writeBalance(to.balKey, item, toFree + quantity, toHeld)
touchSubject(from.stateKey, from.dirtyKey, from.subject)
touchSubject(to.stateKey, to.dirtyKey, to.subject)
local balances = {balanceReply(from.subject, item, free - quantity, held), balanceReply(to.subject, item, toFree + quantity, toHeld)}
writeIdempotency(KEYS[7], fingerprint, {balances}, from.now, from.retentionMs)
return cmsgpack.pack({STATUS.OK, balances, expired})
