-- tests/e2e/semver_diff/gen.lua: the inputs of the differential test.
--
--   lua5.4 gen.lua OUTDIR [SEED [COUNT]]
--
-- Writes, deterministically for a given SEED:
--   ranges.tsv   CLASS<TAB>ORIGIN<TAB>OURS<TAB>NODE   one range per line
--                CLASS "in": inside the shared grammar (we must agree with
--                node on everything); "out": outside it (we must reject it,
--                whatever node says). OURS is what we parse, NODE what node
--                parses (commas turned into spaces).
--   pairs.tsv    RANGE_LINE<TAB>VERSION               satisfaction cases
--   xpairs.tsv   RANGE_LINE<TAB>RANGE_LINE            intersects() cases
--   versions.txt every distinct version of pairs.tsv, one per line
--   sortlist.txt versions to sort (generated + the cargo corpus, shuffled)
--
-- The module also exports recognize(s), the shared grammar as a recognizer
-- (docs/testing.md), used to classify corpus lines and mutated ranges.

local M = {}

---------------------------------------------------------------------------
-- A seeded generator (splitmix64) so that every run sees the same inputs.

local function rng(seed)
  local s = seed
  local r = {}
  function r.next()
    s = s + 0x9E3779B97F4A7C15
    local z = s
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
  function r.int(n) return ((r.next() >> 1) % n) end       -- 0 .. n-1
  function r.pick(t) return t[r.int(#t) + 1] end
  function r.chance(pct) return r.int(1000) < pct * 10 end  -- pct in percent
  return r
end
M.rng = rng

---------------------------------------------------------------------------
-- The shared grammar as a recognizer. node-semver's range.bnf, plus: one
-- optional 'v' before any partial, blanks between an operator and its
-- version, '~>' as tilde, '||' with or without blanks, ',' as AND (ours;
-- node sees a blank), blanks around the whole range and runs of blanks.
-- Wildcards are monotonic (1.x.x, never 1.x.2); prerelease and build only
-- after a full numeric X.Y.Z. Magnitudes are not checked here: "in" means
-- "we must agree with node", including on rejecting 2^53.

local OPS = {"<=", ">=", "~>", "<", ">", "=", "~", "^"}

function M.recognize(s)
  if #s > 4096 then return false end
  local i, n = 1, #s
  local function ch() return s:sub(i, i) end
  local function blanks()
    local j = i
    while s:sub(i, i) == " " do i = i + 1 end
    return i - j
  end
  local function number()
    local d = s:match("^%d+", i)
    if not d or (#d > 1 and d:sub(1, 1) == "0") then return false end
    i = i + #d
    return true
  end
  local function ids(numeric_rule)
    repeat
      local id = s:match("^[%w%-]+", i)
      if not id then return false end
      if numeric_rule and id:match("^%d+$") and #id > 1 and id:sub(1, 1) == "0" then
        return false
      end
      i = i + #id
      if ch() ~= "." then return true end
      i = i + 1
    until false
  end
  local function partial()
    if ch() == "v" then i = i + 1 end
    local kinds = {}
    for c = 1, 3 do
      if c > 1 then
        if ch() ~= "." then break end
        i = i + 1
      end
      local x = ch()
      if x == "x" or x == "X" or x == "*" then
        i = i + 1; kinds[c] = "x"
      elseif number() then
        kinds[c] = "n"
      else
        return false
      end
      if c > 1 and kinds[c - 1] == "x" and kinds[c] == "n" then return false end
    end
    local full = #kinds == 3 and kinds[3] == "n"
    if ch() == "-" then
      if not full then return false end
      i = i + 1
      if not ids(true) then return false end
    end
    if ch() == "+" then
      if not full then return false end
      i = i + 1
      if not ids(false) then return false end
    end
    local c = ch()
    return c == "" or c == " " or c == "," or c == "|"
  end
  local function simple()
    for _, op in ipairs(OPS) do
      if s:sub(i, i + #op - 1) == op then
        i = i + #op
        blanks()
        break
      end
    end
    return partial()
  end
  local function alt_end()
    local j = i
    blanks()
    local ok = i > n or s:sub(i, i + 1) == "||"
    i = j
    return ok
  end
  local function alt()
    local start = i
    if partial() and blanks() > 0 and ch() == "-" then
      i = i + 1
      if blanks() > 0 and partial() and alt_end() then return true end
    end
    i = start
    if not simple() then return false end
    while true do
      local j = i
      local b = blanks()
      if ch() == "," then
        i = i + 1
        blanks()
        if not simple() then return false end
      elseif b > 0 and i <= n and s:sub(i, i + 1) ~= "||" then
        if not simple() then return false end
      else
        i = j
        return true
      end
    end
  end
  blanks()
  if not alt() then return false end
  while true do
    blanks()
    if i > n then return true end
    if s:sub(i, i + 1) ~= "||" then return false end
    i = i + 2
    blanks()
    if not alt() then return false end
  end
end

-- What node parses for one of our ranges: commas are AND for us, a blank
-- for node.
function M.node_form(s) return (s:gsub(",", " ")) end

---------------------------------------------------------------------------
-- Generated ranges and versions.

local MAX = 9007199254740991            -- 2^53 - 1
local BIG = {MAX, MAX - 1, 4503599627370496, 9007199254740990, 2147483648,
             4294967296}
local ALNUM = {"alpha", "beta", "rc", "pre", "dev", "a", "b", "x", "X", "0a",
               "a0", "-", "--", "a-b", "1-", "alpha-1", "SNAPSHOT", "Beta",
               "z", "00a", "0-"}
local BUILDS = {"build", "b.1", "001", "sha.5114f85", "x", "20130313144700",
                "exp.sha.5114f85", "-", "0"}

local function gen_num(r)
  local k = r.int(100)
  if k < 30 then return 0 end
  if k < 65 then return 1 + r.int(9) end
  if k < 85 then return 10 + r.int(90) end
  if k < 96 then return 100 + r.int(100000) end
  if k < 99 or r.chance(70) then return r.pick(BIG) end
  return MAX + 1                                     -- 2^53: node rejects
end

local function gen_pre_id(r)
  local k = r.int(100)
  if k < 35 then return tostring(r.int(12)) end
  if k < 40 then return tostring(r.pick(BIG)) end     -- below 2^53
  return r.pick(ALNUM)
end

local function gen_pre(r)
  local t = {}
  for _ = 1, 1 + r.int(r.chance(20) and 4 or 2) do t[#t + 1] = gen_pre_id(r) end
  return table.concat(t, ".")
end

local function gen_build(r)
  local t = {}
  for _ = 1, 1 + r.int(2) do t[#t + 1] = r.pick(BUILDS) end
  return table.concat(t, ".")
end

-- A partial: returns its text and the full version it names (wildcards
-- and absent components read as 0), used to aim versions at its edges.
local function gen_partial(r, st)
  local arity = r.chance(55) and 3 or (r.chance(60) and 2 or 1)
  local wild_from = 4
  if r.chance(25) then wild_from = 1 + r.int(arity) end
  local parts, nums = {}, {}
  for c = 1, arity do
    if c >= wild_from then
      parts[c] = r.pick({"x", "X", "*", "x", "*"})
      nums[c] = 0
    else
      local v = gen_num(r)
      -- keep numbers coherent inside one range so that intervals overlap
      if st.base and r.chance(60) then
        v = st.base[c] + (r.chance(30) and r.int(3) or 0)
      end
      parts[c] = tostring(v)
      nums[c] = v
    end
  end
  for c = arity + 1, 3 do nums[c] = 0 end
  local text = table.concat(parts, ".")
  local pre
  if arity == 3 and wild_from == 4 then
    if r.chance(35) then pre = gen_pre(r); text = text .. "-" .. pre end
    if r.chance(12) then text = text .. "+" .. gen_build(r) end
  end
  if r.chance(10) then text = "v" .. text end
  st.base = st.base or {nums[1], nums[2], nums[3]}
  st.targets[#st.targets + 1] = {nums[1], nums[2], nums[3], pre}
  return text
end

local OP_W = {"", "", "=", "<", "<=", ">", ">=", ">=", "~", "~>", "^", "^", "^"}

local function gen_simple(r, st)
  local op = r.pick(OP_W)
  local blank = (op ~= "" and r.chance(10)) and (r.chance(80) and " " or "  ") or ""
  return op .. blank .. gen_partial(r, st)
end

local function gen_alt(r, st)
  if r.chance(15) then
    return gen_partial(r, st) .. (r.chance(90) and " - " or "  -  ") .. gen_partial(r, st)
  end
  local t = {gen_simple(r, st)}
  local k = r.int(100)
  local count = k < 55 and 1 or (k < 90 and 2 or 3)
  for _ = 2, count do
    local sep = " "
    local j = r.int(100)
    if j < 8 then sep = ", " elseif j < 11 then sep = "," elseif j < 13 then sep = "  "
    elseif j < 14 then sep = " , " end
    t[#t + 1] = sep .. gen_simple(r, st)
  end
  return table.concat(t)
end

local ORS = {" || ", " || ", "||", " ||", "|| ", "  ||  "}

local function gen_range(r)
  local st = {targets = {}}
  local t = {gen_alt(r, st)}
  local k = r.int(100)
  local count = k < 75 and 1 or (k < 93 and 2 or 3)
  for _ = 2, count do t[#t + 1] = r.pick(ORS) .. gen_alt(r, st) end
  local s = table.concat(t)
  if r.chance(3) then s = " " .. s end
  if r.chance(3) then s = s .. " " end
  return s, st.targets
end

-- Mutations: near-misses of valid ranges, to test validity both ways.
local MUT = {"0", "1", "9", ".", "x", "X", "*", "v", "V", "-", "+", "|", "||",
             "<", ">", "=", "~", "^", ",", " ", "a", "01", "..", "-0", "+b"}

local function mutate(r, s)
  local pos = 1 + r.int(#s + 1)
  local k = r.int(3)
  if k == 0 then
    return s:sub(1, pos - 1) .. r.pick(MUT) .. s:sub(pos)
  elseif k == 1 then
    return s:sub(1, pos - 1) .. s:sub(pos + 1)
  else
    return s:sub(1, pos - 1) .. r.pick(MUT) .. s:sub(pos + 1)
  end
end

-- Versions aimed at the edges of a target {M, m, p, pre}.
local function gen_version_near(r, t)
  local M_, m, p, pre = t[1], t[2], t[3], t[4]
  local k = r.int(9)
  if k == 0 then p = p + 1
  elseif k == 1 then if p > 0 then p = p - 1 end
  elseif k == 2 then m = m + 1; p = 0
  elseif k == 3 then M_ = M_ + 1; m = 0; p = 0
  elseif k == 4 then p = 0
  elseif k == 5 then if m > 0 then m = m - 1 end end
  local v = M_ .. "." .. m .. "." .. p
  local j = r.int(100)
  if pre and j < 40 then
    v = v .. "-" .. pre
    if r.chance(30) then v = v .. "." .. r.int(3) end
  elseif pre and j < 50 then
    local n = pre:match("(%d+)$")
    if n and #n < 15 then v = v .. "-" .. pre:sub(1, -#n - 1) .. (tonumber(n) + 1) end
  elseif j < 75 then
    v = v .. "-" .. r.pick({"0", "alpha", "alpha.1", "rc.1", "beta.2", "1", "a.b.c", gen_pre(r)})
  end
  if r.chance(5) then v = v .. "+" .. gen_build(r) end
  if r.chance(5) then v = "v" .. v end
  if r.chance(3) then v = " " .. v .. " " end
  return v
end

local BAD_VERSIONS = {"1.2", "1", "1.2.3.4", "01.2.3", "1.02.3", "1.2.3-",
  "1.2.3-01", "1.2.3+", "=1.2.3", "vv1.2.3", "1.2.3-beta..1", "x.1.2",
  "1.2.x", "1.2.3 1", ">1.2.3", "1.2.3-be ta", "V1.2.3", "1.2.3+a..b",
  "9007199254740992.0.0", "0.9007199254740992.0", "1.2.3-é", "-1.2.3"}

local function gen_version(r)
  if r.chance(3) then return r.pick(BAD_VERSIONS) end
  local t = {gen_num(r), gen_num(r), gen_num(r)}
  if t[1] > 1000 and r.chance(80) then t[1] = r.int(5) end
  if r.chance(40) then t[4] = gen_pre(r) end
  return gen_version_near(r, t)
end

-- Long inputs around node's 256-character version limit (and ours).
local function long_versions()
  local out = {}
  for _, len in ipairs({255, 256, 257}) do
    local head = "1.2.3-"
    out[#out + 1] = head .. ("a"):rep(len - #head)
    out[#out + 1] = "v" .. head .. ("a"):rep(len - #head - 1)
    out[#out + 1] = head .. ("a1."):rep(40):sub(1, len - #head - 1) .. "b"
    out[#out + 1] = "1.2.3+" .. ("b"):rep(len - 6)
  end
  return out
end

---------------------------------------------------------------------------
-- Hand-picked cases: node's corner cases inside the shared grammar, and the
-- deliberate deviations (outside it: we reject, node accepts).

M.EDGE = {
  "*", "x", "X", "x.x", "*.*.*", "x.X.*", "v*", "vx.x", "=*", ">*", "<x",
  ">=*", "<=x", ">x.x", "~*", "^x", "~x.x", "^*.*.*", "~>*", "1.x", "1.X.x",
  "1.*.*", ">1.x", ">=1.x", "<1.x", "<=1.x", ">1.2.x", "<=1.2.x", "=1.x",
  "^0", "^0.0", "^0.0.0", "^0.0.1", "^0.1", "^0.1.2", "^1.2.3-beta.2",
  "^0.0.1-rc.1", "^0.1.2-beta", "~0", "~0.0", "~0.0.0", "~0.0.1", "~1",
  "~1.2", "~1.2.3-beta.2", "~>1.2", "~>0.0.1", "~> 1.2", "~ 1.2", "^ 1.2",
  ">= 1.2.3", "<  1.2", "= 1.2.3", ">=v1.2", "^v1", "~v1.2.3", "v1.2.3",
  "0.x", "0.0.x", ">=0.0.0", ">=0.0.0-0", ">=0", ">=0.0", "<0.0.0-0",
  "<0.0.0", "<0.0.0-0 || 1.2.3", "1 || *", "1 || 1", "1.2.3 1.2.3",
  ">=1 >=1.0.0", "1.2.3 >x", ">x || <x", "* 1.2.3", "1.2.3 *",
  "1.2.3 - 2.3.4", "1.2 - 2.3.4", "1.2.3 - 2.3", "1.2.3 - 2", "x - 1",
  "1 - x", "x - x", "* - *", "1.2.3-beta - 2.0.0-rc.1", "v1.2.3 - v2",
  "1.2.3+build - 2.3.4+build", "0.0.0 - 0.0.0", "0 - 0",
  ">=1.0.0,<2.0.0", ">=1.0.0, <2.0.0", ">= 1.0.0 , < 2.0.0", "^1.2,<1.5",
  "1.2.3+build", ">=1.2.3+b.1", "1.2.3-rc.1+b", "1.2.3-0", "1.2.3-x",
  "1.2.3-X.x.*x", "1.2.3--", "1.2.3-0a", "1.2.3-a.0.b",
  "1.2.3||2.3.4", "1.2.3 ||2.3.4", "1.2.3|| 2.3.4", "  1.2.3  ", "1.2.3  2.0.0",
  "^9007199254740991", "~9007199254740991", "9007199254740991.x",
  "^0.0.9007199254740991", "^0.9007199254740991", "~1.9007199254740991.0",
  ">1.9007199254740991", "<=9007199254740991.x", ">9007199254740991",
  "9007199254740991.9007199254740991.9007199254740991",
  "9007199254740992", "^9007199254740992", "1 - 1.2.9007199254740991",
  "1.2.3-9007199254740991", "^1.2.3-9007199254740990",
  ">1.2.3-alpha.3 <1.2.3-alpha.7", "<1.2.3-beta", ">=1.2.3-0 <1.2.3",
  "^1.0.0-0", "~1.0.0-0", ">1.0.0-0", "<2.0.0-0", "<2",
  -- "any" reached two ways in one set, then beside a null set
  ">=0 *", ">=0.0.0-0 x", ">=0 x || >x", ">x || >=0 x", "^x >=0.0 || 1.2.3",
  ">=0.0.0-0 * || <0.0.0-0", "<0.0.0-0 || >=0 *", ">=v0.0.0 * || >x",
  ">=0.0.0 >=v0.0.0", "* >=0.0.0-0 || 1.2.3-beta", "0.0.0 - 1 || <0.0.0-0",
  "v0.0.0 - 1", "v0.0.0-0 - 1", "0.0.0-0 - 1", ">=0.0.0+b", ">=v0.0.0-0",
  "1 - 2 || 3 - 4", "1 - 2||3", "1.2.3 - 2.3.4 ||>=5", "~> v1.2", "^ v0.1",
  ">=1.2.3 <2 , >1.5", ">=1.2.3,<2 >1.5", "  >=1.2.3  ,  <2  ", "1.2.3-alpha.1 || 1.2.3-alpha.10",
  ">=1.2.3-alpha.1 <1.2.3-alpha.10", "^1.2.3-alpha.9", "~1.2.3-rc.9 || ^0.0.1-0",
}

M.DEVIATIONS = {
  "", " ", "1.2.3 ||", "|| 1", "1 |||| 2", "1 || || 2", "||",
  "1.x.2", "^1.x.2", "x.1", "~x.1", "^*.1.2", "1.*.3", "x.x.1",
  "1.2.x-beta", "1.x-rc.1", "^1.2.*-0", "x.x.x-beta", "1.2.x+build",
  "vv1.2", "==1.2", ">==1.2", "^=1", "v 1.2", "=v=1", "v=1.2", "=>1",
  "~ >1.2", "^~1.2", "~^1.2", ">=^1", "~>=1.2", ">= =1", "=~1",
  "1.2+build", "1+b", "^1.2+b.1", "1.x+b", "x+b",
  ">=1.0.0,", ",>=1.0.0", ">=1.0.0,,<2", ">=1.0.0 ,, <2", "1 - 2, 3",
  "1.2.3 - 2 - 3", "1.2.3 -2", "1.2.3- 2", ">=1.2.3 - 2",
  ("1.2.3 "):rep(700), ("1.2.3 || "):rep(500) .. "1",
  -- non-ASCII white space (U+00A0), which node's \s takes for a blank
  "\u{a0}1.2.3", "1.2.3\u{a0}||\u{a0}2", ">=\u{a0}1.2",
}

---------------------------------------------------------------------------

local function read_lines(path)
  local t = {}
  local f = assert(io.open(path, "r"))
  for l in f:lines() do t[#t + 1] = l end
  f:close()
  return t
end

local function main(outdir, seed, count, vectors)
  local r = rng(seed)
  local ranges, pairs_, xpairs = {}, {}, {}
  local versions, seen_v = {}, {}
  local function add_version(line, v)
    pairs_[#pairs_ + 1] = line .. "\t" .. v
    if not seen_v[v] then seen_v[v] = true; versions[#versions + 1] = v end
  end
  local function add_range(origin, s, targets, nver)
    local class = M.recognize(s) and "in" or "out"
    ranges[#ranges + 1] = class .. "\t" .. origin .. "\t" .. s .. "\t" .. M.node_form(s)
    local line = #ranges
    targets = targets or {}
    for _ = 1, nver do
      if #targets > 0 and r.chance(80) then
        add_version(line, gen_version_near(r, r.pick(targets)))
      else
        add_version(line, gen_version(r))
      end
    end
    return line
  end
  local function targets_of(s)
    local t = {}
    for a, b, c, pre in s:gmatch("(%d+)%.(%d+)%.(%d+)%-?([%w%-%.]*)") do
      t[#t + 1] = {tonumber(a) or 0, tonumber(b) or 0, tonumber(c) or 0,
                   pre ~= "" and pre or nil}
    end
    for a, b in s:gmatch("(%d+)%.(%d+)") do
      t[#t + 1] = {tonumber(a) or 0, tonumber(b) or 0, 0}
    end
    for a in s:gmatch("(%d+)") do t[#t + 1] = {tonumber(a) or 0, 0, 0} end
    return t
  end

  -- 1. Hand-picked corner cases and deviations.
  for _, s in ipairs(M.EDGE) do add_range("edge", s, targets_of(s), 12) end
  local dev_first = #ranges + 1
  for _, s in ipairs(M.DEVIATIONS) do add_range("deviation", s, targets_of(s), 2) end
  -- Around our 4096-byte limit (inclusive): 4095, 4096 and 4097 bytes.
  add_range("edge", ("1.2.3 "):rep(682) .. "1.2", {{1, 2, 3}}, 2)
  add_range("edge", ("1.2.3 "):rep(682) .. "^1.2", {{1, 2, 3}}, 2)
  add_range("deviation", ("1.2.3 "):rep(682) .. "^1.23", {{1, 2, 3}}, 2)
  for _, v in ipairs(long_versions()) do
    add_range("edge", "^1.2.3-a", nil, 0); add_version(#ranges, v)
    add_range("edge", ">=" .. v, {{1, 2, 3}}, 3)
  end
  for i = dev_first, #ranges - 1 do xpairs[#xpairs + 1] = i .. "\t" .. (i + 1) end

  -- 2. Generated ranges, and near-miss mutations of some of them.
  local gen_first = #ranges + 1
  for _ = 1, count do
    local s, targets = gen_range(r)
    add_range("gen", s, targets, 8)
    if r.chance(8) then
      local m = mutate(r, s)
      add_range("mutant", m, targets, 3)
    end
  end
  for i = gen_first, #ranges - 1 do
    xpairs[#xpairs + 1] = i .. "\t" .. (i + 1)
    if r.chance(20) then xpairs[#xpairs + 1] = i .. "\t" .. (gen_first + r.int(#ranges - gen_first)) end
  end

  -- 3. The cargo corpus: each requirement against versions of the corpus
  --    that share its major.minor, plus aimed versions.
  if vectors then
    local reqs = read_lines(vectors .. "/cargo-requirements.txt")
    local vers = read_lines(vectors .. "/cargo-versions.txt")
    local by_mm = {}
    for _, v in ipairs(vers) do
      local mm = v:match("^(%d+%.%d+)%.")
      if mm then
        by_mm[mm] = by_mm[mm] or {}
        table.insert(by_mm[mm], v)
      end
    end
    local corpus_first = #ranges + 1
    for _, req in ipairs(reqs) do
      local targets = targets_of(req)
      local line = add_range("cargo", req, targets, 2)
      local mm = req:match("(%d+%.%d+)")
      local bucket = mm and by_mm[mm]
      for _ = 1, 3 do
        if bucket then add_version(line, r.pick(bucket))
        else add_version(line, r.pick(vers)) end
      end
    end
    for i = corpus_first, #ranges - 1 do xpairs[#xpairs + 1] = i .. "\t" .. (i + 1) end
  end

  -- Sort list: generated versions and the whole version corpus, shuffled.
  local sortlist = {}
  for _ = 1, 4000 do sortlist[#sortlist + 1] = gen_version(r) end
  for _, v in ipairs(versions) do
    if r.chance(10) then sortlist[#sortlist + 1] = v end
  end
  if vectors then
    for _, v in ipairs(read_lines(vectors .. "/cargo-versions.txt")) do
      sortlist[#sortlist + 1] = v
    end
  end
  for i = #sortlist, 2, -1 do
    local j = 1 + r.int(i)
    sortlist[i], sortlist[j] = sortlist[j], sortlist[i]
  end

  local function write(name, t)
    local f = assert(io.open(outdir .. "/" .. name, "w"))
    for _, l in ipairs(t) do f:write(l, "\n") end
    f:close()
  end
  write("ranges.tsv", ranges)
  write("pairs.tsv", pairs_)
  write("xpairs.tsv", xpairs)
  write("versions.txt", versions)
  write("sortlist.txt", sortlist)
end

M.gen_range = gen_range
M.gen_version = gen_version

if arg and arg[0] and arg[0]:match("gen%.lua$") and arg[1] then
  main(arg[1], tonumber(arg[2]) or 20260101, tonumber(arg[3]) or 20000, arg[4])
end

return M
