--[[
  Common start of a one-subject ledger script. Expects KEYS[1..6] = state hash, balances hash,
  holds hash, hold timers zset, dirty set, global hold expiry index, and ARGV[1] subject,
  ARGV[5] caller now, ARGV[6] use server time (0|1), ARGV[7] retention ms, ARGV[8] check restore (0|1).
  Defines: subject, now, retentionMs, stateKey, balKey, holdsKey, timersKey, dirtyKey, indexKey,
  expired (holds this call released), balancesAfter (item -> {free, held}) and `preludeError`
  (a reply to return at once, or nil).
  Requires status, codec, clock, balances, holds, subject.
]]
local LAZY_EXPIRY_LIMIT = 1000
local MAX_SAFE = 9007199254740991
local subject = ARGV[1]
local stateKey, balKey, holdsKey, timersKey, dirtyKey, indexKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local now = resolveNow(ARGV[6], ARGV[5])
local retentionMs = tonumber(ARGV[7])
local expired, balancesAfter = {}, {}
local preludeError = nil
if not subject or subject == "" or not now or not retentionMs or retentionMs <= 0 then
  preludeError = fail(STATUS.INVALID_INPUT, "ledger script needs ARGV subject, now, useServerTime, retentionMs")
elseif needsRestore(ARGV[8], stateKey) then
  preludeError = fail(STATUS.RESTORE_NEEDED, "subject needs its snapshot restored", {subject})
else
  expired, balancesAfter = expireDueHolds(subject, holdsKey, timersKey, indexKey, balKey, now, retentionMs, LAZY_EXPIRY_LIMIT)
  if #expired > 0 then touchSubject(stateKey, dirtyKey, subject) end
end

local function parseQuantity(raw)
  local q = tonumber(raw)
  if not q or q <= 0 or q ~= math.floor(q) or q > MAX_SAFE then return nil end
  return q
end
