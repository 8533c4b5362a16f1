--[[
  Holds of one subject.
    holds hash  <holdId> = <qty>,<createdAt>,<expiresAt>,<state h|c|r|x>,<settledAt or empty>,<item>
    timers zset <holdId> scored by expiresAt while held, by the time to forget it once settled
    global index zset <holdId> scored by expiresAt while held (for the expiry job)
]]
--- @include "includes/integers"
--- @include "includes/balances"

local HOLD_STATE_NAMES = {h = "held", c = "committed", r = "released", x = "expired"}

local function decodeHold(holdId, raw)
  if not raw then return nil end
  local qty, createdAt, expiresAt, state, settledAt, item = string.match(raw, "^(%d+),(%-?%d+),(%-?%d+),(%a),(%-?%d*),(.*)$")
  return {
    id = holdId, qty = tonumber(qty), createdAt = tonumber(createdAt), expiresAt = tonumber(expiresAt),
    state = state, settledAt = tonumber(settledAt) or -1, item = item,
  }
end

local function encodeHold(h)
  local settled = ""
  if h.settledAt >= 0 then settled = fmtInt(h.settledAt) end
  return fmtInt(h.qty) .. "," .. fmtInt(h.createdAt) .. "," .. fmtInt(h.expiresAt) .. "," .. h.state .. "," .. settled .. "," .. h.item
end

local function holdReply(subject, h)
  return {h.id, subject, h.item, h.qty, h.createdAt, h.expiresAt, HOLD_STATE_NAMES[h.state], h.settledAt}
end

-- Whether returning a hold's quantity to free keeps free within the largest safe integer.
local function holdFitsFree(balKey, h)
  local free = readBalance(balKey, h.item)
  return free + h.qty <= MAX_SAFE
end

-- Settles an open hold: state c (commit: held quantity consumed), r/x (back to free). A release or
-- expiry checks holdFitsFree first.
local function settleHold(hk, timersKey, indexKey, balKey, h, state, settledAt, retentionMs)
  local free, held = readBalance(balKey, h.item)
  held = held - h.qty
  if state ~= "c" then free = free + h.qty end
  writeBalance(balKey, h.item, free, held)
  h.state = state
  h.settledAt = settledAt
  redis.call("HSET", hk, h.id, encodeHold(h))
  redis.call("ZADD", timersKey, fmtInt(settledAt + retentionMs), h.id)
  redis.call("ZREM", indexKey, h.id)
  return free, held
end

-- Releases this subject's held holds with expiresAt <= now (at most `limit`; they are settled at
-- `now`, as the memory backend does) and forgets settled holds past their retention. A due hold
-- whose quantity would take free past the largest safe integer is not expired (it stays held, and
-- expires on the first call after free has room), as the memory backend does. Returns the expired
-- holds as replies.
local function expireDueHolds(subject, hk, timersKey, indexKey, balKey, now, retentionMs, limit)
  local expired = {}
  local due = redis.call("ZRANGEBYSCORE", timersKey, "-inf", fmtInt(now))
  for i = 1, #due do
    local h = decodeHold(due[i], redis.call("HGET", hk, due[i]))
    if h and h.state == "h" then
      if #expired >= limit then break end
      if holdFitsFree(balKey, h) then
        settleHold(hk, timersKey, indexKey, balKey, h, "x", now, retentionMs)
        expired[#expired + 1] = holdReply(subject, h)
      end
    else
      redis.call("HDEL", hk, due[i])
      redis.call("ZREM", timersKey, due[i])
    end
  end
  return expired
end
