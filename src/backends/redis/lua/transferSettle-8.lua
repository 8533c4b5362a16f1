--[[
  transferSettle: the last step of a transfer between two shards, on the sender's shard. Credited: the
  escrow is closed and the receipt kept under the transfer's idempotency key (a retry replays it).
  Refused: the escrowed quantity goes back to the sender's free balance and the escrow is closed (a
  retry runs the transfer anew). An escrow already closed (or of another saga) is left alone: the reply
  says what the idempotency record holds.

  Input:
    KEYS[1] from: state hash (restore marker)
    KEYS[2] from: balances hash
    KEYS[3] from: holds hash
    KEYS[4] from: hold timers zset
    KEYS[5] from: dirty set of the shard
    KEYS[6] from: hold expiry index of the shard
    KEYS[7] idempotency record of (from, key)
    KEYS[8] the shard's escrow hash
    ARGV[1] from (the sender)
    ARGV[2] caller now (ms)
    ARGV[3] use server time 0|1
    ARGV[4] retention ms (idempotency records, settled holds)
    ARGV[5] escrow field
    ARGV[6] saga id
    ARGV[7] credit outcome status (0, or the refusal's)
    ARGV[8] msgpack: the receiver's balance (credited) or the refusal's message
    ARGV[9] request fingerprint (JSON)

  Output: msgpack
    { 0, balances (from, then to) }          credited and settled now
    { 1 REPLAYED, balances or false }         settled before (false: refused, and the key is free again)
    { status < 0, message, balances (from) }  refused: the quantity is back with the sender
]]
--- @include "includes/ledger"
--- @include "includes/idempotency"

local from, refusal = openLedger(KEYS, ARGV)
if not from then return refusal end
local field, sagaId, status, detail, fingerprint = ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8], ARGV[9]
if not field or not sagaId or not status or not detail or not fingerprint then
  return fail(STATUS.INVALID_INPUT, "transferSettle needs ARGV escrow field, saga id, outcome status, detail, fingerprint")
end
local open = redis.call("HGET", KEYS[8], field)
local escrow = open and cmsgpack.unpack(open)
if not escrow or escrow.sagaId ~= sagaId then
  local stored = readIdempotency(KEYS[7], fingerprint, from.now)
  return cmsgpack.pack({STATUS.REPLAYED, stored and stored[1] or false})
end
redis.call("HDEL", KEYS[8], field)
local free, held = readBalance(from.balKey, escrow.item)
if status == STATUS.OK then
  local balances = {balanceReply(from.subject, escrow.item, free, held), cmsgpack.unpack(detail)}
  writeIdempotency(KEYS[7], escrow.fingerprint, {balances}, from.now, from.retentionMs)
  return cmsgpack.pack({STATUS.OK, balances})
end
-- Back to the sender, unchecked: the quantity is never destroyed (only credits to the sender since the
-- debit could take it past the largest safe balance).
writeBalance(from.balKey, escrow.item, free + escrow.quantity, held)
touchSubject(from.stateKey, from.dirtyKey, from.subject)
return cmsgpack.pack({status, cmsgpack.unpack(detail), {balanceReply(from.subject, escrow.item, free + escrow.quantity, held)}})
