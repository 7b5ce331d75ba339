-- truthound.security.sandbox.process: the PROCESS engine, and the base of
-- CONTAINER (container.lua passes a command prefix).
--
-- Each call runs in a worker process (the truthound-worker program, never
-- a fork of the host): started by core.sandbox.spawn in its own session,
-- with PDEATHSIG, no descriptors but its channel, a clean environment,
-- rlimits, the shared empty network namespace, an unprivileged uid and
-- no_new_privs; it then confines itself from the SETUP frame (Landlock,
-- seccomp) before it loads any plugin code. The host talks to it over a
-- socketpair in the wire format (docs/formats.md) and decodes everything
-- it sends as untrusted input.
--
-- The supervisor: every call's request carries a libuv timer (the
-- policy's max_execution_time_sec plus a short grace, so that a Lua loop
-- is stopped by the worker's own hook and the worker survives, while a
-- loop inside C is killed here): on expiry the worker's process group is
-- SIGKILLed and SandboxTimeoutError raised. A worker that dies, sends a
-- VIOLATION, a malformed frame or more than it may is ended and the call
-- fails with the matching typed error.

local errors = require("truthound.errors")
local core = require("truthound.native")
local loop = require("truthound.loop")
local common = require("truthound.security.sandbox.common")
local transfer = require("truthound.security.sandbox.transfer")
local errmap = require("truthound.security.sandbox.errmap")
local Pool = require("truthound.security.sandbox.pool")
local cgroup = require("truthound.security.sandbox.cgroup")

local M = {level = "PROCESS"}

local Engine = {__name = "truthound.SandboxEngine"}
Engine.__index = Engine
M.Engine = Engine

local MIB = 1024 * 1024
local SIGKILL, SIGSYS, SIGXCPU, SIGXFSZ = 9, 31, 24, 25
local T = core.wire and core.wire.types or {}

M.DEFAULTS = {
  pool_size = 1,          -- warm workers per context
  pool_max = 4,           -- workers per context at most
  recycle_after = 1000,   -- calls before a worker is replaced
  reuse = true,           -- false: a fresh worker per call
  startup_ms = 5000,      -- SETUP -> READY
  grace_ms = 50,          -- supervisor timer = time limit + grace
  spin_us = 50,           -- poll for a warm worker's answer this long before sleeping
  max_frame = 16 * MIB,   -- bytes of a frame from a worker
  data_headroom_mb = 64,  -- RLIMIT_DATA above the Lua cap (the worker's own heap)
  cpu_backstop_sec = 3600,-- RLIMIT_CPU of a worker, whatever its calls
  uid = 65534, gid = 65534,  -- when the host runs as root
}

function M.new(opts)
  opts = opts or {}
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  for k, v in pairs(opts) do o[k] = v end
  return setmetatable({level = o.level or "PROCESS", contexts = {}, opts = o,
                       prefix = o.prefix}, Engine)
end

function Engine:__tostring() return "sandbox engine " .. self.level end

---------------------------------------------------------------------------
-- Workers

local function sleep(ms) loop.await(core.loop.timer(ms)) end

-- Wait for the worker to be gone and reap it: -> "exited", code |
-- "signaled", signo. Never blocks the loop; kills it after wait_ms.
local function reap(w, wait_ms)
  if w.exit then return w.exit[1], w.exit[2] end
  local waited = 0
  while true do
    local how, n = core.sandbox.reap(w.pid)
    if how then
      w.exit = {how, n}
      return how, n
    end
    if waited >= (wait_ms or 2000) then
      core.sandbox.kill(w.pid, SIGKILL, true)
      core.sandbox.kill(w.pid, SIGKILL)
    end
    sleep(1)
    waited = waited + 1
  end
end

local function kill_worker(w)
  if w.exit then return end
  w.dead = true
  core.sandbox.kill(w.pid, SIGKILL, true)     -- the whole process group
  core.sandbox.kill(w.pid, SIGKILL)
end

-- Decode a payload from a worker (untrusted).
local function decode(payload, max)
  local v, msg = core.wire.decode(payload, {max_bytes = max})
  if v == nil and msg then return nil, msg end
  if type(v) ~= "table" then return nil, "payload is not a table" end
  return v
end

-- Workers told to exit that had not exited yet: reaped (and their cgroups
-- removed) later, so that ending a worker never waits for it.
local exiting = {}

local function finish_exit(w)
  if w.ch then w.ch:close(); w.ch = nil end
  if w.cg then cgroup.remove(w.cg); w.cg = nil end
end

-- reap_exiting([wait]): reap those that are gone; with wait, all of them
-- (killing any that linger).
local function reap_exiting(wait)
  for w in pairs(exiting) do
    if wait then reap(w, 200) else
      local how, n = core.sandbox.reap(w.pid)
      if how then w.exit = {how, n}
      elseif core.loop.now() - w.bye_at > 1000 then
        core.sandbox.kill(w.pid, SIGKILL, true)   -- it ignored BYE
      end
    end
    if w.exit then
      exiting[w] = nil
      finish_exit(w)
    end
  end
end
M.reap_exiting = reap_exiting

local function stop_worker(w)
  if not w.exit then
    if not w.dead and w.ch then pcall(w.ch.send, w.ch, core.wire.frame(T.BYE, {})) end
    w.dead = true
    local how, n = core.sandbox.reap(w.pid)
    if how then w.exit = {how, n} end
  end
  if w.exit then finish_exit(w) else w.bye_at = core.loop.now(); exiting[w] = true end
end
M.stop_worker = stop_worker

-- The typed error for a worker that is gone (EOF, or killed by us).
local function death_error(ctx, w, call_ms, why)
  local how, n = reap(w)
  w.dead = true
  -- under CONTAINER the process we reap is bwrap, which exits with
  -- 128 + the signal that killed the worker
  if how == "exited" and ctx.level == "CONTAINER" and n > 128 and n < 128 + 65 then
    how, n = "signaled", n - 128
  end
  local oom = w.cg and cgroup.oom(w.cg)
  if oom then
    return errmap.make("SandboxResourceError",
      "the worker was killed for exceeding its memory limit",
      {reason = "memory", resource_type = "memory", limit = ctx.memory_bytes,
       actual = w.cg and cgroup.peak(w.cg) or nil})
  end
  if how == "signaled" and n == SIGSYS then
    -- Killed by the trap with no VIOLATION frame: the worker's SIGSYS
    -- handler could not run because every signal was blocked. In the
    -- worker that happens only inside glibc's posix_spawn (os.execute,
    -- io.popen) and pthread_create, whose clone without CLONE_THREAD is
    -- exactly what no_exec denies.
    if ctx.no_exec then
      return errmap.make("SandboxSecurityViolation",
        "the plugin tried to start a process (the worker was killed by seccomp in clone)",
        {reason = "seccomp", violation_type = "subprocess", attempted_action = "clone"})
    end
    return errmap.make("SandboxSecurityViolation", "the worker made a forbidden system call",
                       {reason = "seccomp", violation_type = "syscall",
                        attempted_action = "a denied system call"})
  end
  if how == "signaled" and n == SIGXCPU then
    return errmap.make("SandboxResourceError", "the worker used up its CPU time",
                       {reason = "cpu", resource_type = "cpu"})
  end
  if how == "signaled" and n == SIGXFSZ then
    return errmap.make("SandboxResourceError", "the worker wrote a file beyond its size limit",
                       {reason = "file_size", resource_type = "file_size"})
  end
  w.crashed = true
  return errmap.make("SandboxError",
    ("the worker %s (%s %s)"):format(why or "died", how or "?", tostring(n)),
    {reason = "worker_died", exit = how, code = n})
end

-- One exchange: send frame, read one answer. -> kind, type, payload | "timeout" ...
local function exchange(w, frame, timeout_ms, max, spin_us)
  local op = w.ch:request(frame, timeout_ms, max, spin_us)
  loop.await(op)
  return op:result()
end

-- start_worker(engine, ctx) -> worker after READY, or raises.
local call_worker   -- below: one call on a given worker

-- start_worker(self, ctx) -> a worker that answered READY and replayed
-- ctx.init (the plugin's hooks that have run so far: a worker started
-- later, by a growing or recycling pool, reaches the same state).
local function start_worker(self, ctx)
  local o = self.opts
  reap_exiting(false)
  local path = common.worker_path()
  if not path then
    errors.raise("SandboxError", "the sandbox worker program is not installed", {reason = "no_worker"}, 2)
  end
  local cg
  if ctx.cgroup_spec then
    local cmsg
    cg, cmsg = cgroup.create(ctx.cgroup_spec)
    if not cg then
      errors.raise("SandboxError", "cannot confine the worker in a cgroup: " .. tostring(cmsg),
                   {reason = "cgroup"}, 2)
    end
  end
  local spec = {
    exec = path, argv = {path}, prefix = self.prefix and self.prefix(ctx, path) or nil,
    env = {"PATH=/usr/bin:/bin", "LANG=C"},
    cpu = ctx.cpu, rlimits = ctx.rlimits, cgroups = cg and cg.procs,
    netns = ctx.netns, uid = ctx.uid, gid = ctx.gid,
  }
  local pid, hfd = core.sandbox.spawn(spec)
  if not pid then
    if cg then cgroup.remove(cg) end
    errors.raise("SandboxError", "cannot start a sandbox worker: " .. tostring(hfd),
                 {reason = "spawn"}, 2)
  end
  local w = {pid = pid, ch = core.sandbox.channel(hfd), calls = 0, ctx = ctx, cg = cg}
  local kind, ty, payload = exchange(w, ctx.setup_frame, o.startup_ms, o.max_frame)
  if kind == "frame" and ty == T.READY then
    local r, derr = decode(payload, o.max_frame)
    if not r then
      kill_worker(w)
      stop_worker(w)
      errmap.raise(errmap.make("SandboxError", "the worker sent a malformed READY frame: " ..
                               tostring(derr), {reason = "protocol"}), ctx, nil, 2)
    end
    w.ready = r
    -- the worker says what it applied; the engine registered Landlock and
    -- seccomp as applied, so a worker that did not is refused (fail closed)
    local missing
    if not r or r.seccomp ~= true then missing = "seccomp"
    elseif math.type(r.landlock_abi) ~= "integer" or r.landlock_abi < 1 then missing = "Landlock" end
    if missing then
      if ctx.policy.enforcement == "best_effort" then
        common.warn(("the sandbox worker did not apply %s"):format(missing))
      else
        kill_worker(w)
        stop_worker(w)
        errmap.raise(errmap.make("SandboxError",
          ("the worker did not apply %s; refusing to run the plugin"):format(missing),
          {reason = "confinement"}), ctx, nil, 2)
      end
    end
    for _, ref in ipairs(ctx.init or {}) do
      local good, r = call_worker(self, ctx, w, ref)
      if not good then
        kill_worker(w)
        stop_worker(w)
        errmap.raise(errmap.make("SandboxError", ("a new worker failed %s: %s")
          :format(ref, type(r) == "table" and tostring(r.message) or tostring(r)),
          {reason = "init"}), ctx, nil, 2)
      end
    end
    return w
  end
  local e
  if kind == "frame" and ty == T.ERROR then
    local v = decode(payload, o.max_frame)
    e = v or errmap.make("SandboxError", "the worker sent a malformed ERROR frame", {reason = "protocol"})
    kill_worker(w)
    stop_worker(w)
  elseif kind == "timeout" then
    kill_worker(w)
    e = errmap.make("SandboxError", "the worker did not start in time", {reason = "startup"})
    stop_worker(w)
  elseif kind == "eof" then
    e = death_error(ctx, w, 0, "died while starting")
    stop_worker(w)
  else
    kill_worker(w)
    e = errmap.make("SandboxError", "the worker broke the protocol while starting: " ..
                    tostring(ty), {reason = "protocol"})
    stop_worker(w)
  end
  errmap.raise(e, ctx, nil, 2)
end

---------------------------------------------------------------------------
-- The engine

-- probe() -> ok, reason: a worker starts and answers a call.
function M.probe(opts)
  local sb = core.sandbox or {}
  if type(sb.spawn) ~= "function" or not core.wire then
    return false, "this build cannot start workers"
  end
  local path, tried = common.worker_path()
  if not path then
    return false, "no worker program (tried " .. table.concat(tried or {}, ", ") .. ")"
  end
  local engine = M.new(opts)
  local security = require("truthound.security")
  local p = security.SecurityPolicy.new{isolation_level = engine.level,
    enforcement = "best_effort", required_signatures = 0, require_trusted_signer = false,
    resource_limits = {max_execution_time_sec = 5}}
  local ok, r = pcall(function()
    local ctx = engine:create_sandbox("probe", p, {quiet = true})
    local v = engine:execute(ctx, function(a) return a + 1 end, 41)
    engine:terminate(ctx)
    return v
  end)
  engine:cleanup()
  if ok and r == 42 then return true, "worker " .. path end
  return false, "a probe worker failed: " .. common.describe(r)
end

local function is_root() return core.sandbox.getuid and core.sandbox.getuid() == 0 end

-- create_sandbox(plugin_id, policy [, opts]) -> ctx. opts: plugin_dir,
-- entry, instructions, and pool settings (pool_size, pool_max,
-- recycle_after, reuse, cpu: pin workers to a CPU).
function Engine:create_sandbox(plugin_id, policy, opts)
  opts = opts or {}
  common.check_plugin_id(plugin_id, 2)
  policy = common.to_policy(policy, 2)
  local warnings = common.check_policy(policy, self.level)
  if not opts.quiet then for _, w in ipairs(warnings or {}) do common.warn(w) end end
  local dir = common.plugin_dir(opts.plugin_dir, 2)
  if opts.entry ~= nil and not common.is_module_name(opts.entry) then
    common.usage(("entry: expected a module name, got %s"):format(tostring(opts.entry)), 2)
  end
  local o = self.opts
  local setup = common.setup(policy, plugin_id, {plugin_dir = dir, entry = opts.entry,
                                                 instructions = opts.instructions}, self.level)
  local ctx = common.new_context(self, plugin_id, policy, self.level)
  ctx.warnings = warnings or {}
  ctx.plugin_dir = dir
  ctx.timeout_ms = setup.timeout_ms
  ctx.memory_bytes = setup.memory_bytes
  ctx.no_exec = setup.seccomp.no_exec
  ctx.setup_frame = assert(core.wire.frame(T.SETUP, setup))
  ctx.cpu = opts.cpu
  local rl = policy.resource_limits
  ctx.cgroup_spec = cgroup.spec(policy, plugin_id)
  -- RLIMIT_DATA: with a memory cgroup, a backstop well above it, so that
  -- memory allocated outside the Lua allocator (a C module's buffer) is
  -- stopped by the cgroup, whose OOM kill the host can tell apart; without
  -- one, the tight bound.
  local data
  if rl.max_memory_mb then
    data = math.floor((rl.max_memory_mb + o.data_headroom_mb) * MIB)
    if ctx.cgroup_spec and ctx.cgroup_spec.memory then
      data = math.max(4 * rl.max_memory_mb * MIB, (rl.max_memory_mb + 1024) * MIB)
    end
  end
  ctx.rlimits = {
    core = 0,
    cpu = o.cpu_backstop_sec,
    nofile = rl.max_file_descriptors,
    data = data and math.floor(data) or nil,
    fsize = policy.allow_file_write and (1 << 30) or (64 * MIB),
  }
  if not policy.allow_network then
    local fd, msg = core.sandbox.netns()
    if not fd then
      errors.raise("SandboxError", msg, {reason = "netns"}, 2)
    end
    ctx.netns = fd
  end
  if is_root() then ctx.uid, ctx.gid = opts.uid or o.uid, opts.gid or o.gid end
  ctx.pool = Pool.new{
    start = function() return start_worker(self, ctx) end,
    stop = stop_worker,
    size = opts.pool_size or o.pool_size, max = opts.pool_max or o.pool_max,
    recycle_after = opts.recycle_after or o.recycle_after,
    reuse = (opts.reuse == nil) and o.reuse or opts.reuse,
  }
  ctx.next_id = 1
  local ok, e = pcall(ctx.pool.warm, ctx.pool)
  if not ok then
    ctx.pool:kill(kill_worker)
    ctx.state = "failed"
    error(e, 0)
  end
  self.contexts[ctx] = true
  return ctx
end

-- One call on worker w; -> true, results | false, error table.
local function call_on(self, ctx, w, msg, id)
  local o = self.opts
  local limit = ctx.timeout_ms
  local t0 = core.loop.now()
  local kind, ty, payload = exchange(w, msg, limit > 0 and (limit + o.grace_ms) or nil,
                                     o.max_frame, o.spin_us)
  local ms = core.loop.now() - t0
  w.calls = w.calls + 1
  if kind == "frame" and (ty == T.RESULT or ty == T.ERROR) then
    local v, derr = decode(payload, o.max_frame)
    if not v then
      kill_worker(w)
      return false, errmap.make("SandboxError", "the worker sent a malformed frame: " .. derr,
                                {reason = "protocol"}), ms
    end
    if v.id ~= id then
      kill_worker(w)
      return false, errmap.make("SandboxError", "the worker answered another call",
                                {reason = "protocol"}), ms
    end
    if ty == T.RESULT then
      local r = v.results
      if type(r) ~= "table" or math.type(r.n) ~= "integer" or r.n < 0 or r.n > 250 then
        kill_worker(w)
        return false, errmap.make("SandboxError", "the worker sent malformed results",
                                  {reason = "protocol"}), ms
      end
      return true, r, ms, v.stats
    end
    if v.kind == "SandboxResourceError" or v.kind == "SandboxSecurityViolation" then
      w.dead = true      -- recycle after a violation
    end
    return false, v, ms, v.stats
  end
  if kind == "frame" and ty == T.VIOLATION then
    local v = decode(payload, 4096) or {}
    kill_worker(w)
    reap(w)
    return false, errmap.make("SandboxSecurityViolation",
      ("the plugin attempted a forbidden system call: %s"):format(tostring(v.syscall)),
      {reason = "seccomp", violation_type = type(v.kind) == "string" and v.kind or "syscall",
       attempted_action = type(v.syscall) == "string" and v.syscall or "?",
       syscall = type(v.syscall) == "string" and v.syscall or nil}), ms
  end
  if kind == "timeout" then
    kill_worker(w)
    reap(w)
    ctx.counters.kills = ctx.counters.kills + 1
    return false, errmap.make("SandboxTimeoutError",
      ("time limit of %g s exceeded; the worker was killed"):format(limit / 1000),
      {reason = "timeout", timeout_seconds = limit / 1000, execution_time = ms / 1000}), ms
  end
  if kind == "eof" then
    local e = death_error(ctx, w, ms)
    if e.kind ~= "SandboxError" then ctx.counters.kills = ctx.counters.kills + 1 end
    return false, e, ms
  end
  kill_worker(w)
  return false, errmap.make("SandboxError", "the worker broke the protocol: " .. tostring(ty),
                            {reason = "protocol"}), ms
end

-- execute(ctx, fn_or_ref, ...) -> results, or raises a typed error.
function Engine:execute(ctx, fn, ...)
  common.check_context(self, ctx, 2)
  common.require_live(ctx, 2)
  local what = common.check_target(fn, 2)
  local id = ctx.next_id
  ctx.next_id = id + 1
  local req = {id = id, args = table.pack(...),
               timeout_ms = ctx.timeout_ms > 0 and ctx.timeout_ms or nil}
  if what == "function" then
    local t = transfer.prepare(fn, 2)
    req.fn, req.upvalues = t.fn, t.upvalues
  else
    req.ref = fn
  end
  local msg, emsg = core.wire.frame(T.CALL, req)
  if not msg then
    errors.raise("UsageError", "cannot send the call to the sandbox: " .. tostring(emsg), nil, 2)
  end
  local w = ctx.pool:acquire()
  local pok, good, r, ms, stats = pcall(call_on, self, ctx, w, msg, id)
  if not pok then kill_worker(w) end
  ctx.pool:release(w)
  if not pok then error(good, 0) end
  common.count(ctx, ms or 0, stats)
  if good then return table.unpack(r, 1, r.n) end
  errmap.raise(r, ctx, nil, 2)
end

-- One call on worker w outside the pool's bookkeeping (health checks):
-- true, results | false, error table.
local function ping() return true end

function call_worker(self, ctx, w, target, ...)
  local id = ctx.next_id
  ctx.next_id = id + 1
  local req = {id = id, args = table.pack(...), timeout_ms = ctx.timeout_ms > 0 and ctx.timeout_ms or nil}
  if type(target) == "function" then
    local t = transfer.prepare(target, 2)
    req.fn, req.upvalues = t.fn, t.upvalues
  else
    req.ref = target
  end
  local msg = assert(core.wire.frame(T.CALL, req))
  local ok, good, r = pcall(call_on, self, ctx, w, msg, id)
  if not ok then kill_worker(w); return false, good end
  return good, r
end

-- roll(ctx, new_ctx [, {checks}]) -> true | false, err. Replaces the
-- workers of ctx's pool one at a time by workers started from new_ctx's
-- setup (another version of the plugin): each new worker must pass the
-- checks (references "module.function" called on it, in order) and
-- answer a trivial call before it joins the pool and one old worker
-- leaves it (an idle one at once, a busy one when its call returns), so
-- the pool never has fewer workers than it started with. When a new
-- worker fails, the new ones are removed and old-version workers started
-- in their place: ctx is as it was. On success ctx starts its future
-- workers from new_ctx's setup; new_ctx, left without workers, can be
-- terminated.
function Engine:roll(ctx, new_ctx, opts)
  common.check_context(self, ctx, 2)
  common.check_context(self, new_ctx, 2)
  common.require_live(ctx, 2)
  local pool = ctx.pool
  local olds = {}
  for w in pairs(pool.all) do olds[#olds + 1] = w end
  table.sort(olds, function(a, b) return a.pid < b.pid end)
  local checks = opts and opts.checks
  local added = {}
  local function retire(w)
    for i, x in ipairs(pool.idle) do
      if x == w then table.remove(pool.idle, i); pool:_drop(w); return end
    end
    w.dead = true                        -- busy: dropped when its call returns
  end
  new_ctx.init = checks
  for _ = 1, math.max(1, #olds) do
    local ok, nw = pcall(start_worker, self, new_ctx)    -- replays the checks
    local err = not ok and nw or nil
    if ok then
      local good, r = call_worker(self, new_ctx, nw, ping)
      if not good then err = r end
      if err then kill_worker(nw); stop_worker(nw) end
    end
    if err then
      -- Roll back: the new workers go, old-version workers take their places.
      for _, w in ipairs(added) do
        retire(w)
        local sok, ow = pcall(pool._start, pool)
        if sok then pool.idle[#pool.idle + 1] = ow end
      end
      return false, err
    end
    nw.ctx = ctx
    pool.all[nw] = true
    pool.count = pool.count + 1
    pool.idle[#pool.idle + 1] = nw
    added[#added + 1] = nw
    local old = table.remove(olds, 1)
    if old then retire(old) end
  end
  ctx.setup_frame, ctx.plugin_dir, ctx.init = new_ctx.setup_frame, new_ctx.plugin_dir, checks
  return true
end

-- set_init(ctx, refs): the calls ("module.function") every worker started
-- from now on makes before it serves (start_worker).
function Engine:set_init(ctx, refs)
  common.check_context(self, ctx, 2)
  local copy = {}
  for i, r in ipairs(refs or {}) do copy[i] = r end
  ctx.init = copy
end

-- broadcast(ctx, ref, ...) -> true, or raises like execute: ref(...) runs on every
-- worker of the pool, one after the other (a lifecycle hook must reach
-- each worker's module state). A worker busy with a call is retired
-- instead: it is dropped when its call returns, and the pool's next
-- worker replays ctx.init.
function Engine:broadcast(ctx, ref, ...)
  common.check_context(self, ctx, 2)
  common.require_live(ctx, 2)
  local pool = ctx.pool
  local idle = pool.idle
  pool.idle = {}
  local busy = {}
  for _, w in ipairs(idle) do busy[w] = true end
  for w in pairs(pool.all) do
    if not busy[w] then w.dead = true end
  end
  local failure
  for _, w in ipairs(idle) do
    if not failure then
      local good, r = call_worker(self, ctx, w, ref, ...)
      if not good then failure = r end
    end
    -- after a failure the rest have not run ref either: they go too
    if failure then w.dead = true end
    if w.dead then pool:_drop(w) else pool.idle[#pool.idle + 1] = w end
  end
  if #idle == 0 then
    -- every worker was busy (or none was warm): the call goes through the pool
    self:execute(ctx, ref, ...)
    return true
  end
  if failure then errmap.raise(failure, ctx, nil, 2) end
  return true
end

-- stats(ctx) -> {calls, time_ms, peak_memory_bytes, cpu_ms, kills, workers}
function Engine:stats(ctx)
  common.check_context(self, ctx, 2)
  local c = ctx.counters
  return {calls = c.calls, time_ms = c.time_ms, peak_memory_bytes = c.peak_memory_bytes,
          cpu_ms = c.cpu_ms, kills = c.kills, level = self.level,
          workers = ctx.pool and ctx.pool:workers() or 0,
          started = ctx.pool and ctx.pool.started or 0,
          restarts = ctx.pool and ctx.pool.restarts or 0}
end

-- terminate(ctx): every worker of the context is killed (calls under way
-- fail), queued calls fail with SandboxError.
function Engine:terminate(ctx)
  common.check_context(self, ctx, 2)
  if ctx.pool then
    ctx.pool:kill(kill_worker)
    -- busy workers are dead now; reap them and remove their groups here,
    -- since a call that was abandoned (its task never resumed) would
    -- never release them
    for w in pairs(ctx.pool.all) do
      pcall(reap, w, 100)
      if w.cg then cgroup.remove(w.cg); w.cg = nil end
    end
  end
  reap_exiting(true)
  ctx.state = "terminated"
  self.contexts[ctx] = nil
end

function Engine:cleanup()
  for ctx in pairs(self.contexts) do pcall(self.terminate, self, ctx) end
  self.contexts = {}
  reap_exiting(true)
end

return M
