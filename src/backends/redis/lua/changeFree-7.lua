--[[
  acquire / consume: adds to or takes from a subject's free quantity of an item, idempotently.
  Lazily expires the subject's due holds first.

  Input:
    KEYS[1] state hash (restore marker)   KEYS[2] balances hash   KEYS[3] holds hash
    KEYS[4] hold timers zset              KEYS[5] dirty set       KEYS[6] global hold expiry index
    KEYS[7] idempotency record of (subject, key)
    ARGV[1] subject      ARGV[2] item          ARGV[3] quantity (positive integer)
    ARGV[4] request fingerprint (JSON)         ARGV[5] caller now (ms)
    ARGV[6] use server time 0|1                ARGV[7] retention ms (idempotency, settled holds)
    ARGV[8] check restore marker 0|1           ARGV[9] direction: 1 acquire, -1 consume

  Output: msgpack
    { 0|1 replayed, balances, expiredHolds }   balances = { {subject, item, free, held} }
    { -2 INSUFFICIENT | -3 IDEMPOTENCY_CONFLICT | -10 INVALID_QUANTITY | -1 | -9, message, expiredHolds }
]]
--- @include "includes/status"
--- @include "includes/codec"
--- @include "includes/clock"
--- @include "includes/balances"
--- @include "includes/holds"
--- @include "includes/subject"
--- @include "includes/idempotency"
--- @include "includes/ledgerPrelude"

if preludeError then return preludeError end
local item, fingerprint, direction = ARGV[2], ARGV[4], tonumber(ARGV[9])
local quantity = parseQuantity(ARGV[3])
if not quantity then return fail(STATUS.INVALID_QUANTITY, "quantity must be a positive safe integer", expired) end
if not item or item == "" or not fingerprint or (direction ~= 1 and direction ~= -1) then
  return fail(STATUS.INVALID_INPUT, "changeFree needs ARGV item, fingerprint and direction 1|-1", expired)
end

local stored = readIdempotency(KEYS[7], fingerprint, now)
if stored == false then return fail(STATUS.IDEMPOTENCY_CONFLICT, "idempotency key was used for another request", expired) end
if stored then return cmsgpack.pack({STATUS.REPLAYED, stored[1], expired}) end

local free, held = readBalance(balKey, item)
if direction < 0 and free < quantity then
  return fail(STATUS.INSUFFICIENT, "free " .. fmtInt(free) .. " < requested " .. fmtInt(quantity), expired)
end
if direction > 0 and free + quantity > MAX_SAFE then
  return fail(STATUS.INVALID_QUANTITY, "acquiring " .. fmtInt(quantity) .. " would exceed the largest safe integer balance", expired)
end
free = free + direction * quantity
writeBalance(balKey, item, free, held)
touchSubject(stateKey, dirtyKey, subject)
local balances = {balanceReply(subject, item, free, held)}
writeIdempotency(KEYS[7], fingerprint, {balances}, now, retentionMs)
return cmsgpack.pack({STATUS.OK, balances, expired})
