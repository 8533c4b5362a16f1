--[[
  Folds a subject's history log into its history hash (includes/history.lua), e.g. before an export
  reads the hash. Nothing a reader sees changes: the log and the hash hold the same rollups after as
  before, in one place.

  Input:
    KEYS[1] history hash
    KEYS[2] history log

  Output: msgpack { 0 }
]]
--- @include "includes/status"
--- @include "includes/history"

foldHistory(KEYS[1], KEYS[2])
return cmsgpack.pack({STATUS.OK})
