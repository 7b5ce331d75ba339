-- truthound.dependencies: plugins depending on plugins.
--
--   local deps = require("truthound.dependencies")
--   local g = deps.DependencyGraph.new()
--   g:add_node("app", {version = "1.0.0", dependencies = {json = "required"}})
--   g:add_node("json", {version = "1.2.0"})
--   g:get_load_order()                       --> {"json", "app"}
--   deps.DependencyType.OPTIONAL             --> "optional"
--
-- DependencyGraph (truthound.dependencies.graph) and DependencyResolver
-- (truthound.dependencies.resolver) load on first use; scan (plugin
-- directories to plugin infos) is truthound.dependencies.scan.
-- docs/graph.md and docs/dependencies.md describe them.

local frozen = require("truthound.frozen")

local M = {}

---------------------------------------------------------------------------
-- DependencyType: string constants, as in plugin.lua ("required" ...).
-- Functions that take a type take the string too, in any case.

local TYPES = {"required", "optional", "dev"}

local by_upper = {}
for _, t in ipairs(TYPES) do by_upper[t:upper()] = t end

local type_methods = {}

-- Levenshtein distance, for "did you mean".
local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = {[0] = i}
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- parse(s) -> the constant, or nil and a message naming what was expected.
function type_methods.parse(s)
  if type(s) ~= "string" then
    return nil, ("expected a dependency type (required, optional or dev), got %s"):format(
      s == nil and "nothing" or type(s))
  end
  local t = by_upper[s:upper()]
  if t then return t end
  -- a prefix ("req", "opt") or a misspelling ("requried")
  local guess
  for _, c in ipairs(TYPES) do
    if (#s >= 3 and c:sub(1, #s) == s:lower()) or distance(s:lower(), c) <= 2 then guess = c end
  end
  return nil, ("unknown dependency type %q; expected required, optional or dev%s"):format(
    s, guess and (" (did you mean '%s'?)"):format(guess) or "")
end

-- list() -> the constants, strongest first.
function type_methods.list()
  return {table.unpack(TYPES)}
end

M.DependencyType = frozen.freeze(by_upper, {name = "DependencyType", methods = type_methods})

---------------------------------------------------------------------------
-- Classes, loaded when first read.

local lazy = {
  DependencyGraph = "truthound.dependencies.graph",
  DependencyResolver = "truthound.dependencies.resolver",
  scan = "truthound.dependencies.scan",
}

return setmetatable(M, {
  __index = function(t, k)
    local name = lazy[k]
    if not name then return nil end
    local m = require(name)
    -- a module may return the class itself or a table holding it
    if type(m) == "table" and rawget(m, k) ~= nil then m = m[k] end
    rawset(t, k, m)
    return m
  end,
})
