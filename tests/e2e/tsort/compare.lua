-- tests/e2e/tsort/compare.lua: `tplua graph --tsort` against GNU tsort on
-- random graphs, with and without loops. Prints TAP.
--
--   lua5.4 tests/e2e/tsort/compare.lua TPLUA TMPDIR [COUNT [SEED]]
--
-- For each generated input both programs read the same file; compared:
-- the node set, that our order respects every pair except the ones broken
-- at a reported loop, the exit status, the set of nodes reported on loops
-- (and, stronger, the loop reports themselves, which we re-enact from GNU
-- tsort's behaviour). Odd inputs, stdin and a sanity check of the checker
-- on GNU's own order come last.

local tplua, tmp = arg[1], arg[2]
local count = tonumber(arg[3] or os.getenv("TSORT_COUNT") or "300")
local seed = tonumber(arg[4] or os.getenv("TSORT_SEED") or "20260101")

-- xorshift: the same inputs on every run for a seed
local state = seed
local function rand(n)
  state = state ~ (state << 13); state = state ~ (state >> 7); state = state ~ (state << 17)
  return (state & 0x7fffffff) % n + 1
end

local NAMES = {"n%d", "node-%d", "Z%d", "x.%d.y", "%d", "_%d_", "é%d", "a/b%d", "%d!"}

-- A graph: n tokens, m pairs. dag: pairs only go forward in a random
-- permutation. Duplicated pairs, "a a" declarations and irregular blanks
-- (spaces, tabs, newlines, pairs across lines) are mixed in.
local function generate(n, m, dag)
  local names, perm = {}, {}
  for i = 1, n do
    names[i] = NAMES[rand(#NAMES)]:format(i)
    perm[i] = i
  end
  for i = n, 2, -1 do local j = rand(i); perm[i], perm[j] = perm[j], perm[i] end
  local tokens, pairs_ = {}, {}
  local function pair(a, b)
    tokens[#tokens + 1] = names[a]
    tokens[#tokens + 1] = names[b]
    if a ~= b then pairs_[#pairs_ + 1] = {names[a], names[b]} end
  end
  for _ = 1, m do
    local a, b = rand(n), rand(n)
    if dag then
      if perm[a] > perm[b] then a, b = b, a end
      if a == b then b = nil end
    end
    if b then
      pair(a, b)
      if rand(10) == 1 then pair(a, b) end         -- a duplicate
    end
  end
  for i = 1, n do if rand(4) == 1 then pair(i, i) end end   -- declarations
  -- every token appears somewhere (isolated ones declared)
  local seen = {}
  for _, t in ipairs(tokens) do seen[t] = true end
  for i = 1, n do if not seen[names[i]] then pair(i, i) end end
  local out = {}
  for i, t in ipairs(tokens) do
    out[#out + 1] = t
    local r = rand(12)
    out[#out + 1] = (i % 2 == 0 and r <= 6) and "\n" or r <= 8 and " " or r <= 10 and "\t" or "  \n\t"
  end
  return table.concat(out), pairs_
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function plain_replace(s, old, new)
  local out, at = {}, 1
  while true do
    local i, j = s:find(old, at, true)
    if not i then break end
    out[#out + 1] = s:sub(at, i - 1) .. new
    at = j + 1
  end
  return table.concat(out) .. s:sub(at)
end

-- s quoted on one line (for TAP comments)
local function q(s) return (("%q"):format(s):gsub("\\\n", "\\n")) end

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Run cmd (stdin from input when given); returns stdout, stderr, status.
local function run(cmd)
  local ok, _, status = os.execute(cmd .. " >" .. tmp .. "/out 2>" .. tmp .. "/err")
  return read_file(tmp .. "/out"), read_file(tmp .. "/err"), ok and 0 or status
end

local function lines(s)
  local t = {}
  for l in s:gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

-- Loops from stderr: lists of nodes after each "input contains a loop:".
local function loops_of(err, prog)
  local loops, cur = {}, nil
  for _, l in ipairs(lines(err)) do
    if l:match("^" .. prog .. ": .*: input contains a loop:$") then
      cur = {}
      loops[#loops + 1] = cur
    elseif cur and l:sub(1, #prog + 2) == prog .. ": " then
      cur[#cur + 1] = l:sub(#prog + 3)
    end
  end
  return loops
end

local function set_text(list)
  local s, seen = {}, {}
  for _, x in ipairs(list) do if not seen[x] then seen[x] = true; s[#s + 1] = x end end
  table.sort(s)
  return table.concat(s, " ")
end

-- Pairs (a before b) that the order breaks, less those broken at a loop
-- (one per loop: its last node before its first); nil when none is left.
local function unexplained(order, pairs_, loops)
  local pos = {}
  for i, x in ipairs(order) do pos[x] = i end
  local broken = {}
  for _, l in ipairs(loops) do
    local k = l[#l] .. "\0" .. l[1]
    broken[k] = (broken[k] or 0) + 1
  end
  for _, p in ipairs(pairs_) do
    if not pos[p[1]] or not pos[p[2]] then return p[1] .. " " .. p[2] .. " (a node is missing)" end
    if pos[p[1]] > pos[p[2]] then
      local k = p[1] .. "\0" .. p[2]
      if not broken[k] or broken[k] == 0 then return p[1] .. " " .. p[2] end
      broken[k] = broken[k] - 1
    end
  end
  return nil
end

local results = {}
local function fail(test, msg)
  results[test] = results[test] or {}
  local r = results[test]
  if #r < 5 then r[#r + 1] = msg end
  r.n = (r.n or 0) + 1
end

local TESTS = {
  "node sets agree",
  "our order respects every pair not broken at a reported loop",
  "exit status agrees",
  "the same set of nodes is reported on loops",
  "the loop reports are identical (GNU's order of loops and of nodes)",
  "the checker accepts GNU's own order (sanity)",
}

local loops_seen, cyclic = 0, 0
local input = tmp .. "/in.txt"
for i = 1, count do
  local big = i % 50 == 0
  local n = big and 300 + rand(1500) or rand(40)
  local m = big and n * 3 or rand(n * 3)
  local dag = i % 2 == 0
  local text, pairs_ = generate(n, m, dag)
  write_file(input, text)
  local gout, gerr, gst = run("tsort " .. sh_quote(input))
  local oout, oerr, ost = run(sh_quote(tplua) .. " graph --tsort " .. sh_quote(input))
  local gorder, oorder = lines(gout), lines(oout)
  local gloops, oloops = loops_of(gerr, "tsort"), loops_of(oerr, "tplua")
  local label = ("input %d (%d nodes, %d pairs, %s)"):format(i, n, #pairs_, dag and "acyclic" or "random")
  if #gloops > 0 then cyclic = cyclic + 1; loops_seen = loops_seen + #gloops end
  if set_text(gorder) ~= set_text(oorder) or #gorder ~= #oorder then
    fail(1, label .. ": " .. #gorder .. " nodes from tsort, " .. #oorder .. " from us")
  end
  local bad = unexplained(oorder, pairs_, oloops)
  if bad then fail(2, label .. ": pair " .. bad .. " is out of order") end
  if gst ~= ost then fail(3, ("%s: tsort exit %s, ours %s (%s)"):format(label, gst, ost, oerr:sub(1, 200))) end
  local gset, oset = {}, {}
  for _, l in ipairs(gloops) do for _, x in ipairs(l) do gset[#gset + 1] = x end end
  for _, l in ipairs(oloops) do for _, x in ipairs(l) do oset[#oset + 1] = x end end
  if set_text(gset) ~= set_text(oset) then
    fail(4, ("%s: tsort {%s}, ours {%s}"):format(label, set_text(gset):sub(1, 200), set_text(oset):sub(1, 200)))
  end
  local gtext = gerr:gsub("tsort: ", "")
  local otext = oerr:gsub("tplua: ", "")
  if gtext ~= otext then fail(5, label .. ": loop reports differ") end
  local gbad = unexplained(gorder, pairs_, gloops)
  if gbad then fail(6, label .. ": GNU's order breaks " .. gbad) end
end

for t, name in ipairs(TESTS) do
  local r = results[t]
  if r then
    print(("not ok %d - %s: %d of %d inputs disagree"):format(t, name, r.n, count))
    for _, m in ipairs(r) do print("# " .. m) end
    print("# input kept in " .. input .. " (the last one); TSORT_SEED=" .. seed)
  else
    print(("ok %d - %s (%d inputs, %d with loops, %d loops)"):format(t, name, count, cyclic, loops_seen))
  end
end

-- Odd inputs: both exit 1 with nothing on stdout; we name line and column.
local t = #TESTS
write_file(input, "a b\nc d\n  e\n")
local gout, _, gst = run("tsort " .. sh_quote(input))
local oout, oerr, ost = run(sh_quote(tplua) .. " graph --tsort " .. sh_quote(input))
t = t + 1
local want = ("tplua: %s:3:3: input contains an odd number of tokens"):format(input)
if gst == ost and ost == 1 and gout == "" and oout == "" and oerr:sub(1, #want) == want then
  print(("ok %d - an odd number of tokens: exit 1 as tsort, naming line and column"):format(t))
else
  print(("not ok %d - an odd number of tokens: exit 1 as tsort, naming line and column"):format(t))
  print(("# tsort %s %s, ours %s %s %s"):format(gst, q(gout), ost, q(oout), q(oerr)))
end

-- stdin and "-" give what FILE gives.
local text = generate(30, 60, false)
write_file(input, text)
local a = {run(sh_quote(tplua) .. " graph --tsort " .. sh_quote(input))}
local b = {run(sh_quote(tplua) .. " graph --tsort <" .. sh_quote(input))}
local c = {run(sh_quote(tplua) .. " graph --tsort - <" .. sh_quote(input))}
t = t + 1
local same = a[1] == b[1] and a[1] == c[1] and a[3] == b[3] and a[3] == c[3]
  and plain_replace(a[2], input, "-") == b[2] and b[2] == c[2]
print(("%s %d - stdin, '-' and FILE give the same order, loops and status"):format(same and "ok" or "not ok", t))
-- a missing file: exit 1 as tsort, with the system's message
local _, gerr2, gst2 = run("tsort " .. sh_quote(tmp .. "/none"))
local _, oerr2, ost2 = run(sh_quote(tplua) .. " graph --tsort " .. sh_quote(tmp .. "/none"))
t = t + 1
local ok2 = gst2 == ost2 and oerr2 == gerr2:gsub("^tsort", "tplua")
print(("%s %d - a missing file: the same exit status and message as tsort"):format(ok2 and "ok" or "not ok", t))
if not ok2 then print(("# tsort %s %s, ours %s %s"):format(gst2, q(gerr2), ost2, q(oerr2))) end
print("1.." .. t)
