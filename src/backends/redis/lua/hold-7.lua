--[[
  hold: moves quantity from free to held until commit, release or expiry (now + ttl), idempotently.
  Lazily expires the subject's due holds first.

  Input:
    KEYS[1] state hash   KEYS[2] balances hash   KEYS[3] holds hash   KEYS[4] hold timers zset
    KEYS[5] dirty set    KEYS[6] global hold expiry index             KEYS[7] idempotency record
    ARGV[1] subject   ARGV[2] item   ARGV[3] quantity   ARGV[4] fingerprint   ARGV[5] caller now
    ARGV[6] use server time 0|1   ARGV[7] retention ms   ARGV[8] check restore 0|1
    ARGV[9] ttl ms (positive integer)   ARGV[10] new hold id (made by the caller; names the subject)

  Output: msgpack
    { 0|1, balances, expiredHolds, hold }   hold = {holdId, subject, item, quantity, createdAt,
                                                    expiresAt, state, settledAt or -1}
    { -2 | -3 | -10 | -1 | -9, message, expiredHolds }
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
local item, fingerprint, holdId = ARGV[2], ARGV[4], ARGV[10]
local quantity = parseQuantity(ARGV[3])
local ttl = parseQuantity(ARGV[9])
if not quantity then return fail(STATUS.INVALID_QUANTITY, "quantity must be a positive safe integer", expired) end
if not ttl or not item or item == "" or not fingerprint or not holdId or holdId == "" then
  return fail(STATUS.INVALID_INPUT, "hold needs ARGV item, fingerprint, a positive ttl and a hold id", expired)
end

local stored = readIdempotency(KEYS[7], fingerprint, now)
if stored == false then return fail(STATUS.IDEMPOTENCY_CONFLICT, "idempotency key was used for another request", expired) end
if stored then return cmsgpack.pack({STATUS.REPLAYED, stored[1], expired, stored[2]}) end

local free, held = readBalance(balKey, item)
if free < quantity then
  return fail(STATUS.INSUFFICIENT, "free " .. fmtInt(free) .. " < requested " .. fmtInt(quantity), expired)
end
free, held = free - quantity, held + quantity
writeBalance(balKey, item, free, held)
local h = {id = holdId, qty = quantity, createdAt = now, expiresAt = now + ttl, state = "h", settledAt = -1, item = item}
redis.call("HSET", holdsKey, holdId, encodeHold(h))
redis.call("ZADD", timersKey, fmtInt(h.expiresAt), holdId)
redis.call("ZADD", indexKey, fmtInt(h.expiresAt), holdId)
touchSubject(stateKey, dirtyKey, subject)
local balances = {balanceReply(subject, item, free, held)}
local reply = holdReply(subject, h)
writeIdempotency(KEYS[7], fingerprint, {balances, reply}, now, retentionMs)
return cmsgpack.pack({STATUS.OK, balances, expired, reply})
