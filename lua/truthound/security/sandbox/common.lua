-- truthound.security.sandbox.common: what the engines share. Reading the
-- caller's arguments (policy, plugin id, options), the fail-closed policy
-- check at create_sandbox, warnings, the registration of the mechanisms
-- this build applies, and the engine base (stats, contexts).

local errors = require("truthound.errors")
local core = require("truthound.native")
local security = require("truthound.security")
local enforcement = require("truthound.security.enforcement")

local M = {}

local SecurityPolicy = security.SecurityPolicy

-- describe(e) -> a one-line text for any error value.
function M.describe(e)
  if errors.kind(e) then return ("%s: %s"):format(errors.kind(e), tostring(e.message)) end
  local ok, s = pcall(tostring, e)
  return ok and s or "(error object)"
end

local function usage(msg, level, fields)
  errors.raise("UsageError", msg, fields, (level or 1) + 1)
end
M.usage = usage

---------------------------------------------------------------------------
-- Arguments

-- to_policy(p) -> SecurityPolicy. Takes a policy, a preset name or a
-- table of fields (SecurityPolicy.new).
function M.to_policy(p, level)
  level = (level or 1) + 1
  if SecurityPolicy.is(p) then return p end
  if type(p) == "string" then return security.policies.get(p) end
  if type(p) == "table" then return SecurityPolicy.new(p) end
  usage(("expected a SecurityPolicy, a preset name or a table of policy fields, got %s")
        :format(type(p)), level)
end

-- A plugin id: what plugin.lua allows, kept short enough for messages,
-- cgroup names and file names.
function M.check_plugin_id(id, level)
  if type(id) ~= "string" or #id == 0 or #id > 128 or not id:match("^[%w][%w._-]*$") then
    usage(("expected a plugin id (1-128 letters, digits, '.', '_', '-'), got %s")
          :format(type(id) == "string" and ("%q"):format(id:sub(1, 60)) or type(id)),
          (level or 1) + 1, {input = id})
  end
  return id
end

-- A module name for entry and references: name(.name)*.
local MODULE = "^[%a_][%w_-]*$"
function M.is_module_name(s)
  if type(s) ~= "string" or #s == 0 or #s > 200 then return false end
  for part in (s .. "."):gmatch("([^.]*)%.") do
    if not part:match(MODULE) then return false end
  end
  return true
end

-- parse_ref("pkg.mod.fn") -> "pkg.mod", "fn" | nil
function M.parse_ref(ref)
  if type(ref) ~= "string" then return nil end
  local mod, fn = ref:match("^(.+)%.([%a_][%w_]*)$")
  if not mod or not M.is_module_name(mod) then return nil end
  return mod, fn
end

-- plugin_dir(opts) -> its real path (a directory), or nil when absent.
function M.plugin_dir(dir, level)
  if dir == nil then return nil end
  if type(dir) ~= "string" or dir == "" then
    usage("plugin_dir: expected a directory path, got " .. type(dir), (level or 1) + 1)
  end
  local real, msg = core.fs.realpath(dir)
  if not real then usage(("plugin_dir %q: %s"):format(dir, msg), (level or 1) + 1, {input = dir}) end
  if core.fs.kind(real) ~= "directory" then
    usage(("plugin_dir %q is not a directory"):format(dir), (level or 1) + 1, {input = dir})
  end
  return real
end

---------------------------------------------------------------------------
-- The policy check at create_sandbox (fail closed)

local RANK = {NONE = 1, PROCESS = 2, CONTAINER = 3}
M.RANK = RANK

-- The fields this module enforces, as a plain table for enforcement.check,
-- at the engine's level. The signature fields are left out: the plugin
-- manager verifies signatures (truthound.security.signing, mechanism
-- signing.chain) before a plugin reaches any sandbox, and a sandbox that
-- refused a policy over them would only say it cannot do what is not its
-- job.
function M.runtime_view(policy, level)
  local t = policy:to_table()
  t.isolation_level = level
  t.required_signatures = 0
  t.require_trusted_signer = false
  t.signature_max_age_days = nil
  return t
end

-- check_policy(policy, level) -> warnings. Raises PolicyError when the
-- policy asks for stronger isolation than level, or (strict) when a field
-- has no mechanism here; best_effort returns the warnings.
function M.check_policy(policy, level)
  if RANK[policy.isolation_level] > RANK[level] then
    errors.raise("PolicyError", ("policy%s asks for %s isolation; this engine gives %s")
                 :format(policy.name and (' "' .. policy.name .. '"') or "",
                         policy.isolation_level, level),
                 {field = "isolation_level", mechanism = level}, 2)
  end
  return (enforcement.check(M.runtime_view(policy, level)))
end

-- Warnings are shown once per process and text, on stderr, unless the
-- application installs its own sink with sandbox.set_warn(fn).
local warned = {}
local sink = function(msg) io.stderr:write("truthound: warning: ", msg, "\n") end

function M.warn(msg)
  if warned[msg] then return end
  warned[msg] = true
  sink(msg)
end

function M.set_warn(fn) sink = fn or function() end end

---------------------------------------------------------------------------
-- Mechanisms

-- Which engine applies each mechanism; several engines may share one.
local appliers = {}

local function apply(name, engine)
  local list = appliers[name] or {}
  for _, e in ipairs(list) do if e == engine then return end end
  list[#list + 1] = engine
  appliers[name] = list
  enforcement.provide(name, "sandbox " .. table.concat(list, "+"))
end

M.NONE_MECHANISMS = {"lua.alloc_cap", "lua.instruction_hook", "lua.require_gate",
                     "lua.no_io", "lua.no_socket", "lua.no_subprocess"}
-- Applied by the host for every worker: the process itself, the
-- supervisor's timer, rlimits (core.sandbox.spawn) and the shared empty
-- network namespace; inside the worker, from its SETUP frame: the
-- allocator cap and module gate (l_sbstate.c), Landlock and seccomp.
M.PROCESS_MECHANISMS = {"process.worker", "supervisor.timer", "lua.alloc_cap",
                        "lua.require_gate", "rlimit.data", "rlimit.nofile",
                        "landlock.fs", "landlock.net", "seccomp", "seccomp.net",
                        "seccomp.no_exec", "netns"}
M.CGROUP_MECHANISMS = {"cgroup.memory", "cgroup.cpu"}
M.CONTAINER_MECHANISMS = {"container.bwrap", "mountns"}

-- register_mechanisms(): what this build's engines apply. NONE needs only
-- the in-process runtime; PROCESS and CONTAINER need the worker program
-- and the spawn binding; cgroups are applied only where we can make our
-- own groups; CONTAINER only where bwrap is installed. Whether the host
-- offers each mechanism is the host probe's business (enforcement asks it
-- per policy).
function M.register_mechanisms()
  local sb = core.sandbox or {}
  if type(sb.sbstate) == "function" then
    for _, n in ipairs(M.NONE_MECHANISMS) do apply(n, "NONE") end
  end
  if type(sb.spawn) == "function" and core.wire and M.worker_path() then
    local levels = {"PROCESS"}
    if M.bwrap_path() then levels[2] = "CONTAINER" end
    local cg_ok = require("truthound.security.sandbox.cgroup").usable()
    for _, level in ipairs(levels) do
      for _, n in ipairs(M.PROCESS_MECHANISMS) do apply(n, level) end
      if cg_ok then for _, n in ipairs(M.CGROUP_MECHANISMS) do apply(n, level) end end
    end
    if levels[2] then
      for _, n in ipairs(M.CONTAINER_MECHANISMS) do apply(n, "CONTAINER") end
    end
  end
end

-- bwrap_path() -> bubblewrap's program, or nil.
function M.bwrap_path()
  for _, p in ipairs{"/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"} do
    if core.fs.kind(p) == "file" then return p end
  end
  return nil
end

-- worker_path() -> the worker program, or nil and the places tried:
-- $TRUTHOUND_WORKER, next to the loaded core.so, or next to tplua
-- (docs/sandbox.md).
local worker_cache
function M.worker_path()
  if worker_cache ~= nil then return worker_cache or nil end
  local sb = core.sandbox or {}
  local tried = type(sb.worker_candidates) == "function" and sb.worker_candidates() or {}
  worker_cache = false
  for _, p in ipairs(tried) do
    if core.fs.kind(p) == "file" then worker_cache = p; break end
  end
  M.worker_tried = tried
  return worker_cache or nil, tried
end

function M.forget_worker_path() worker_cache = nil end

---------------------------------------------------------------------------
-- The SETUP payload (docs/formats.md, "Worker wire format"), the same for
-- the NONE runtime and a worker

local function names(list)
  local out = {}
  for i, v in ipairs(list or {}) do out[i] = v end
  return out
end

local function lists(list, name)
  for _, v in ipairs(list or {}) do if v == name then return true end end
  return false
end

-- exposes(policy, "io") -> the policy's allowed_modules names io (or a
-- submodule) and the gate admits it.
function M.exposes(policy, name)
  return lists(policy.allowed_modules, name) and (policy:allows_module(name)) and true or false
end

-- setup(policy, plugin_id, opts, level) -> the SETUP table.
function M.setup(policy, plugin_id, opts, level)
  local rl = policy.resource_limits
  local access = policy:file_access()
  local inproc = level == "NONE"
  return {
    plugin_id = plugin_id,
    plugin_dir = opts.plugin_dir,
    entry = opts.entry,
    memory_bytes = rl.max_memory_mb and math.floor(rl.max_memory_mb * 1024 * 1024) or 0,
    instructions = opts.instructions or 0,
    timeout_ms = M.timeout_ms(policy) or 0,
    modules = {
      allowed = names(policy.allowed_modules),
      blocked = names(policy.blocked_modules),
      io = not inproc and M.exposes(policy, "io"),
      os = not inproc and M.exposes(policy, "os"),
      -- in a worker the kernel holds io/os to the policy (seccomp no_exec);
      -- only in the host's own process must the runtime remove them
      no_subprocess = inproc and not policy.allow_subprocess,
    },
    landlock = {read = names(access.read), write = names(access.write)},
    seccomp = {deny = names(rl.denied_syscalls), no_exec = not policy.allow_subprocess,
               no_net = not policy.allow_network},
  }
end

---------------------------------------------------------------------------
-- Contexts and statistics

local Context = {__name = "truthound.SandboxContext"}
Context.__index = Context
M.Context = Context

function Context:__tostring()
  return ("sandbox context %s (%s, %s)"):format(self.plugin_id, self.level, self.state)
end

function M.new_context(engine, plugin_id, policy, level)
  return setmetatable({
    engine = engine, plugin_id = plugin_id, policy = policy, level = level,
    state = "ready", warnings = {},
    counters = {calls = 0, time_ms = 0, peak_memory_bytes = 0, cpu_ms = 0, kills = 0},
  }, Context)
end

function M.is_context(v) return getmetatable(v) == Context end

-- check_context(engine, ctx) -> ctx, for execute/terminate/stats.
function M.check_context(engine, ctx, level)
  if getmetatable(ctx) ~= Context then
    usage(("expected a sandbox context from create_sandbox, got %s"):format(type(ctx)),
          (level or 1) + 1)
  end
  if ctx.engine ~= engine then
    usage("this context belongs to another engine", (level or 1) + 1)
  end
  return ctx
end

function M.require_live(ctx, level)
  if ctx.state ~= "ready" then
    errors.raise("SandboxError", ("sandbox of plugin %s is %s"):format(ctx.plugin_id, ctx.state),
                 {plugin_id = ctx.plugin_id}, (level or 1) + 1)
  end
end

-- Fold one call's figures into the context's counters.
function M.count(ctx, ms, stats)
  local c = ctx.counters
  c.calls = c.calls + 1
  c.time_ms = c.time_ms + ms
  if type(stats) == "table" then
    local peak = tonumber(stats.peak_memory_bytes)
    if peak and peak > c.peak_memory_bytes then c.peak_memory_bytes = peak end
    local cpu = tonumber(stats.cpu_ms)
    if cpu and cpu >= 0 then c.cpu_ms = c.cpu_ms + cpu end
  end
end

-- Arguments of execute: a function (sent as bytecode) or "module.function".
function M.check_target(fn, level)
  if type(fn) == "function" then return "function" end
  if type(fn) == "string" and M.parse_ref(fn) then return "ref" end
  usage(("expected a function or a reference \"module.function\", got %s")
        :format(type(fn) == "string" and ("%q"):format(fn:sub(1, 60)) or type(fn)),
        (level or 1) + 1)
end

-- Milliseconds of a policy's time limit, or nil.
function M.timeout_ms(policy)
  local s = policy.resource_limits.max_execution_time_sec
  if s == nil then return nil end
  return math.max(1, math.ceil(s * 1000))
end

-- Every engine module requires this one: what the build applies is known
-- as soon as any engine is loaded.
M.register_mechanisms()

return M
