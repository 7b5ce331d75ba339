-- tests/e2e/semver_diff/ours.lua: our answers through the Lua API.
--
--   lua5.4 ours.lua DIR        (LUA_PATH/LUA_CPATH find truthound)
--
-- Reads DIR/ranges.tsv, xpairs.tsv, versions.txt, sort_in.txt and writes
-- the same shapes as ref.js:
--   ours_ranges.tsv    VALID_DEF<TAB>CANON_DEF<TAB>VALID_INC<TAB>CANON_INC<TAB>BAD
--                      BAD: empty, or why a rejection was not a well-formed
--                      ConstraintSyntaxError (input, position, expected)
--   ours_x.txt         two characters per xpair (1, 0, or - for invalid)
--   ours_versions.tsv  VALID<TAB>FORMAT<TAB>FIELDS<TAB>BAD
--   ours_sat_api.txt   per pair: c:is_satisfied_by(version) for the default
--                      constraint, then with {include_prerelease = true} on
--                      that same (default-parsed) constraint: 1, 0 or E
--   ours_maxmin.tsv    as node_maxmin.tsv, through v.max_satisfying/min_satisfying
--   sort_ours_in.txt   sort_in.txt less the versions we reject
--   ours_sort.txt      v.sort() of sort_ours_in.txt
--   ours_compare.txt   v.compare() of each adjacent pair of sort_in.txt (E: raised)

local v = require("truthound.versioning")
local errors = require("truthound.errors")

local dir = assert(arg[1], "usage: ours.lua DIR")

local function lines(name)
  local t = {}
  for l in io.lines(dir .. "/" .. name) do t[#t + 1] = l end
  return t
end

local function writer(name)
  local f = assert(io.open(dir .. "/" .. name, "w"))
  f:setvbuf("full")
  return f
end

-- Why e is not the error the contract promises for input s, or nil.
local function bad_error(e, kind, s)
  if not errors.is(e, kind) then
    return "raised " .. (errors.kind(e) or type(e)) .. " (" .. tostring(e) .. "), not " .. kind
  end
  if e.input ~= s then return "error field input is not the input" end
  if math.type(e.position) ~= "integer" or e.position < 1 or e.position > #s + 1 then
    return "error field position " .. tostring(e.position) .. " is not a column of the input"
  end
  if type(e.expected) ~= "string" or e.expected == "" then
    return "error field expected is missing"
  end
  return nil
end

local INC = {include_prerelease = true}

-- Ranges, under both option values.
local ranges = {}
do
  local out = writer("ours_ranges.tsv")
  for i, l in ipairs(lines("ranges.tsv")) do
    local s = l:match("^[^\t]*\t[^\t]*\t([^\t]*)\t")
    local row, bad = {}, {}
    ranges[i] = {}
    for k, opts in ipairs({false, INC}) do
      local ok, c = pcall(v.parse_constraint, s, opts or nil)
      if ok then
        local ok2, text = pcall(tostring, c)
        ranges[i][k] = c
        row[#row + 1] = "1\t" .. (ok2 and text or "<tostring raised " .. tostring(text) .. ">")
      else
        row[#row + 1] = "0\t"
        bad[#bad + 1] = bad_error(c, "ConstraintSyntaxError", s)
      end
    end
    out:write(table.concat(row, "\t"), "\t", bad[1] or "", "\n")
  end
  out:close()
end

-- Satisfaction through the API: pre-parsed constraint, version string; the
-- include_prerelease column asks the default-parsed constraint, so the
-- lazily compiled twin is exercised too.
do
  local out = writer("ours_sat_api.txt")
  for _, l in ipairs(lines("pairs.tsv")) do
    local id, ver = l:match("^(%d+)\t(.*)$")
    local c = ranges[tonumber(id)][1]
    local r = {}
    for k, opts in ipairs({false, INC}) do
      if not c then
        r[k] = "E"
      else
        local ok, yes = pcall(c.is_satisfied_by, c, ver, opts or nil)
        r[k] = not ok and "E" or (yes and "1" or "0")
      end
    end
    out:write(r[1], r[2], "\n")
  end
  out:close()
end

-- max_satisfying / min_satisfying.
do
  local out = writer("ours_maxmin.tsv")
  for i, l in ipairs(lines("maxmin_in.txt")) do
    local list = {}
    for ver in (l .. "\t"):gmatch("([^\t]*)\t") do if ver ~= "" then list[#list + 1] = ver end end
    local row = {}
    for k, opts in ipairs({false, INC}) do
      local c = ranges[i][k]
      if not c then
        row[#row + 1] = "-\t-"
      else
        local ok1, hi = pcall(v.max_satisfying, list, c, opts or nil)
        local ok2, lo = pcall(v.min_satisfying, list, c, opts or nil)
        row[#row + 1] = (ok1 and (hi or "") or "<raised>") .. "\t" .. (ok2 and (lo or "") or "<raised>")
      end
    end
    out:write(table.concat(row, "\t"), "\n")
  end
  out:close()
end

-- intersects(c1, c2, opts) with both constraints parsed for those opts.
do
  local out = writer("ours_x.txt")
  for _, l in ipairs(lines("xpairs.tsv")) do
    local a, b = l:match("^(%d+)\t(%d+)$")
    a, b = tonumber(a), tonumber(b)
    local r = {}
    for k, opts in ipairs({false, INC}) do
      local ca, cb = ranges[a][k], ranges[b][k]
      if not ca or not cb then
        r[k] = "-"
      else
        local ok, yes = pcall(v.intersects, ca, cb, opts or nil)
        r[k] = not ok and "R" or (yes and "1" or "0")
      end
    end
    out:write(r[1], r[2], "\n")
  end
  out:close()
end

-- Versions: validity and node's .version spelling.
do
  local out = writer("ours_versions.tsv")
  for _, s in ipairs(lines("versions.txt")) do
    local ok, ver = pcall(v.parse_version, s)
    if ok then
      local pre, build = {}, {}
      for i, id in ipairs(ver.prerelease) do pre[i] = tostring(id) end
      for i, id in ipairs(ver.build) do build[i] = tostring(id) end
      out:write("1\t", tostring(ver), "\t", table.concat({ver.major, ver.minor, ver.patch}, ","),
                "|", table.concat(pre, ","), "|", table.concat(build, ","), "\t\n")
    else
      out:write("0\t\t\t", bad_error(ver, "VersionError", s) or "", "\n")
    end
  end
  out:close()
end

-- Sort through the API (the CLI is run by semver_diff.sh).
do
  local list = {}
  for _, s in ipairs(lines("sort_in.txt")) do
    if pcall(v.parse_version, s) then list[#list + 1] = s end
  end
  local f = writer("sort_ours_in.txt")
  for _, s in ipairs(list) do f:write(s, "\n") end
  f:close()
  local out = writer("ours_sort.txt")
  local ok, sorted = pcall(v.sort, list)
  if ok then
    for _, s in ipairs(sorted) do out:write(s, "\n") end
  else
    out:write("<sort raised ", tostring(sorted), ">\n")
  end
  out:close()
  out = writer("ours_compare.txt")
  local all = lines("sort_in.txt")
  for i = 1, #all - 1 do
    local ok, c = pcall(v.compare, all[i], all[i + 1])
    if ok then
      -- the Version metamethods must agree with compare()
      local a, b = v.parse_version(all[i]), v.parse_version(all[i + 1])
      if (a < b) ~= (c < 0) or (a <= b) ~= (c <= 0) or (a == b) ~= (c == 0) then
        c = string.format("%d but < %s, <= %s, == %s", c, a < b, a <= b, a == b)
      end
    end
    out:write(ok and tostring(c) or "E", "\n")
  end
  out:close()
end
