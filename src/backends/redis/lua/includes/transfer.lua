--[[
  What the transfer scripts share: whether a receiver is known to this store, and the escrow of a
  transfer between two shards (docs/semantics.md, "Transfers across shards"). An escrow is a field of
  the sender's shard's escrow hash, named "<from>\n<idempotency key>", valued
  msgpack {sagaId, to, item, quantity, allowNew 0|1, createdAt, fingerprint}: the quantity left the
  sender's free balance and has not reached the receiver's yet (or is on its way back).
]]
--- @include "includes/integers"

-- Whether this store has seen the subject: a balance, a hold, history, or state (counters, awards,
-- batch ring) other than the restore marker alone (a restore that found no snapshot writes just that).
local function subjectKnown(ledger, historyKey)
  if redis.call("EXISTS", ledger.balKey, ledger.holdsKey, historyKey) > 0 then return true end
  local fields = redis.call("HLEN", ledger.stateKey)
  return fields > 1 or (fields == 1 and redis.call("HEXISTS", ledger.stateKey, "~") == 0)
end

local function unknownReceiverMessage(subject)
  return "receiver \"" .. subject .. "\" is unknown to this store (no balance, hold, award, counter or history); nothing was transferred"
end

local function overflowMessage(subject)
  return "the transfer would exceed the largest safe integer balance of " .. subject
end
