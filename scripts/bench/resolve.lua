-- scripts/bench/resolve.lua: the resolver rows of `make bench`.
--
--   lua5.4 scripts/bench/resolve.lua
--       prints "NAME<TAB>solves per second<TAB>note" for each measurement:
--         pubgrub   the pubgrub hard case (tests/vectors/resolve, MPL-2.0)
--                   from p0 0.0.0, 83 plugins, 641 versions
--         pins      1,000 plugins x 20 versions, a few regression pins
--         cascade   1,000 plugins x 20 versions, a few lagging dependencies
--                   that force almost every plugin down a major version
--
-- Every solve is DependencyResolver:resolve on plugin infos built
-- beforehand (plain tables, as scan.plugins gives them): the conversion to
-- the core's input, the search, the result and the load order (by
-- DependencyGraph) are all inside the measurement. Each measurement solves
-- again and again until at least MIN_SECONDS (env BENCH_MIN_SECONDS,
-- default 1) have passed, and keeps the best of 3.

local DependencyResolver = require("truthound.dependencies").DependencyResolver
local resolver = require("truthound.dependencies.resolver")

local MIN_SECONDS = tonumber(os.getenv("BENCH_MIN_SECONDS") or "") or 1.0
local ROUNDS = 3

local clock = os.clock
do
  local ok, tp = pcall(require, "truthound")
  if ok and type(tp) == "table" and type(tp.now) == "function" then
    clock = function() return tp.now() / 1000 end
  end
end

-- A fixed LCG: the same registry on every run.
local function rng(seed)
  local s = seed
  return function(n)
    s = (s * 1103515245 + 12345) % 2147483648
    return (s >> 8) % n
  end
end

-- 1,000 plugins "s0001" ..., versions M.m.0 for M 1-4 and m 0-4. Plugin i
-- depends on 1 to 4 plugins before it (the same ones in every version);
-- version M.m asks for ^M of them, M.3 and M.4 for >=M.2.0 <M+1 (a newer
-- feature). All at 2.0.0 is always a solution.
--   pins:    2% of the edges pin the target below M.2.0 in the M.4
--            releases (a known regression): local conflicts, avoided
--   cascade: 1% of the edges lag: the dependent's 4.x releases still ask
--            for 3.x of the target, so the target, then everything that
--            needs it, must come down a major: ~80 conflicts, backjumps
--            over hundreds of decisions
local function synthetic(kind, n)
  local rand = rng(20260101)
  local infos = {}
  for i = 1, n do
    local id = ("s%04d"):format(i)
    local targets, odd = {}, {}
    for t = 1, i > 1 and 1 + rand(4) or 0 do
      targets[t] = ("s%04d"):format(1 + rand(i - 1))
      odd[t] = rand(1000) < (kind == "pins" and 20 or 10)
    end
    for M = 1, 4 do
      for m = 0, 4 do
        local deps = {}
        for t = 1, #targets do
          local want = (kind == "cascade" and odd[t] and M == 4) and 3 or M
          local c
          if M == 2 and m == 0 then c = "^2"
          elseif kind == "pins" and odd[t] and m == 4 then c = (">=%d.0.0 <%d.2.0"):format(M, M)
          elseif m >= 3 then c = (">=%d.2.0 <%d.0.0"):format(want, want + 1)
          else c = "^" .. want end
          deps[targets[t]] = c
        end
        infos[#infos + 1] = {id = id, version = ("%d.%d.0"):format(M, m), dependencies = deps}
      end
    end
  end
  return infos
end

local function measure(name, infos, opts, note)
  local r = DependencyResolver.new()
  local result = r:resolve(infos, opts)
  if not result.success then
    io.stderr:write(name, ": no solution: ", result.explanation:sub(1, 300), "\n")
    os.exit(1)
  end
  local best = 0
  for _ = 1, ROUNDS do
    collectgarbage()
    local solves, t0, elapsed = 0, clock(), 0
    repeat
      r:resolve(infos, opts)
      solves = solves + 1
      elapsed = clock() - t0
    until elapsed >= MIN_SECONDS
    best = math.max(best, solves / elapsed)
  end
  local s = result.stats
  io.write(("%s\t%.2f\t%s: %d steps, %d decisions, %d conflicts\n"):format(name, best, note,
    s.steps, s.decisions, s.conflicts))
end

local pubgrub = resolver.read_registry("tests/vectors/resolve/pubgrub_large_case_u16.lua")
measure("pubgrub", pubgrub, {requirements = {{name = "p0", constraint = "0.0.0"}}},
        "pubgrub hard case from p0 0.0.0")
measure("pins", synthetic("pins", 1000), nil, "1,000 x 20, pins")
measure("cascade", synthetic("cascade", 1000), nil, "1,000 x 20, cascade")
