--[[
  commit / release of a hold. Lazily expires the subject's due holds first, so a hold past its
  expiry is released (and reported) before the request is judged.
    commit:  held -> committed (quantity consumed); again: no-op (replayed); released: HOLD_CLOSED;
             expired: HOLD_EXPIRED.
    release: held -> released (quantity back to free); again or after expiry: no-op (replayed);
             committed: HOLD_CLOSED; free would pass the largest safe integer: INVALID_QUANTITY.

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
    ARGV[7] action: commit | release

  Output: msgpack
    { 0|1 replayed, balances (none when replayed), expiredHolds, hold }
    { -4 HOLD_UNKNOWN | -5 HOLD_EXPIRED | -6 HOLD_CLOSED | -10 INVALID_QUANTITY | -1 | -9, message, expiredHolds, hold }
]]
--- @include "includes/ledger"

local ledger, refusal = openLedger(KEYS, ARGV)
if not ledger then return refusal end
local holdId, action = ARGV[6], ARGV[7]
if not holdId or holdId == "" or (action ~= "commit" and action ~= "release") then
  return fail(STATUS.INVALID_INPUT, "settleHold needs ARGV hold id and action commit|release")
end
refusal = restoreRefusal(ARGV[5], {ledger})
if refusal then return refusal end

local expired = expireLedgerHolds(ledger)
local subject = ledger.subject
local h = decodeHold(holdId, redis.call("HGET", ledger.holdsKey, holdId))
if not h then return fail(STATUS.HOLD_UNKNOWN, "no hold " .. holdId, expired) end
expireIfDue(ledger, h, expired)

if action == "commit" then
  if h.state == "c" then return cmsgpack.pack({STATUS.REPLAYED, {}, expired, holdReply(subject, h)}) end
  if h.state == "r" then return cmsgpack.pack({STATUS.HOLD_CLOSED, "hold was released", expired, holdReply(subject, h)}) end
  if h.state == "x" then return cmsgpack.pack({STATUS.HOLD_EXPIRED, "hold expired", expired, holdReply(subject, h)}) end
else
  if h.state == "r" or h.state == "x" then
    return cmsgpack.pack({STATUS.REPLAYED, {}, expired, holdReply(subject, h)})
  end
  if h.state == "c" then return cmsgpack.pack({STATUS.HOLD_CLOSED, "hold was committed", expired, holdReply(subject, h)}) end
end

local newState = "c"
if action == "release" then
  newState = "r"
  if not holdFitsFree(ledger.balKey, h) then
    return cmsgpack.pack({STATUS.INVALID_QUANTITY, "releasing hold " .. holdId .. " would take free " .. h.item
      .. " past the largest safe integer (nothing was released)", expired, holdReply(subject, h)})
  end
end
local free, held = settleHold(ledger.holdsKey, ledger.timersKey, ledger.indexKey, ledger.balKey, h, newState, ledger.now, ledger.retentionMs)
touchSubject(ledger.stateKey, ledger.dirtyKey, subject)
return cmsgpack.pack({STATUS.OK, {balanceReply(subject, h.item, free, held)}, expired, holdReply(subject, h)})
