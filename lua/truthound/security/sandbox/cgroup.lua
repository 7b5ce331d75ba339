-- truthound.security.sandbox.cgroup: one control group per worker, under
-- the host process's own group, for memory, CPU quota and process count.
--
-- The groups are core/sandbox/cgroup.c's (core.cgroup): per controller,
-- cgroup v2 where our own v2 group delegates it, else the v1 hierarchy that
-- has it (as on hosts with memory, cpu and pids mounted at
-- /sys/fs/cgroup/<ctl>). A worker's group is truthound-<host pid>-<n>; it
-- is made, with its limits set, before the worker gets its SETUP frame (so
-- before any plugin code runs) and removed when the worker is reaped. This
-- module decides what a policy gets (spec) and keeps the small API the
-- engines use; docs/sandbox.md, "Control groups (engine)".

local core = require("truthound.native")

local M = {}

local MIB = 1024 * 1024
M.HEADROOM_MB = 32           -- the worker's own memory above the Lua cap
M.PIDS = 8                   -- processes per worker group
M.PIDS_SUBPROCESS = 64       -- with allow_subprocess
local CONTROLLERS = {"memory", "cpu", "pids"}

local function has_binding()
  return type(core.cgroup) == "table" and type(core.cgroup.create) == "function"
end

-- usable() -> ok, reason: can we make a group with a memory, a CPU and a
-- pids limit here? A real probe (one group made with all three limits,
-- then removed), cached. The engines register cgroup.memory and
-- cgroup.cpu only when it says yes, and create() sets exactly what it
-- probed, so the registration never claims more than a worker gets.
local usable_cache
function M.usable()
  if usable_cache then return usable_cache[1], usable_cache[2] end
  if not has_binding() then
    usable_cache = {false, "this build has no core.cgroup"}
    return false, usable_cache[2]
  end
  local g, msg = core.cgroup.create{memory_bytes = 64 * MIB, cpu_percent = 100,
                                    pids_max = M.PIDS_SUBPROCESS}
  if not g then
    usable_cache = {false, tostring(msg)}
    return false, usable_cache[2]
  end
  local parts = {}
  for _, c in ipairs(CONTROLLERS) do
    parts[#parts + 1] = ("%s v%d"):format(c, g:version(c))
  end
  local ok, rmsg = g:destroy()
  if not ok then
    usable_cache = {false, tostring(rmsg)}
    return false, usable_cache[2]
  end
  M.sweep()
  usable_cache = {true, "cgroup " .. table.concat(parts, ", ")}
  return true, usable_cache[2]
end

-- sweep() -> how many groups were removed: those left by host processes
-- that died without cleaning up (truthound-<pid>-<n> whose pid is gone),
-- in our parent group of every controller, v1 and v2. Empty groups only.
function M.sweep()
  if not has_binding() then return 0 end
  return core.cgroup.sweep() or 0
end

-- spec(policy [, plugin_id]) -> what to set, or nil when cgroups are not
-- usable: {memory = bytes | nil, cpu_percent = 1..100 | nil, pids = n}.
-- The CPU quota is whole percent of one CPU (1 ms of each 100 ms period
-- at 1%, the kernel's smallest quota): a fraction is rounded down, and
-- anything below 1% gets 1%.
function M.spec(policy, plugin_id)
  if not M.usable() then return nil end
  local rl = policy.resource_limits
  local cpu = rl.max_cpu_percent
  if cpu then cpu = math.max(1, math.floor(cpu)) end
  return {
    memory = rl.max_memory_mb and math.floor((rl.max_memory_mb + M.HEADROOM_MB) * MIB) or nil,
    cpu_percent = cpu,
    pids = policy.allow_subprocess and M.PIDS_SUBPROCESS or M.PIDS,
  }
end

-- create(spec [, pid]) -> cg | nil, msg. The group exists with every limit
-- of spec set (or none is made: a limit that cannot be set is an error
-- naming the controller and the file); pid (if given) has been moved in.
-- cg.procs lists the distinct cgroup.procs files, which
-- core.sandbox.spawn has the worker join before it execs; cg.dirs the
-- group's directory per controller used.
function M.create(spec, pid)
  if not has_binding() then return nil, "this build has no core.cgroup" end
  local g, msg = core.cgroup.create{memory_bytes = spec.memory, cpu_percent = spec.cpu_percent,
                                    pids_max = spec.pids}
  if not g then return nil, msg end
  local cg = {group = g, procs = g:procs(), dirs = {}}
  for _, c in ipairs(CONTROLLERS) do cg.dirs[c] = g:dir(c) end
  if pid then
    local ok, amsg = g:add(pid)
    if not ok then
      M.remove(cg)
      return nil, amsg
    end
  end
  return cg
end

-- stats(cg) -> the group's counters (core.cgroup's group:stats()), or nil
-- once removed.
function M.stats(cg)
  return cg.group and cg.group:stats() or nil
end

-- oom(cg) -> true when the kernel's OOM killer acted in the group.
function M.oom(cg)
  local s = M.stats(cg)
  return s ~= nil and cg.dirs.memory ~= nil and s.oom_kills > 0
end

-- peak(cg) -> the group's peak memory in bytes, or nil without a memory
-- group.
function M.peak(cg)
  local s = M.stats(cg)
  if not s or not cg.dirs.memory then return nil end
  return s.memory_peak
end

-- remove(cg) -> true | nil, msg: kill what is left in the group, then
-- remove it (bounded wait for the killed processes). Idempotent.
function M.remove(cg)
  local g = cg.group
  cg.group = nil
  for c in pairs(cg.dirs) do cg.dirs[c] = nil end
  if not g then return true end
  return g:destroy()
end

return M
