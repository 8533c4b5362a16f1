--[[
  getHold: one hold of a subject, after lazily expiring the subject's due holds (so a hold past its
  expiry reads as expired). The holds it expired and their items' balances are in the reply: the
  caller reports them, each once (a later getHold or expireHolds finds them settled).

  Input:
    KEYS[1] state hash (restore marker)
    KEYS[2] balances hash
    KEYS[3] holds hash
    KEYS[4] hold timers zset
    KEYS[5] dirty set
    KEYS[6] global hold expiry index
    ARGV[1] subject (the one the hold id names)
    ARGV[2] caller now (ms)
    ARGV[3] use server time 0|1
    ARGV[4] retention ms (settled holds)
    ARGV[5] check restore marker 0|1
    ARGV[6] hold id

  Output: msgpack
    { 0, hold, expiredHolds, balances }   hold = {holdId, subject, item, quantity, createdAt, expiresAt, state, settledAt or -1}
        balances = { {subject, item, free, held}, ... } of the expired holds' items, sorted by item
    { -4 HOLD_UNKNOWN | -1 | -9, message, expiredHolds }
]]
--- @include "includes/ledger"

local ledger, refusal = openLedger(KEYS, ARGV)
if not ledger then return refusal end
local holdId = ARGV[6]
if not holdId or holdId == "" then return fail(STATUS.INVALID_INPUT, "getHold needs ARGV hold id") end
refusal = restoreRefusal(ARGV[5], {ledger})
if refusal then return refusal end

local expired = expireLedgerHolds(ledger)
local h = decodeHold(holdId, redis.call("HGET", ledger.holdsKey, holdId))
if not h then return fail(STATUS.HOLD_UNKNOWN, "no hold " .. holdId, expired) end
expireIfDue(ledger, h, expired)
return cmsgpack.pack({STATUS.OK, holdReply(ledger.subject, h), expired, expiredBalances({[ledger.subject] = ledger}, expired)})
