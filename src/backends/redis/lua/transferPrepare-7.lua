--[[
  transferPrepare: the first step of a transfer between two shards, on the receiver's shard. Settles
  the receiver's due holds (reported, as a one-shard transfer does) and says what the sender's step
  needs to refuse the transfer exactly as a one-shard transfer would: whether the receiver is known, and
  its total (free + held) of the item. Writes nothing else.

  Input:
    KEYS[1] to: state hash (restore marker)
    KEYS[2] to: balances hash
    KEYS[3] to: holds hash
    KEYS[4] to: hold timers zset
    KEYS[5] to: dirty set of the shard
    KEYS[6] to: hold expiry index of the shard
    KEYS[7] to: history hash
    ARGV[1] to (the receiver)
    ARGV[2] caller now (ms)
    ARGV[3] use server time 0|1
    ARGV[4] retention ms (idempotency records, settled holds)
    ARGV[5] check restore markers 0|1
    ARGV[6] item

  Output: msgpack
    { 0, known 0|1, total, expiredHolds }
    { -9 RESTORE_NEEDED, message, subjects to restore }   nothing written
]]
--- @include "includes/ledger"
--- @include "includes/transfer"

local to, refusal = openLedger(KEYS, ARGV)
if not to then return refusal end
local item = ARGV[6]
if not item or item == "" then return fail(STATUS.INVALID_INPUT, "transferPrepare needs ARGV item") end
refusal = restoreRefusal(ARGV[5], {to})
if refusal then return refusal end
local expired = expireLedgerHolds(to)
local free, held = readBalance(to.balKey, item)
return cmsgpack.pack({STATUS.OK, subjectKnown(to, KEYS[7]) and 1 or 0, free + held, expired})
