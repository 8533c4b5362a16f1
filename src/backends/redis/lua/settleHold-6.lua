--[[
  commit / release of a hold. Lazily expires the subject's due holds first, so a hold past its
  expiry is released (and reported) before the request is judged.
    commit:  held -> committed (quantity consumed); again: no-op (replayed); released: HOLD_CLOSED;
             expired: HOLD_EXPIRED.
    release: held -> released (quantity back to free); again or after expiry: no-op (replayed);
             committed: HOLD_CLOSED.

  Input:
    KEYS[1] state hash   KEYS[2] balances hash   KEYS[3] holds hash   KEYS[4] hold timers zset
    KEYS[5] dirty set    KEYS[6] global hold expiry index
    ARGV[1] subject   ARGV[2] hold id   ARGV[3] action: commit | release   ARGV[4] unused
    ARGV[5] caller now   ARGV[6] use server time 0|1   ARGV[7] retention ms   ARGV[8] check restore 0|1

  Output: msgpack
    { 0|1 replayed, balances (none when replayed), expiredHolds, hold }
    { -4 HOLD_UNKNOWN | -5 HOLD_EXPIRED | -6 HOLD_CLOSED | -1 | -9, message, expiredHolds, hold }
]]
--- @include "includes/status"
--- @include "includes/codec"
--- @include "includes/clock"
--- @include "includes/balances"
--- @include "includes/holds"
--- @include "includes/subject"
--- @include "includes/ledgerPrelude"

if preludeError then return preludeError end
local holdId, action = ARGV[2], ARGV[3]
if action ~= "commit" and action ~= "release" then
  return fail(STATUS.INVALID_INPUT, "ARGV[3] must be commit or release", expired)
end
local h = decodeHold(holdId, redis.call("HGET", holdsKey, holdId))
if not h then return fail(STATUS.HOLD_UNKNOWN, "no hold " .. tostring(holdId), expired) end

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
if action == "release" then newState = "r" end
local free, held = settleHold(holdsKey, timersKey, indexKey, balKey, h, newState, now, retentionMs)
touchSubject(stateKey, dirtyKey, subject)
return cmsgpack.pack({STATUS.OK, {balanceReply(subject, h.item, free, held)}, expired, holdReply(subject, h)})
