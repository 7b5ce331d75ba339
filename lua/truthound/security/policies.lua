-- truthound.security.policies: the six presets, policy.lua files, and
-- create_policy.
--
--   local policies = require("truthound.security.policies")
--   policies.STANDARD.resource_limits.max_memory_mb      --> 512
--   policies.get("strict").isolation_level               --> "CONTAINER"
--   policies.list()                                      --> {"development", ..., "airgapped"}
--   policies.load("deploy/policy.lua")                   --> SecurityPolicy, info
--   policies.create_policy{base = policies.STANDARD, max_memory_mb = 1024,
--                          allow_network = true}
--
-- A policy file is data: it runs through truthound.datafile (a Lua state of
-- its own with no globals, an instruction budget and a memory cap) and
-- returns a table of fields. `extends` names a preset ("standard") or
-- another file ("./base.lua", relative to the file that says it); the file's
-- fields then apply over that policy. The presets are such files
-- (policies/*.lua, found on package.path as truthound.presets.<name>) and
-- load through the same code. docs/policies.md describes the format.

local datafile = require("truthound.datafile")
local errors = require("truthound.errors")
local frozen = require("truthound.frozen")
local limits = require("truthound.security.limits")
local policy = require("truthound.security.policy")

local util = limits._util
local core_fs = require("truthound.native").fs   -- kind, realpath
local SecurityPolicy = policy.SecurityPolicy

local policies = {}

-- The presets, from the most permissive to the most restrictive.
local PRESETS = {"development", "testing", "standard", "enterprise", "strict", "airgapped"}
local IS_PRESET = {}
for _, n in ipairs(PRESETS) do IS_PRESET[n] = true end

-- Bounds of a policy file: a few hundred bytes and instructions are
-- usual; these leave room for long path lists and stop everything else.
policies.LIMITS = {
  instructions = 1000000,      -- VM instructions per file
  memory = 8 * 1024 * 1024,    -- bytes of the file's own Lua state
  max_size = 256 * 1024,       -- bytes of source
  max_depth = 16,              -- files in one extends chain
}

local function load_opts()
  local L = policies.LIMITS
  return {kind = "PolicyError", instructions = L.instructions, memory = L.memory,
          max_size = L.max_size}
end

-- list() -> the preset names, weakest first.
function policies.list()
  local out = {}
  for i, n in ipairs(PRESETS) do out[i] = n end
  return out
end

---------------------------------------------------------------------------
-- Paths (lexical: an extends chain is bounded by max_depth whatever the
-- file system does with symbolic links)

local function dirname(path)
  local d = path:match("^(.*)/[^/]*$")
  if d == nil then return "." end
  if d == "" then return "/" end
  return d
end

-- normalise("a/./b/../c") -> "a/c"; keeps leading ".." of a relative path.
local function normalise(path)
  local abs = path:sub(1, 1) == "/"
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part == ".." then
      if #parts > 0 and parts[#parts] ~= ".." then parts[#parts] = nil
      elseif not abs then parts[#parts + 1] = ".." end
    elseif part ~= "." then
      parts[#parts + 1] = part
    end
  end
  local s = table.concat(parts, "/")
  if abs then return "/" .. s end
  return s == "" and "." or s
end

local function join(dir, rel)
  if rel:sub(1, 1) == "/" then return normalise(rel) end
  return normalise(dir .. "/" .. rel)
end

-- A message without the "source: " datafile put before it.
local function bare_message(e, source)
  local m = tostring(e.message or e)
  local prefix = source .. ": "
  if m:sub(1, #prefix) == prefix then m = m:sub(#prefix + 1) end
  return m
end

---------------------------------------------------------------------------
-- Loading a chain of files

local cache = {}          -- preset name -> SecurityPolicy
local load_file           -- forward

local function preset_path(name)
  return package.searchpath("truthound.presets." .. name, package.path)
end

-- A preset name in an extends or in get(): a plain word, not a path.
local function is_name(s)
  return s:match("^[%w_%-]+$") ~= nil and not s:find("%.lua$")
end

-- resolve_extends(value, from, P, chain) -> the base policy as a plain
-- table, or nil after adding a problem. chain lists what is being loaded
-- (identity, shown name, source and line of its extends), outermost first.
local function resolve_extends(ext, from, P, chain, info)
  if type(ext) ~= "string" then
    P:add("extends", ('expected a preset name such as "standard" or a path such as ' ..
                      '"./base.lua", %s'):format(util.got(ext)))
    return nil
  end
  local id, shown, path
  if is_name(ext) then
    local name = ext:lower()
    if not IS_PRESET[name] then
      local sug = util.suggest(name, PRESETS)
      P:add("extends", ("unknown preset %s; expected one of %s%s, or a path such as " ..
                        '"./%s.lua"'):format(util.show(ext), table.concat(PRESETS, ", "),
                                             sug and (" (did you mean '%s'?)"):format(sug) or "",
                                             ext))
      return nil
    end
    id, shown = "preset:" .. name, name
    path = preset_path(name)
    if not path then
      P:add("extends", ("the preset '%s' is not installed (truthound/presets/%s.lua is not on " ..
                        "package.path)"):format(name, name))
      return nil
    end
  elseif ext == "" or ext:find("%z") then
    P:add("extends", ('expected a preset name such as "standard" or a path such as ' ..
                      '"./base.lua", got %s'):format(util.show(ext)))
    return nil
  else
    path = join(dirname(from), ext)
    shown = path
    -- The file itself, links resolved, identifies it in the chain; a
    -- device, FIFO or directory named by a hostile extends would never
    -- end (or never start) reading: only regular files.
    local real = core_fs and core_fs.realpath(path)
    if real then
      local kind = core_fs.kind(real)
      if kind ~= "file" then
        P:add("extends", ("cannot extend %s: %s is %s, not a regular file")
                         :format(util.show(ext), path, kind == "directory" and "a directory"
                                                       or "a device, FIFO or socket"))
        return nil
      end
    end
    id = real or path
  end
  for i, link in ipairs(chain) do
    if link.id == id then
      local names = {}
      for j = i, #chain do names[#names + 1] = chain[j].shown end
      names[#names + 1] = shown
      local cyc = util.problems(info)
      cyc:add("extends", "cycle in extends: " .. table.concat(names, " -> "))
      local _, e = pcall(cyc.raise_if_any, cyc)
      e.chain = names
      error(e, 0)
    end
  end
  if #chain >= policies.LIMITS.max_depth then
    P:add("extends", ("extends chain longer than %d files"):format(policies.LIMITS.max_depth))
    return nil
  end
  local ok, base = pcall(load_file, path, nil, chain, id, shown)
  if not ok then
    local e = base
    -- The file could not be read at all: say so at the extends that named
    -- it. Problems inside it keep their own file and line.
    local only = type(e) == "table" and e.problems and #e.problems == 1 and e.problems[1]
    if errors.is(e, "PolicyError") and e.source == path and e.line == nil and
       (e.problems == nil or (only and only.line == nil and only.field == nil)) then
      P:add("extends", ("cannot extend %s: %s: %s"):format(util.show(ext), path,
                                                          only and only.message
                                                          or bare_message(e, path)))
      return nil
    end
    -- Problems inside the base: say which file reached it, and where.
    if errors.is(e, "PolicyError") and not e.chain then
      local line = info.lines and info.lines.extends
      local at = from .. (line and (":" .. line) or "")
      e.extended_by = e.extended_by or {}
      e.extended_by[#e.extended_by + 1] = at
      e.message = ("%s\n(extended by %s)"):format(e.message, at)
    end
    error(e, 0)
  end
  return base
end

-- load_file(path, src, chain, id, shown) -> plain table of the policy
-- (complete, valid), info. src is the text when given (eval).
function load_file(path, src, chain, id, shown)
  local value, info
  if src then
    value, info = datafile.eval(src, path, load_opts())
  else
    value, info = datafile.load(path, load_opts())
  end
  local P = util.problems(info)
  if type(value) ~= "table" then
    P:add("", ("expected the file to return a table of policy fields (return { ... }), %s")
              :format(util.got(value)))
    P:raise_if_any()
  end
  local next_chain = {}
  for i, link in ipairs(chain) do next_chain[i] = link end
  next_chain[#next_chain + 1] = {id = id or (core_fs and core_fs.realpath(path)) or path,
                                 shown = shown or path}
  local base
  if value.extends ~= nil then
    base = resolve_extends(value.extends, path, P, next_chain, info)
  end
  local data = policy._build(value, base or policy.defaults(), P, {skip = {extends = true}})
  P:raise_if_any()
  if data.name == nil then data.name = path end
  local sources = {path}
  if base and base.sources then
    for _, s in ipairs(base.sources) do sources[#sources + 1] = s end
  end
  info.chain = sources
  data.sources = sources
  return data, info
end

local function finish(data)
  data.sources = nil
  return policy._make(data)
end

-- load(path) -> SecurityPolicy, info. info is truthound.datafile's (source,
-- src, lines: dotted key path -> line) plus chain: the files read, this one
-- first, then what it extends, and so on. The policy's name is the file's
-- `name` field, or the path. Raises PolicyError listing every problem.
function policies.load(path)
  if type(path) ~= "string" then
    errors.raise("UsageError", ("policies.load: expected a path, %s"):format(util.got(path)))
  end
  local data, info = load_file(path, nil, {})
  return finish(data), info
end

-- eval(src, name) -> SecurityPolicy, info: a policy file's text; name is
-- its path in messages and the directory a relative extends starts from.
function policies.eval(src, name)
  if type(src) ~= "string" then
    errors.raise("UsageError", ("policies.eval: expected the text of a policy file, %s")
                               :format(util.got(src)))
  end
  name = name or "(policy)"
  local data, info = load_file(name, src, {})
  return finish(data), info
end

---------------------------------------------------------------------------
-- Presets

local function load_preset(name)
  local p = cache[name]
  if p then return p end
  local path = preset_path(name)
  if not path then
    errors.raise("PolicyError", ("the preset '%s' is not installed: truthound/presets/%s.lua " ..
                                 "is not on package.path"):format(name, name),
                 {input = name, field = name})
  end
  local data = load_file(path, nil, {}, "preset:" .. name, name)
  data.name = name
  p = finish(data)
  cache[name] = p
  return p
end

-- get(name) -> the preset (any case: "strict", "STRICT"). A SecurityPolicy
-- is returned as it is. Unknown names raise PolicyError listing the presets.
function policies.get(name)
  if SecurityPolicy.is(name) then return name end
  if type(name) ~= "string" then
    errors.raise("PolicyError", ("expected a preset name (%s), %s")
                                :format(table.concat(PRESETS, ", "), util.got(name)),
                 {input = name, expected = "one of " .. table.concat(PRESETS, ", ")})
  end
  local key = name:lower()
  if not IS_PRESET[key] then
    local sug = util.suggest(key, PRESETS)
    errors.raise("PolicyError", ("unknown policy preset %s; expected one of %s%s")
                                :format(util.show(name), table.concat(PRESETS, ", "),
                                        sug and (" (did you mean '%s'?)"):format(sug) or ""),
                 {input = name, expected = "one of " .. table.concat(PRESETS, ", "),
                  found = name})
  end
  return load_preset(key)
end

-- policies.DEVELOPMENT ... policies.AIRGAPPED: the presets, read from
-- their files on first use.
setmetatable(policies, {
  __index = function(t, k)
    if type(k) == "string" and k:match("^%u+$") and IS_PRESET[k:lower()] then
      local p = load_preset(k:lower())
      rawset(t, k, p)
      return p
    end
  end,
})

---------------------------------------------------------------------------
-- create_policy

local CREATE_HINTS = {
  extends = "(extends is read in policy files; here write base = ...)",
}

-- create_policy{base = ..., <overrides>} -> SecurityPolicy. base is a
-- SecurityPolicy, a preset name, or a table of fields (STANDARD when
-- omitted); the overrides are fields, with limits flat (max_memory_mb =
-- 1024) or inside resource_limits. Lists replace the base's lists. The
-- result's name is the overrides' name, or nil.
function policies.create_policy(spec)
  local P = util.problems("create_policy")
  if spec ~= nil and type(spec) ~= "table" then
    P:add("", ("expected a table of fields with an optional base, %s"):format(util.got(spec)))
    P:raise_if_any()
  end
  spec = spec or {}
  local base = spec.base
  if base == nil then
    base = policies.STANDARD
  elseif type(base) == "string" then
    local ok, p = pcall(policies.get, base)
    if not ok then
      P:add("base", bare_message(p, ""))
      base = nil
    else
      base = p
    end
  elseif type(base) == "table" and not SecurityPolicy.is(base) then
    local ok, p = pcall(SecurityPolicy.new, base)
    if not ok then
      if errors.is(p, "PolicyError") and p.problems then
        for _, q in ipairs(p.problems) do
          P:add("base" .. (q.field and ("." .. q.field) or ""), q.message)
        end
      else
        error(p, 0)
      end
      base = nil
    else
      base = p
    end
  elseif not SecurityPolicy.is(base) then
    P:add("base", ("expected a SecurityPolicy, a preset name or a table of fields, %s")
                  :format(util.got(base)))
    base = nil
  end
  local data = policy._build(spec, base and frozen.thaw(base) or policy.defaults(), P,
                             {skip = {base = true}, hints = CREATE_HINTS})
  P:raise_if_any()
  return policy._make(data)
end

return policies
