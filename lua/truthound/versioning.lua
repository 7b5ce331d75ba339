-- truthound.versioning: semantic versions and version constraints.
--
-- Versions are SemVer 2.0.0; constraints use node-semver's range grammar
-- (^ ~ ~> x-ranges, hyphen ranges, blanks for AND, || for OR) plus ',' as
-- AND, with node-semver 7.8.5's meaning. A bare version means exactly that
-- version (npm's rule; in Cargo it would mean ^). See docs/versioning.md.
--
--   local v = require("truthound.versioning")
--   local c = v.parse_constraint(">=1.0.0,<2.0.0")
--   c:is_satisfied_by("1.4.2")        --> true
--   tostring(v.parse_constraint("^0.2"))   --> ">=0.2.0 <0.3.0-0"

local semver = require("truthound.native").semver
local errors = require("truthound.errors")

local M = {}

-- parse_version(s) -> Version (fields major, minor, patch, prerelease,
-- build; compares with < <= == against other Versions).
M.parse_version = semver.parse_version

-- parse_constraint(s [, {include_prerelease = true}]) -> VersionConstraint
M.parse_constraint = semver.parse_range

-- compare(a, b) -> -1, 0 or 1 by precedence (build metadata ignored).
M.compare = semver.compare

-- satisfies(version, constraint [, opts]) -> boolean; the constraint may be
-- a string, parsed on every call.
M.satisfies = semver.satisfies

local VersionConstraint = {}
M.VersionConstraint = VersionConstraint

local function full_version(v)
  if type(v) ~= "string" then v = tostring(v) end
  M.parse_version(v)   -- refuses partial versions: exact("1.2") is an error
  return (v:gsub("^%s+", ""):gsub("%s+$", ""))
end

VersionConstraint.parse = M.parse_constraint

-- Any version without a prerelease tag ("*").
function VersionConstraint.any_version()
  return M.parse_constraint("*")
end

-- Exactly v (build metadata ignored).
function VersionConstraint.exact(v)
  return M.parse_constraint("=" .. full_version(v))
end

-- v or anything newer (prereleases of newer versions excluded, as ">=").
function VersionConstraint.at_least(v)
  return M.parse_constraint(">=" .. full_version(v))
end

-- ^v: the same major version (the same minor below 1.0.0).
function VersionConstraint.compatible_with(v)
  return M.parse_constraint("^" .. full_version(v))
end

local function as_constraint(c, opts)
  if type(c) == "string" then return M.parse_constraint(c, opts) end
  return c
end

-- Parse every element first, so that a bad one is reported with its index
-- before any answer is given.
local function parse_all(list, fname)
  if type(list) ~= "table" then
    errors.raise("UsageError", fname .. ": expected a list of versions, got " .. type(list))
  end
  local parsed = {}
  for i = 1, #list do
    local ok, v = pcall(M.parse_version, list[i])
    if not ok then
      if errors.is(v, "VersionError") then
        v.message = fname .. ": element " .. i .. ": " .. v.message
        v.index = i
      end
      error(v, 0)
    end
    parsed[i] = v
  end
  return parsed
end

local function best_satisfying(list, c, opts, want, fname)
  c = as_constraint(c, opts)
  local parsed = parse_all(list, fname)
  local best, best_i
  for i = 1, #parsed do
    if c:is_satisfied_by(parsed[i], opts) and
       (not best or M.compare(parsed[i], best) == want) then
      best, best_i = parsed[i], i
    end
  end
  return best_i and list[best_i] or nil
end

-- max_satisfying(list, constraint [, opts]) -> the highest element of list
-- the constraint accepts (the first of equals), or nil.
function M.max_satisfying(list, c, opts)
  return best_satisfying(list, c, opts, 1, "max_satisfying")
end

-- min_satisfying(list, constraint [, opts]) -> the lowest, or nil.
function M.min_satisfying(list, c, opts)
  return best_satisfying(list, c, opts, -1, "min_satisfying")
end

-- intersects(c1, c2 [, opts]) -> whether some version could satisfy both.
function M.intersects(c1, c2, opts)
  return as_constraint(c1, opts):intersects(c2, opts)
end

-- sort(list) -> a new list of the same elements, ascending by precedence,
-- then by build metadata; equal versions keep their order.
function M.sort(list)
  local parsed = parse_all(list, "sort")
  local order = {}
  for i = 1, #parsed do order[i] = i end
  table.sort(order, function(a, b)
    local c = semver.compare_build(parsed[a], parsed[b])
    if c ~= 0 then return c < 0 end
    return a < b
  end)
  local out = {}
  for i, k in ipairs(order) do out[i] = list[k] end
  return out
end

return M
