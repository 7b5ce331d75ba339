-- truthound.security.sandbox.none: the NONE engine. The plugin runs in a
-- separate lua_State of this process (core.sandbox.sbstate, built by
-- core/lua/l_sbstate.c): an allowlisted environment, the module gate, an
-- allocator cap and an instruction hook that pcall and coroutines cannot
-- swallow. No kernel mechanism is involved, so what NONE cannot stop (a
-- loop inside one C function, such as a pattern match) is in
-- docs/sandbox.md; PROCESS and CONTAINER stop it with SIGKILL.
--
-- Values cross between the host's state and the plugin's as copies in the
-- wire encoding (the same bounds as a worker's channel): a plugin never
-- holds a reference to a host object, nor the host to one of the plugin's.

local errors = require("truthound.errors")
local core = require("truthound.native")
local common = require("truthound.security.sandbox.common")
local transfer = require("truthound.security.sandbox.transfer")
local errmap = require("truthound.security.sandbox.errmap")

local M = {level = "NONE"}

local Engine = {__name = "truthound.SandboxEngine"}
Engine.__index = Engine

function M.new(opts)
  opts = opts or {}
  return setmetatable({level = "NONE", contexts = {}, opts = opts}, Engine)
end

function Engine:__tostring() return "sandbox engine NONE" end

-- probe() -> ok, reason: a state is built and runs a call.
function M.probe()
  local sb = core.sandbox or {}
  if type(sb.sbstate) ~= "function" then
    return false, "this build has no sandboxed Lua runtime (core.sandbox.sbstate)"
  end
  local ok, st = pcall(sb.sbstate, {memory_bytes = 1 << 20, instructions = 0,
                                    timeout_ms = 1000, modules = {}})
  if not ok then return false, common.describe(st) end
  local fn = function(a) return a + 1 end
  local rec = transfer.record(fn)
  local cok, r, res = pcall(st.call, st, rec.id, rec.fn, nil, nil, nil, 41)
  st:close()
  if cok and r and res == 42 then return true, "in-process sandboxed lua_State" end
  return false, "the sandboxed state failed a probe call: " ..
                (cok and common.describe(type(res) == "table" and res.message or res)
                 or common.describe(r))
end

-- create_sandbox(plugin_id, policy [, opts]) -> ctx. opts: plugin_dir
-- (where require finds the plugin's modules), entry (a module required
-- now, under the limits), instructions (a budget per call, on top of the
-- policy's time limit).
function Engine:create_sandbox(plugin_id, policy, opts)
  opts = opts or {}
  common.check_plugin_id(plugin_id, 2)
  policy = common.to_policy(policy, 2)
  if common.exposes(policy, "io") or common.exposes(policy, "os") then
    errors.raise("PolicyError", "allowed_modules names io or os: inside the host process " ..
                 "nothing could hold them to the policy's paths; use PROCESS or CONTAINER",
                 {field = "allowed_modules", mechanism = "lua.no_io"}, 2)
  end
  local warnings = common.check_policy(policy, "NONE")
  for _, w in ipairs(warnings or {}) do common.warn(w) end
  local dir = common.plugin_dir(opts.plugin_dir, 2)
  if opts.entry ~= nil and not common.is_module_name(opts.entry) then
    common.usage(("entry: expected a module name, got %s"):format(tostring(opts.entry)), 2)
  end
  local setup = common.setup(policy, plugin_id, {plugin_dir = dir, entry = opts.entry,
                                                 instructions = opts.instructions}, "NONE")
  local ctx = common.new_context(self, plugin_id, policy, "NONE")
  ctx.warnings = warnings or {}
  ctx.timeout_ms = setup.timeout_ms
  ctx.instructions = setup.instructions
  ctx.plugin_dir = dir
  ctx.st = core.sandbox.sbstate(setup)
  if opts.entry then
    local ok, e = ctx.st:require(opts.entry, ctx.instructions, ctx.timeout_ms)
    if not ok then
      ctx.st:close()
      ctx.state = "failed"
      errmap.raise(e, ctx, nil, 2)
    end
  end
  self.contexts[ctx] = true
  return ctx
end

local Context = common.Context
local getmetatable, type = getmetatable, type
local record, upvalues = transfer.record, transfer.upvalues

-- The call's outcome: results, or the typed error raised at the caller.
local function finish(ctx, ok, ...)
  if ok then return ... end
  local r = ...
  if type(r) == "table" and r.kind == "SandboxTimeoutError" then
    ctx.counters.kills = ctx.counters.kills + 1
  end
  errmap.raise(r, ctx, nil, 2)   -- a tail call: level 2 is execute's caller
end

-- execute(ctx, fn_or_ref, ...) -> the results, or raises a typed error.
-- The common case (a live context of this engine, a function) takes no
-- detour: this is the path the NONE benchmark measures.
function Engine:execute(ctx, fn, ...)
  if getmetatable(ctx) ~= Context or ctx.engine ~= self then
    common.check_context(self, ctx, 2)
  end
  if ctx.state ~= "ready" then common.require_live(ctx, 2) end
  local st = ctx.st
  if type(fn) == "function" then
    local r = record(fn, 2)
    return finish(ctx, st:call(r.id, r.fn, r.plain and upvalues(fn, r, 2), ctx.instructions,
                               ctx.timeout_ms, ...))
  end
  common.check_target(fn, 2)
  return finish(ctx, st:call_ref(fn, ctx.instructions, ctx.timeout_ms, ...))
end

-- One state, no pool: a hook runs once, and there is no later worker to
-- bring up to date (the PROCESS engine's broadcast and set_init).
function Engine:broadcast(ctx, ref, ...) self:execute(ctx, ref, ...); return true end
function Engine:set_init() end

-- stats(ctx) -> {calls, time_ms, peak_memory_bytes, cpu_ms, kills, workers}
function Engine:stats(ctx)
  common.check_context(self, ctx, 2)
  local live = ctx.st and ctx.state == "ready"
  local calls, ms, peak = table.unpack(ctx.totals or {0, 0, 0})
  if live then calls, ms, peak = ctx.st:totals() end
  return {calls = calls, time_ms = ms, peak_memory_bytes = peak,
          cpu_ms = ms, kills = ctx.counters.kills, workers = 0, level = "NONE",
          memory_bytes = live and ctx.st:stats().memory_bytes or 0}
end

-- Close the context's state, keeping its totals for stats().
local function close_state(ctx)
  if ctx.st and ctx.state == "ready" then ctx.totals = {ctx.st:totals()} end
  if ctx.st then ctx.st:close() end
end

function Engine:terminate(ctx)
  common.check_context(self, ctx, 2)
  close_state(ctx)
  ctx.state = "terminated"
  self.contexts[ctx] = nil
end

function Engine:cleanup()
  for ctx in pairs(self.contexts) do
    close_state(ctx)
    ctx.state = "terminated"
  end
  self.contexts = {}
end

return M
