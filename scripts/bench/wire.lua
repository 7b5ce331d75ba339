-- scripts/bench/wire.lua: throughput of the worker wire format (core.wire)
-- against lua-cjson on the same values, both C encoders called from Lua.
-- Prints "name<TAB>ours/s<TAB>peer/s" lines (peer empty without cjson).
-- The values are JSON-representable (string keys or arrays, finite
-- numbers) so both sides carry the same data; each measurement loops over
-- all of them until BENCH_MIN_SECONDS have passed, best of three.
local wire = require("truthound.native").wire
local ok_cjson, cjson = pcall(require, "cjson")
local clock = os.clock
local MIN = tonumber(os.getenv("BENCH_MIN_SECONDS")) or 1

-- A CALL / RESULT pair of small values: the hot path of a sandboxed call.
local call = {id = 17, ref = "checks.not_null", args = {n = 2, "column_a", {threshold = 0.5}},
              timeout_ms = 5000}
local result = {id = 17, results = {n = 1, {passed = true, failed_rows = 0, ratio = 1.0}},
                stats = {calls = 17, time_ms = 0.12, peak_memory_bytes = 81234,
                         memory_bytes = 60210, instructions = 3000}}
-- A larger result: 1,000 rows of 5 fields.
local rows = {}
for i = 1, 1000 do
  rows[i] = {id = i, name = "row" .. i, score = i * 0.25, ok = i % 3 == 0, tags = {"a", "b"}}
end
local big = {id = 1, results = {n = 1, rows}}

local function rate(fn, items)
  local best = 0
  for _ = 1, 3 do
    local n, t0 = 0, clock()
    repeat
      fn(items)
      n = n + #items
    until clock() - t0 >= MIN
    local r = n / (clock() - t0)
    if r > best then best = r end
  end
  return best
end

local enc, dec = wire.encode, wire.decode
local function w_enc(items) for i = 1, #items do enc(items[i]) end end
local function w_dec(items) for i = 1, #items do dec(items[i]) end end
local function w_round(items)
  local frame, unframe = wire.frame, wire.unframe
  for i = 1, #items do
    local _, c = unframe(frame(3, items[i][1]))
    local _, r = unframe(frame(4, items[i][2]))
  end
end
local function j_enc(items) local e = cjson.encode for i = 1, #items do e(items[i]) end end
local function j_dec(items) local d = cjson.decode for i = 1, #items do d(items[i]) end end
local function j_round(items)
  local e, d = cjson.encode, cjson.decode
  for i = 1, #items do d(e(items[i][1])); d(e(items[i][2])) end
end

local function line(name, ours, peer)
  io.write(("%s\t%.0f\t%s\n"):format(name, ours, peer and ("%.0f"):format(peer) or ""))
end

local small = {}
for i = 1, 100 do small[i] = i % 2 == 0 and call or result end
local pairs_ = {}
for i = 1, 100 do pairs_[i] = {call, result} end
line("round", rate(w_round, pairs_), ok_cjson and rate(j_round, pairs_))
line("encode_small", rate(w_enc, small), ok_cjson and rate(j_enc, small))
local wsmall, jsmall = {}, {}
for i = 1, #small do wsmall[i] = enc(small[i]); jsmall[i] = ok_cjson and cjson.encode(small[i]) end
line("decode_small", rate(w_dec, wsmall), ok_cjson and rate(j_dec, jsmall))
line("encode_big", rate(w_enc, {big}), ok_cjson and rate(j_enc, {big}))
line("decode_big", rate(w_dec, {enc(big)}), ok_cjson and rate(j_dec, {ok_cjson and cjson.encode(big)}))
io.write(("bytes\t%d\t%s\n"):format(#enc(big), ok_cjson and #cjson.encode(big) or ""))
