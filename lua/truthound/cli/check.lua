-- tplua check: validate policy files and plugin directories.
--
--   tplua check FILE...              every problem as "file:line: key: message"
--   tplua check --explain FILE...    also the effective policy, each field with
--                                    the mechanism that would enforce it here
--   tplua check --json FILE...       the same, as JSON
--
-- A directory, or a file named plugin.lua, is a plugin (its manifest is
-- checked); anything else is a policy file. Exit 1 when any problem is
-- found, 0 otherwise, 2 on a usage error.

local errors = require("truthound.errors")
local datafile = require("truthound.datafile")
local frozen = require("truthound.frozen")
local fs = require("truthound.native").fs

local function usage_error(msg)
  errors.raise("UsageError", msg, {command = "check"})
end

-- What FILE is: "manifest" (with its plugin directory) or "policy".
local function classify(path)
  if fs.kind(path) == "directory" then return "manifest", path end
  local dir, base = path:match("^(.*)/([^/]*)$")
  if (base or path) == "plugin.lua" then return "manifest", dir or "." end
  return "policy", path
end

-- The problems a typed input error carries (datafile's errors always list
-- theirs; any other InputError becomes one problem).
local function problems_of(e)
  if e.problems then return e.problems, e.more_problems end
  return {{source = e.source, line = e.line, field = e.field, message = tostring(e.message)}}
end

-- check_one(path) -> result {path, kind, ok, problems, value}
local function check_one(path)
  local kind, target = classify(path)
  local ok, value = pcall(function()
    if kind == "manifest" then return require("truthound.manifest").load(target) end
    return require("truthound.security").policies.load(target)
  end)
  local r = {path = path, kind = kind, ok = ok}
  if ok then
    r.value = value
  elseif errors.is(value, "InputError") then
    r.problems, r.more = problems_of(value)
  else
    error(value, 0)          -- a bug, not a verdict: let tplua report it
  end
  return r
end

---------------------------------------------------------------------------
-- Text output

-- A value as the explain table shows it: long lists cut to their first
-- items and their count.
local function show(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do
      if i > 4 and #v > 5 then
        parts[#parts + 1] = ("... (%d in all)"):format(#v)
        break
      end
      parts[i] = show(x)
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  if type(v) == "string" then return ("%q"):format(v) end
  return tostring(v)
end

local function status_of(row)
  if row.mechanism == nil or row.mechanism == "" then return "nothing to enforce" end
  if row.available and row.implemented then return "enforced" end
  return row.reason or (row.available and "not applied yet" or "not available here")
end

local function explain_policy(out, policy)
  local rows = require("truthound.security.enforcement").explain(policy)
  out[#out + 1] = ("  effective policy%s, enforcement %s"):format(
    policy.name and (" " .. policy.name) or "", policy.enforcement or "strict")
  local w = 8
  for _, row in ipairs(rows) do w = math.max(w, #row.field) end
  for _, row in ipairs(rows) do
    out[#out + 1] = ("  %-" .. w .. "s  %-14s %s: %s"):format(row.field, show(row.value),
      row.mechanism and row.mechanism ~= "" and row.mechanism or "-", status_of(row))
  end
  return rows
end

local function explain_manifest(out, m)
  out[#out + 1] = ("  plugin %s %s, entry %s"):format(m.id, m.version, m.entry_path or m.entry)
  local names = {}
  for name in pairs(m.dependencies or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local d = m.dependencies[name]
    out[#out + 1] = ("  depends on %s %s (%s)"):format(name, tostring(d.parsed_constraint or d.constraint), d.type)
  end
  if m.hooks and #m.hooks > 0 then
    local hooks = {}
    for i, h in ipairs(m.hooks) do hooks[i] = h end
    out[#out + 1] = "  hooks " .. table.concat(hooks, ", ")
  end
end

local function summary(r)
  if r.kind == "manifest" then
    return ("ok (plugin %s %s)"):format(r.value.id, r.value.version)
  end
  local name = r.value.name ~= r.path and r.value.name
  return ("ok (policy%s, %s isolation)"):format(name and (" " .. name) or "", r.value.isolation_level)
end

---------------------------------------------------------------------------
-- JSON output

local function plain(v)
  if type(v) ~= "table" then return v end
  return frozen.is_frozen(v) and frozen.thaw(v) or v
end

local function json_result(r, explain)
  local out = {path = r.path, kind = r.kind, ok = r.ok, problems = r.problems or {}}
  if r.ok and r.kind == "policy" then
    out.policy = plain(r.value)
    if explain then out.explain = require("truthound.security.enforcement").explain(r.value) end
  elseif r.ok then
    local m = plain(r.value)
    m.parsed_version, m.lua_constraint = nil, nil   -- objects: their text is there already
    for _, d in pairs(m.dependencies or {}) do d.parsed_constraint = nil end
    out.manifest = m
  end
  return out
end

---------------------------------------------------------------------------

local function run(args)
  local explain, json, files = false, false, {}
  for _, a in ipairs(args) do
    if a == "--explain" then explain = true
    elseif a == "--json" then json = true
    elseif a:sub(1, 2) == "--" then usage_error("check: unknown option '" .. a .. "'")
    else files[#files + 1] = a end
  end
  if #files == 0 then usage_error("check: expected a policy file or a plugin directory") end
  local results, nproblems, nbad = {}, 0, 0
  for i, path in ipairs(files) do
    results[i] = check_one(path)
    if not results[i].ok then
      nbad = nbad + 1
      nproblems = nproblems + #results[i].problems + (results[i].more or 0)
    end
  end
  if json then
    local cjson = require("cjson")
    local list = {}
    for i, r in ipairs(results) do list[i] = json_result(r, explain) end
    io.write(cjson.encode({files = list, problems = nproblems}), "\n")
  else
    local out = {}
    for _, r in ipairs(results) do
      if r.ok then
        out[#out + 1] = r.path .. ": " .. summary(r)
        if explain and r.kind == "policy" then explain_policy(out, r.value) end
        if explain and r.kind == "manifest" then explain_manifest(out, r.value) end
      else
        for _, p in ipairs(r.problems) do out[#out + 1] = datafile.format_problem(p) end
        if r.more and r.more > 0 then
          out[#out + 1] = ("%s: and %d more problems not shown"):format(r.path, r.more)
        end
      end
    end
    if nproblems > 0 then
      out[#out + 1] = ("%d problem%s in %d of %d file%s"):format(nproblems,
        nproblems == 1 and "" or "s", nbad, #files, #files == 1 and "" or "s")
    end
    io.write(table.concat(out, "\n"), "\n")
  end
  return nproblems == 0 and 0 or 1
end

return {
  name = "check",
  summary = "validate policy files and plugin directories",
  usage = "tplua check [--explain] [--json] FILE...",
  help = [[
Checks each FILE: a directory (or a plugin.lua) is a plugin whose manifest
is validated; any other file is a policy. Every problem is printed as
"file:line: key: message" and the exit status is 1 if there is any.
--explain  for a policy, prints the effective policy (after extends) and,
           per field, the mechanism that enforces it on this host or why it
           cannot be enforced here; for a plugin, its normalised manifest
--json     the results as one JSON object: {"files": [...], "problems": N}]],
  run = run,
}
