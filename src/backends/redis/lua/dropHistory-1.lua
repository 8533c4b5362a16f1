--[[
  After the archive stored a subject's exported rollups: drops each exported field that still holds
  exactly the exported value, and marks the days before `beforeDay` archived ("~t"), so a later event
  on one of them goes to a late part. Nothing is dropped if the hash was created again since the export
  (its part name "~e" differs): those fields belong to another part.

  Input:
    KEYS[1] history hash
    ARGV[1] msgpack [part, beforeDay, fields], fields = { field, value, ... } (flat)

  Output: msgpack { 0, dropped }  or  { -1, message }
]]
--- @include "includes/status"
--- @include "includes/integers"

local decoded, req = pcall(cmsgpack.unpack, ARGV[1] or "")
if not decoded or type(req) ~= "table" or type(req[1]) ~= "string" or type(req[2]) ~= "number"
  or type(req[3]) ~= "table" or #req[3] % 2 ~= 0 then
  return fail(STATUS.INVALID_INPUT, "dropHistory needs ARGV[1] msgpack [part, beforeDay, flat field/value pairs]")
end
local histKey, part, beforeDay, fields = KEYS[1], req[1], req[2], req[3]
if redis.call("HGET", histKey, "~e") ~= part then return cmsgpack.pack({STATUS.OK, 0}) end
local dropped = {}
for i = 1, #fields, 2 do
  if redis.call("HGET", histKey, fields[i]) == fields[i + 1] then dropped[#dropped + 1] = fields[i] end
end
if #dropped > 0 then redis.call("HDEL", histKey, unpack(dropped)) end
local archivedThrough = tonumber(redis.call("HGET", histKey, "~t")) or -1
if beforeDay - 1 > archivedThrough then redis.call("HSET", histKey, "~t", fmtInt(beforeDay - 1)) end
return cmsgpack.pack({STATUS.OK, #dropped})
