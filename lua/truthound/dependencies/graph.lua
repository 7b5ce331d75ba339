-- truthound.dependencies.graph: DependencyGraph, plugins and what they
-- depend on, with versions, constraints and metadata.
--
--   local DependencyGraph = require("truthound.dependencies").DependencyGraph
--   local g = DependencyGraph.new()
--   g:add_node("app", {version = "1.0.0", dependencies = {
--     json = "required", log = {type = "optional", constraint = "^2"}}})
--   g:add_node("json", {version = "1.2.0"})
--   g:get_load_order()     --> {"json", "app"} (log is optional and absent)
--   g:validate()           --> {} (no problems)
--
-- The topology lives in the C core (core/graph.c, through core.graph):
-- load orders by Kahn's algorithm with ties broken by id, cycles by
-- Tarjan's algorithm with a shortest witness each, reachability. This
-- file keeps versions, constraints and metadata, and decides what the
-- dependency types mean:
--
--   required  orders the load; its absence is an error
--   optional  orders the load when both plugins are present; its
--             absence is not an error
--   dev       ignored unless a call says include_dev = true, when it
--             counts as required
--
-- Results never depend on the order in which nodes were added. The load
-- order fails closed: a missing required dependency or a cycle raises a
-- typed error, never a shorter order. docs/graph.md has the details.

local cgraph = require("truthound.native").graph
local errors = require("truthound.errors")
local versioning = require("truthound.versioning")
local DependencyType = require("truthound.dependencies").DependencyType

local M = {}

local DependencyGraph = {}
DependencyGraph.__index = DependencyGraph
DependencyGraph.__name = "truthound.DependencyGraph"
M.DependencyGraph = DependencyGraph

-- The version of a node added without one, as in the seed.
DependencyGraph.DEFAULT_VERSION = "0.0.0"
-- The constraint of a dependency given without one: any version.
DependencyGraph.ANY = "*"

local BIT = {required = cgraph.REQUIRED, optional = cgraph.OPTIONAL, dev = cgraph.DEV}

---------------------------------------------------------------------------
-- Arguments

local function usage(fmt, ...)
  errors.raise("UsageError", fmt:format(...))
end

local function got(v)
  if v == nil then return "nothing" end
  if type(v) == "string" then return ("%q"):format(v) end
  return type(v)
end

local function check_id(id, fname)
  if type(id) ~= "string" or id == "" then
    usage("%s: expected a plugin id (a non-empty string), got %s", fname, got(id))
  end
end

-- opts: nil or a table whose keys are all in allowed (a set); its name in
-- messages is fname.
local function check_opts(opts, allowed, fname)
  if opts == nil then return {} end
  if type(opts) ~= "table" then usage("%s: expected an options table, got %s", fname, got(opts)) end
  for k in pairs(opts) do
    if not allowed[k] then
      local names = {}
      for name in pairs(allowed) do names[#names + 1] = name end
      table.sort(names)
      usage("%s: unknown option %s; expected %s", fname, got(k), table.concat(names, ", "))
    end
  end
  return opts
end

local function set(...)
  local s = {}
  for _, k in ipairs({...}) do s[k] = true end
  return s
end

-- A deep copy of plain data (tables copied, other values shared), cycles
-- and shared subtables kept as they were.
local function copy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local t = {}
  seen[v] = t
  for k, x in pairs(v) do t[copy(k, seen)] = copy(x, seen) end
  return t
end

-- Rethrow a typed error e with "prefix: " before its message.
local function prefixed(e, prefix)
  if type(e) == "table" and errors.kind(e) then
    e.message = prefix .. ": " .. tostring(e.message)
  end
  error(e, 0)
end

---------------------------------------------------------------------------
-- Constraints, parsed once per text: a registry repeats a few hundred
-- constraint strings over thousands of dependencies. Parsed constraints
-- are immutable, so sharing them is safe; the cache lets the collector
-- take them back.

local parsed_constraints = setmetatable({}, {__mode = "v"})

local function parse_constraint(text)
  local c = parsed_constraints[text]
  if not c then
    c = versioning.parse_constraint(text)
    parsed_constraints[text] = c
  end
  return c
end

-- The text of a constraint given as a string or a VersionConstraint.
local function constraint_text(c, where)
  if type(c) == "string" then
    local ok, e = pcall(parse_constraint, c)
    if not ok then prefixed(e, where) end
    return c
  end
  if type(c) == "userdata" then
    local ok, src = pcall(function() return c:source() end)
    if ok and type(src) == "string" then return src end
  end
  usage("%s: expected a version constraint (a string such as \"^1.2\"), got %s", where, got(c))
end

-- type, constraint of one entry of add_node's dependencies: a type, or a
-- table {type =, constraint =} (a manifest's dependency record, with its
-- name and parsed_constraint, will do too). Messages are only formatted on
-- failure: this runs once per dependency, a million times for a registry.
local DEP_KEYS = set("type", "constraint", "name", "parsed_constraint")
local TYPE_OF = {required = "required", optional = "optional", dev = "dev"}

local function dependency_spec(id, name, spec)
  local t = TYPE_OF[spec]
  if t then return t, DependencyGraph.ANY end     -- the common case
  local function where()
    return ("add_node(%q): dependencies.%s"):format(id, name)
  end
  local c
  if type(spec) == "string" then
    t = spec
  elseif type(spec) == "table" then
    for k in pairs(spec) do
      if not DEP_KEYS[k] then
        usage("%s: unknown key %s; expected type and constraint", where(), got(k))
      end
    end
    if spec.name ~= nil and spec.name ~= name then
      usage("%s: the record is named %s, under the key %q", where(), got(spec.name), name)
    end
    t = spec.type == nil and DependencyType.REQUIRED or spec.type
    c = spec.constraint
  else
    usage("%s: expected a dependency type (required, optional or dev) or {type = ..., constraint = ...}, got %s",
          where(), got(spec))
  end
  local parsed = TYPE_OF[t]
  if not parsed then
    local why
    parsed, why = DependencyType.parse(t)
    if not parsed then usage("%s: %s", where(), why) end
  end
  if c == nil or c == DependencyGraph.ANY then return parsed, DependencyGraph.ANY end
  if type(c) == "string" then
    local ok, e = pcall(parse_constraint, c)
    if not ok then prefixed(e, where() .. ": constraint") end
    return parsed, c
  end
  return parsed, constraint_text(c, where() .. ": constraint")
end

---------------------------------------------------------------------------
-- Nodes

-- new() -> an empty graph.
function DependencyGraph.new()
  return setmetatable({
    _c = cgraph.new(),   -- the topology
    _nodes = {},         -- id -> {version, types, constraints (or nil), metadata}
    _count = 0,
  }, DependencyGraph)
end

local NODE_OPTS = set("version", "dependencies", "metadata")
local NO_OPTS = {}
local versions_seen = {}    -- version texts already checked (a registry repeats them)
local versions_seen_count = 0

local function check_version(id, version)
  if versions_seen[version] then return end
  local ok, e = pcall(versioning.parse_version, version)
  if not ok then prefixed(e, ("add_node(%q): version"):format(id)) end
  if versions_seen_count >= 4096 then versions_seen, versions_seen_count = {}, 0 end
  versions_seen[version] = true
  versions_seen_count = versions_seen_count + 1
end

-- add_node(id [, {version =, dependencies =, metadata =}]) -> self.
-- dependencies maps ids to a type or {type =, constraint =}; a node added
-- again is replaced. Bad input raises before anything changes.
function DependencyGraph:add_node(id, opts)
  check_id(id, "add_node")
  if opts == nil then
    opts = NO_OPTS
  elseif type(opts) ~= "table" then
    check_opts(opts, NODE_OPTS, ("add_node(%q)"):format(id))
  else
    for k in pairs(opts) do
      if not NODE_OPTS[k] then check_opts(opts, NODE_OPTS, ("add_node(%q)"):format(id)) end
    end
  end
  local version = opts.version
  if version == nil then
    version = DependencyGraph.DEFAULT_VERSION
  else
    if type(version) == "userdata" then version = tostring(version) end
    if type(version) ~= "string" then
      usage("add_node(%q): version: expected a version string such as \"1.0.0\", got %s", id, got(version))
    end
    check_version(id, version)
  end
  local types, constraints = {}, nil
  local deps = opts.dependencies
  if deps ~= nil then
    if type(deps) ~= "table" then
      usage("add_node(%q): dependencies: expected a table {id = type or {type =, constraint =}}, got %s",
            id, got(deps))
    end
    for name, spec in pairs(deps) do
      if type(name) ~= "string" or name == "" then
        usage("add_node(%q): dependencies: expected plugin ids as keys, got %s", id, got(name))
      end
      local t, c = dependency_spec(id, name, spec)
      types[name] = t
      if c ~= DependencyGraph.ANY then
        constraints = constraints or {}
        constraints[name] = c
      end
    end
  end
  local metadata = opts.metadata
  if metadata ~= nil and type(metadata) ~= "table" then
    usage("add_node(%q): metadata: expected a table, got %s", id, got(metadata))
  end
  self._c:set_node(id, types)
  if not self._nodes[id] then self._count = self._count + 1 end
  self._nodes[id] = {version = version, types = types, constraints = constraints or NO_OPTS,
                     metadata = metadata and copy(metadata)}
  return self
end

-- remove_node(id) -> true if it was there. Nodes that depend on it keep
-- their dependency, which is now missing.
function DependencyGraph:remove_node(id)
  check_id(id, "remove_node")
  if not self._nodes[id] then return false end
  self._nodes[id] = nil
  self._count = self._count - 1
  self._c:remove_node(id)
  return true
end

function DependencyGraph:has_node(id)
  return type(id) == "string" and self._nodes[id] ~= nil
end

local function dependency_table(node)
  local out = {}
  for name, t in pairs(node.types) do
    out[name] = {type = t, constraint = node.constraints[name] or DependencyGraph.ANY}
  end
  return out
end

-- get_node(id) -> {id, version, dependencies = {name = {type, constraint}},
-- metadata} (a copy), or nil.
function DependencyGraph:get_node(id)
  local node = type(id) == "string" and self._nodes[id]
  if not node then return nil end
  return {
    id = id,
    version = node.version,
    dependencies = dependency_table(node),
    metadata = copy(node.metadata) or {},
  }
end

-- ids() -> the ids of the nodes, sorted.
function DependencyGraph:ids()
  local list = {}
  for id in pairs(self._nodes) do list[#list + 1] = id end
  table.sort(list)
  return list
end

function DependencyGraph:size() return self._count end
DependencyGraph.__len = DependencyGraph.size

function DependencyGraph:__tostring()
  return ("DependencyGraph (%d node%s)"):format(self._count, self._count == 1 and "" or "s")
end

---------------------------------------------------------------------------
-- Queries

-- The edges that order a load: required and optional, dev on request.
local function order_mask(opts)
  return BIT.required | BIT.optional | (opts.include_dev and BIT.dev or 0)
end

-- The edges whose target must be present.
local function needed_mask(opts)
  return BIT.required | (opts.include_dev and BIT.dev or 0)
end

local DEV_OPTS = set("include_dev")

-- detect_cycles([{include_dev =}]) -> list of cycles, each closed
-- ({"a", "b", "a"}: a depends on b, b on a): one per strongly connected
-- component that holds a cycle, the shortest through its smallest id,
-- sorted by that id.
function DependencyGraph:detect_cycles(opts)
  opts = check_opts(opts, DEV_OPTS, "detect_cycles")
  return self._c:cycles(order_mask(opts))
end

-- Missing dependencies as records {id, dependency, type, constraint}.
function DependencyGraph:_missing(mask)
  local out = {}
  for i, pair in ipairs(self._c:missing(mask)) do
    local node = self._nodes[pair[1]]
    out[i] = {id = pair[1], dependency = pair[2], type = node.types[pair[2]],
              constraint = node.constraints[pair[2]] or DependencyGraph.ANY}
  end
  return out
end

local function describe_missing(m)
  return ("%s requires %s %s%s"):format(m.id, m.dependency, m.constraint,
                                        m.type == "dev" and " (dev)" or "")
end

local function list_text(items, describe, limit)
  local parts = {}
  for i = 1, math.min(#items, limit) do parts[i] = describe(items[i]) end
  if #items > limit then parts[#parts + 1] = ("and %d more"):format(#items - limit) end
  return table.concat(parts, "; ")
end

local function cycle_text(c) return table.concat(c, " -> ") end

local function raise_missing(missing, fname)
  local first = missing[1]
  local what = #missing == 1 and "a required dependency is missing: "
               or ("%d required dependencies are missing: "):format(#missing)
  errors.raise("MissingDependencyError",
    ("%s: cannot order the plugins: %s%s, which %s not in the graph"):format(fname, what,
      list_text(missing, describe_missing, 10), #missing == 1 and "is" or "are"),
    {missing = missing, plugin_id = first.id, dependency = first.dependency,
     constraint = first.constraint})
end

local function raise_cycles(cycles, fname)
  errors.raise("DependencyCycleError",
    ("%s: cannot order the plugins: %s %s"):format(fname,
      #cycles == 1 and "dependency cycle" or (#cycles .. " dependency cycles:"),
      list_text(cycles, cycle_text, 10)),
    {cycles = cycles, cycle = cycles[1], plugin_id = cycles[1][1]})
end

local ORDER_OPTS = set("include_dev")

-- get_load_order([{include_dev =}]) -> ids, dependencies first, ties by
-- id. Raises MissingDependencyError (field missing) when a required
-- dependency is absent and DependencyCycleError (field cycles) on cycles.
function DependencyGraph:get_load_order(opts)
  opts = check_opts(opts, ORDER_OPTS, "get_load_order")
  local missing = self:_missing(needed_mask(opts))
  if #missing > 0 then raise_missing(missing, "get_load_order") end
  local order, n = self._c:order(order_mask(opts), false)
  if #order < n then raise_cycles(self._c:cycles(order_mask(opts)), "get_load_order") end
  return order
end

-- get_unload_order([{include_dev =}]) -> ids, dependents first, ties by
-- id. A missing dependency does not stop an unload; a cycle does.
function DependencyGraph:get_unload_order(opts)
  opts = check_opts(opts, ORDER_OPTS, "get_unload_order")
  local order, n = self._c:order(order_mask(opts), true)
  if #order < n then raise_cycles(self._c:cycles(order_mask(opts)), "get_unload_order") end
  return order
end

local REACH_OPTS = set("recursive", "include_optional", "include_dev")

local function reach_mask(opts, optional_default)
  local optional = opts.include_optional
  if optional == nil then optional = optional_default end
  return BIT.required | (optional and BIT.optional or 0) | (opts.include_dev and BIT.dev or 0)
end

-- get_dependencies(id [, {recursive = false, include_optional = false,
-- include_dev = false}]) -> ids, sorted; absent dependencies included.
function DependencyGraph:get_dependencies(id, opts)
  check_id(id, "get_dependencies")
  opts = check_opts(opts, REACH_OPTS, "get_dependencies")
  return self._c:reach(id, reach_mask(opts, false), "dependencies", opts.recursive and true or false)
end

-- get_dependents(id [, {recursive = false, include_optional = true,
-- include_dev = false}]) -> ids of the nodes that depend on id, sorted.
function DependencyGraph:get_dependents(id, opts)
  check_id(id, "get_dependents")
  opts = check_opts(opts, REACH_OPTS, "get_dependents")
  return self._c:reach(id, reach_mask(opts, true), "dependents", opts.recursive and true or false)
end

---------------------------------------------------------------------------
-- Validation

local KIND_RANK = {self = 1, missing = 2, version = 3, cycle = 4}

-- validate([{include_dev =}]) -> list of problems, each {kind, id,
-- dependency, message} and more fields by kind:
--   self     a node depends on itself
--   missing  a required dependency is absent (type, constraint)
--   version  a present dependency's version is outside the constraint
--            (type, constraint, version)
--   cycle    a cycle of two or more nodes (cycle: the witness)
-- sorted by id, kind (in that order), dependency.
function DependencyGraph:validate(opts)
  opts = check_opts(opts, DEV_OPTS, "validate")
  local problems = {}
  local function add(p) problems[#problems + 1] = p end
  for id, node in pairs(self._nodes) do
    for name, t in pairs(node.types) do
      if name == id then
        add({kind = "self", id = id, dependency = id, type = t,
             message = ("%s depends on itself"):format(id)})
      end
      local dep = self._nodes[name]
      local c = node.constraints[name]
      -- "*" (no constraint) accepts any version, prereleases too
      if dep and c and (t ~= "dev" or opts.include_dev)
         and not parse_constraint(c):is_satisfied_by(dep.version) then
        add({kind = "version", id = id, dependency = name, type = t, constraint = c,
             version = dep.version,
             message = ("%s %s %s %s, but %s is %s"):format(id,
               t == "optional" and "can use" or "requires", name, c, name, dep.version)})
      end
    end
  end
  for _, m in ipairs(self:_missing(needed_mask(opts))) do
    m.kind = "missing"
    m.message = describe_missing(m) .. ", which is not in the graph"
    add(m)
  end
  for _, c in ipairs(self._c:cycles(order_mask(opts))) do
    if #c > 2 then   -- a node on its own depends on itself: reported as self
      add({kind = "cycle", id = c[1], dependency = c[2], cycle = c,
           message = "dependency cycle " .. cycle_text(c)})
    end
  end
  table.sort(problems, function(a, b)
    if a.id ~= b.id then return a.id < b.id end
    if a.kind ~= b.kind then return KIND_RANK[a.kind] < KIND_RANK[b.kind] end
    return a.dependency < b.dependency
  end)
  return problems
end

---------------------------------------------------------------------------
-- Conversions

-- to_table() -> {nodes = {id = {version, dependencies = {name = {type,
-- constraint}}, metadata}}}: plain data, JSON-friendly, from_table's input.
function DependencyGraph:to_table()
  local nodes = {}
  for id, node in pairs(self._nodes) do
    nodes[id] = {version = node.version, dependencies = dependency_table(node),
                 metadata = copy(node.metadata) or {}}
  end
  return {nodes = nodes}
end

local TABLE_KEYS = set("nodes")

-- from_table(t) -> a new graph with the nodes of t (as to_table makes it).
function DependencyGraph.from_table(t)
  if type(t) ~= "table" then usage("from_table: expected a table {nodes = {...}}, got %s", got(t)) end
  check_opts(t, TABLE_KEYS, "from_table")
  local nodes = t.nodes
  if nodes == nil then nodes = {} end
  if type(nodes) ~= "table" then usage("from_table: nodes: expected a table {id = {...}}, got %s", got(nodes)) end
  local ids = {}
  for id in pairs(nodes) do
    if type(id) ~= "string" or id == "" then
      usage("from_table: nodes: expected plugin ids as keys, got %s", got(id))
    end
    ids[#ids + 1] = id
  end
  table.sort(ids)
  local g = DependencyGraph.new()
  for _, id in ipairs(ids) do
    local spec = nodes[id]
    if type(spec) ~= "table" then
      usage("from_table: nodes[%q]: expected a table {version =, dependencies =, metadata =}, got %s", id, got(spec))
    end
    local ok, e = pcall(g.add_node, g, id, spec)
    if not ok then prefixed(e, "from_table") end
  end
  return g
end

-- A DOT string literal.
local function dot_id(s)
  return '"' .. s:gsub('[\\"]', "\\%0"):gsub("\n", "\\n"):gsub("\r", "\\r") .. '"'
end

local EDGE_STYLE = {required = "", optional = ", style=dashed", dev = ", style=dotted"}

-- to_dot([{include_dev = true}]) -> a Graphviz digraph: a box per node
-- (id and version), an arrow from each plugin to each dependency labelled
-- with its constraint (optional: dashed, dev: dotted), missing
-- dependencies dashed and red. Sorted, so the text is stable.
function DependencyGraph:to_dot(opts)
  opts = check_opts(opts, set("include_dev", "name"), "to_dot")
  local include_dev = opts.include_dev ~= false
  local out = {("digraph %s {"):format(dot_id(opts.name or "dependencies")),
               '  node [shape=box, fontname="sans-serif"];',
               '  edge [fontname="sans-serif", fontsize=10];'}
  local ids, seen, missing = self:ids(), {}, {}
  local edges = {}
  for _, id in ipairs(ids) do
    local node = self._nodes[id]
    out[#out + 1] = ("  %s [label=%s];"):format(dot_id(id), dot_id(id .. "\n" .. node.version))
    local names = {}
    for name, t in pairs(node.types) do
      if t ~= "dev" or include_dev then names[#names + 1] = name end
    end
    table.sort(names)
    for _, name in ipairs(names) do
      local t, c = node.types[name], node.constraints[name]
      local label = (t == "required" and "" or t) .. (c and ((t == "required" and "" or " ") .. c) or "")
      local attrs = (label ~= "" and ("label=" .. dot_id(label)) or "") .. EDGE_STYLE[t]
      attrs = attrs:gsub("^, ", "")
      edges[#edges + 1] = ("  %s -> %s%s;"):format(dot_id(id), dot_id(name),
                                                  attrs ~= "" and (" [" .. attrs .. "]") or "")
      if not self._nodes[name] and not seen[name] then
        seen[name] = true
        missing[#missing + 1] = name
      end
    end
  end
  table.sort(missing)
  for _, name in ipairs(missing) do
    out[#out + 1] = ("  %s [label=%s, style=dashed, color=red, fontcolor=red];"):format(
      dot_id(name), dot_id(name .. "\n(missing)"))
  end
  for _, e in ipairs(edges) do out[#out + 1] = e end
  out[#out + 1] = "}"
  return table.concat(out, "\n") .. "\n"
end

---------------------------------------------------------------------------
-- GNU tsort

-- tsort(text [, source]) -> order (list of tokens), loops (list of lists):
-- text in GNU tsort's format (pairs "BEFORE AFTER" separated by blanks);
-- every token is ordered, ties by bytes; a loop is reported and broken as
-- GNU tsort does (its nodes in GNU's order) and sorting goes on. An odd
-- number of tokens raises InputError naming source:line:column and the
-- token without a partner. tsort_text gives the order as lines instead.
function M.tsort_text(text, source)
  if type(text) ~= "string" then usage("tsort: expected the input text, got %s", got(text)) end
  return cgraph.tsort(text, source)
end

function M.tsort(text, source)
  local lines, loops = M.tsort_text(text, source)
  local order = {}
  for token in lines:gmatch("([^\n]*)\n") do order[#order + 1] = token end
  return order, loops
end

return M
