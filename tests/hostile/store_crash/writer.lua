-- writer.lua STORE [COUNT]: load the store, then save it COUNT times
-- (default: until killed), each time with seq one higher, through
-- core.fs.write_atomic, as a trust store saves itself.
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = dir .. "/?.lua;" .. package.path
local store = require("store")
local fs = require("truthound.native").fs

local path, count = arg[1], tonumber(arg[2] or "")
local seq = 0
local text = store.read(path)
if text then
  local s, why = store.check(text)
  if not s then
    io.stderr:write("writer: ", path, ": ", why, "\n")
    os.exit(3)
  end
  seq = s
end
local n = 0
while count == nil or n < count do
  seq = seq + 1
  local ok, msg = fs.write_atomic(path, store.render(seq))
  if not ok then
    io.stderr:write("writer: ", path, ": ", msg, "\n")
    os.exit(4)
  end
  n = n + 1
end
