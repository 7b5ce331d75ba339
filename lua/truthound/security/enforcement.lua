-- truthound.security.enforcement: which mechanism enforces each field of a
-- SecurityPolicy, whether this host offers it, and whether this build has
-- an engine that applies it. Fail closed: a field nothing enforces refuses
-- the policy, unless the policy says enforcement = "best_effort".
--
--   local enforcement = require("truthound.security.enforcement")
--   for _, row in ipairs(enforcement.explain(policy)) do
--     print(row.field, row.mechanism, row.available, row.implemented, row.reason)
--   end
--   enforcement.check(policy)   --> {} when all is enforced; raises PolicyError
--                               --  (strict) or returns warnings (best_effort)
--
-- The map is DESIGN.md section 5 as data (enforcement.MAP, docs/host.md).
-- What each mechanism needs from the host is truthound.security.host's
-- MECHANISMS. The sandbox engines that apply mechanisms register with
-- enforcement.provide(name, engine) when they load; until one does, its
-- mechanisms are reported as not implemented and check() refuses them.

local errors = require("truthound.errors")
local host = require("truthound.security.host")

local enforcement = {}

local MIB = 1024 * 1024

---------------------------------------------------------------------------
-- The engine registry

local providers = {}   -- mechanism name -> engine name

-- provide(name, engine): engine (a name, for messages) applies mechanism
-- name from now on. Unknown mechanism names are a programming error.
function enforcement.provide(name, engine)
  if not host.MECHANISMS[name] then
    error(("enforcement.provide: unknown mechanism '%s'; known: %s")
          :format(tostring(name), table.concat(host.mechanisms(), ", ")), 2)
  end
  if type(engine) ~= "string" or engine == "" then
    error("enforcement.provide: the engine must be named by a non-empty string", 2)
  end
  providers[name] = engine
end

-- withdraw(name): no engine applies name any more (an engine unloading).
function enforcement.withdraw(name)
  providers[name] = nil
end

-- provider(name) -> the engine that applies name, or nil.
function enforcement.provider(name)
  return providers[name]
end

---------------------------------------------------------------------------
-- The map: field x isolation level -> mechanisms

local function is_set(v) return v ~= nil and v ~= false end
local function is_false(v) return v == false end
local function is_true(v) return v == true end
local function positive(v) return type(v) == "number" and v > 0 end
local function non_empty(v) return type(v) == "table" and #v > 0 end

local function has_root(list)
  for _, p in ipairs(list) do if p == "/" then return true end end
  return false
end

local function list_of(v) return type(v) == "table" and v or {} end

-- The file view (as SecurityPolicy:file_access): allowed and writable
-- paths are readable; with allow_file_write, writable_paths (or, when it
-- is empty, allowed_paths) are writable. A view that includes "/" asks
-- for nothing; any other view, even an empty one, restricts.
local function restricts_reads(_, p)
  local rl = type(p.resource_limits) == "table" and p.resource_limits or {}
  return not (has_root(list_of(rl.allowed_paths)) or has_root(list_of(rl.writable_paths)))
end

local function restricts_writes(_, p)
  if p.allow_file_write == false then return false end  -- allow_file_write's row
  local rl = type(p.resource_limits) == "table" and p.resource_limits or {}
  local w = list_of(rl.writable_paths)
  if #w == 0 then w = list_of(rl.allowed_paths) end
  return not has_root(w)
end

local function refuse(reason) return {refuse = reason} end
local function any(...) return {any = {...}} end

local REFUSE_CPU = refuse("nothing can cap the CPU share of a plugin inside the host " ..
                          "process; use PROCESS or CONTAINER isolation, or leave it unset")
local REFUSE_FDS = refuse("nothing can cap the descriptors of a plugin that shares the " ..
                          "host process's table; use PROCESS or CONTAINER isolation, or " ..
                          "leave it unset")
local REFUSE_SYSCALLS = refuse("a seccomp filter would confine the host process, not the " ..
                               "plugin inside it; use PROCESS or CONTAINER isolation")

-- Each entry: field (dotted path), asks(value, policy) -> does this value
-- ask for anything, then per isolation level the mechanisms (names; any(...)
-- for alternatives, one of which suffices; refuse(reason) when none can
-- exist), or all = for every level. amount(value) turns the value into the
-- quantity host.has() compares (bytes, descriptors).
enforcement.MAP = {
  {field = "isolation_level", asks = function(v) return v ~= "NONE" end,
   NONE = {}, PROCESS = {"process.worker"}, CONTAINER = {"container.bwrap", "process.worker"}},
  {field = "resource_limits.max_execution_time_sec", asks = is_set,
   NONE = {"lua.instruction_hook"}, PROCESS = {"supervisor.timer"},
   CONTAINER = {"supervisor.timer"}},
  {field = "resource_limits.max_memory_mb", asks = is_set,
   amount = function(v) return type(v) == "number" and v * MIB or nil end,
   NONE = {"lua.alloc_cap"}, PROCESS = {"lua.alloc_cap", "rlimit.data", "cgroup.memory"},
   CONTAINER = {"lua.alloc_cap", "rlimit.data", "cgroup.memory"}},
  {field = "resource_limits.max_cpu_percent", asks = is_set,
   NONE = {REFUSE_CPU}, PROCESS = {"cgroup.cpu"}, CONTAINER = {"cgroup.cpu"}},
  {field = "resource_limits.max_file_descriptors", asks = is_set,
   amount = function(v) return type(v) == "number" and v or nil end,
   NONE = {REFUSE_FDS}, PROCESS = {"rlimit.nofile"}, CONTAINER = {"rlimit.nofile"}},
  {field = "resource_limits.allowed_paths", asks = restricts_reads,
   NONE = {"lua.no_io"}, PROCESS = {"landlock.fs"}, CONTAINER = {"landlock.fs", "mountns"}},
  {field = "resource_limits.writable_paths", asks = restricts_writes,
   NONE = {"lua.no_io"}, PROCESS = {"landlock.fs"}, CONTAINER = {"landlock.fs", "mountns"}},
  {field = "resource_limits.denied_syscalls", asks = non_empty,
   NONE = {REFUSE_SYSCALLS}, PROCESS = {"seccomp"}, CONTAINER = {"seccomp"}},
  {field = "allow_network", asks = is_false,
   NONE = {"lua.no_socket"}, PROCESS = {"netns", any("landlock.net", "seccomp.net")},
   CONTAINER = {"netns", any("landlock.net", "seccomp.net")}},
  {field = "allow_subprocess", asks = is_false,
   NONE = {"lua.no_subprocess"}, PROCESS = {"seccomp.no_exec"}, CONTAINER = {"seccomp.no_exec"}},
  {field = "allow_file_write", asks = is_false,
   NONE = {"lua.no_io"}, PROCESS = {"landlock.fs"}, CONTAINER = {"landlock.fs"}},
  {field = "allowed_modules", asks = non_empty, all = {"lua.require_gate"}},
  {field = "blocked_modules", asks = non_empty, all = {"lua.require_gate"}},
  {field = "required_signatures", asks = positive, all = {"signing.chain"}},
  {field = "require_trusted_signer", asks = is_true, all = {"signing.chain"}},
  {field = "signature_max_age_days", asks = is_set, all = {"signing.chain"}},
}

---------------------------------------------------------------------------
-- Reading a policy (a frozen SecurityPolicy or a plain table of its shape)

local LEVELS = {NONE = "NONE", PROCESS = "PROCESS", CONTAINER = "CONTAINER"}
local MODES = {strict = "strict", best_effort = "best_effort"}

local function show(v)
  if type(v) == "string" then return ("%q"):format(v) end
  if v == nil then return "nothing" end
  return type(v) == "table" and "a table" or tostring(v)
end

local function policy_error(field, msg)
  errors.raise("PolicyError", ("%s: %s"):format(field, msg), {field = field}, 3)
end

local function read(policy, path)
  local v = policy
  for key in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[key]
  end
  return v
end

-- A plain copy of a value for a row (frozen lists become arrays).
local function plain(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for i, x in ipairs(v) do out[i] = x end
  return out
end

local function level_of(policy)
  if type(policy) ~= "table" then
    errors.raise("PolicyError", "expected a SecurityPolicy or a table, got " .. type(policy), nil, 3)
  end
  local v = policy.isolation_level
  local level = type(v) == "string" and LEVELS[v:upper()]
  if not level then
    policy_error("isolation_level", "expected NONE, PROCESS or CONTAINER, got " .. show(v))
  end
  local m = policy.enforcement
  local mode = m == nil and "strict" or (type(m) == "string" and MODES[m:lower()])
  if not mode then
    policy_error("enforcement", "expected \"strict\" or \"best_effort\", got " .. show(m))
  end
  return level, mode
end

---------------------------------------------------------------------------
-- explain and check

-- One mechanism's row.
local function evaluate(entry, value, name, h)
  local available, host_reason, label = host.has(name, h,
                                                 entry.amount and entry.amount(value))
  local engine = providers[name]
  local reason
  if not available then
    reason = host_reason
  elseif not engine then
    reason = ("no engine in this build applies %s yet"):format(name)
  else
    reason = ("applied by %s; %s"):format(engine, host_reason)
  end
  return {
    field = entry.field, value = plain(value), name = name, mechanism = label,
    available = available, implemented = engine ~= nil, engine = engine,
    host_reason = host_reason, reason = reason,
  }
end

local function row_for(entry, value, m, h)
  if type(m) == "string" then return evaluate(entry, value, m, h) end
  if m.refuse then
    return {
      field = entry.field, value = plain(value), name = "none",
      mechanism = "none at NONE isolation", available = false, implemented = false,
      host_reason = m.refuse, reason = m.refuse,
    }
  end
  -- Alternatives: the first that works, else the first the host offers,
  -- else the first.
  local rows = {}
  for i, name in ipairs(m.any) do rows[i] = evaluate(entry, value, name, h) end
  local pick = rows[1]
  for i = #rows, 1, -1 do
    if rows[i].available and rows[i].implemented then pick = rows[i] end
  end
  if not (pick.available and pick.implemented) then
    for i = #rows, 1, -1 do if rows[i].available then pick = rows[i] end end
  end
  pick.alternatives = {table.unpack(m.any)}
  return pick
end

-- explain(policy [, h]) -> rows: for each field whose value asks for
-- something, one row per mechanism that must enforce it at the policy's
-- isolation level: {field, value, name (the registry name), mechanism (a
-- label with this host's detail, e.g. "cgroup v1 memory.limit_in_bytes"),
-- available (the host offers it), implemented (an engine of this build
-- applies it), engine, host_reason, reason, alternatives}. h defaults to
-- host.probe().
function enforcement.explain(policy, h)
  local level = level_of(policy)
  h = h or host.probe()
  local rows = {}
  for _, entry in ipairs(enforcement.MAP) do
    local value = read(policy, entry.field)
    if entry.asks(value, policy) then
      for _, m in ipairs(entry.all or entry[level]) do
        rows[#rows + 1] = row_for(entry, value, m, h)
      end
    end
  end
  return rows
end

-- failing(rows) -> the rows that are not enforced (unavailable or with no
-- engine).
function enforcement.failing(rows)
  local out = {}
  for _, r in ipairs(rows) do
    if not (r.available and r.implemented) then out[#out + 1] = r end
  end
  return out
end

-- "resource_limits.max_memory_mb: cgroup.memory (cgroup v1 ...): reason"
function enforcement.format_row(r)
  local what = r.name == "none" and r.mechanism or ("%s (%s)"):format(r.name, r.mechanism)
  return ("%s: %s: %s"):format(r.field, what, r.reason)
end

-- check(policy [, h]) -> warnings, failing rows. Every row enforced: {}.
-- Otherwise, with enforcement = "best_effort": one warning per field
-- ("<field> is not enforced at full strength: <name> (<reason>); ..."); with
-- "strict" (the default): raise a PolicyError naming every field and
-- mechanism, with fields field and mechanism (the first) and problems
-- (every failing row: field, mechanism, label, reason).
function enforcement.check(policy, h)
  local _, mode = level_of(policy)
  local bad = enforcement.failing(enforcement.explain(policy, h))
  if #bad == 0 then return {}, bad end
  if mode == "best_effort" then
    local warnings, by_field, order = {}, {}, {}
    for _, r in ipairs(bad) do
      if not by_field[r.field] then by_field[r.field] = {}; order[#order + 1] = r.field end
      local list = by_field[r.field]
      list[#list + 1] = ("%s (%s)"):format(r.name == "none" and r.mechanism or r.name, r.reason)
    end
    for i, field in ipairs(order) do
      warnings[i] = ("%s is not enforced at full strength: %s")
                    :format(field, table.concat(by_field[field], "; "))
    end
    return warnings, bad
  end
  local name = policy.name
  local lines = {("policy%s cannot be enforced on this host:")
                 :format(type(name) == "string" and (' "' .. name .. '"') or "")}
  local problems = {}
  for i, r in ipairs(bad) do
    lines[#lines + 1] = "  " .. enforcement.format_row(r)
    problems[i] = {field = r.field, mechanism = r.name, label = r.mechanism, reason = r.reason}
  end
  lines[#lines + 1] = '(enforcement = "best_effort" would run it with warnings instead)'
  errors.raise("PolicyError", table.concat(lines, "\n"), {
    field = bad[1].field, mechanism = bad[1].name, problems = problems,
    source = type(name) == "string" and name:find("/") and name or nil,
  }, 2)
end

return enforcement
