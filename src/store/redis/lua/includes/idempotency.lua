--[[
  Idempotency records: one key per (subject, idempotency key), value = <fingerprint>\n<msgpack
  receipt>, expiring after the retention. The fingerprint is JSON (no raw newlines).
  Returns nil (unused key), false (used for another request) or the stored receipt (same request).
]]
local function readIdempotency(idemKey, fingerprint)
  local stored = redis.call("GET", idemKey)
  if not stored then return nil end
  local sep = string.find(stored, "\n", 1, true)
  if not sep or string.sub(stored, 1, sep - 1) ~= fingerprint then return false end
  return cmsgpack.unpack(string.sub(stored, sep + 1))
end

local function writeIdempotency(idemKey, fingerprint, receipt, retentionMs)
  redis.call("SET", idemKey, fingerprint .. "\n" .. cmsgpack.pack(receipt), "PX", retentionMs)
end
