--[[
  Per-milestone counts in the one global stats hash (redis-keys.ts `milestoneStats`):
    r:<code> players holding the award, c:<code> of those who claimed it.
  Changed only by the scripts that write an award or a claim (or erase one), in the same call, so
  a duplicate batch or a replayed claim counts nothing. A field back at 0 is removed.
]]
--- @include "includes/codec"

local function countMilestone(statsKey, code, reached, claimed)
  if reached ~= 0 and redis.call("HINCRBY", statsKey, "r:" .. code, reached) == 0 then redis.call("HDEL", statsKey, "r:" .. code) end
  if claimed ~= 0 and redis.call("HINCRBY", statsKey, "c:" .. code, claimed) == 0 then redis.call("HDEL", statsKey, "c:" .. code) end
end

-- Counts (sign 1) or takes out (sign -1) the awards among a state hash's flat field/value pairs
-- (award fields are "!<code>", includes/codec.lua).
local function countStoredAwards(statsKey, flat, sign)
  for i = 1, #flat, 2 do
    local field = flat[i]
    if string.byte(field, 1) == 33 then -- "!"
      local award = decodeAward(flat[i + 1])
      if award then countMilestone(statsKey, string.sub(field, 2), sign, award[3] >= 0 and sign or 0) end
    end
  end
end
