--[[
  A subject's ledger as one script call sees it: its keys and the call's clock. A ledger script
  opens it (reads its arguments, writes nothing), settles every refusal that needs no write (its
  own arguments, restoreRefusal), and only then expires due holds (expireLedgerHolds, its first
  write), so a refused call leaves nothing behind that its reply would not report.

  The arguments every one-subject ledger script starts with:
    KEYS[1] state hash   KEYS[2] balances hash   KEYS[3] holds hash   KEYS[4] hold timers zset
    KEYS[5] dirty set    KEYS[6] global hold expiry index
    ARGV[1] subject      ARGV[2] caller now (ms)  ARGV[3] use server time 0|1
    ARGV[4] retention ms (idempotency records, settled holds)
]]
--- @include "includes/status"
--- @include "includes/clock"
--- @include "includes/holds"
--- @include "includes/subject"

-- Holds one call expires lazily, at most: bounds the work of a call on a subject with many.
local LAZY_EXPIRY_LIMIT = 1000

-- The ledger named by KEYS[1..6] and ARGV[1..4], or nil and the reply refusing the call.
local function openLedger(keys, argv)
  local ledger = {
    subject = argv[1], now = resolveNow(argv[3], argv[2]), retentionMs = tonumber(argv[4]),
    stateKey = keys[1], balKey = keys[2], holdsKey = keys[3], timersKey = keys[4],
    dirtyKey = keys[5], indexKey = keys[6],
  }
  if not ledger.subject or ledger.subject == "" or not ledger.now or not ledger.retentionMs or ledger.retentionMs <= 0 then
    return nil, fail(STATUS.INVALID_INPUT, "ledger script needs ARGV subject, now, useServerTime, retentionMs")
  end
  return ledger
end

-- A second subject's ledger in the same call (transfer): the first one's clock, dirty set and
-- hold expiry index, its own per-subject keys.
local function openSecondLedger(first, subject, stateKey, balKey, holdsKey, timersKey)
  return {
    subject = subject, now = first.now, retentionMs = first.retentionMs,
    stateKey = stateKey, balKey = balKey, holdsKey = holdsKey, timersKey = timersKey,
    dirtyKey = first.dirtyKey, indexKey = first.indexKey,
  }
end

-- RESTORE_NEEDED naming every ledger's subject this Redis holds no state for, or nil. Writes nothing.
local function restoreRefusal(checkRestore, ledgers)
  local missing = {}
  for _, ledger in ipairs(ledgers) do
    if needsRestore(checkRestore, ledger.stateKey) then missing[#missing + 1] = ledger.subject end
  end
  if #missing == 0 then return nil end
  return fail(STATUS.RESTORE_NEEDED, "subject needs its snapshot restored", missing)
end

-- Releases the ledger's due holds (at most `limit`, default LAZY_EXPIRY_LIMIT) and marks the
-- subject dirty if any were. Returns them as replies: the caller reports them, each once.
local function expireLedgerHolds(ledger, limit)
  local expired = expireDueHolds(ledger.subject, ledger.holdsKey, ledger.timersKey, ledger.indexKey, ledger.balKey,
    ledger.now, ledger.retentionMs, limit or LAZY_EXPIRY_LIMIT)
  if #expired > 0 then touchSubject(ledger.stateKey, ledger.dirtyKey, ledger.subject) end
  return expired
end

-- Expires the hold a call is about, if it is due and the lazy expiry stopped at its limit before
-- reaching it (a subject with more due holds than LAZY_EXPIRY_LIMIT): no call ever judges a due hold
-- as held. Appends it to `expired` (the call's report).
local function expireIfDue(ledger, h, expired)
  if h.state ~= "h" or h.expiresAt > ledger.now or not holdFitsFree(ledger.balKey, h) then return end
  settleHold(ledger.holdsKey, ledger.timersKey, ledger.indexKey, ledger.balKey, h, "x", ledger.now, ledger.retentionMs)
  touchSubject(ledger.stateKey, ledger.dirtyKey, ledger.subject)
  expired[#expired + 1] = holdReply(ledger.subject, h)
end

-- The balances after the expiries of `expired`: one per (subject, item), sorted by subject then item.
local function expiredBalances(ledgers, expired)
  local seen, rows = {}, {}
  for _, reply in ipairs(expired) do
    local key = reply[2] .. "\0" .. reply[3]
    if not seen[key] then
      seen[key] = true
      rows[#rows + 1] = {reply[2], reply[3]}
    end
  end
  table.sort(rows, function(a, b) if a[1] ~= b[1] then return a[1] < b[1] end return a[2] < b[2] end)
  local balances = {}
  for _, row in ipairs(rows) do
    local free, held = readBalance(ledgers[row[1]].balKey, row[2])
    balances[#balances + 1] = balanceReply(row[1], row[2], free, held)
  end
  return balances
end
