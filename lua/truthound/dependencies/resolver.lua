-- truthound.dependencies.resolver: DependencyResolver, which picks one
-- version of each plugin so that every dependency holds, and says why in
-- numbered sentences when no choice does.
--
--   local DependencyResolver = require("truthound.dependencies").DependencyResolver
--   local r = DependencyResolver.new{strict = true, allow_missing_optional = true}
--   local result = r:resolve(plugin_infos)        -- several versions per id allowed
--   result.success, result.selected["plugin-a"], result.load_order
--   print(result.explanation)                     -- when success is false
--
-- The search runs in the C core (core/resolve.c, PubGrub over bitsets of
-- the known candidates, through core.resolve); this file decides what the
-- dependency types mean, turns plugin infos into the core's input, writes
-- the result and takes the load order from DependencyGraph. What a
-- dependency type means here:
--
--   required  the dependency must be selected, in its constraint
--   optional  constrains the version only when the dependency is selected;
--             with allow_missing_optional = false it counts as required
--   dev       ignored unless include_dev = true, then counts as required
--
-- docs/dependencies.md has the API, the explanation format and the
-- algorithm.

local native = require("truthound.native")
local errors = require("truthound.errors")
local datafile = require("truthound.datafile")
local dependencies = require("truthound.dependencies")
local explain = require("truthound.dependencies.explain")

local core = native.resolve
local DependencyType = dependencies.DependencyType

local M = {}

local DependencyResolver = {}
DependencyResolver.__index = DependencyResolver
DependencyResolver.__name = "truthound.DependencyResolver"
M.DependencyResolver = DependencyResolver

-- Steps (decisions, derivations, resolution steps) before the search gives
-- up. The pubgrub hard case needs a few hundred, a 1,000-plugin registry
-- from 3,000 to 65,000 (bench); the core does about 2 million a second.
-- The bound is also on memory: a failure's proof grows with the steps, and
-- 160,000 steps of refutation make a proof of 80,000 incompatibilities
-- (about 70 MB as Lua tables, 2 MB of explanation).
DependencyResolver.DEFAULT_MAX_STEPS = 250000

-- The core's tag for each type (it only stores it, for the explanation).
local TAG = {required = 1, optional = 2, dev = 3}

---------------------------------------------------------------------------
-- Arguments

local function usage(fmt, ...)
  errors.raise("UsageError", fmt:format(...), nil, 2)
end

local function got(v)
  if v == nil then return "nothing" end
  if type(v) == "string" then return ("%q"):format(v) end
  return type(v)
end

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

local function boolean_opt(opts, k, default, fname)
  local v = opts[k]
  if v == nil then return default end
  if type(v) ~= "boolean" then usage("%s: %s: expected true or false, got %s", fname, k, got(v)) end
  return v
end

local NEW_OPTS = set("strict", "allow_missing_optional", "include_dev", "max_steps")

-- new([{strict = true, allow_missing_optional = true, include_dev = false,
-- max_steps = DEFAULT_MAX_STEPS}]) -> a resolver.
function DependencyResolver.new(opts)
  opts = check_opts(opts, NEW_OPTS, "DependencyResolver.new")
  local max = opts.max_steps
  if max == nil then max = DependencyResolver.DEFAULT_MAX_STEPS end
  if math.type(max) ~= "integer" or max < 0 then
    usage("DependencyResolver.new: max_steps: expected an integer of at least 0, got %s", got(max))
  end
  return setmetatable({
    strict = boolean_opt(opts, "strict", true, "DependencyResolver.new"),
    allow_missing_optional = boolean_opt(opts, "allow_missing_optional", true, "DependencyResolver.new"),
    include_dev = boolean_opt(opts, "include_dev", false, "DependencyResolver.new"),
    max_steps = max,
  }, DependencyResolver)
end

-- A version given as a string or a Version.
local function version_text(v)
  if type(v) == "userdata" then return tostring(v) end
  return v
end

-- The text of a constraint given as a string or a VersionConstraint.
local function constraint_text(c)
  if type(c) == "userdata" then
    local ok, src = pcall(function() return c:source() end)
    if ok then return src end
  end
  return c
end

local TYPES = {required = "required", optional = "optional", dev = "dev"}

-- The type of a dependency (a DependencyType, any case), or raise.
local function dependency_type(t, where)
  if t == nil then return "required" end
  local fast = TYPES[t]
  if fast then return fast end
  local parsed, why = DependencyType.parse(t)
  if not parsed then usage("%s: type: %s", where, why) end
  return parsed
end

-- constraint (nil: any version), type of one dependency entry: a
-- constraint string, a type name, or a table {constraint =, type =} (a
-- manifest's record, with its name and parsed_constraint, will do).
local function dependency_entry(spec, where)
  if type(spec) == "string" then
    local t = TYPES[spec] or TYPES[spec:lower()]
    if t then return nil, t end
    return spec, "required"
  end
  if type(spec) == "table" then
    local c = constraint_text(spec.constraint)
    if c ~= nil and type(c) ~= "string" then
      usage("%s: constraint: expected a version constraint such as \"^1.2\", got %s", where, got(c))
    end
    return c, dependency_type(spec.type, where)
  end
  usage("%s: expected a version constraint, a dependency type or {constraint =, type =}, got %s",
        where, got(spec))
end

---------------------------------------------------------------------------
-- Errors with the input's place

local function found_text(s, pos)
  if pos > #s then return "end of input" end
  local b = s:byte(pos)
  if b >= 0x20 and b < 0x7f then return ("'%s'"):format(s:sub(pos, pos)) end
  return ("byte 0x%02x"):format(b)
end

-- Raise what the core refused: a version, a constraint or a name.
local function refused(where, what, text, pos, expected)
  if what == "name" then
    usage("%s: expected a plugin id of 1 to 4096 bytes, got %s", where, got(text))
  end
  local kind = what == "version" and "VersionError" or "ConstraintSyntaxError"
  local noun = what == "version" and "version" or "version constraint"
  local found = found_text(text, pos)
  errors.raise(kind, ("%s: invalid %s %q at column %d: expected %s, found %s")
    :format(where, noun, text, pos, expected, found),
    {input = text, position = pos, expected = expected, found = found}, 3)
end

---------------------------------------------------------------------------
-- Building the core's problem

-- Sorted keys of a table (for deterministic messages on bad input).
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- First letters of the type names, any case: a constraint string never
-- starts with one, so only these strings are looked at twice.
local TYPE_INITIAL = {}
for _, c in ipairs{"r", "o", "d", "R", "O", "D"} do TYPE_INITIAL[c:byte()] = true end

local byte, lower = string.byte, string.lower

-- The slow path: check plugin_infos[i] field by field, dependencies in
-- name order, and raise the first problem with its place. Called when
-- the fast path below meets anything unusual, so that the error reported
-- does not depend on the order pairs() visits a table in.
function DependencyResolver:_raise_bad_info(p, i, info)
  if type(info) ~= "table" and type(info) ~= "userdata" then
    usage("resolve: plugin_infos[%d]: expected a table {id =, version =, dependencies =}, got %s", i, got(info))
  end
  local id, version = info.id, version_text(info.version)
  if type(id) ~= "string" then usage("resolve: plugin_infos[%d]: id: expected a plugin id, got %s", i, got(id)) end
  if type(version) ~= "string" then
    usage("resolve: plugin_infos[%d] (%s): version: expected a version string, got %s", i, id, got(version))
  end
  local where = ("resolve: plugin_infos[%d] (%s %s)"):format(i, id, version)
  local deps = info.dependencies
  if deps ~= nil and type(deps) ~= "table" then
    usage("%s: dependencies: expected a table, got %s", where, got(deps))
  end
  local check = core.new()           -- a scratch problem: p already holds part of this info
  local h, what, pos, expected = check:add_version(id, version)
  if not h then
    check:close()
    refused(("resolve: plugin_infos[%d] (%s)"):format(i, id), what, what == "name" and id or version, pos, expected)
  end
  for _, name in ipairs(sorted_keys(deps or {})) do
    if type(name) ~= "string" then
      check:close()
      usage("%s: dependencies: expected plugin ids as keys, got %s", where, got(name))
    end
    local dwhere = where .. ": dependencies." .. name
    local c, t = dependency_entry(deps[name], dwhere)
    local ok
    ok, what, pos, expected = check:add_dep(name, c, false, TAG[t])
    if not ok then
      check:close()
      refused(dwhere, what, what == "name" and name or c, pos, expected)
    end
  end
  check:close()
  error(("resolve: plugin_infos[%d] (%s %s) was refused, but no problem was found in it (a bug)"):format(i, id, version))
end

-- The problem for infos: every version, its dependencies, the
-- requirements and the loaded versions. Returns the problem and the info
-- of each handle. Without requirements, solve with require_found. The loop over the infos is the hot path
-- of resolve (a registry has tens of thousands of dependencies): it does
-- no string work unless something is wrong.
function DependencyResolver:_problem(infos, requirements, loaded)
  local p = core.new()
  local by_handle, string_tag = {}, {}
  local include_dev, optional_ok = self.include_dev, self.allow_missing_optional
  local add_version, add_dep, add_version_deps = p.add_version, p.add_dep, p.add_version_deps
  -- codes: what each string value of a dependencies table means, decided
  -- here once per distinct text and applied by add_version_deps in C:
  -- 0 skip (dev), 1 a constraint (required), 2 "required", 3 "optional",
  -- 4 "optional" counted as required, 5 "dev" counted as required
  local codes = {}
  local function code_of(spec)
    local t = TYPES[spec]
    if not t and TYPE_INITIAL[byte(spec)] then t = TYPES[lower(spec)] end
    if not t then return 1 end
    if t == "required" then return 2 end
    if t == "optional" then return optional_ok and 3 or 4 end
    return include_dev and 5 or 0
  end
  for i = 1, #infos do
    local info = infos[i]
    local ti = type(info)
    if ti ~= "table" and ti ~= "userdata" then self:_raise_bad_info(p, i, info) end
    local id, version = info.id, info.version
    if type(version) ~= "string" then version = version_text(version) end
    if type(id) ~= "string" or type(version) ~= "string" then self:_raise_bad_info(p, i, info) end
    local deps = info.dependencies
    local h, slow = nil, false
    if deps == nil then
      h = add_version(p, id, version)
    elseif type(deps) ~= "table" then
      self:_raise_bad_info(p, i, info)
    else
      -- the fast path: the version and all its dependencies in one call
      h = add_version_deps(p, id, version, deps, codes)
      if h == false then
        slow = getmetatable(deps) ~= nil
        if not slow then
          for k, v in pairs(deps) do
            if type(k) ~= "string" or type(v) ~= "string" then slow = true break end
            if codes[v] == nil then codes[v] = code_of(v) end
          end
        end
        if slow then h = add_version(p, id, version)
        else h = add_version_deps(p, id, version, deps, codes) end
      end
    end
    if not h then self:_raise_bad_info(p, i, info) end
    by_handle[h] = info
    if slow then
      -- the general path: manifest records, {constraint =, type =} tables
      for name, spec in pairs(deps) do
        if type(spec) == "string" and type(name) == "string" then
          local tag = string_tag[spec]
          if not tag then
            local t = TYPES[spec]
            if not t and TYPE_INITIAL[byte(spec)] then t = TYPES[lower(spec)] end
            tag = t and TAG[t] or 0
            string_tag[spec] = tag
          end
          local ok
          if tag == 0 then ok = add_dep(p, name, spec, false, 1)
          elseif tag ~= 3 or include_dev then ok = add_dep(p, name, nil, tag == 2 and optional_ok, tag)
          else ok = true end
          if not ok then self:_raise_bad_info(p, i, info) end
        else
          local ok, c, t = false, nil, nil
          if type(spec) == "table" then ok, c, t = pcall(dependency_entry, spec, "") end
          if not ok or type(name) ~= "string" then self:_raise_bad_info(p, i, info) end
          if (t ~= "dev" or include_dev) and not add_dep(p, name, c, t == "optional" and optional_ok, TAG[t]) then
            self:_raise_bad_info(p, i, info)
          end
        end
      end
    end
  end
  if requirements then
    for i, req in ipairs(requirements) do
      local where = ("resolve: requirements[%d]"):format(i)
      local name, c
      if type(req) == "string" then name = req
      elseif type(req) == "table" then name, c = req.name or req[1], constraint_text(req.constraint or req[2])
      else usage("%s: expected {name =, constraint =} or a plugin id, got %s", where, got(req)) end
      if type(name) ~= "string" then usage("%s: name: expected a plugin id, got %s", where, got(name)) end
      if c ~= nil and type(c) ~= "string" then
        usage("%s: constraint: expected a version constraint, got %s", where, got(c))
      end
      local ok, what, pos, expected = p:add_requirement(name, c)
      if not ok then refused(where, what, what == "name" and name or c, pos, expected) end
    end
  end
  for id, v in pairs(loaded or {}) do
    if type(id) ~= "string" then usage("resolve: loaded: expected plugin ids as keys, got %s", got(id)) end
    v = version_text(v)
    if type(v) ~= "string" then usage("resolve: loaded.%s: expected a version string, got %s", id, got(v)) end
    local ok, what, pos, expected = p:prefer(id, v)
    if not ok then refused("resolve: loaded." .. id, what, what == "name" and id or v, pos, expected) end
  end
  return p, by_handle
end

---------------------------------------------------------------------------
-- Results

local function sorted_list(set_)
  local list = {}
  for k in pairs(set_) do list[#list + 1] = k end
  table.sort(list)
  return list
end

-- The dependencies of an info as {name = {constraint, type}}.
local function deps_of(info)
  local out = {}
  for name, spec in pairs(info.dependencies or {}) do
    if type(name) == "string" then
      local c, t = dependency_entry(spec, name)
      out[name] = {constraint = c or "*", type = t}
    end
  end
  return out
end

-- The load order of the selected plugins, by DependencyGraph. types maps
-- each selected id to {dependency = type} for the dependencies that are
-- selected too: edges to plugins that were not found (dropped when strict
-- is false) and to optional ones that were not selected are left out.
function DependencyResolver:_load_order(types)
  local graph = dependencies.DependencyGraph.new()
  for id, t in pairs(types) do
    graph:add_node(id, {version = t[1], dependencies = t[2]})
  end
  return graph:get_load_order({include_dev = self.include_dev})
end

local function warn(result, fmt, ...)
  result.warnings[#result.warnings + 1] = fmt:format(...)
end

local function new_result()
  return {success = false, selected = {}, load_order = {}, conflicts = {}, missing = {},
          warnings = {}, explanation = "", plugins = {}}
end

-- Warnings about the input that do not stop a resolution: versions given
-- twice, loaded versions that are not candidates.
local function input_warnings(result, p, by_handle, nhandles, loaded)
  for _, d in ipairs(p:duplicates(nhandles)) do
    local a, b = by_handle[d.handle], by_handle[d.kept]
    warn(result, "%s %s is given twice%s; the first is used", b.id, version_text(b.version),
         (a.dir and b.dir) and (" (%s and %s)"):format(b.dir, a.dir) or "")
  end
  for _, id in ipairs(sorted_list(loaded or {})) do
    local versions, preferred = p:candidates(id)
    if not preferred then
      warn(result, "%s: the loaded version %s is not among the %s", id, version_text(loaded[id]),
           versions and ("candidates (%s)"):format(table.concat(versions, ", ")) or "plugins given")
    end
  end
end

-- Fill result from a solution.
function DependencyResolver:_solved(result, p, by_handle, loaded)
  local order, types, notes = {}, {}, {}
  local selection = p:selection()
  for i, s in ipairs(selection) do
    result.selected[s.name] = s.version
    result.plugins[s.name] = by_handle[s.handle]
    order[i] = s.name
  end
  result.stats.decision_order = order
  local function note(id, fmt, ...) notes[#notes + 1] = {id, fmt:format(...)} end
  for _, id in ipairs(order) do
    local info, version = result.plugins[id], result.selected[id]
    local edges = {}
    for name, d in pairs(deps_of(info)) do
      if result.selected[name] then
        edges[name] = d.type
      elseif (d.type ~= "dev" or self.include_dev) and p:count(name) == 0 then
        if d.type == "optional" and self.allow_missing_optional then
          note(id, "%s %s: optional dependency %s is missing", id, version, name)
        else
          result.missing[#result.missing + 1] = {id = id, version = version,
            dependency = name, constraint = d.constraint, type = d.type}
          note(id, "%s %s: %s dependency %s %s is missing (ignored: strict is false)",
               id, version, d.type, name, d.constraint)
        end
      end
    end
    types[id] = {version_text(info.version), edges}
    local want = loaded and version_text(loaded[id])
    if want and want ~= version then
      local _, preferred = p:candidates(id)
      if preferred then note(id, "%s: selected %s instead of the loaded %s", id, version, want) end
    end
  end
  -- warnings in id order (then as written), missing by id and dependency
  table.sort(notes, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  for _, n in ipairs(notes) do result.warnings[#result.warnings + 1] = n[2] end
  table.sort(result.missing, function(a, b)
    if a.id ~= b.id then return a.id < b.id end
    return a.dependency < b.dependency
  end)
  local ok, order_or_err = pcall(self._load_order, self, types)
  if ok then
    result.success = true
    result.load_order = order_or_err
    return
  end
  local e = order_or_err
  if not errors.is(e, "DependencyCycleError") then error(e, 0) end
  -- Versions can be chosen, but the chosen plugins cannot be loaded in
  -- any order.
  for _, c in ipairs(e.cycles or {e.cycle}) do
    result.conflicts[#result.conflicts + 1] = {kind = "cycle", cycle = c,
      message = "dependency cycle " .. table.concat(c, " -> ")}
  end
  local lines = {}
  for _, c in ipairs(result.conflicts) do
    lines[#lines + 1] = ("The selected plugins depend on each other in a cycle: %s."):format(
      table.concat(c.cycle, " -> "))
  end
  lines[#lines + 1] = "So no load order exists, and resolution failed."
  result.explanation = table.concat(lines, "\n")
end

-- Fill result from a proof that there is no solution.
local function failed(result, p)
  local proof = p:proof()
  local text, facts = explain.render(proof)
  result.proof = proof
  result.explanation = text
  result.conflicts = facts
  for _, f in ipairs(facts) do
    if f.kind == "missing" then
      result.missing[#result.missing + 1] = {id = f.id, versions = f.versions, version = f.covers
        and #f.covers == 1 and f.covers[1] or nil, dependency = f.dependency,
        constraint = f.constraint, type = f.type}
    end
  end
end

local RESOLVE_OPTS = set("requirements", "loaded")

-- resolve(plugin_infos [, {requirements = {{name =, constraint =}, ...},
-- loaded = {id = version}}]) -> result {success, selected, load_order,
-- conflicts, missing, warnings, explanation, plugins, stats}.
function DependencyResolver:resolve(infos, opts)
  if type(infos) ~= "table" then
    usage("resolve: expected a list of plugin infos, got %s", got(infos))
  end
  opts = check_opts(opts, RESOLVE_OPTS, "resolve")
  local requirements, loaded = opts.requirements, opts.loaded
  if requirements ~= nil and type(requirements) ~= "table" then
    usage("resolve: requirements: expected a list of {name =, constraint =}, got %s", got(requirements))
  end
  if loaded ~= nil and type(loaded) ~= "table" then
    usage("resolve: loaded: expected a table {id = version}, got %s", got(loaded))
  end
  local p, by_handle = self:_problem(infos, requirements, loaded)
  local status, why, steps = p:solve(self.max_steps, not self.strict, requirements == nil)
  if not status then
    p:close()
    errors.raise("DependencyError", ("resolve: too complex: gave up after %d steps (max_steps = %d); "
      .. "pin some versions with requirements, or raise max_steps"):format(steps, self.max_steps),
      {steps = steps, max_steps = self.max_steps, reason = why})
  end
  local result = new_result()
  result.stats = p:stats()
  input_warnings(result, p, by_handle, #infos, loaded)
  if status == "solved" then
    self:_solved(result, p, by_handle, loaded)
  else
    failed(result, p)
  end
  p:close()
  return result
end

---------------------------------------------------------------------------
-- Questions about a graph of installed plugins

local function check_graph(graph, fname)
  if type(graph) ~= "table" or type(graph.get_node) ~= "function" then
    usage("%s: expected a DependencyGraph, got %s", fname, got(graph))
  end
end

local function id_list(ids, fname)
  if type(ids) == "string" then return {ids} end
  if type(ids) ~= "table" then usage("%s: expected a plugin id or a list of them, got %s", fname, got(ids)) end
  for i, id in ipairs(ids) do
    if type(id) ~= "string" then usage("%s: ids[%d]: expected a plugin id, got %s", fname, i, got(id)) end
  end
  return ids
end

-- Whether a dependency of this type must be present.
function DependencyResolver:_needed(t)
  return t == "required" or (t == "dev" and self.include_dev)
    or (t == "optional" and not self.allow_missing_optional)
end

-- can_load(id, graph, loaded) -> ok, missing: whether every dependency of
-- id that must be present is loaded, at a version its constraint admits
-- (and every optional one that is loaded is admitted). loaded maps ids to
-- versions (or true), or lists ids. missing: sorted ids.
function DependencyResolver:can_load(id, graph, loaded)
  check_graph(graph, "can_load")
  if type(id) ~= "string" then usage("can_load: expected a plugin id, got %s", got(id)) end
  local node = graph:get_node(id)
  if not node then usage("can_load: %q is not in the graph", id) end
  loaded = loaded or {}
  if type(loaded) ~= "table" then usage("can_load: loaded: expected a table, got %s", got(loaded)) end
  local have = {}
  for k, v in pairs(loaded) do
    if math.type(k) == "integer" then have[v] = true else have[k] = v end
  end
  local versioning = require("truthound.versioning")
  local missing = {}
  for name, d in pairs(node.dependencies) do
    local v = have[name]
    local counts = d.type ~= "dev" or self.include_dev
    if counts then
      if v == nil or v == false then
        if self:_needed(d.type) then missing[#missing + 1] = name end
      elseif (type(v) == "string" or type(v) == "userdata") and d.constraint ~= "*" then
        local ok, sat = pcall(versioning.satisfies, version_text(v), d.constraint)
        if not ok or not sat then missing[#missing + 1] = name end
      end
    end
  end
  table.sort(missing)
  return #missing == 0, missing
end

-- A graph of the nodes of graph in set, with their dependencies on nodes
-- of the set (the others are absent on purpose: not needed, not
-- installed, or missing and allowed to be).
local function subgraph(graph, set_)
  local g = dependencies.DependencyGraph.new()
  for id in pairs(set_) do
    local node = graph:get_node(id)
    local kept = {}
    for name, d in pairs(node.dependencies) do
      if set_[name] then kept[name] = d end
    end
    g:add_node(id, {version = node.version, dependencies = kept})
  end
  return g
end

local INSTALL_OPTS = set("force")

-- get_install_order(ids, graph) -> ids with everything they need (and
-- the optional dependencies present in the graph), dependencies first.
-- A needed dependency that is not in the graph raises
-- MissingDependencyError (field missing), unless strict is false.
function DependencyResolver:get_install_order(ids, graph)
  check_graph(graph, "get_install_order")
  ids = id_list(ids, "get_install_order")
  local want, missing, stack = {}, {}, {}
  for _, id in ipairs(ids) do
    if not graph:has_node(id) then usage("get_install_order: %q is not in the graph", id) end
    stack[#stack + 1] = id
  end
  while #stack > 0 do
    local id = table.remove(stack)
    if not want[id] then
      want[id] = true
      local node = graph:get_node(id)
      for _, name in ipairs(sorted_keys(node.dependencies)) do
        local d = node.dependencies[name]
        if d.type ~= "dev" or self.include_dev then
          if graph:has_node(name) then
            stack[#stack + 1] = name
          elseif self:_needed(d.type) then
            missing[#missing + 1] = {id = id, dependency = name, type = d.type, constraint = d.constraint}
          end
        end
      end
    end
  end
  if #missing > 0 and self.strict then
    table.sort(missing, function(a, b)
      if a.id ~= b.id then return a.id < b.id end
      return a.dependency < b.dependency
    end)
    local parts = {}
    for i, m in ipairs(missing) do parts[i] = ("%s needs %s %s"):format(m.id, m.dependency, m.constraint) end
    errors.raise("MissingDependencyError", ("get_install_order: %s, which %s not in the graph"):format(
      table.concat(parts, "; "), #missing == 1 and "is" or "are"),
      {missing = missing, plugin_id = missing[1].id, dependency = missing[1].dependency,
       constraint = missing[1].constraint})
  end
  return subgraph(graph, want):get_load_order({include_dev = self.include_dev})
end

-- get_uninstall_order(ids, graph [, {force = false}]) -> ids, dependents
-- first. Plugins outside ids that need one of them make it refuse with a
-- DependencyError naming them (field dependents), unless force is true,
-- when they are uninstalled too.
function DependencyResolver:get_uninstall_order(ids, graph, opts)
  check_graph(graph, "get_uninstall_order")
  ids = id_list(ids, "get_uninstall_order")
  opts = check_opts(opts, INSTALL_OPTS, "get_uninstall_order")
  local force = boolean_opt(opts, "force", false, "get_uninstall_order")
  local targets, outside = {}, {}
  for _, id in ipairs(ids) do
    if not graph:has_node(id) then usage("get_uninstall_order: %q is not in the graph", id) end
    targets[id] = true
  end
  -- Dependents that need them: required edges (dev ones with include_dev,
  -- optional ones when they may not be missing).
  local needing = {}
  for _, id in ipairs(graph:ids()) do
    local node = graph:get_node(id)
    for name, d in pairs(node.dependencies) do
      if self:_needed(d.type) then
        needing[name] = needing[name] or {}
        needing[name][#needing[name] + 1] = id
      end
    end
  end
  local all, stack = {}, {}
  for _, id in ipairs(ids) do stack[#stack + 1] = id end
  while #stack > 0 do
    local id = table.remove(stack)
    if not all[id] then
      all[id] = true
      for _, dependent in ipairs(needing[id] or {}) do
        if not targets[dependent] then outside[dependent] = true end
        stack[#stack + 1] = dependent
      end
    end
  end
  local list = sorted_list(outside)
  if #list > 0 and not force then
    errors.raise("DependencyError", ("get_uninstall_order: cannot uninstall %s: %s %s on %s; "
      .. "pass {force = true} to uninstall %s too"):format(table.concat(ids, ", "),
      table.concat(list, ", "), #list == 1 and "depends" or "depend",
      #ids == 1 and "it" or "them", #list == 1 and "it" or "them"),
      {plugin_id = ids[1], dependents = list})
  end
  return subgraph(graph, force and all or targets):get_unload_order({include_dev = self.include_dev})
end

---------------------------------------------------------------------------
-- Registry data files

-- A registry file: a data file (truthound.datafile) returning
--   { [id] = { [version] = { dependencies = { name = "^1.2" or
--     {constraint =, type =} } } } }
-- read_registry(path [, opts]) and eval_registry(src, name [, opts]) give
-- its plugin infos (sorted by id, then version text); every problem is
-- reported at once as an InputError with file:line (opts go to datafile).
local REGISTRY_VERSION_KEYS = set("dependencies")
local DEP_KEYS = set("constraint", "type")

local function check_registry(value, info)
  local manifest = require("truthound.manifest")
  local versioning = require("truthound.versioning")
  local P = datafile.problems(info, "InputError")
  local key = datafile.key_text
  local infos = {}
  if type(value) ~= "table" then
    P:add("", ("expected a table {id = {version = {dependencies = {...}}}}, got %s"):format(got(value)))
    P:raise_if_any()
  end
  for _, id in ipairs(sorted_keys(value)) do
    local versions = value[id]
    local at = key("", id)
    local why = "expected a plugin id as the key"
    if type(id) == "string" then why = manifest.id_problem(id) end
    if why then P:add(at, why)
    elseif type(versions) ~= "table" then
      P:add(at, ("expected a table {version = {dependencies = {...}}}, got %s"):format(got(versions)))
    else
      for _, v in ipairs(sorted_keys(versions)) do
        local entry, vat = versions[v], key(at, v)
        local ok, e = pcall(versioning.parse_version, v)
        if type(v) ~= "string" then
          P:add(vat, "expected a version string as the key")
        elseif not ok then
          P:add(vat, errors.is(e, "InputError") and tostring(e.message) or tostring(e))
        elseif v:find("^%s") or v:find("%s$") or v:sub(1, 1) == "v" then
          P:add(vat, ("write the version as SemVer does, without blanks or a 'v': %q"):format(
            (v:gsub("^%s*v?", ""):gsub("%s+$", ""))))
        elseif type(entry) ~= "table" then
          P:add(vat, ("expected a table {dependencies = {...}}, got %s"):format(got(entry)))
        else
          local bad = false
          for k in pairs(entry) do
            if not REGISTRY_VERSION_KEYS[k] then
              P:add(key(vat, k), "unknown key; expected dependencies")
              bad = true
            end
          end
          local deps, out = entry.dependencies, {}
          if deps ~= nil and type(deps) ~= "table" then
            P:add(key(vat, "dependencies"), ("expected a table, got %s"):format(got(deps)))
          elseif deps and not bad then
            for _, name in ipairs(sorted_keys(deps)) do
              local spec, dat = deps[name], key(key(vat, "dependencies"), name)
              local nwhy = "expected a plugin id as the key"
              if type(name) == "string" then nwhy = manifest.id_problem(name) end
              local c, t
              if nwhy then
                P:add(dat, nwhy)
              elseif type(spec) == "string" then
                c, t = spec, "required"
              elseif type(spec) == "table" then
                for k in pairs(spec) do
                  if not DEP_KEYS[k] then P:add(key(dat, k), "unknown key; expected constraint or type") end
                end
                c = spec.constraint
                local tt, twhy = DependencyType.parse(spec.type == nil and "required" or spec.type)
                if not tt then P:add(key(dat, "type"), twhy) end
                t = tt
                if type(c) ~= "string" then
                  P:add(key(dat, "constraint"), ("expected a version constraint such as \"^1.2\", got %s"):format(got(c)))
                  c = nil
                end
              else
                P:add(dat, ("expected a version constraint or {constraint =, type =}, got %s"):format(got(spec)))
              end
              if c then
                local cok, ce = pcall(versioning.parse_constraint, c)
                if not cok then
                  P:add(spec == c and dat or key(dat, "constraint"),
                        errors.is(ce, "InputError") and tostring(ce.message) or tostring(ce))
                elseif t then
                  out[name] = {constraint = c, type = t}
                end
              end
            end
          end
          infos[#infos + 1] = {id = id, version = v, dependencies = out, source = info.source}
        end
      end
    end
  end
  P:raise_if_any()
  return infos
end

-- eval_registry(src, name [, opts]) -> infos
function M.eval_registry(src, name, opts)
  local o = {kind = "InputError"}
  for k, v in pairs(opts or {}) do o[k] = v end
  local value, info = datafile.eval(src, name, o)
  return check_registry(value, info)
end

-- read_registry(path [, opts]) -> infos
function M.read_registry(path, opts)
  local o = {kind = "InputError"}
  for k, v in pairs(opts or {}) do o[k] = v end
  local value, info = datafile.load(path, o)
  return check_registry(value, info)
end

DependencyResolver.read_registry = M.read_registry
DependencyResolver.eval_registry = M.eval_registry

return M
