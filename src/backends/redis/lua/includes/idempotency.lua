--[[
  Idempotency records: one key per (subject, idempotency key), value =
  <forgetAt>\n<fingerprint>\n<msgpack receipt>. forgetAt (now + retention, on the scripts' clock)
  decides; the key's PX TTL only collects garbage. The fingerprint is JSON (no raw newlines).
]]
--- @include "includes/integers"

-- nil (unused or forgotten key), false (used for another request) or the stored receipt.
local function readIdempotency(idemKey, fingerprint, now)
  local stored = redis.call("GET", idemKey)
  if not stored then return nil end
  local first = string.find(stored, "\n", 1, true)
  local second = first and string.find(stored, "\n", first + 1, true)
  if not second then return nil end
  if tonumber(string.sub(stored, 1, first - 1)) <= now then return nil end
  if string.sub(stored, first + 1, second - 1) ~= fingerprint then return false end
  return cmsgpack.unpack(string.sub(stored, second + 1))
end

local function writeIdempotency(idemKey, fingerprint, receipt, now, retentionMs)
  redis.call("SET", idemKey, fmtInt(now + retentionMs) .. "\n" .. fingerprint .. "\n" .. cmsgpack.pack(receipt),
    "PX", fmtInt(retentionMs))
end
