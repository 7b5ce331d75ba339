-- tests/e2e/semver_diff/compare.lua: node's answers against ours, as TAP.
--
--   lua5.4 compare.lua DIR
--
-- One test point per property class; a failing one lists its first
-- disagreements as "# " lines (input, node's answer, ours). See
-- docs/testing.md for what each class covers and what is excluded.

local dir = assert(arg[1], "usage: compare.lua DIR")
local SHOW = tonumber(os.getenv("SEMVER_DIFF_SHOW") or "") or 8

local function lines(name)
  local t = {}
  local f = io.open(dir .. "/" .. name, "r")
  if not f then return nil end
  for l in f:lines() do t[#t + 1] = l end
  f:close()
  return t
end

local function split(l)
  local t = {}
  for field in (l .. "\t"):gmatch("([^\t]*)\t") do t[#t + 1] = field end
  return t
end

-- Quote an input for a diagnostic line, shortened if long.
local function q(s)
  if #s > 100 then
    s = s:sub(1, 60) .. "...(" .. #s .. " bytes)..." .. s:sub(-20)
  end
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

local n = 0
local function point(name, fails, checked, notes)
  n = n + 1
  local head = string.format("%s %d - %s (%d checked", #fails == 0 and "ok" or "not ok",
                             n, name, checked)
  if #fails > 0 then head = head .. ", " .. #fails .. " disagree" end
  print(head .. ")")
  for i = 1, math.min(#fails, SHOW) do print("# " .. fails[i]) end
  if #fails > SHOW then print("# ... and " .. (#fails - SHOW) .. " more") end
  for _, note in ipairs(notes or {}) do print("# " .. note) end
end

-- Inputs.
local ranges = {}
for i, l in ipairs(lines("ranges.tsv")) do
  local f = split(l)
  ranges[i] = {class = f[1], origin = f[2], ours = f[3], node = f[4]}
end
local function load_answers(name, field)
  for i, l in ipairs(lines(name)) do
    local f = split(l)
    ranges[i][field] = {valid = {f[1] == "1", f[3] == "1"}, canon = {f[2], f[4]}, bad = f[5]}
  end
end
load_answers("node_ranges.tsv", "n")
load_answers("ours_ranges.tsv", "o")

local function range_desc(r)
  local s = q(r.ours)
  if r.node ~= r.ours then s = s .. " (node: " .. q(r.node) .. ")" end
  return s
end

local FLAG = {"default", "include_prerelease"}
local in_count, out_count = 0, 0
for _, r in ipairs(ranges) do
  if r.class == "in" then in_count = in_count + 1 else out_count = out_count + 1 end
end

-- 1. Validity: ranges inside the shared grammar, and versions.
do
  local fails, checked = {}, 0
  for _, r in ipairs(ranges) do
    if r.class == "in" then
      for k = 1, 2 do
        checked = checked + 1
        if r.n.valid[k] ~= r.o.valid[k] then
          fails[#fails + 1] = string.format("range %s [%s]: node %s, ours %s", range_desc(r),
            FLAG[k], r.n.valid[k] and "valid" or "invalid", r.o.valid[k] and "valid" or "invalid")
        end
      end
    end
    if r.o.bad ~= "" then
      fails[#fails + 1] = string.format("range %s: rejection is not well-formed: %s",
                                        range_desc(r), r.o.bad)
    end
  end
  local vs, nv, ov = lines("versions.txt"), lines("node_versions.tsv"), lines("ours_versions.tsv")
  for i, s in ipairs(vs) do
    local a, b = split(nv[i]), split(ov[i])
    checked = checked + 1
    if a[1] ~= b[1] then
      fails[#fails + 1] = string.format("version %s: node %s, ours %s", q(s),
        a[1] == "1" and "valid" or "invalid", b[1] == "1" and "valid" or "invalid")
    end
    if b[4] and b[4] ~= "" then
      fails[#fails + 1] = string.format("version %s: rejection is not well-formed: %s", q(s), b[4])
    end
  end
  point("validity: ranges of the shared grammar (both option values) and versions agree with node",
        fails, checked, {string.format("%d ranges in the shared grammar, %d outside it (test 7)",
                                       in_count, out_count)})
end

-- 2. Canonical form.
do
  local fails, checked = {}, 0
  for _, r in ipairs(ranges) do
    if r.class == "in" then
      for k = 1, 2 do
        if r.n.valid[k] and r.o.valid[k] then
          checked = checked + 1
          if r.n.canon[k] ~= r.o.canon[k] then
            fails[#fails + 1] = string.format("range %s [%s]: node %s, ours %s", range_desc(r),
              FLAG[k], q(r.n.canon[k]), q(r.o.canon[k]))
          end
        end
      end
    end
  end
  local vs, nv, ov = lines("versions.txt"), lines("node_versions.tsv"), lines("ours_versions.tsv")
  for i, s in ipairs(vs) do
    local a, b = split(nv[i]), split(ov[i])
    if a[1] == "1" and b[1] == "1" then
      checked = checked + 1
      if a[2] ~= b[2] then
        fails[#fails + 1] = string.format("version %s: node %s, ours %s", q(s), q(a[2]), q(b[2]))
      end
      checked = checked + 1
      if a[3] ~= b[3] then
        fails[#fails + 1] = string.format("version %s fields (major,minor,patch|prerelease|build): node %s, ours %s",
                                          q(s), q(a[3]), q(b[3]))
      end
    end
  end
  point("canonical form: tostring(constraint), tostring(version) and Version fields agree with node",
        fails, checked)
end

-- 3 and 4. Satisfaction through `tplua semver check` and through
-- c:is_satisfied_by, plus v.max_satisfying / v.min_satisfying.
local pairs_ = {}
for i, l in ipairs(lines("pairs.tsv")) do
  local id, ver = l:match("^(%d+)\t(.*)$")
  pairs_[i] = {r = ranges[tonumber(id)], v = ver}
end
local node_sat, api = lines("node_sat.txt"), lines("ours_sat_api.txt")
local maxmin_in, node_mm, ours_mm = lines("maxmin_in.txt"), lines("node_maxmin.tsv"), lines("ours_maxmin.tsv")
for k = 1, 2 do
  local fails, checked, excluded = {}, 0, 0
  local cli = k == 1 and "tplua semver check" or "tplua semver check --include-prerelease"
  local ours = lines(k == 1 and "ours_sat_def.txt" or "ours_sat_inc.txt")
  if not ours or #ours ~= #pairs_ then
    fails[1] = string.format("`%s` gave %s lines for %d inputs", cli, ours and #ours or "no", #pairs_)
    local err = lines(k == 1 and "check_def.err" or "check_inc.err") or {}
    for i = 1, math.min(#err, 5) do fails[#fails + 1] = "  " .. err[i] end
    ours = {}
  end
  for i, p in ipairs(pairs_) do
    local a = node_sat[i]:sub(k, k)
    if a == "X" then
      excluded = excluded + 1
    elseif p.r.class == "in" then
      checked = checked + 1
      if ours[i] and a ~= ours[i] then
        fails[#fails + 1] = string.format("`%s` range %s version %s: node %s, ours %s",
                                          cli, range_desc(p.r), q(p.v), a, ours[i])
      end
      -- the API answers from the default-parsed constraint (E when it is
      -- invalid); compared where both sides agree on that validity
      if p.r.n.valid[1] == p.r.o.valid[1] then
        local b, want = api[i]:sub(k, k), p.r.n.valid[1] and a or "E"
        if b ~= want then
          fails[#fails + 1] = string.format("c:is_satisfied_by: range %s version %s: node %s, ours %s",
                                            range_desc(p.r), q(p.v), want, b)
        end
      end
    end
  end
  for i, l in ipairs(node_mm) do
    local r = ranges[i]
    local a, b = split(l), split(ours_mm[i])
    if r.class == "in" and a[2 * k - 1] ~= "-" and b[2 * k - 1] ~= "-" and maxmin_in[i] ~= "" then
      checked = checked + 1
      if a[2 * k - 1] ~= b[2 * k - 1] or a[2 * k] ~= b[2 * k] then
        fails[#fails + 1] = string.format("max/min_satisfying(%s, range %s): node %s/%s, ours %s/%s",
          q(maxmin_in[i]), range_desc(r), q(a[2 * k - 1]), q(a[2 * k]), q(b[2 * k - 1]), q(b[2 * k]))
      end
    end
  end
  point(string.format("satisfaction (%s): `%s`, c:is_satisfied_by and max/min_satisfying agree with node",
                      FLAG[k], cli),
        fails, checked, excluded > 0 and {excluded ..
          " pairs excluded: the version has a numeric identifier >= 2^53 (node rounds it)"} or nil)
end

-- 5. intersects.
do
  local fails, checked = {}, 0
  local nx, ox = lines("node_x.txt"), lines("ours_x.txt")
  for i, l in ipairs(lines("xpairs.tsv")) do
    local a, b = l:match("^(%d+)\t(%d+)$")
    local ra, rb = ranges[tonumber(a)], ranges[tonumber(b)]
    if ra.class == "in" and rb.class == "in" then
      for k = 1, 2 do
        local x, y = nx[i]:sub(k, k), ox[i]:sub(k, k)
        if x ~= "-" and y ~= "-" then
          checked = checked + 1
          if x ~= y then
            fails[#fails + 1] = string.format("intersects(%s, %s) [%s]: node %s, ours %s",
              range_desc(ra), range_desc(rb), FLAG[k], x, y == "R" and "raised" or y)
          end
        end
      end
    end
  end
  point("intersects: v.intersects(c1, c2, opts) agrees with node's Range.intersects",
        fails, checked)
end

-- 6. Sort order: v.sort and `tplua semver sort` (each adjacent pair in
-- the order node's compareBuild wants, the output a permutation of the
-- input), and v.compare of adjacent inputs.
do
  local fails, checked = {}, 0
  local input = lines("sort_ours_in.txt")
  local function check_sorted(name, file)
    local out, verdict = lines(file), lines(file .. ".node")
    if not out or #out ~= #input then
      fails[#fails + 1] = string.format("%s gave %s lines for %d versions%s", name,
        out and #out or "no", #input, out and out[1] and (": " .. q(out[1])) or "")
      return
    end
    local count = {}
    for _, s in ipairs(input) do count[s] = (count[s] or 0) + 1 end
    for i, s in ipairs(out) do
      checked = checked + 1
      if not count[s] or count[s] == 0 then
        fails[#fails + 1] = string.format("%s: line %d %s is not one of the inputs", name, i, q(s))
        return
      end
      count[s] = count[s] - 1
      if i > 1 and verdict[i - 1] ~= "-1" and verdict[i - 1] ~= "0" then
        fails[#fails + 1] = string.format("%s: %s before %s, node's compareBuild says %s",
                                          name, q(out[i - 1]), q(s), verdict[i - 1])
      end
    end
  end
  check_sorted("v.sort", "ours_sort.txt")
  check_sorted("tplua semver sort", "ours_cli_sort.txt")
  local sin, nc, oc = lines("sort_in.txt"), lines("node_compare.txt"), lines("ours_compare.txt")
  for i = 1, #nc do
    if oc[i] ~= "E" then
      checked = checked + 1
      if nc[i] ~= oc[i] then
        fails[#fails + 1] = string.format("compare(%s, %s): node %s, ours %s",
                                          q(sin[i]), q(sin[i + 1]), nc[i], oc[i])
      end
    end
  end
  point("sort order: v.sort, `tplua semver sort` and v.compare agree with node's compareBuild/compare",
        fails, checked, {#input .. " versions sorted"})
end

-- 7. Deviations: outside the shared grammar we reject, whatever node says.
do
  local fails, checked, node_ok = {}, 0, 0
  for _, r in ipairs(ranges) do
    if r.class == "out" then
      if r.n.valid[1] or r.n.valid[2] then node_ok = node_ok + 1 end
      for k = 1, 2 do
        checked = checked + 1
        if r.o.valid[k] then
          fails[#fails + 1] = string.format("range %s [%s]: ours accepts it as %s (node: %s)",
            range_desc(r), FLAG[k], q(r.o.canon[k]),
            r.n.valid[k] and q(r.n.canon[k]) or "invalid")
        end
      end
    end
  end
  local ours = {lines("ours_sat_def.txt") or {}, lines("ours_sat_inc.txt") or {}}
  for i, p in ipairs(pairs_) do
    if p.r.class == "out" then
      for k = 1, 2 do
        if ours[k][i] then
          checked = checked + 1
          if ours[k][i] ~= "E" then
            fails[#fails + 1] = string.format("`tplua semver check` [%s] range %s version %s: %s, not E",
              FLAG[k], range_desc(p.r), q(p.v), ours[k][i])
          end
        end
      end
    end
  end
  point("deviations: ranges outside the shared grammar are rejected (ConstraintSyntaxError, E)",
        fails, checked, {string.format("%d ranges outside the shared grammar, %d of them accepted by node",
                                       out_count, node_ok)})
end

print("1.." .. n)
