--[[
  hold: moves quantity from free to held until commit, release or expiry (now + ttl), idempotently.
  Lazily expires the subject's due holds first.

  Input:
    KEYS[1] state hash (restore marker)
    KEYS[2] balances hash
    KEYS[3] holds hash
    KEYS[4] hold timers zset
    KEYS[5] dirty set
    KEYS[6] global hold expiry index
    KEYS[7] idempotency record of (subject, key)
    ARGV[1] subject
    ARGV[2] caller now (ms)
    ARGV[3] use server time 0|1
    ARGV[4] retention ms (idempotency records, settled holds)
    ARGV[5] check restore marker 0|1
    ARGV[6] item
    ARGV[7] quantity (positive safe integer)
    ARGV[8] ttl ms (positive integer)
    ARGV[9] new hold id (made by the caller; names the subject)
    ARGV[10] request fingerprint (JSON)

  Output: msgpack
    { 0|1 replayed, balances, expiredHolds, hold }
        hold = {holdId, subject, item, quantity, createdAt, expiresAt, state, settledAt or -1}
    { -2 INSUFFICIENT | -3 IDEMPOTENCY_CONFLICT | -10 INVALID_QUANTITY | -1 | -9, message, expiredHolds }
]]
--- @include "includes/ledger"
--- @include "includes/idempotency"

local ledger, refusal = openLedger(KEYS, ARGV)
if not ledger then return refusal end
local item, holdId, fingerprint = ARGV[6], ARGV[9], ARGV[10]
local quantity = parseQuantity(ARGV[7])
local ttl = parseQuantity(ARGV[8])
if not quantity then return fail(STATUS.INVALID_QUANTITY, "quantity must be a positive safe integer") end
if not item or item == "" or not ttl or not holdId or holdId == "" or not fingerprint then
  return fail(STATUS.INVALID_INPUT, "hold needs ARGV item, a positive ttl, a hold id and fingerprint")
end
refusal = restoreRefusal(ARGV[5], {ledger})
if refusal then return refusal end

local expired = expireLedgerHolds(ledger)
local stored = readIdempotency(KEYS[7], fingerprint, ledger.now)
if stored == false then return fail(STATUS.IDEMPOTENCY_CONFLICT, "idempotency key was used for another request", expired) end
if stored then return cmsgpack.pack({STATUS.REPLAYED, stored[1], expired, stored[2]}) end

local free, held = readBalance(ledger.balKey, item)
if free < quantity then
  return fail(STATUS.INSUFFICIENT, "free " .. fmtInt(free) .. " < requested " .. fmtInt(quantity), expired)
end
if held + quantity > MAX_SAFE then
  return fail(STATUS.INVALID_QUANTITY, "holding " .. fmtInt(quantity) .. " would take held " .. item .. " past the largest safe integer", expired)
end
free, held = free - quantity, held + quantity
writeBalance(ledger.balKey, item, free, held)
local now = ledger.now
local h = {id = holdId, qty = quantity, createdAt = now, expiresAt = now + ttl, state = "h", settledAt = -1, item = item}
redis.call("HSET", ledger.holdsKey, holdId, encodeHold(h))
redis.call("ZADD", ledger.timersKey, fmtInt(h.expiresAt), holdId)
redis.call("ZADD", ledger.indexKey, fmtInt(h.expiresAt), holdId)
touchSubject(ledger.stateKey, ledger.dirtyKey, ledger.subject)
local balances = {balanceReply(ledger.subject, item, free, held)}
local reply = holdReply(ledger.subject, h)
writeIdempotency(KEYS[7], fingerprint, {balances, reply}, now, ledger.retentionMs)
return cmsgpack.pack({STATUS.OK, balances, expired, reply})
