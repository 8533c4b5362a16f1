--[[
  list: every item of a subject with a non-zero free or held quantity, sorted by item, and its open
  holds (held, expiresAt > now) sorted by expiresAt then hold id, after lazily expiring its due holds
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

  Output: msgpack
    { 0, balances, expiredHolds, openHolds }   balances = { {subject, item, free, held}, ... }
    { -1 | -9, message }
]]
--- @include "includes/ledger"

local ledger, refusal = openLedger(KEYS, ARGV)
if not ledger then return refusal end
refusal = restoreRefusal(ARGV[5], {ledger})
if refusal then return refusal end

local expired = expireLedgerHolds(ledger)
local flat = redis.call("HGETALL", ledger.balKey)
local byItem, items = {}, {}
for i = 1, #flat, 2 do
  local kind, item = string.sub(flat[i], 1, 1), string.sub(flat[i], 3)
  if not byItem[item] then byItem[item] = {0, 0}; items[#items + 1] = item end
  if kind == "f" then byItem[item][1] = tonumber(flat[i + 1]) else byItem[item][2] = tonumber(flat[i + 1]) end
end
table.sort(items)
local balances = {}
for _, item in ipairs(items) do balances[#balances + 1] = balanceReply(ledger.subject, item, byItem[item][1], byItem[item][2]) end
-- The timers zset scores a held hold by its expiresAt (a settled one by when it is forgotten): the
-- entries after now, in zset order (score, then member), are the open holds in the order wanted.
local open = {}
local later = redis.call("ZRANGEBYSCORE", ledger.timersKey, "(" .. fmtInt(ledger.now), "+inf")
for i = 1, #later do
  local h = decodeHold(later[i], redis.call("HGET", ledger.holdsKey, later[i]))
  if h and h.state == "h" then open[#open + 1] = holdReply(ledger.subject, h) end
end
return cmsgpack.pack({STATUS.OK, balances, expired, open})
