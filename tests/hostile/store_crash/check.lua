-- check.lua STORE: what a reader finds after a crash. Prints one line:
--   "ok SEQ TEMPS PIDS"  the store is complete; TEMPS temporary files of
--                        it lie beside it, written by PIDS (comma-separated,
--                        "-" for none)
--   "bad WHY"            the store is missing, broken or partial
-- Readers open STORE itself, never STORE.tmp.*: those are shown only to
-- check that no more than the killed writer's one is left behind.
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = dir .. "/?.lua;" .. package.path
local store = require("store")
local fs = require("truthound.native").fs

local path = arg[1]
local text = store.read(path)
if not text then
  print("bad the store is missing")
  return
end
local seq, why = store.check(text)
if not seq then
  print("bad " .. why)
  return
end
local folder, base = path:match("^(.*)/([^/]*)$")
local pids = {}
local pattern = "^" .. base:gsub("%p", "%%%0") .. "%.tmp%.(%d+)%.%x+$"
for _, name in ipairs(assert(fs.list(folder))) do
  local pid = name:match(pattern)
  if pid then
    pids[#pids + 1] = pid
  elseif name ~= base then
    print("bad an unexpected file beside the store: " .. name)
    return
  end
end
print(("ok %d %d %s"):format(seq, #pids, #pids > 0 and table.concat(pids, ",") or "-"))
