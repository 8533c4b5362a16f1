--[[
  Status codes returned as the first element of every script reply. 0 = done, 1 = replayed
  (idempotent retry: nothing changed), negative = refused. They become typed ProgressionErrors in
  exactly one place: src/backends/redis/script-errors.ts.
]]
local STATUS = {
  OK = 0,
  REPLAYED = 1,
  INVALID_INPUT = -1,
  INSUFFICIENT = -2,
  IDEMPOTENCY_CONFLICT = -3,
  HOLD_UNKNOWN = -4,
  HOLD_EXPIRED = -5,
  HOLD_CLOSED = -6,
  NOT_COMPLETED = -7,
  ALREADY_CLAIMED = -8,
  RESTORE_NEEDED = -9,
  INVALID_QUANTITY = -10,
  HISTORY_FULL = -11,
  UNKNOWN_SUBJECT = -12,
}

-- A refusal: {status, message, extra}; extra is the expired holds of a ledger script, or the
-- subjects to restore for RESTORE_NEEDED.
local function fail(code, message, extra)
  return cmsgpack.pack({code, message, extra or {}})
end
