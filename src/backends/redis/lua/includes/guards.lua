--[[
  Stat guards (docs/semantics.md, "Stat guards"): per subject and trigger, the most a window of windowMs
  may add up to, checked by the apply in the same atomic step as the increments.
  Request part (entry[5] of a subject in applyBatch-n.lua): 0, or a flat list of guard rows.
  To be filled in: validGuards(guards) and checkGuards(stateKey, guards, now, changed) ->
  refusedCounters (set of counter ids, or nil), refusedTypes (set of trigger names, or nil), breaches (flat list, or 0).
]]

local function validGuards(guards)
  return guards == 0
end

local function checkGuards(stateKey, guards, now, changed)
  return nil, nil, 0
end
