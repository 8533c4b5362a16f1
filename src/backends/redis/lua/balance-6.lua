--[[
  balance: one item's free and held quantity of a subject, after lazily expiring its due holds
  (each expiry is reported once, by the call that performed it).

  Input:
    KEYS[1] state hash (restore marker)
    KEYS[2] balances hash
    KEYS[3] holds hash
    KEYS[4] hold timers zset
    KEYS[5] dirty set
    KEYS[6] global hold expiry index
    ARGV[1] subject
    ARGV[2] caller now (ms)
    ARGV[3] use server time 0|1
    ARGV[4] retention ms (settled holds)
    ARGV[5] check restore marker 0|1
    ARGV[6] item

  Output: msgpack
    { 0, balances, expiredHolds }   balances = { {subject, item, free, held} } (zeros if none)
    { -1 | -9, message }
]]
--- @include "includes/ledger"

local ledger, refusal = openLedger(KEYS, ARGV)
if not ledger then return refusal end
local item = ARGV[6]
if not item or item == "" then return fail(STATUS.INVALID_INPUT, "balance needs ARGV item") end
refusal = restoreRefusal(ARGV[5], {ledger})
if refusal then return refusal end

local expired = expireLedgerHolds(ledger)
local free, held = readBalance(ledger.balKey, item)
return cmsgpack.pack({STATUS.OK, {balanceReply(ledger.subject, item, free, held)}, expired})
