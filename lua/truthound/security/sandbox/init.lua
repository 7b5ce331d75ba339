-- truthound.security.sandbox: run plugin code under a SecurityPolicy.
--
--   local sandbox = require("truthound.security.sandbox")
--   local engine = sandbox.SandboxFactory.create("PROCESS")
--   local ctx = engine:create_sandbox("geo", policy, {plugin_dir = dir, entry = "geo"})
--   engine:execute(ctx, "geo.lookup", "52.5,13.4")        -- a function of the plugin
--   engine:execute(ctx, function(a, b) return a + b end, 1, 2)   --> 3
--   engine:stats(ctx)    --> {calls, time_ms, peak_memory_bytes, cpu_ms, kills, workers}
--   engine:terminate(ctx); engine:cleanup()
--
-- Three engines (docs/sandbox.md): NONE runs the plugin in a separate
-- lua_State of this process (allocator cap, instruction hook, module gate);
-- PROCESS in warm worker processes confined by the kernel (rlimits, cgroup,
-- Landlock, seccomp, an empty network namespace, an unprivileged uid);
-- CONTAINER in the same worker inside a bubblewrap container. WASM is a
-- slot for an engine registered from outside.
--
-- Loading this module registers, with truthound.security.enforcement,
-- every mechanism the engines of this build apply, and makes
-- ResourceLimits check system call names against libseccomp's table.

local errors = require("truthound.errors")
local core = require("truthound.native")
local limits = require("truthound.security.limits")
local common = require("truthound.security.sandbox.common")

local M = {}

---------------------------------------------------------------------------
-- IsolationLevel: the policy's three levels plus the WASM slot

local LEVELS = {"NONE", "PROCESS", "CONTAINER", "WASM"}
local RANK = {NONE = 1, PROCESS = 2, CONTAINER = 3, WASM = 4}

local level_methods = {}

-- parse(s) -> the constant, or nil and a message.
function level_methods.parse(s)
  if type(s) == "string" and RANK[s:upper()] then return s:upper() end
  return nil, ("unknown isolation level %s; expected one of %s")
              :format(type(s) == "string" and ("%q"):format(s) or type(s), table.concat(LEVELS, ", "))
end

-- list() -> the levels, weakest first (WASM last: a slot, not a rank).
function level_methods.list() return {table.unpack(LEVELS)} end

M.IsolationLevel = setmetatable({}, {
  __index = function(_, k)
    if RANK[k] then return k end
    return level_methods[k]
  end,
  __newindex = function(_, k) error(("IsolationLevel is read-only (field '%s')"):format(tostring(k)), 2) end,
  __pairs = function()
    local i = 0
    return function()
      i = i + 1
      if LEVELS[i] then return LEVELS[i], LEVELS[i] end
    end
  end,
  __name = "truthound.IsolationLevel",
})

local function check_level(level, fname)
  local l, msg = level_methods.parse(level)
  if not l then errors.raise("UsageError", ("%s: %s"):format(fname, msg), {input = level}, 3) end
  return l
end

---------------------------------------------------------------------------
-- SandboxFactory

local BUILTIN = {
  NONE = "truthound.security.sandbox.none",
  PROCESS = "truthound.security.sandbox.process",
  CONTAINER = "truthound.security.sandbox.container",
}

local registry = {}     -- level -> engine class (a table with .new(opts))
local instances = {}    -- level -> the singleton engine
local made = {}   -- every engine made, for cleanup_all (strong: an engine dropped by
                 -- its caller may still have workers to stop)
local availability = {} -- level -> {ok, reason}

local Factory = {}
M.SandboxFactory = Factory

local function class_of(level)
  local c = registry[level]
  if c == nil and BUILTIN[level] then
    c = require(BUILTIN[level])
    registry[level] = c
  end
  return c
end

-- register(level, class): class is a table with new(opts) returning an
-- engine (create_sandbox, execute, terminate, cleanup, stats) and,
-- optionally, probe() -> ok, reason for is_available.
function Factory.register(level, class)
  level = check_level(level, "register")
  if type(class) ~= "table" or type(class.new) ~= "function" then
    errors.raise("UsageError", "register: expected an engine class (a table with new(opts))", nil, 2)
  end
  registry[level] = class
  instances[level] = nil
  availability[level] = nil
end

-- unregister(level): the level has no engine any more (a built-in one
-- comes back after reset()).
function Factory.unregister(level)
  level = check_level(level, "unregister")
  registry[level] = false
  instances[level] = nil
  availability[level] = nil
end

-- create(level [, opts]) -> engine. opts.singleton (default true) returns
-- the level's shared engine; false makes a new one. Other opts go to the
-- engine's constructor (pool sizes, worker path, ...).
function Factory.create(level, opts)
  level = check_level(level, "create")
  opts = opts or {}
  local class = class_of(level)
  if not class then
    errors.raise("SandboxError", ("no engine is registered for isolation level %s"):format(level),
                 {isolation_level = level}, 2)
  end
  local singleton = opts.singleton ~= false
  if singleton and instances[level] then return instances[level] end
  local engine = class.new(opts)
  made[engine] = true
  if singleton then instances[level] = engine end
  return engine
end

-- is_available(level) -> ok, reason: a real probe (the NONE state is
-- built, a PROCESS worker started and answered, a CONTAINER worker
-- likewise inside bwrap), cached per process until reset().
function Factory.is_available(level)
  level = check_level(level, "is_available")
  local cached = availability[level]
  if cached then return cached[1], cached[2] end
  local class = class_of(level)
  local ok, reason
  if not class then
    ok, reason = false, ("no engine is registered for %s"):format(level)
  elseif type(class.probe) ~= "function" then
    ok, reason = true, "registered (the engine has no probe)"
  else
    local pok, r1, r2 = pcall(class.probe)
    if pok then ok, reason = r1 and true or false, r2
    else ok, reason = false, "probe failed: " .. common.describe(r1) end
  end
  availability[level] = {ok, reason}
  return ok, reason
end

-- list_available() -> the levels whose engine works here, weakest first.
function Factory.list_available()
  local out = {}
  for _, level in ipairs(LEVELS) do
    if Factory.is_available(level) then out[#out + 1] = level end
  end
  return out
end

local function policy_level(policy)
  if policy == nil then return nil end
  local p = common.to_policy(policy, 3)
  return p.isolation_level, p
end

-- get_best_available{preferred = "CONTAINER", policy = p} -> engine,
-- level, note. Tries preferred first, then weaker levels (CONTAINER ->
-- PROCESS -> NONE), but never below the policy's isolation_level, and only
-- a level whose engine works here and under which the policy can be
-- enforced (enforcement.check). The note says what happened; when nothing
-- qualifies, raises SandboxError listing each level and why not.
function Factory.get_best_available(opts)
  opts = opts or {}
  local preferred = opts.preferred and check_level(opts.preferred, "get_best_available") or "CONTAINER"
  local floor, policy = policy_level(opts.policy)
  local order, why, notes = {}, {}, {}
  if preferred == "WASM" then order[1] = "WASM"; preferred = "CONTAINER" end
  for _, l in ipairs{"CONTAINER", "PROCESS", "NONE"} do
    if RANK[l] <= RANK[preferred] then order[#order + 1] = l end
  end
  if floor and RANK[floor] > RANK[preferred] then
    notes[#notes + 1] = ("preferred %s is weaker than the policy's %s; not used")
                        :format(preferred, floor)
    order = {}
    for _, l in ipairs{"CONTAINER", "PROCESS"} do
      if RANK[l] >= RANK[floor] then order[#order + 1] = l end
    end
  end
  for _, level in ipairs(order) do
    if floor and level ~= "WASM" and RANK[level] < RANK[floor] then
      why[#why + 1] = ("%s: below the policy's isolation level %s"):format(level, floor)
      break
    end
    local ok, reason = Factory.is_available(level)
    if ok and policy then
      local cok, e = pcall(common.check_policy, policy, level)
      if not cok then ok, reason = false, common.describe(e) end
    end
    if ok then
      local note
      if #why == 0 and #notes == 0 then
        note = ("%s, as preferred"):format(level)
      else
        for _, w in ipairs(why) do notes[#notes + 1] = w end
        note = ("running at %s: %s"):format(level, table.concat(notes, "; "))
      end
      return Factory.create(level, {singleton = opts.singleton}), level, note
    end
    why[#why + 1] = ("%s: %s"):format(level, reason)
  end
  for _, w in ipairs(why) do notes[#notes + 1] = w end
  errors.raise("SandboxError", "no isolation level is available for this policy: " ..
               table.concat(notes, "; "), {isolation_level = floor, reasons = why}, 2)
end

-- cleanup_all(): every engine the factory made releases its sandboxes
-- and workers.
function Factory.cleanup_all()
  for engine in pairs(made) do
    if type(engine.cleanup) == "function" then pcall(engine.cleanup, engine) end
  end
end

-- reset(): cleanup_all, then forget registrations, singletons and probes.
function Factory.reset()
  Factory.cleanup_all()
  registry, instances, availability = {}, {}, {}
  made = {}
end

---------------------------------------------------------------------------
-- What this build enforces (the engines' mechanisms are registered when
-- common.lua loads, so requiring one engine module directly works too)

-- System call names in policies are checked against libseccomp's table.
if type(core.sandbox) == "table" and type(core.sandbox.syscall_resolve) == "function" then
  limits.set_syscall_resolver(core.sandbox.syscall_resolve)
end

M.set_warn = common.set_warn
M.errors = require("truthound.security.sandbox.errmap")
M.transfer = require("truthound.security.sandbox.transfer")

return M
