-- tplua resolve: choose a version of every plugin found, or say why no
-- choice works.
--
--   tplua resolve DIR...                  plugin directories, or directories of them
--   tplua resolve registry.lua            a registry data file (docs/dependencies.md)
--   tplua resolve --require 'a ^2' DIR    resolve for these requirements only
--   tplua resolve --json DIR...           the result as JSON
--
-- Exit 0 with the selected versions and the load order; 1 with the
-- explanation when no selection works; 2 on a usage error; 3 when the
-- search gives up (its step budget) or another error occurs.

local errors = require("truthound.errors")
local datafile = require("truthound.datafile")
local fs = require("truthound.native").fs

local function usage_error(msg)
  errors.raise("UsageError", "resolve: " .. msg, {command = "resolve"})
end

-- A requirement "ID" or "ID CONSTRAINT" (the constraint may hold blanks).
local function requirement(text)
  local name, c = text:match("^%s*(%S+)%s+(.-)%s*$")
  if not name then name = text:match("^%s*(%S+)%s*$") end
  if not name then usage_error("--require: expected 'ID' or 'ID CONSTRAINT', got '" .. text .. "'") end
  return {name = name, constraint = c ~= "" and c or nil}
end

local function parse_args(args)
  local o = {paths = {}, requirements = nil}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--json" then o.json = true
    elseif a == "--include-dev" then o.include_dev = true
    elseif a == "--no-strict" then o.strict = false
    elseif a == "--require" or a == "--max-steps" then
      local v = args[i + 1]
      if v == nil then usage_error(a .. " needs a value") end
      i = i + 1
      if a == "--require" then
        o.requirements = o.requirements or {}
        o.requirements[#o.requirements + 1] = requirement(v)
      else
        o.max_steps = math.tointeger(tonumber(v))
        if not o.max_steps or o.max_steps < 0 then
          usage_error("--max-steps: expected a whole number of at least 0, got '" .. v .. "'")
        end
      end
    elseif a == "--" then
      for j = i + 1, #args do o.paths[#o.paths + 1] = args[j] end
      break
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      usage_error("unknown option '" .. a .. "'")
    else
      o.paths[#o.paths + 1] = a
    end
    i = i + 1
  end
  if #o.paths == 0 then usage_error("expected a plugin directory, a directory of them or a registry file") end
  return o
end

-- The infos of every path: directories through scan.plugins, regular
-- files as registries. Returns infos, problems (skipped input).
local function gather(paths)
  local scan = require("truthound.dependencies.scan")
  local resolver = require("truthound.dependencies.resolver")
  local infos, problems, dirs = {}, {}, {}
  for _, path in ipairs(paths) do
    local real = fs.realpath(path)
    if real and fs.kind(real) == "file" then
      local ok, list = pcall(resolver.read_registry, path)
      if not ok then
        if not errors.is(list, "InputError") then error(list, 0) end
        for _, p in ipairs(list.problems or {{source = path, message = tostring(list.message)}}) do
          problems[#problems + 1] = p
        end
      else
        for _, info in ipairs(list) do infos[#infos + 1] = info end
      end
    else
      dirs[#dirs + 1] = path
    end
  end
  if #dirs > 0 then
    local found, skipped = scan.plugins(dirs)
    for _, info in ipairs(found) do infos[#infos + 1] = info end
    for _, p in ipairs(skipped) do problems[#problems + 1] = p end
  end
  return infos, problems
end

local function plain_info(info)
  return {id = info.id, version = info.version, dir = info.dir, source = info.source}
end

-- The result as one JSON object. lua-cjson 2.1.0 has no empty array: an
-- empty list comes out as {}, as in tplua check --json.
local function json_output(result, problems)
  local cjson = require("cjson")
  local plugins = {}
  for id, info in pairs(result.plugins) do plugins[id] = plain_info(info) end
  io.write(cjson.encode({
    success = result.success,
    selected = result.selected,
    load_order = result.load_order,
    plugins = plugins,
    conflicts = result.conflicts,
    missing = result.missing,
    warnings = result.warnings,
    explanation = result.explanation,
    problems = problems,
    stats = {steps = result.stats.steps, decisions = result.stats.decisions,
             conflicts = result.stats.conflicts},
  }), "\n")
end

local function text_output(result)
  local out = {}
  if result.success then
    local n = #result.load_order
    out[#out + 1] = ("selected %d plugin%s (load order):"):format(n, n == 1 and "" or "s")
    local w = 0
    for _, id in ipairs(result.load_order) do w = math.max(w, #id + 1 + #result.selected[id]) end
    for _, id in ipairs(result.load_order) do
      local info = result.plugins[id]
      local label = id .. " " .. result.selected[id]
      local where = info.dir
      out[#out + 1] = where and ("  %-" .. w .. "s  %s"):format(label, where) or ("  " .. label)
    end
  else
    out[#out + 1] = result.explanation
  end
  for _, w in ipairs(result.warnings) do out[#out + 1] = "warning: " .. w end
  io.write(table.concat(out, "\n"), "\n")
end

local function run(args)
  local o = parse_args(args)
  local infos, problems = gather(o.paths)
  if #infos == 0 and #problems > 0 then
    -- every input was refused: nothing to resolve is not a success
    for _, p in ipairs(problems) do io.stderr:write("tplua resolve: ", datafile.format_problem(p), "\n") end
    io.stderr:write("tplua resolve: no plugin to resolve\n")
    return 1
  end
  local DependencyResolver = require("truthound.dependencies").DependencyResolver
  local r = DependencyResolver.new{strict = o.strict ~= false, include_dev = o.include_dev or false,
                                   max_steps = o.max_steps}
  local result = r:resolve(infos, {requirements = o.requirements})
  if o.json then
    json_output(result, problems)
  else
    for _, p in ipairs(problems) do
      io.stderr:write("tplua resolve: skipped: ", datafile.format_problem(p), "\n")
    end
    text_output(result)
  end
  return result.success and 0 or 1
end

return {
  name = "resolve",
  summary = "choose plugin versions that fit together, or explain why none do",
  usage = "tplua resolve [--json] [--require 'ID [CONSTRAINT]']... [--include-dev] [--no-strict] [--max-steps N] PATH...",
  help = [[
Each PATH is a plugin directory, a directory of plugin directories (several
may hold different versions of the same plugin) or a registry data file
(return {id = {["1.0.0"] = {dependencies = {...}}}}). Picks one version of
every plugin found (or of those --require names, with what they need), the
highest that works, and prints them in load order. When no choice works,
prints why, as numbered sentences, and exits 1. Manifests that fail to load
are skipped with a warning on stderr.
--require 'ID [CONSTRAINT]'  resolve for these plugins only (repeatable)
--include-dev                count dev dependencies (as required)
--no-strict                  a required dependency that is missing is a warning
--max-steps N                give up after N steps (exit 3); default 250000
--json                       the result as one JSON object]],
  run = run,
}
