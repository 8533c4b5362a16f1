--[[
  Stat guards (docs/semantics.md, "Stat guards"): per subject and trigger, the most a window of windowMs
  may add up to, checked by the apply in the same atomic step as the increments (mirrored in
  src/backends/memory/memory-guards.ts).
  Request part (entry[5] of a subject in applyBatch-n.lua): 0, or a flat list of guard rows, one per trigger:
    { trigger, usage field, amount, limit, windowMs, {counterId, ...}, ... }
    usage field = "~g<trigger>" (or "~G<8-char hash>" for a long trigger name), amount = the sum of this
    batch part's event amounts of the trigger, counterIds = the counters the trigger increments.
  Usage, a field of the subject's state hash: "<window index, base 36>:<sum in that window, base 36>" (short:
  the hash stays a listpack); window index = floor(now / windowMs), an older window counts as 0.
  checkGuards(stateKey, guards, now, changed) -> refusedCounters (set of counter ids, or nil),
  refusedTypes (set of trigger names, or nil), breaches ({trigger, limit, windowMs, value, ...}, or 0).
  A refused trigger keeps its usage; an admitted one's new usage is appended to `changed` (HSET by the apply).
]]
--- @include "includes/codec"

local GUARD_ROW = 6

local function validGuards(guards)
  if guards == 0 then return true end
  if type(guards) ~= "table" or #guards % GUARD_ROW ~= 0 then return false end
  local seen = {}
  for i = 1, #guards, GUARD_ROW do
    local trigger, field, amount, limit, windowMs, counters = guards[i], guards[i + 1], guards[i + 2], guards[i + 3], guards[i + 4], guards[i + 5]
    if type(trigger) ~= "string" or seen[trigger] or type(field) ~= "string" or not string.find(field, "^~[gG].") or type(counters) ~= "table" then return false end
    for _, n in ipairs({amount, limit, windowMs}) do
      if type(n) ~= "number" or n <= 0 or n ~= math.floor(n) then return false end
    end
    for _, id in ipairs(counters) do
      if type(id) ~= "string" then return false end
    end
    seen[trigger] = true
  end
  return true
end

local function checkGuards(stateKey, guards, now, changed)
  if guards == 0 or #guards == 0 then return nil, nil, 0 end
  local fields = {}
  for i = 1, #guards, GUARD_ROW do fields[#fields + 1] = guards[i + 1] end
  local stored = redis.call("HMGET", stateKey, unpack(fields))
  local refusedCounters, refusedTypes, breaches
  for i = 1, #guards, GUARD_ROW do
    local trigger, field, amount, limit, windowMs, counters = guards[i], guards[i + 1], guards[i + 2], guards[i + 3], guards[i + 4], guards[i + 5]
    local window = math.floor(now / windowMs)
    local used = 0
    local raw = stored[(i - 1) / GUARD_ROW + 1]
    if raw then
      local w, u = string.match(raw, "^(%-?[0-9a-z]+):([0-9a-z]+)$")
      if w and dec36(w) == window then used = dec36(u) end
    end
    local value = used + amount
    if value > limit then
      refusedCounters, refusedTypes, breaches = refusedCounters or {}, refusedTypes or {}, breaches or {}
      refusedTypes[trigger] = true
      for _, id in ipairs(counters) do refusedCounters[id] = true end
      local n = #breaches
      breaches[n + 1], breaches[n + 2], breaches[n + 3], breaches[n + 4] = trigger, limit, windowMs, value
    else
      changed[#changed + 1] = field
      changed[#changed + 1] = enc36(window) .. ":" .. enc36(value)
    end
  end
  return refusedCounters, refusedTypes, breaches or 0
end
