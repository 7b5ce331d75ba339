-- scripts/bench/graph.lua: inputs and our side of the graph benchmarks
-- (scripts/bench/graph.sh).
--
--   lua5.4 scripts/bench/graph.lua gen NODES EDGES SEED > input    tsort input
--   lua5.4 scripts/bench/graph.lua api INPUT      DependencyGraph: add_node
--                                                 for every node, then
--                                                 get_load_order; prints
--                                                 "api<TAB>runs/s" and a
--                                                 breakdown
--
-- The input is a random DAG: a permutation of the nodes, each pair going
-- forward in it, so every node and every pair is ordered (no loop). Names
-- are "p" and a number, in random order, so that ties are broken by
-- comparing strings of different lengths.

local mode = arg[1]

local function xorshift(seed)
  local s = seed
  return function(n)
    s = s ~ (s << 13); s = s ~ (s >> 7); s = s ~ (s << 17)
    return (s & 0x7fffffffffff) % n + 1
  end
end

if mode == "gen" then
  local n, m, seed = tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4] or "20260101")
  local rand = xorshift(seed)
  local perm = {}
  for i = 1, n do perm[i] = i end
  for i = n, 2, -1 do local j = rand(i); perm[i], perm[j] = perm[j], perm[i] end
  local out, k = {}, 0
  local function flush()
    io.write(table.concat(out, "\n", 1, k), "\n")
    k = 0
  end
  -- every node appears: a spanning sequence first (n - 1 pairs), then
  -- random forward pairs
  for i = 1, n - 1 do
    k = k + 1
    out[k] = ("p%d p%d"):format(perm[i], perm[i + 1 + (rand(8) - 1) % (n - i)])
    if k == 4096 then flush() end
  end
  for _ = n, m do
    local a, b = rand(n), rand(n)
    if a == b then b = a % n + 1 end
    if a > b then a, b = b, a end
    k = k + 1
    out[k] = ("p%d p%d"):format(perm[a], perm[b])
    if k == 4096 then flush() end
  end
  if k > 0 then flush() end
  os.exit(0)
end

if mode ~= "api" then
  io.stderr:write("usage: graph.lua gen NODES EDGES [SEED] | api INPUT\n")
  os.exit(2)
end

local DependencyGraph = require("truthound.dependencies").DependencyGraph

local clock = os.clock
do
  local ok, tp = pcall(require, "truthound")
  if ok and type(tp) == "table" and type(tp.now) == "function" then
    clock = function() return tp.now() / 1000 end
  end
end
local MIN = tonumber(os.getenv("BENCH_MIN_SECONDS") or "1")

-- The nodes and their dependencies, as a plugin loader would have them
-- (from manifests) before it builds the graph: "a b" makes b depend on a.
local f = assert(io.open(arg[2], "rb"))
local text = f:read("a")
f:close()
local deps, ids, edges = {}, {}, 0
for a, b in text:gmatch("(%S+)%s+(%S+)") do
  if not deps[a] then deps[a] = {}; ids[#ids + 1] = a end
  if not deps[b] then deps[b] = {}; ids[#ids + 1] = b end
  if not deps[b][a] then edges = edges + 1 end
  deps[b][a] = "required"
end
local specs = {}
for i, id in ipairs(ids) do specs[i] = {version = "1.0.0", dependencies = deps[id]} end

-- One run: every add_node, then the load order.
local add_time, order_time
local function once()
  local t0 = clock()
  local g = DependencyGraph.new()
  for i = 1, #ids do g:add_node(ids[i], specs[i]) end
  local t1 = clock()
  local order = g:get_load_order()
  local t2 = clock()
  assert(#order == #ids, "load order lost nodes")
  if not add_time or t1 - t0 < add_time then add_time = t1 - t0 end
  if not order_time or t2 - t1 < order_time then order_time = t2 - t1 end
end

local best = 0
for _ = 1, 3 do
  local runs, t0, elapsed = 0, clock(), 0
  repeat
    once()
    runs = runs + 1
    elapsed = clock() - t0
  until elapsed >= MIN
  best = math.max(best, runs / elapsed)
end
print(("api\t%.6f"):format(best))
print(("nodes\t%d"):format(#ids))
print(("edges\t%d"):format(edges))
print(("add_node\t%.3f"):format(add_time))
print(("get_load_order\t%.3f"):format(order_time))
