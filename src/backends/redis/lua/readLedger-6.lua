--[[
  balance / list / getHold / expiry job: reads a subject's ledger after lazily expiring its due
  holds (each expiry is reported once, by the call that performed it; getHold's own expiries are
  not reported, as in the memory backend, because getHold returns only the hold).

  Input:
    KEYS[1] state hash   KEYS[2] balances hash   KEYS[3] holds hash   KEYS[4] hold timers zset
    KEYS[5] dirty set    KEYS[6] global hold expiry index
    ARGV[1] subject   ARGV[2] what: "item:<item>" | "list" | "hold:<holdId>" | "expire"
    ARGV[3] expiry limit (expire only)   ARGV[4] unused   ARGV[5] caller now
    ARGV[6] use server time 0|1   ARGV[7] retention ms   ARGV[8] check restore 0|1

  Output: msgpack
    { 0, balances, expiredHolds, hold or 0 }   item: that item's balance (zeros if none);
                                               list: every non-zero item, sorted; hold: that hold
    { -4 HOLD_UNKNOWN | -1 | -9, message, expiredHolds }
]]
--- @include "includes/status"
--- @include "includes/codec"
--- @include "includes/clock"
--- @include "includes/balances"
--- @include "includes/holds"
--- @include "includes/subject"

local what = ARGV[2] or ""
if what == "expire" then
  -- The expiry job: no restore check (a subject in the index has state here) and its own limit.
  local limit = tonumber(ARGV[3])
  local now = resolveNow(ARGV[6], ARGV[5])
  local retentionMs = tonumber(ARGV[7])
  if not limit or limit < 1 or not now or not retentionMs then
    return fail(STATUS.INVALID_INPUT, "expire needs ARGV limit, now and retention")
  end
  local expired = expireDueHolds(ARGV[1], KEYS[3], KEYS[4], KEYS[6], KEYS[2], now, retentionMs, limit)
  if #expired > 0 then touchSubject(KEYS[1], KEYS[5], ARGV[1]) end
  return cmsgpack.pack({STATUS.OK, {}, expired, 0})
end

--- @include "includes/ledgerPrelude"
if preludeError then return preludeError end

if string.sub(what, 1, 5) == "item:" then
  local item = string.sub(what, 6)
  local free, held = readBalance(balKey, item)
  return cmsgpack.pack({STATUS.OK, {balanceReply(subject, item, free, held)}, expired, 0})
elseif what == "list" then
  local flat = redis.call("HGETALL", balKey)
  local byItem, items = {}, {}
  for i = 1, #flat, 2 do
    local kind, item = string.sub(flat[i], 1, 1), string.sub(flat[i], 3)
    if not byItem[item] then byItem[item] = {0, 0}; items[#items + 1] = item end
    if kind == "f" then byItem[item][1] = tonumber(flat[i + 1]) else byItem[item][2] = tonumber(flat[i + 1]) end
  end
  table.sort(items)
  local balances = {}
  for _, item in ipairs(items) do balances[#balances + 1] = balanceReply(subject, item, byItem[item][1], byItem[item][2]) end
  return cmsgpack.pack({STATUS.OK, balances, expired, 0})
elseif string.sub(what, 1, 5) == "hold:" then
  local holdId = string.sub(what, 6)
  local h = decodeHold(holdId, redis.call("HGET", holdsKey, holdId))
  if not h then return fail(STATUS.HOLD_UNKNOWN, "no hold " .. holdId, expired) end
  return cmsgpack.pack({STATUS.OK, {}, expired, holdReply(subject, h)})
end
return fail(STATUS.INVALID_INPUT, "ARGV[2] must be item:<item>, list, hold:<holdId> or expire", expired)
