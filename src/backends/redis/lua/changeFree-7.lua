--[[
  acquire / consume: adds to or takes from a subject's free quantity of an item, idempotently.
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
    ARGV[8] direction: 1 acquire, -1 consume
    ARGV[9] request fingerprint (JSON)

  Output: msgpack
    { 0|1 replayed, balances, expiredHolds }   balances = { {subject, item, free, held} }
    { -2 INSUFFICIENT | -3 IDEMPOTENCY_CONFLICT | -10 INVALID_QUANTITY | -1 | -9, message, expiredHolds }
]]
--- @include "includes/ledger"
--- @include "includes/idempotency"

local ledger, refusal = openLedger(KEYS, ARGV)
if not ledger then return refusal end
local item, direction, fingerprint = ARGV[6], tonumber(ARGV[8]), ARGV[9]
local quantity = parseQuantity(ARGV[7])
if not quantity then return fail(STATUS.INVALID_QUANTITY, "quantity must be a positive safe integer") end
if not item or item == "" or (direction ~= 1 and direction ~= -1) or not fingerprint then
  return fail(STATUS.INVALID_INPUT, "changeFree needs ARGV item, direction 1|-1 and fingerprint")
end
refusal = restoreRefusal(ARGV[5], {ledger})
if refusal then return refusal end

local expired = expireLedgerHolds(ledger)
local stored = readIdempotency(KEYS[7], fingerprint, ledger.now)
if stored == false then return fail(STATUS.IDEMPOTENCY_CONFLICT, "idempotency key was used for another request", expired) end
if stored then return cmsgpack.pack({STATUS.REPLAYED, stored[1], expired}) end

local free, held = readBalance(ledger.balKey, item)
if direction < 0 and free < quantity then
  return fail(STATUS.INSUFFICIENT, "free " .. fmtInt(free) .. " < requested " .. fmtInt(quantity), expired)
end
-- Free + held stays at most MAX_SAFE, so a hold can always return to free.
if direction > 0 and free + held + quantity > MAX_SAFE then
  return fail(STATUS.INVALID_QUANTITY, "acquiring " .. fmtInt(quantity) .. " would exceed the largest safe integer balance", expired)
end
free = free + direction * quantity
writeBalance(ledger.balKey, item, free, held)
touchSubject(ledger.stateKey, ledger.dirtyKey, ledger.subject)
local balances = {balanceReply(ledger.subject, item, free, held)}
writeIdempotency(KEYS[7], fingerprint, {balances}, ledger.now, ledger.retentionMs)
return cmsgpack.pack({STATUS.OK, balances, expired})
