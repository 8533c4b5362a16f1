--[[
  transfer: moves free quantity from one subject to another atomically, idempotently (the key is
  scoped to `from`). Lazily expires due holds of both subjects first. Both subjects' keys are in
  KEYS, so on a Redis Cluster they would span two slots: the TypeScript side refuses that with
  UNSUPPORTED before calling (see docs/semantics.md, "Redis Cluster").

  Input:
    KEYS[1..6]  from: state hash, balances hash, holds hash, hold timers zset, dirty set, global hold index
    KEYS[7]     idempotency record of (from, key)
    KEYS[8..11] to: state hash, balances hash, holds hash, hold timers zset
    ARGV[1] from   ARGV[2] item   ARGV[3] quantity   ARGV[4] fingerprint   ARGV[5] caller now
    ARGV[6] use server time 0|1   ARGV[7] retention ms   ARGV[8] check restore 0|1   ARGV[9] to

  Output: msgpack
    { 0|1, balances (from, then to), expiredHolds (both subjects) }
    { -2 | -3 | -10 | -1 | -9, message, expiredHolds or subjects to restore }
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
local to, item, fingerprint = ARGV[9], ARGV[2], ARGV[4]
local toState, toBal, toHolds, toTimers = KEYS[8], KEYS[9], KEYS[10], KEYS[11]
if not to or to == "" or to == subject or not item or item == "" or not fingerprint then
  return fail(STATUS.INVALID_INPUT, "transfer needs ARGV item, fingerprint and a `to` other than `from`", expired)
end
if needsRestore(ARGV[8], toState) then return fail(STATUS.RESTORE_NEEDED, "subject needs its snapshot restored", {to}) end
local quantity = parseQuantity(ARGV[3])
if not quantity then return fail(STATUS.INVALID_QUANTITY, "quantity must be a positive safe integer", expired) end

local toExpired = expireDueHolds(to, toHolds, toTimers, indexKey, toBal, now, retentionMs, LAZY_EXPIRY_LIMIT)
if #toExpired > 0 then touchSubject(toState, dirtyKey, to) end
for _, h in ipairs(toExpired) do expired[#expired + 1] = h end

local stored = readIdempotency(KEYS[7], fingerprint, now)
if stored == false then return fail(STATUS.IDEMPOTENCY_CONFLICT, "idempotency key was used for another request", expired) end
if stored then return cmsgpack.pack({STATUS.REPLAYED, stored[1], expired}) end

local free, held = readBalance(balKey, item)
if free < quantity then
  return fail(STATUS.INSUFFICIENT, "free " .. fmtInt(free) .. " < requested " .. fmtInt(quantity), expired)
end
local toFree, toHeld = readBalance(toBal, item)
if toFree + quantity > MAX_SAFE then
  return fail(STATUS.INVALID_QUANTITY, "the transfer would exceed the largest safe integer balance of " .. to, expired)
end
writeBalance(balKey, item, free - quantity, held)
writeBalance(toBal, item, toFree + quantity, toHeld)
touchSubject(stateKey, dirtyKey, subject)
touchSubject(toState, dirtyKey, to)
local balances = {balanceReply(subject, item, free - quantity, held), balanceReply(to, item, toFree + quantity, toHeld)}
writeIdempotency(KEYS[7], fingerprint, {balances}, now, retentionMs)
return cmsgpack.pack({STATUS.OK, balances, expired})
