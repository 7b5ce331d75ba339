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
  local cok, r, res = pcall(st.call, st, string.dump(function(a) return a + 1 end), nil, nil,
                            {n = 1, 41})
  st:close()
  if cok and r and res[1] == 42 then return true, "in-process sandboxed lua_State" end
  return false, "the sandboxed state failed a probe call: " ..
                (cok and common.describe(res and res.message) or common.describe(r))
end

local function limits_of(ctx)
  return {instructions = ctx.instructions or 0, timeout_ms = ctx.timeout_ms or 0}
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
    local ok, e = ctx.st:require(opts.entry, limits_of(ctx))
    if not ok then
      ctx.st:close()
      ctx.state = "failed"
      errmap.raise(e, ctx, nil, 2)
    end
  end
  self.contexts[ctx] = true
  return ctx
end

local unpack = table.unpack

-- execute(ctx, fn_or_ref, ...) -> the results, or raises a typed error.
function Engine:execute(ctx, fn, ...)
  common.check_context(self, ctx, 2)
  common.require_live(ctx, 2)
  local what = common.check_target(fn, 2)
  local args = table.pack(...)
  local st, lim = ctx.st, limits_of(ctx)
  local t0 = core.loop.now()
  local ok, r
  if what == "function" then
    local t = transfer.prepare(fn, 2)
    ok, r = st:call(t.fn, t.upvalues, lim, args)
  else
    ok, r = st:call_ref(fn, lim, args)
  end
  local ms = core.loop.now() - t0
  common.count(ctx, ms, st:stats())
  if ok then return unpack(r, 1, r.n) end
  if type(r) == "table" and (r.kind == "SandboxTimeoutError") then
    ctx.counters.kills = ctx.counters.kills + 1
  end
  errmap.raise(r, ctx, nil, 2)
end

-- stats(ctx) -> {calls, time_ms, peak_memory_bytes, cpu_ms, kills, workers}
function Engine:stats(ctx)
  common.check_context(self, ctx, 2)
  local c = ctx.counters
  return {calls = c.calls, time_ms = c.time_ms, peak_memory_bytes = c.peak_memory_bytes,
          cpu_ms = c.time_ms, kills = c.kills, workers = 0, level = "NONE",
          memory_bytes = ctx.st and ctx.state == "ready" and ctx.st:stats().memory_bytes or 0}
end

function Engine:terminate(ctx)
  common.check_context(self, ctx, 2)
  if ctx.st then ctx.st:close() end
  ctx.state = "terminated"
  self.contexts[ctx] = nil
end

function Engine:cleanup()
  for ctx in pairs(self.contexts) do
    if ctx.st then ctx.st:close() end
    ctx.state = "terminated"
  end
  self.contexts = {}
end

return M
