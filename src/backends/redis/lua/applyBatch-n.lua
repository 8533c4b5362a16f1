--[[
  Applies one batch of counter increments for a group of subjects, atomically, and reports what is
  new per subject (docs/semantics.md, "Apply"), and adds the events' rollups to each subject's history
  in the same step (appended to its history log, includes/history.lua), and counts each new award (and
  autoClaim) in the milestone stats in the same step too. Variable key count: 2 + 6 per subject.

  Input:
    KEYS[1]          dirty set (subjects changed since the last snapshot)
    KEYS[2]          milestone stats hash (includes/milestone-stats.lua)
    KEYS[3]          rarity counts hash (includes/rarity.lua)
    KEYS[4 + 6i]     state hash of subject i (counters, awards, batch ring "~b"+"~c", outbox slot mask
                     "~p"; the ring or the ledger's marker "~" says this Redis holds the subject's state)
    KEYS[5 + 6i]     event-id zset of subject i (eventId -> time seen; "h/<eventId>" for history)
    KEYS[6 + 6i]     balances hash of subject i (autoClaim rewards)
    KEYS[7 + 6i]     history hash of subject i (includes/history.lua)
    KEYS[8 + 6i]     history log of subject i
    KEYS[9 + 6i]     outbox hash of subject i (batch digest -> outcome)
    ARGV[1]          msgpack request:
                       [1] now (ms), [2] check restore marker (0|1), [3] event-id retention (ms),
                       [4] counters: { {counterId, kind s|w|d|g, keepDays, checks}, ... }
                           (those the increments touch; every counter of the plan for catch-up),
                           check = { code, target, windowDays, autoClaim rewards or 0 } and, for a
                           milestone with preconditions or a period, then { requires or 0, availableUntil or 0 }
                           (rewards = { {item, quantity}, ... }, requires = { code, ... }); a group
                           also carries the counters of checks requiring (down a chain) one it touches
                       [5] subjects: { {subject, catchUp 0|1, increments, history, guards}, ... },
                           increments = { counterId, amount, at, eventId or "", ... } (flat: one
                           Lua table per subject, not per increment)
                           history = { log text, idRows[, raw text, raw cap] } or 0 when the engine keeps no history:
                           log text = the rollups as history log lines (includes/history.lua), "" for none;
                           idRows = rollups of events with their own id (kept only if new), flat:
                           { type, tags, day, count, sum, firstAt, lastAt, maxAmount, eventId, ... };
                           raw text (only when the engine keeps raw events) = the raw-event lines of the
                           log text's rollups, "" for none; raw cap = the most events a rollup keeps raw
                           guards = 0, or the subject's window guards (includes/guards.lua)
                       [6] the plan's counter set (the history's "~h" of a subject's first rollup)
                       [7] most rollups a subject's history hash may hold: past it, nothing is applied
    ARGV[2]          batch digest: 6 bytes of SHA-1 of the batch id (binary)
    ARGV[3]          call id: 16 hex digits naming this call of the backend (the same on a resend of it)

  Each counter kind's step (create, add, measure, catch-up) is in includes/counters/<kind>.lua. An
  autoClaim award whose rewards would pass the largest safe balance is recorded unclaimed (claimable
  later) and grants nothing; the gameplay still counts.

  Preconditions (docs/semantics.md, "Preconditions"): a check with `requires` awards only once every
  required code is awarded, stamped with the latest of its own time and theirs; until then the time it
  first passed waits in `waiting`. When a required code is awarded here, its dependents are awarded in the
  same step, flagged as it is: one that passed in this call stamped from that passing, one whose stored
  counter passes (read with one extra HMGET of what this call has not read yet); chains recurse.
  Seasonal checks (availableUntil): catch-up and a stored counter's passing award only while now is before it.

  Stat guards (docs/semantics.md, "Stat guards"; includes/guards.lua): a trigger whose window this subject's
  part would take past its limit has none of its increments or history rows applied, and is reported as a
  breach. Rarity (includes/rarity.lua): the subject's first apply of a UTC day ("~a", read with the ring)
  moves it and its awards to today's counts; each award here counts for its active day.

  The outbox (docs/semantics.md, "Recording: exactly once"): a subject's non-empty outcome of the batch
  is kept in field <digest> of its outbox hash as the call id (16 hex digits) then text, "+code" (awarded and
  autoClaimed here), "-code" (awarded) and "$item" (credited by autoClaim) separated by spaces; the call id
  tells a resend of the call that applied (the client lost its reply and sent it again) from a retry by a
  later call, which the engine announces only when told the first attempt failed. The award records are the
  "!code" fields. The outbox is a key of its own because its values pass the 64-byte listpack limit: as
  fields of the state hash they would turn it into a hashtable for good. "~p" (in the state hash, read with
  the ring) is a bit mask of the ring slots that have an outbox field (bit k: slot k, oldest first), so an
  entry leaves with its digest, the key goes with its last entry, and an apply with nothing to keep and
  nothing leaving touches no outbox. A duplicate answers the stored outcome with the items' current balances
  and the id of the call that applied it.

  Output: msgpack
    { 0, { {duplicate 0|1, reached, progress, balances, "", breaches}, ... } }   one entry per subject, in order
      (a duplicate is {1, reached, 0, balances, call id or ""} from the outbox); flat lists, fewer Lua tables:
      reached  = { code, earnedAt, retroactive 0|1, claimedAt or -1, ... } in the order earned
      progress = { code, current, ... }
      balances = { item, free, held, ... }   (of this subject)
    { -9 RESTORE_NEEDED, "...", {subject, ...} }   subjects without a restore marker; nothing changed
    { -11 HISTORY_FULL, "...", {subject, ...} }    subjects whose history holds the most rollups; nothing changed
    { -1 INVALID_INPUT, message }                   malformed request; nothing changed
]]
local rcall = redis.call
local DIGEST_BYTES = 6
local RING_SLOTS = 16
local RING_BYTES = RING_SLOTS * DIGEST_BYTES
--- @include "includes/status"
--- @include "includes/integers"
--- @include "includes/codec"
--- @include "includes/counters"
--- @include "includes/grants"
--- @include "includes/history"
--- @include "includes/subject"
--- @include "includes/milestone-stats"
--- @include "includes/rarity"
--- @include "includes/guards"

local decoded, req = pcall(cmsgpack.unpack, ARGV[1])
if not decoded or type(req) ~= "table" then
  return fail(STATUS.INVALID_INPUT, "ARGV[1] is not a msgpack apply request")
end
local now, checkRestore, eventRetention, counterList, subjects, counterSet, maxRollups = req[1], req[2], req[3], req[4], req[5], req[6], req[7]
-- Raw bytes travel outside msgpack: Redis' cmsgpack predates the bin type.
local digest, callId = ARGV[2], ARGV[3]
local CALL_ID_BYTES = 16

-- Validate everything before the first write: a Lua error half way would leave a partial apply.
local function isInt(n) return type(n) == "number" and n == math.floor(n) end
if not isInt(now) or type(digest) ~= "string" or #digest ~= DIGEST_BYTES or type(callId) ~= "string" or #callId ~= CALL_ID_BYTES or not isInt(eventRetention)
  or type(counterList) ~= "table" or type(subjects) ~= "table" or type(counterSet) ~= "string" or not isInt(maxRollups) then
  return fail(STATUS.INVALID_INPUT, "apply needs ARGV[1] [now, checkRestore, retentionMs, counters, subjects, counterSet, maxRollups] and ARGV[2] a 6-byte digest, ARGV[3] a 16-digit call id")
end
if #KEYS ~= 3 + 6 * #subjects then
  return fail(STATUS.INVALID_INPUT, "expected 3 + 6 keys per subject, got " .. #KEYS .. " keys for " .. #subjects .. " subjects")
end
local plan, planOrder = {}, {}
-- Preconditions: required code -> { {counterId, check}, ... } in plan order; codes some check requires.
local dependentsOf, isRequired = {}, {}
local withPreconditions = false
for i, row in ipairs(counterList) do
  if type(row) ~= "table" or type(row[1]) ~= "string" or not COUNTER_KINDS[row[2]] or not isInt(row[3]) or type(row[4]) ~= "table" then
    return fail(STATUS.INVALID_INPUT, "counter spec " .. i .. " must be [counterId, kind s|w|d|g, keepDays, checks]")
  end
  local id, spec = row[1], {row[2], row[3], row[4]}
  plan[id] = spec
  planOrder[#planOrder + 1] = id
  for _, check in ipairs(spec[3]) do
    if type(check) ~= "table" or type(check[1]) ~= "string" or type(check[2]) ~= "number" or not isInt(check[3])
      or (check[4] ~= 0 and type(check[4]) ~= "table") then
      return fail(STATUS.INVALID_INPUT, "a check of counter " .. id .. " must be [code, target, windowDays, rewards|0]")
    end
    local requires, closes = check[5], check[6]
    if (requires ~= nil and requires ~= 0 and type(requires) ~= "table") or (closes ~= nil and not isInt(closes)) then
      return fail(STATUS.INVALID_INPUT, "check " .. check[1] .. " must end with [requires|0, availableUntil|0] when it has either")
    end
    if type(requires) == "table" and #requires > 0 then
      for _, code in ipairs(requires) do
        if type(code) ~= "string" then return fail(STATUS.INVALID_INPUT, "the requires of " .. check[1] .. " must be milestone codes") end
        isRequired[code] = true
        local list = dependentsOf[code]
        if not list then list = {}; dependentsOf[code] = list end
        list[#list + 1] = {id, check}
        withPreconditions = true
      end
      check.req = requires
    end
    if closes and closes ~= 0 then check.closes = closes end
    check[5] = "!" .. check[1] -- its award field, built once per call
    check[6] = nil
    if check[4] ~= 0 then
      for _, reward in ipairs(check[4]) do
        if type(reward) ~= "table" or type(reward[1]) ~= "string" or not isInt(reward[2]) or reward[2] <= 0 then
          return fail(STATUS.INVALID_INPUT, "a reward of " .. check[1] .. " must be [item, positive quantity]")
        end
      end
    end
  end
end
for i, entry in ipairs(subjects) do
  if type(entry) ~= "table" or type(entry[1]) ~= "string" or type(entry[3]) ~= "table" then
    return fail(STATUS.INVALID_INPUT, "subject entry " .. i .. " must be [subject, catchUp, increments]")
  end
  local flat = entry[3]
  if #flat % 4 ~= 0 then
    return fail(STATUS.INVALID_INPUT, "the increments of " .. entry[1] .. " must be a flat list of 4-tuples")
  end
  for j = 1, #flat, 4 do
    if not plan[flat[j]] or not isInt(flat[j + 1]) or flat[j + 1] <= 0 or not isInt(flat[j + 2])
      or type(flat[j + 3]) ~= "string" then
      return fail(STATUS.INVALID_INPUT, "an increment of " .. entry[1] .. " must be [known counterId, positive amount, at, eventId]")
    end
  end
  local history = entry[4]
  if history ~= 0 then
    local rows = type(history) == "table" and history[2]
    if type(rows) ~= "table" or #rows % HISTORY_ROW ~= 0 or not validHistoryText(history[1]) then
      return fail(STATUS.INVALID_INPUT, "the history of " .. entry[1] .. " must be 0 or [log lines, flat list of " .. HISTORY_ROW .. "-tuples]")
    end
    if history[3] ~= nil and (not validRawText(history[3]) or not isInt(history[4]) or history[4] < 1) then
      return fail(STATUS.INVALID_INPUT, "the raw events of " .. entry[1] .. " must be [raw-event lines, most events a rollup keeps >= 1]")
    end
    for j = 1, #rows, HISTORY_ROW do
      if type(rows[j]) ~= "string" or type(rows[j + 1]) ~= "string" or not isInt(rows[j + 2]) or rows[j + 2] < 0
        or not isInt(rows[j + 3]) or rows[j + 3] <= 0 or not isInt(rows[j + 4]) or rows[j + 4] <= 0
        or not isInt(rows[j + 5]) or not isInt(rows[j + 6]) or not isInt(rows[j + 7]) or type(rows[j + 8]) ~= "string" then
        return fail(STATUS.INVALID_INPUT, "a history row of " .. entry[1] .. " must be [type, tags, day >= 0, count > 0, sum > 0, firstAt, lastAt, maxAmount, eventId]")
      end
    end
  end
  if entry[5] == nil then entry[5] = 0 end
  if not validGuards(entry[5]) then
    return fail(STATUS.INVALID_INPUT, "the guards of " .. entry[1] .. " must be 0 or a flat list of guard rows (includes/guards.lua)")
  end
end

if checkRestore == 1 then
  local missing = {}
  for i, entry in ipairs(subjects) do
    if not hasSubjectState(KEYS[4 + 6 * (i - 1)]) then missing[#missing + 1] = entry[1] end
  end
  if #missing > 0 then return fail(STATUS.RESTORE_NEEDED, "subjects need their snapshot restored", missing) end
end

-- A history the archive has not emptied for a long time (PostgreSQL down) stops the apply before it grows on.
-- Its length also tells appendHistory whether the hash still needs its part name and counter set.
local full, historyFields = {}, {}
for i, entry in ipairs(subjects) do
  if entry[4] ~= 0 then
    historyFields[i] = rcall("HLEN", KEYS[7 + 6 * (i - 1)])
    if historyFields[i] >= maxRollups then full[#full + 1] = entry[1] end
  end
end
if #full > 0 then return fail(STATUS.HISTORY_FULL, #full .. " players hold " .. maxRollups .. " history rollups not archived yet", full) end

local dirtyKey, statsKey, rarityKey = KEYS[1], KEYS[2], KEYS[3]
local today = math.floor(now / DAY_MS) -- rarity: the UTC day a subject applying now is active on
local part -- the name a new history hash's part gets: the same for every subject of this call
local results, dirtySubjects = {}, {}

for si, entry in ipairs(subjects) do
  local subject, catchUp, incs, history = entry[1], entry[2] == 1, entry[3], entry[4]
  local base = 4 + 6 * (si - 1)
  local stateKey, eventsKey, balKey, histKey, logKey, outboxKey = KEYS[base], KEYS[base + 1], KEYS[base + 2], KEYS[base + 3], KEYS[base + 4], KEYS[base + 5]

  -- Everything this subject needs in one read: the batch ring, outbox mask and active day, then its counters, then the award
  -- fields of their checks. The ring of the 16 latest batch digests spans two fields of 48 bytes
  -- (8 digests each): a hash value over 64 bytes would turn the state hash from listpack into a
  -- (much larger) hashtable.
  local counterIds, seen = {}, {}
  if catchUp then
    for _, id in ipairs(planOrder) do counterIds[#counterIds + 1] = id; seen[id] = true end
  end
  for j = 1, #incs, 4 do
    local id = incs[j]
    if not seen[id] then seen[id] = true; counterIds[#counterIds + 1] = id end
  end
  local fields = {"~b", "~c", "~p", "~a"}
  for _, id in ipairs(counterIds) do fields[#fields + 1] = id end
  local codes = {}
  local withRequires = false
  for _, id in ipairs(counterIds) do
    for _, check in ipairs(plan[id][3]) do
      codes[#codes + 1] = check[1]
      fields[#fields + 1] = check[5]
      if check.req then withRequires = true end
    end
  end
  if withRequires then
    -- The award fields of their preconditions, in the same read (only when a check has any).
    local listed = {}
    for _, code in ipairs(codes) do listed[code] = true end
    for _, id in ipairs(counterIds) do
      for _, check in ipairs(plan[id][3]) do
        for _, code in ipairs(check.req or {}) do
          if not listed[code] then listed[code] = true; codes[#codes + 1] = code; fields[#fields + 1] = "!" .. code end
        end
      end
    end
  end
  local values = rcall("HMGET", stateKey, unpack(fields))
  local ring = (values[1] or "") .. (values[2] or "")
  local mask = tonumber(values[3]) or 0
  local slot -- the ring slot of this digest, when it is a duplicate
  local pos = string.find(ring, digest, 1, true)
  while pos do
    if (pos - 1) % DIGEST_BYTES == 0 then slot = (pos - 1) / DIGEST_BYTES break end
    pos = string.find(ring, digest, pos + 1, true)
  end

  if slot then
    local reached, balances, appliedBy = {}, {}, ""
    if bit.band(mask, bit.lshift(1, slot)) ~= 0 then
      local stored = rcall("HGET", outboxKey, digest) or ""
      appliedBy = string.sub(stored, 1, CALL_ID_BYTES)
      for token in string.gmatch(string.sub(stored, CALL_ID_BYTES + 1), "%S+") do
        local mark, name = string.sub(token, 1, 1), string.sub(token, 2)
        if mark == "$" then
          local free, held = readBalance(balKey, name)
          local n = #balances
          balances[n + 1], balances[n + 2], balances[n + 3] = name, free, held
        else
          local record = decodeAward(rcall("HGET", stateKey, "!" .. name))
          if record then
            local n = #reached
            reached[n + 1], reached[n + 2], reached[n + 3] = name, record[1], record[2]
            reached[n + 4] = mark == "+" and record[3] or -1
          end
        end
      end
    end
    results[si] = {1, reached, 0, balances, appliedBy}
  else
    ring = ring .. digest
    local oldMask = mask
    if #ring > RING_BYTES then
      -- The oldest batch leaves the ring, and its outbox entry with it: with the last entry the whole
      -- key (DEL, so nothing a lost state hash left behind outlives it either).
      local leaving = bit.band(mask, 1) ~= 0
      mask = bit.rshift(mask, 1)
      if leaving then
        if mask == 0 then rcall("DEL", outboxKey) else rcall("HDEL", outboxKey, string.sub(ring, 1, DIGEST_BYTES)) end
      end
      ring = string.sub(ring, -RING_BYTES)
    end

    local states, awards = {}, {}
    for i, id in ipairs(counterIds) do
      local st = decodeCounter(values[4 + i])
      if st and st.k == plan[id][1] then states[id] = st end
    end
    -- awards[code]: true, or the earnedAt of a code some check requires (a dependent is stamped with it).
    for i, code in ipairs(codes) do
      local raw = values[4 + #counterIds + i]
      if raw then awards[code] = isRequired[code] and decodeAward(raw)[1] or true end
    end

    -- Rarity: the subject is active today (its first apply of a day moves it and its awards to today);
    -- its awards from here on count under activeDay.
    local activeDay = noteActivity(rarityKey, stateKey, today, values[4])

    local reached, changed, touched, touchedOrder, lastDayOf = {}, {}, {}, {}, {}
    local grants = newGrants(balKey)

    -- Preconditions: checks that passed before their last precondition was awarded (code -> passedAt),
    -- and what this call has read (award fields, counters), built when a precondition first lands. A plan
    -- without preconditions makes none of it (no table, no closure per subject).
    local waiting, known, loaded = nil, nil, nil
    local award, resolveDependents

    if withPreconditions then
      -- One HMGET of what resolving `deps` needs and this call has not read: their award fields, those of
      -- their other preconditions, their counters.
      local function readMissing(deps)
        if not known then
          known, loaded = {}, {}
          for _, code in ipairs(codes) do known[code] = true end
          for _, id in ipairs(counterIds) do loaded[id] = true end
        end
        local missing, names = {}, {}
        for _, dep in ipairs(deps) do
          local check = dep[2]
          if not known[check[1]] then known[check[1]] = true; missing[#missing + 1] = check[5]; names[#names + 1] = check[1] end
          for _, code in ipairs(check.req) do
            if not known[code] then known[code] = true; missing[#missing + 1] = "!" .. code; names[#names + 1] = code end
          end
        end
        local awardFields = #missing
        for _, dep in ipairs(deps) do
          local id = dep[1]
          if not loaded[id] then loaded[id] = true; missing[#missing + 1] = id; names[#names + 1] = id end
        end
        if #missing == 0 then return end
        local got = rcall("HMGET", stateKey, unpack(missing))
        for i = 1, awardFields do
          if got[i] then awards[names[i]] = decodeAward(got[i])[1] end
        end
        for i = awardFields + 1, #missing do
          local id = names[i]
          local st = decodeCounter(got[i])
          if st and st.k == plan[id][1] then states[id] = st end
        end
      end

      -- A precondition landed: each dependent whose own check passes is awarded now (chains recurse through award).
      function resolveDependents(deps, retroactive)
        readMissing(deps)
        for _, dep in ipairs(deps) do
          local id, check = dep[1], dep[2]
          if not awards[check[1]] then
            local passedAt = waiting and waiting[check[1]]
            if passedAt then
              award(check, passedAt, retroactive)
            elseif not (check.closes and now >= check.closes) then
              local st = states[id]
              if st then
                local measured, at = COUNTER_KINDS[st.k].proven(st, check)
                if measured >= check[2] then award(check, at, retroactive) end
              end
            end
          end
        end
      end
    end

    function award(check, passedAt, retroactive)
      local earnedAt = passedAt
      local req = check.req
      if req then
        for ri = 1, #req do
          local at = awards[req[ri]]
          if not at then
            waiting = waiting or {}
            if not waiting[check[1]] then waiting[check[1]] = passedAt end
            return
          end
          if at > earnedAt then earnedAt = at end
        end
      end
      awards[check[1]] = earnedAt
      local claimedAt = -1
      if check[4] ~= 0 and grants.stage(check[4]) then claimedAt = now end
      local record = {earnedAt, retroactive and 1 or 0, claimedAt}
      changed[#changed + 1] = check[5]
      changed[#changed + 1] = encodeAward(record)
      local n = #reached
      reached[n + 1], reached[n + 2], reached[n + 3], reached[n + 4] = check[1], earnedAt, record[2], claimedAt
      -- No refusal follows the first award, so counting it now is counting it with the write.
      countMilestone(statsKey, check[1], 1, claimedAt >= 0 and 1 or 0)
      countHolder(rarityKey, check[1], 1, activeDay)
      local deps = dependentsOf[check[1]]
      if deps then resolveDependents(deps, retroactive) end
    end

    -- Events with their own id count once per subject within the retention (pruned once per apply).
    local eventsPruned = false
    local function isNewEvent(eventId)
      if not eventsPruned then
        rcall("ZREMRANGEBYSCORE", eventsKey, "-inf", fmtInt(now - eventRetention))
        eventsPruned = true
      end
      if rcall("ZSCORE", eventsKey, eventId) then return false end
      rcall("ZADD", eventsKey, fmtInt(now), eventId)
      return true
    end

    -- Stat guards: a trigger this batch part would take past its window limit has nothing applied.
    local refused, refusedTypes, breaches = checkGuards(stateKey, entry[5], now, changed)
    if refusedTypes and history ~= 0 then history = withoutTypes(history, refusedTypes) end

    -- Per increment: update the counter in place, then compare its checks. Tiers are sorted by
    -- target, so for the monotonic kinds the first check out of reach ends the comparison.
    for ii = 1, #incs, 4 do
      local id, amount, at, eventId = incs[ii], incs[ii + 1], incs[ii + 2], incs[ii + 3]
      if not (refused and refused[id]) and (eventId == "" or isNewEvent(eventId)) then
        local spec = plan[id]
        local kind, checks = spec[1], spec[3]
        local st = states[id]
        local day = math.floor(at / DAY_MS)
        if not touched[id] then touched[id] = true; touchedOrder[#touchedOrder + 1] = id end
        lastDayOf[id] = day

        if not st then st = COUNTER_KINDS[kind].create(at, day); states[id] = st end
        COUNTER_KINDS[kind].add(st, amount, at, day, spec[2], checks, awards, award)
      end
    end

    if catchUp then
      for _, id in ipairs(counterIds) do
        local st = states[id]
        if st then
          local kind = COUNTER_KINDS[st.k]
          for _, check in ipairs(plan[id][3]) do
            -- A seasonal milestone is caught up only while it is open (awards made in its period stay).
            if not awards[check[1]] and not (check.closes and now >= check.closes) then
              local measured, at = kind.proven(st, check)
              if measured >= check[2] then award(check, at, true) end
            end
          end
        end
      end
    end

    local progress = {}
    for _, id in ipairs(touchedOrder) do
      local st = states[id]
      changed[#changed + 1] = id
      changed[#changed + 1] = encodeCounter(st)
      for _, check in ipairs(plan[id][3]) do
        if not awards[check[1]] then
          local n = #progress
          progress[n + 1], progress[n + 2] = check[1], COUNTER_KINDS[st.k].measure(st, check, lastDayOf[id])
        end
      end
    end

    changed[#changed + 1] = "~b"
    changed[#changed + 1] = string.sub(ring, 1, RING_BYTES / 2)
    changed[#changed + 1] = "~c"
    changed[#changed + 1] = string.sub(ring, RING_BYTES / 2 + 1)
    local balances = grants.write()
    if #reached > 0 then
      local outcome = {}
      for i = 1, #reached, 4 do outcome[#outcome + 1] = (reached[i + 3] >= 0 and "+" or "-") .. reached[i] end
      for i = 1, #balances, 3 do outcome[#outcome + 1] = "$" .. balances[i] end
      rcall("HSET", outboxKey, digest, callId .. table.concat(outcome, " "))
      mask = bit.bor(mask, bit.lshift(1, #ring / DIGEST_BYTES - 1))
    end
    if mask == 0 and oldMask ~= 0 then
      rcall("HDEL", stateKey, "~p")
    elseif mask ~= oldMask then
      changed[#changed + 1] = "~p"
      changed[#changed + 1] = fmtInt(mask)
    end
    rcall("HSET", stateKey, unpack(changed))
    if history ~= 0 then
      part = part or partName(digest, now)
      appendHistory(histKey, logKey, history[1], history[2], counterSet, part, isNewEvent, historyFields[si], history[3], history[4])
    end
    if eventsPruned then rcall("PEXPIRE", eventsKey, fmtInt(eventRetention)) end
    dirtySubjects[#dirtySubjects + 1] = subject
    results[si] = {0, reached, progress, balances, "", breaches}
  end
end

if #dirtySubjects > 0 then rcall("SADD", dirtyKey, unpack(dirtySubjects)) end
return cmsgpack.pack({STATUS.OK, results})
