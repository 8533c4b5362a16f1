--[[
  transferDebit: the second step of a transfer between two shards, on the sender's shard. Either
  answers the transfer from its idempotency record (done before: REPLAYED), or finds its escrow (in
  flight: the caller continues with it), or refuses it as a one-shard transfer would (the receiver's
  facts come from transferPrepare), or moves the quantity from the sender's free balance into a new
  escrow. Conservation: free + held over every subject, plus the escrows not credited yet, never changes.

  Input:
    KEYS[1] from: state hash (restore marker)
    KEYS[2] from: balances hash
    KEYS[3] from: holds hash
    KEYS[4] from: hold timers zset
    KEYS[5] from: dirty set of the shard
    KEYS[6] from: hold expiry index of the shard
    KEYS[7] idempotency record of (from, key)
    KEYS[8] the shard's escrow hash (includes/transfer.lua)
    ARGV[1] from (the sender)
    ARGV[2] caller now (ms)
    ARGV[3] use server time 0|1
    ARGV[4] retention ms (idempotency records, settled holds)
    ARGV[5] check restore markers 0|1
    ARGV[6] to
    ARGV[7] item
    ARGV[8] quantity (positive safe integer)
    ARGV[9] request fingerprint (JSON)
    ARGV[10] allow a new receiver 0|1
    ARGV[11] receiver known 0|1 (transferPrepare)
    ARGV[12] receiver's total of the item (transferPrepare)
    ARGV[13] saga id for a new escrow
    ARGV[14] escrow field

  Output: msgpack
    { 1 REPLAYED, balances (from, then to), expiredHolds }
    { 0, balances (from), expiredHolds, escrow }   the escrow to continue with (new or found)
    { -2 INSUFFICIENT | -3 IDEMPOTENCY_CONFLICT | -10 INVALID_QUANTITY | -12 UNKNOWN_SUBJECT | -1, message, expiredHolds }
]]
--- @include "includes/ledger"
--- @include "includes/idempotency"
--- @include "includes/transfer"

local from, refusal = openLedger(KEYS, ARGV)
if not from then return refusal end
local toSubject, item, fingerprint, allowNew, known = ARGV[6], ARGV[7], ARGV[9], ARGV[10], ARGV[11]
local quantity, receiverTotal, sagaId, field = parseQuantity(ARGV[8]), tonumber(ARGV[12]), ARGV[13], ARGV[14]
if not quantity then return fail(STATUS.INVALID_QUANTITY, "quantity must be a positive safe integer") end
if not toSubject or toSubject == "" or toSubject == from.subject or not item or item == "" or not fingerprint
  or (allowNew ~= "0" and allowNew ~= "1") or (known ~= "0" and known ~= "1") or not receiverTotal
  or not sagaId or sagaId == "" or not field or field == "" then
  return fail(STATUS.INVALID_INPUT, "transferDebit needs ARGV to, item, quantity, fingerprint, allowNew, known, receiver total, saga id, escrow field")
end
refusal = restoreRefusal(ARGV[5], {from})
if refusal then return refusal end

local expired = expireLedgerHolds(from)
local stored = readIdempotency(KEYS[7], fingerprint, from.now)
if stored == false then return fail(STATUS.IDEMPOTENCY_CONFLICT, "idempotency key was used for another request", expired) end
if stored then return cmsgpack.pack({STATUS.REPLAYED, stored[1], expired}) end

local open = redis.call("HGET", KEYS[8], field)
if open then
  local escrow = cmsgpack.unpack(open)
  if escrow.fingerprint ~= fingerprint then return fail(STATUS.IDEMPOTENCY_CONFLICT, "idempotency key was used for another request", expired) end
  local free, held = readBalance(from.balKey, item)
  return cmsgpack.pack({STATUS.OK, {balanceReply(from.subject, item, free, held)}, expired, escrow})
end

if allowNew == "0" and known == "0" then return fail(STATUS.UNKNOWN_SUBJECT, unknownReceiverMessage(toSubject), expired) end
local free, held = readBalance(from.balKey, item)
if free < quantity then
  return fail(STATUS.INSUFFICIENT, "free " .. fmtInt(free) .. " < requested " .. fmtInt(quantity), expired)
end
if receiverTotal + quantity > MAX_SAFE then return fail(STATUS.INVALID_QUANTITY, overflowMessage(toSubject), expired) end
writeBalance(from.balKey, item, free - quantity, held)
touchSubject(from.stateKey, from.dirtyKey, from.subject)
local escrow = {sagaId = sagaId, to = toSubject, item = item, quantity = quantity, allowNew = allowNew, createdAt = from.now, fingerprint = fingerprint}
redis.call("HSET", KEYS[8], field, cmsgpack.pack(escrow))
return cmsgpack.pack({STATUS.OK, {balanceReply(from.subject, item, free - quantity, held)}, expired, escrow})
