-- scripts/bench/semver.lua: our side of the semver rows of `make bench`.
--
--   lua5.4 scripts/bench/semver.lua pairs VECTORS_DIR > pairs.tsv
--       (range, version) pairs from the cargo corpora that we accept, one
--       "RANGE<TAB>VERSION" per line; the count skipped goes to stderr
--   lua5.4 scripts/bench/semver.lua bench pairs.tsv
--       prints "NAME<TAB>calls per second" for each measurement:
--         satisfies   v.satisfies(ver, range), both strings, parsed each call
--         parse_each  v.parse_constraint(range):is_satisfied_by(ver)
--         preparsed   c:is_satisfied_by(ver), c parsed beforehand, ver a string
--
-- Each measurement loops over all pairs until at least MIN_SECONDS (env
-- BENCH_MIN_SECONDS, default 1) have passed, and keeps the best of 3.

local v = require("truthound.versioning")

local MIN_SECONDS = tonumber(os.getenv("BENCH_MIN_SECONDS") or "") or 1.0
local ROUNDS = 3

-- A monotonic wall clock in seconds: tp.now() where the loop is there,
-- else the process CPU clock (the work is single-threaded and CPU-bound).
local clock = os.clock
do
  local ok, tp = pcall(require, "truthound")
  if ok and type(tp) == "table" and type(tp.now) == "function" then
    clock = function() return tp.now() / 1000 end
  end
end

local function lines(path)
  local t = {}
  for l in io.lines(path) do t[#t + 1] = l end
  return t
end

local function make_pairs(dir)
  local reqs = lines(dir .. "/cargo-requirements.txt")
  local vers = lines(dir .. "/cargo-versions.txt")
  -- versions by "major.minor", so that a requirement meets versions near
  -- it (a realistic mix of satisfied and not)
  local by_mm = {}
  for _, s in ipairs(vers) do
    local mm = s:match("^(%d+%.%d+)%.")
    if mm then
      by_mm[mm] = by_mm[mm] or {}
      table.insert(by_mm[mm], s)
    end
  end
  local x, skipped, out = 12345, 0, {}
  local function rand(n)  -- a fixed LCG: the same pairs on every run
    x = (x * 1103515245 + 12345) % 2147483648
    return x % n + 1
  end
  for _, req in ipairs(reqs) do
    local mm = req:match("(%d+%.%d+)")
    local bucket = mm and by_mm[mm] or vers
    local ver = bucket[rand(#bucket)]
    if pcall(v.parse_constraint, req) and pcall(v.parse_version, ver) then
      out[#out + 1] = req .. "\t" .. ver
    else
      skipped = skipped + 1
    end
  end
  io.stdout:setvbuf("full")
  for _, l in ipairs(out) do io.write(l, "\n") end
  io.stderr:write(string.format("ours: %d pairs, %d skipped (range or version refused)\n",
                                #out, skipped))
end

-- Best calls per second of pass(), which makes n calls, repeated. The loop
-- over the pairs is inside pass so that no extra Lua call per measured call
-- is counted (node's JIT inlines its harness likewise).
local function measure(n, pass)
  local best = 0
  for _ = 1, ROUNDS do
    local calls, t0 = 0, clock()
    local elapsed
    repeat
      pass()
      calls = calls + n
      elapsed = clock() - t0
    until elapsed >= MIN_SECONDS
    best = math.max(best, calls / elapsed)
  end
  return best
end

local function bench(path)
  local ranges, versions = {}, {}
  for _, l in ipairs(lines(path)) do
    local r, ver = l:match("^([^\t]*)\t(.*)$")
    ranges[#ranges + 1], versions[#versions + 1] = r, ver
  end
  local n = #ranges
  local satisfies, parse = v.satisfies, v.parse_constraint
  local hits = 0
  for i = 1, n do if satisfies(versions[i], ranges[i]) then hits = hits + 1 end end
  io.stderr:write(string.format("ours: %d pairs, %d satisfied\n", n, hits))

  local results = {}
  results[#results + 1] = {"satisfies", measure(n, function()
    for i = 1, n do satisfies(versions[i], ranges[i]) end
  end)}
  results[#results + 1] = {"parse_each", measure(n, function()
    for i = 1, n do parse(ranges[i]):is_satisfied_by(versions[i]) end
  end)}
  local cs = {}
  for i = 1, n do cs[i] = parse(ranges[i]) end
  results[#results + 1] = {"preparsed", measure(n, function()
    for i = 1, n do cs[i]:is_satisfied_by(versions[i]) end
  end)}
  for _, r in ipairs(results) do print(string.format("%s\t%.0f", r[1], r[2])) end
end

local mode, a = arg[1], arg[2]
if mode == "pairs" and a then
  make_pairs(a)
elseif mode == "bench" and a then
  bench(a)
else
  io.stderr:write("usage: semver.lua pairs VECTORS_DIR | bench PAIRS\n")
  os.exit(2)
end
