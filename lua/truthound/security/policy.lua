-- truthound.security.policy: SecurityPolicy and IsolationLevel.
--
--   local security = require("truthound.security")
--   local p = security.SecurityPolicy.new{
--     isolation_level = "process",              -- enums: any case
--     max_memory_mb = "1GiB",                   -- flat, or inside resource_limits = {...}
--     resource_limits = {allowed_paths = {"/srv/data"}},
--     allow_network = true,
--   }
--   p.isolation_level, p.resource_limits.max_memory_mb   --> "PROCESS", 1024
--   p.required_signatures                                --> 1 (STANDARD's value)
--   p.allow_network = false                              --> error: read-only
--   p:with{max_cpu_percent = "80%"}                      --> a changed, re-validated copy
--
-- A SecurityPolicy is frozen (truthound.frozen). Every field the caller
-- omits takes the STANDARD preset's value, so that forgetting a field never
-- loosens a policy. Every problem is reported at once, as one PolicyError
-- whose `problems` lists each with its field and what was expected. The
-- file format and every field: docs/policies.md.

local frozen = require("truthound.frozen")
local limits = require("truthound.security.limits")

local util, check = limits._util, limits._check

local M = {}

---------------------------------------------------------------------------
-- Enums: tables of string constants; functions that take one take the
-- string too, in any case.

local function enum(name, values, canon)
  local data, order = {}, {}
  for i, v in ipairs(values) do data[v:upper()] = v; order[i] = v end
  local methods = {}
  -- parse(s) -> the constant, or nil and a message naming what was expected.
  function methods.parse(s)
    if type(s) ~= "string" then return nil, ("expected one of %s, %s"):format(
      table.concat(order, ", "), util.got(s)) end
    local v = data[s:upper()]
    if v then return v end
    local sug = util.suggest(canon(s), order)
    return nil, ("unknown %s %s; expected one of %s%s"):format(name, util.show(s),
      table.concat(order, ", "), sug and (" (did you mean '%s'?)"):format(sug) or "")
  end
  -- list() -> the constants in order.
  function methods.list()
    local out = {}
    for i, v in ipairs(order) do out[i] = v end
    return out
  end
  return frozen.freeze(data, {name = name, methods = methods})
end

-- From weakest to strongest.
M.IsolationLevel = enum("isolation level", {"NONE", "PROCESS", "CONTAINER"}, string.upper)
-- strict: refuse a policy the host cannot enforce; best_effort: warn.
M.Enforcement = enum("enforcement", {"strict", "best_effort"}, string.lower)

---------------------------------------------------------------------------
-- Fields

M.FIELDS = {"isolation_level", "resource_limits", "allow_network", "allow_subprocess",
            "allow_file_write", "allowed_modules", "blocked_modules", "required_signatures",
            "require_trusted_signer", "signature_max_age_days", "enforcement"}
M.META = {"name", "description"}
M.MAX_SIGNATURES = 16
M.MAX_AGE_DAYS = 36500
M.MAX_NAME = 256
M.MAX_DESCRIPTION = 1024

-- The order keys are checked and shown in.
local ORDER = {}
for _, list in ipairs{M.META, M.FIELDS, limits.FIELDS} do
  for _, k in ipairs(list) do ORDER[#ORDER + 1] = k end
end
M.KEYS = ORDER

local ALIASES = {
  isolation = "isolation_level", level = "isolation_level", isolation_mode = "isolation_level",
  limits = "resource_limits", resources = "resource_limits", resource_limit = "resource_limits",
  network = "allow_network", allow_net = "allow_network", net = "allow_network",
  subprocess = "allow_subprocess", allow_exec = "allow_subprocess",
  allow_subprocesses = "allow_subprocess",
  file_write = "allow_file_write", allow_write = "allow_file_write",
  allow_writes = "allow_file_write", allow_file_writes = "allow_file_write",
  modules = "allowed_modules", allow_modules = "allowed_modules",
  block_modules = "blocked_modules", denied_modules = "blocked_modules",
  signatures = "required_signatures", min_signatures = "required_signatures",
  require_signatures = "required_signatures", signatures_required = "required_signatures",
  trusted_signer = "require_trusted_signer", require_trusted = "require_trusted_signer",
  signature_max_age = "signature_max_age_days", max_signature_age = "signature_max_age_days",
  max_signature_age_days = "signature_max_age_days",
  enforce = "enforcement", enforcement_mode = "enforcement", mode = "enforcement",
  title = "name", desc = "description",
}
for k, v in pairs(limits._ALIASES) do ALIASES[k] = v end
local EXTENDS_ALIASES = {base = true, inherits = true, inherit = true, parent = true,
                         extend = true, include = true, import = true}

local function modules_check(v, path, P)
  return check.list(v, path, P, "a list of module names", check.module)
end

local function enum_check(e)
  return function(v, path, P)
    local c, msg = e.parse(v)
    if c == nil then P:add(path, msg) end
    return c
  end
end

local function text_check(max, what)
  return function(v, path, P)
    if type(v) ~= "string" then
      P:add(path, ("expected %s (a string), %s"):format(what, util.got(v)))
      return nil
    elseif #v == 0 or #v > max then
      P:add(path, ("expected %s of 1 to %d bytes, got %d bytes"):format(what, max, #v))
      return nil
    end
    return v
  end
end

-- signature_max_age_days: a number of days above 0, a duration string
-- ("90d" if truthound.units reads days, "2160h"), or false for no limit.
local NO_LIMIT = {}
local function age_check(v, path, P)
  if v == false then return NO_LIMIT end
  local days
  if type(v) == "number" then
    days = v
  elseif type(v) == "string" then
    local seconds = check.seconds(v, path, P, M.MAX_AGE_DAYS * 86400)
    if seconds == nil then return nil end
    days = seconds / 86400
  else
    P:add(path, ("expected a number of days, or false for no limit, %s"):format(util.got(v)))
    return nil
  end
  if days ~= days or days <= 0 or days > M.MAX_AGE_DAYS then
    P:add(path, ("expected a number of days above 0 and at most %d, or false for no limit, got %s")
                :format(M.MAX_AGE_DAYS, util.show(v)))
    return nil
  end
  return math.tointeger(days) or days
end

local CHECK = {
  name = text_check(M.MAX_NAME, "a name"),
  description = text_check(M.MAX_DESCRIPTION, "a description"),
  isolation_level = enum_check(M.IsolationLevel),
  allow_network = check.boolean,
  allow_subprocess = check.boolean,
  allow_file_write = check.boolean,
  allowed_modules = modules_check,
  blocked_modules = modules_check,
  required_signatures = function(v, path, P)
    return check.integer(v, path, P, 0, M.MAX_SIGNATURES, "a whole number of signatures")
  end,
  require_trusted_signer = check.boolean,
  signature_max_age_days = age_check,
  enforcement = enum_check(M.Enforcement),
}

-- The STANDARD preset (policies/standard.lua): what SecurityPolicy.new{}
-- means. tests/lua/policy_spec.lua checks the two are the same.
function M.defaults()
  return {
    isolation_level = "PROCESS",
    resource_limits = limits.defaults(),
    allow_network = false,
    allow_subprocess = false,
    allow_file_write = false,
    allowed_modules = {},
    blocked_modules = {"debug", "ffi", "io", "os", "package"},
    required_signatures = 1,
    require_trusted_signer = true,
    signature_max_age_days = nil,
    enforcement = "strict",
  }
end

---------------------------------------------------------------------------
-- Building: spec over base, every problem collected

-- Where a cross-field problem goes: the key the caller wrote.
local function blame(given, ...)
  for _, f in ipairs{...} do
    if given[f] then return given[f], f end
  end
  return (select(1, ...)), nil
end

local function cross_checks(out, given, bad, P)
  local rl = out.resource_limits
  if not (bad.writable_paths or bad.allow_file_write) and #rl.writable_paths > 0
     and not out.allow_file_write then
    local path, f = blame(given, "writable_paths", "allow_file_write")
    if f == "allow_file_write" then
      P:add(path, "is false, but writable_paths (inherited) lists paths; " ..
                  "also set writable_paths = {}, or allow file writes")
    else
      P:add(path, "lists writable paths, but allow_file_write is false; " ..
                  "set allow_file_write = true, or remove the paths")
    end
  end
  if out.required_signatures == 0 and not bad.required_signatures then
    for _, f in ipairs{"require_trusted_signer", "signature_max_age_days"} do
      if not bad[f] and (f == "require_trusted_signer" and out[f] or
                         f == "signature_max_age_days" and out[f] ~= nil) then
        local path, who = blame(given, f, "required_signatures")
        if who == "required_signatures" then
          P:add(path, ("is 0, but %s (inherited) asks for a signature check; " ..
                       "also set %s, or require at least 1 signature")
                      :format(f, f == "require_trusted_signer" and "require_trusted_signer = false"
                                                                  or "signature_max_age_days = false"))
        else
          P:add(path, ("has no effect while required_signatures is 0; require at least 1 " ..
                       "signature, or set %s"):format(f == "require_trusted_signer" and "false"
                                                      or "false for no limit"))
        end
      end
    end
  end
end

-- Policy fields written inside resource_limits.
local NESTED_HINTS = {}
for _, f in ipairs(ORDER) do
  if CHECK[f] or f == "resource_limits" then
    NESTED_HINTS[f] = ("(%s is a policy field: write it outside resource_limits)"):format(f)
  end
end

-- build(spec, base, P [, opts]) -> plain table of a complete policy.
-- base is a plain table of a valid policy (its name and description are
-- not inherited). opts.skip: keys the caller handles (extends, base);
-- opts.hints: key -> text for keys that mean something elsewhere.
function M._build(spec, base, P, opts)
  opts = opts or {}
  local skip, hints = opts.skip or {}, opts.hints or {}
  local out = limits._copy(base)
  out.name, out.description = nil, nil
  if type(spec) ~= "table" then
    P:add("", ("expected a table of policy fields, %s"):format(util.got(spec)))
    return out
  end
  local given, bad, flat = {}, {}, {}
  local function set(k, path, v)
    given[k] = path
    if v == nil then bad[k] = true
    elseif v == NO_LIMIT then out[k] = nil
    else out[k] = v end
  end
  local candidates = {}
  for _, k in ipairs(ORDER) do candidates[#candidates + 1] = k end
  for _, k in ipairs(util.keys(skip)) do candidates[#candidates + 1] = k end
  for _, k in ipairs(util.keys(spec, ORDER)) do
    local v = spec[k]
    local path = util.path("", k)
    if skip[k] then
      -- the caller's
    elseif type(k) ~= "string" then
      P:add(path, "expected a named field (key = value), got a list entry; " ..
                  "a policy is a table of named fields")
    elseif CHECK[k] then
      set(k, path, CHECK[k](v, path, P))
    elseif k == "resource_limits" then
      if type(v) ~= "table" then
        P:add(path, ("expected a table of resource limits, %s"):format(util.got(v)))
      else
        limits._apply(out.resource_limits, v, "resource_limits", P,
                      {given = given, bad = bad, hints = NESTED_HINTS})
      end
    elseif limits._field_check[k] then
      flat[k] = path
      limits._apply(out.resource_limits, {[k] = v}, "", P, {given = given, bad = bad})
    elseif P.full and P:full() then
      P:add(path, "unknown key")                 -- only counted
    else
      local hint = hints[k]
      local sug = util.suggest(k, candidates, ALIASES)
      if skip.extends and EXTENDS_ALIASES[k:lower()] then sug = "extends" end
      local msg = "unknown key"
      if hint then msg = msg .. " " .. hint
      elseif sug then msg = msg .. (" (did you mean '%s'?)"):format(sug)
      else msg = msg .. "; expected one of: " .. table.concat(candidates, ", ") end
      P:add(path, msg)
    end
  end
  -- A limit written both flat and inside resource_limits.
  local rl = spec.resource_limits
  if type(rl) == "table" then
    for _, f in ipairs(limits.FIELDS) do
      if flat[f] and rl[f] ~= nil then
        local line = P.info and P.info.lines and P.info.lines[f]
        P:add("resource_limits." .. f,
              ("given twice: here and as the top-level key '%s'%s; write it once")
              :format(f, line and (" (line %d)"):format(line) or ""))
        bad[f] = true
      end
    end
  end
  cross_checks(out, given, bad, P)
  return out
end

---------------------------------------------------------------------------
-- SecurityPolicy records

local Policy = {}          -- methods of a SecurityPolicy record
M.methods = Policy

local SecurityPolicy = {methods = Policy, FIELDS = M.FIELDS, defaults = M.defaults}
M.SecurityPolicy = SecurityPolicy

-- make(data) -> frozen record; data is a built, valid, plain table.
function M._make(data)
  data.resource_limits = limits._make(data.resource_limits)
  return frozen.freeze(data, {name = "SecurityPolicy", methods = Policy})
end

-- is(v) -> true for a SecurityPolicy record.
function SecurityPolicy.is(v)
  return frozen.is(v, "SecurityPolicy")
end

local NEW_HINTS = {
  extends = "(extends is read in policy files; here use policies.create_policy{base = ...})",
  base = "(base is an option of policies.create_policy)",
}

-- new{...} -> SecurityPolicy. Omitted fields take the STANDARD preset's
-- values; limits may be written flat or inside resource_limits.
function SecurityPolicy.new(spec)
  local P = util.problems("SecurityPolicy.new")
  local data = M._build(spec == nil and {} or spec, M.defaults(), P, {hints = NEW_HINTS})
  P:raise_if_any()
  return M._make(data)
end

-- The seed's SecurityPolicy.STANDARD and friends: the presets.
setmetatable(SecurityPolicy, {
  __index = function(_, k)
    if type(k) == "string" and k:match("^%u+$") then
      return require("truthound.security.policies")[k]
    end
  end,
})

-- policy:with{...} -> a changed, re-validated copy. Flat limit keys go into
-- resource_limits; lists replace the old list. The copy's name and
-- description are the overrides' (nil when not given): it is no longer
-- the policy it came from.
function Policy:with(overrides)
  local P = util.problems("SecurityPolicy:with")
  local data = M._build(overrides == nil and {} or overrides, frozen.thaw(self), P,
                        {hints = NEW_HINTS})
  P:raise_if_any()
  return M._make(data)
end

-- policy:to_table() -> a plain, mutable deep copy.
function Policy:to_table() return frozen.thaw(self) end

-- Longest entry of list that is name or a parent module of it ("socket"
-- covers "socket.http"), as a length; 0 when none.
local function covers(list, name)
  local best = 0
  for _, e in ipairs(list) do
    if (name == e or name:sub(1, #e + 1) == e .. ".") and #e > best then best = #e end
  end
  return best
end

-- policy:allows_module(name) -> true, or false and why. An entry covers the
-- module and its submodules; the most specific entry decides, and an entry
-- in allowed_modules beats the same entry in blocked_modules ("allowlist
-- wins"). A non-empty allowed_modules admits only what it covers.
function Policy:allows_module(name)
  if type(name) ~= "string" then return false, "not a module name" end
  local allowed, blocked = self.allowed_modules, self.blocked_modules
  local a, b = covers(allowed, name), covers(blocked, name)
  if #allowed > 0 and a == 0 then
    return false, ("module '%s' is not in allowed_modules"):format(name)
  end
  if b > a then
    return false, ("module '%s' is blocked (blocked_modules: '%s')"):format(name, name:sub(1, b))
  end
  return true
end

-- policy:file_access() -> {read = paths, write = paths}: what the sandbox
-- opens up. Writable paths are readable too. With allow_file_write and no
-- writable_paths, every allowed path is writable; with writable_paths,
-- only those are.
function Policy:file_access()
  local rl = self.resource_limits
  local read, write, seen = {}, {}, {}
  for _, list in ipairs{rl.allowed_paths, rl.writable_paths} do
    for _, p in ipairs(list) do
      if not seen[p] then seen[p] = true; read[#read + 1] = p end
    end
  end
  if self.allow_file_write then
    local src = #rl.writable_paths > 0 and rl.writable_paths or rl.allowed_paths
    for i, p in ipairs(src) do write[i] = p end
  end
  return {read = read, write = write}
end

local function lua_value(v)
  if type(v) == "string" then
    return (("%q"):format(v):gsub("\\\n", "\\n"))
  elseif math.type(v) == "integer" then
    return ("%d"):format(v)
  elseif type(v) == "number" then
    local s = ("%.14g"):format(v)
    if tonumber(s) ~= v then s = ("%.17g"):format(v) end
    if not s:find("[.eEn]") then s = s .. ".0" end
    return s
  end
  return tostring(v)
end

-- A list on one line, or filled into lines of at most 90 columns.
local function lua_list(list, indent, width)
  local items = {}
  for i, v in ipairs(list) do items[i] = lua_value(v) end
  local one = "{" .. table.concat(items, ", ") .. "}"
  if width + #one <= 90 then return one end
  local lines, line = {"{"}, nil
  for _, item in ipairs(items) do
    if line and #line + 2 + #item + 1 > 90 then
      lines[#lines + 1] = line .. ","
      line = nil
    end
    line = line and (line .. ", " .. item) or (indent .. "  " .. item)
  end
  if line then lines[#lines + 1] = line .. "," end
  lines[#lines + 1] = indent .. "}"
  return table.concat(lines, "\n")
end

-- policy:to_lua() -> the text of a policy file that loads back to this
-- policy (every field written out; no extends).
function Policy:to_lua()
  local out = {"return {"}
  local function put(indent, k, v)
    local width = #indent + #k + 4
    out[#out + 1] = ("%s%s = %s,"):format(indent, k, type(v) == "table"
                                                      and lua_list(v, indent, width)
                                                      or lua_value(v))
  end
  if self.name then put("  ", "name", self.name) end
  if self.description then put("  ", "description", self.description) end
  for _, k in ipairs(M.FIELDS) do
    if k == "resource_limits" then
      out[#out + 1] = "  resource_limits = {"
      for _, f in ipairs(limits.FIELDS) do put("    ", f, self.resource_limits[f]) end
      out[#out + 1] = "  },"
    elseif k == "signature_max_age_days" and self[k] == nil then
      put("  ", k, false)
    else
      put("  ", k, self[k])
    end
  end
  out[#out + 1] = "}"
  return table.concat(out, "\n") .. "\n"
end

return M
