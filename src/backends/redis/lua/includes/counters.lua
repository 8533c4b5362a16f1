--[[
  Every counter kind by its one-letter code (the packed plan's kind), and the decoding of a stored
  counter field by its leading tag. One include per kind in includes/counters/.
]]
--- @include "includes/counters/sum"
--- @include "includes/counters/window"
--- @include "includes/counters/days"
--- @include "includes/counters/gap"

local COUNTER_KINDS = {s = SumCounter, w = WindowCounter, d = DaysCounter, g = GapCounter}
local COUNTER_TAGS = {W = WindowCounter, D = DaysCounter, G = GapCounter}

local function decodeCounter(raw)
  if not raw then return nil end
  local kind = COUNTER_TAGS[string.sub(raw, 1, 1)] or SumCounter
  return kind.decode(raw)
end

local function encodeCounter(st)
  return COUNTER_KINDS[st.k].encode(st)
end
