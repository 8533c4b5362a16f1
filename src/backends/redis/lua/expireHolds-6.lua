--[[
  The expiry job, for one subject: releases up to `limit` of its holds due at `now`. No restore
  check: a subject with holds in the global expiry index has its state in this Redis.

  Input:
    KEYS[1] state hash
    KEYS[2] balances hash
    KEYS[3] holds hash
    KEYS[4] hold timers zset
    KEYS[5] dirty set
    KEYS[6] global hold expiry index
    ARGV[1] subject
    ARGV[2] caller now (ms)
    ARGV[3] use server time 0|1
    ARGV[4] retention ms (settled holds)
    ARGV[5] limit (positive integer)

  Output: msgpack
    { 0, expiredHolds, balances }   the holds released, each {holdId, subject, item, quantity, createdAt,
                                    expiresAt, state, settledAt}, and their items' balances after it
    { -1, message }
]]
--- @include "includes/ledger"

local ledger, refusal = openLedger(KEYS, ARGV)
if not ledger then return refusal end
local limit = parseQuantity(ARGV[5])
if not limit then return fail(STATUS.INVALID_INPUT, "expireHolds needs ARGV limit, a positive integer") end

local expired = expireLedgerHolds(ledger, limit)
return cmsgpack.pack({STATUS.OK, expired, expiredBalances({[ledger.subject] = ledger}, expired)})
