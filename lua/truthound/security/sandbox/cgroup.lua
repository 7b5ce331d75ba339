-- truthound.security.sandbox.cgroup: one cgroup per worker, under the host
-- process's own group, for memory, CPU share and process count.
--
-- cgroup v1 (this is what hosts without a delegated v2 subtree have): the
-- memory, cpu and pids hierarchies, each mounted at /sys/fs/cgroup/<ctl>;
-- our group in each is read from /proc/self/cgroup. A worker's groups are
-- <ours>/truthound-<host pid>-<n>; they are made before the worker gets its
-- SETUP frame (so before any plugin code runs) and removed when it is
-- reaped. cgroup v2 is not written yet: where only v2 is delegated, the
-- engines do not register cgroup.memory / cgroup.cpu and strict policies
-- asking for them are refused (docs/sandbox.md).

local core = require("truthound.native")

local M = {}

local ROOT = "/sys/fs/cgroup"
local MIB = 1024 * 1024
M.HEADROOM_MB = 32           -- the worker's own memory above the Lua cap

local function read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, value)
  local f, msg = io.open(path, "w")
  if not f then return nil, msg end
  local ok, wmsg = f:write(tostring(value))
  local cok, cmsg = f:close()
  if not ok or not cok then return nil, ("%s: %s"):format(path, tostring(wmsg or cmsg)) end
  return true
end

-- Our group per v1 controller: {memory = "/sys/fs/cgroup/memory/x", ...}.
local base_cache
local function bases()
  if base_cache ~= nil then return base_cache or nil end
  base_cache = false
  local text = read("/proc/self/cgroup")
  if not text then return nil end
  local out = {}
  for line in text:gmatch("[^\n]+") do
    local ctls, path = line:match("^%d+:([^:]*):(.*)$")
    if ctls then
      for c in ctls:gmatch("[^,]+") do
        if c == "memory" or c == "cpu" or c == "pids" then
          local dir = ROOT .. "/" .. c .. (path == "/" and "" or path)
          if core.fs.kind(dir) == "directory" then out[c] = dir end
        end
      end
    end
  end
  if out.memory and out.cpu and out.pids then base_cache = out end
  return base_cache or nil
end

-- usable() -> ok, reason: can we make a group in each controller?
local usable_cache
function M.usable()
  if usable_cache then return usable_cache[1], usable_cache[2] end
  local b = bases()
  if not b or not core.sandbox.mkdir then
    usable_cache = {false, "no cgroup v1 memory, cpu and pids hierarchies of our own"}
    return false, usable_cache[2]
  end
  for c, dir in pairs(b) do
    local probe = ("%s/truthound-probe-%d"):format(dir, core.sandbox.getpid())
    local ok, msg = core.sandbox.mkdir(probe)
    if not ok then
      usable_cache = {false, ("cannot make a %s cgroup: %s"):format(c, tostring(msg))}
      return false, usable_cache[2]
    end
    core.sandbox.rmdir(probe)
  end
  M.sweep()
  usable_cache = {true, "cgroup v1 memory, cpu, pids"}
  return true, usable_cache[2]
end

-- sweep(): remove the (empty) groups left by host processes that died
-- without cleaning up (killed hosts): truthound-<pid>-<n> whose pid is gone.
function M.sweep()
  local b = bases()
  if not b then return end
  for _, dir in pairs(b) do
    for _, name in ipairs(core.fs.list(dir) or {}) do
      local pid = tonumber(name:match("^truthound%-(%d+)%-%d+$"))
      if pid and pid ~= core.sandbox.getpid() and not core.sandbox.kill(pid, 0) then
        core.sandbox.rmdir(dir .. "/" .. name)
      end
    end
  end
end

-- spec(policy) -> what to set, or nil when cgroups are not usable.
function M.spec(policy)
  if not M.usable() then return nil end
  local rl = policy.resource_limits
  return {
    memory = rl.max_memory_mb and math.floor((rl.max_memory_mb + M.HEADROOM_MB) * MIB) or nil,
    cpu_percent = rl.max_cpu_percent,
    pids = policy.allow_subprocess and 64 or 8,
  }
end

local counter = 0

-- create(spec [, pid]) -> cg | nil, msg. The groups exist and limits are
-- set; pid (if given) has been moved in. cg.procs lists the cgroup.procs
-- files, which core.sandbox.spawn has the worker join before it execs.
function M.create(spec, pid)
  local b = bases()
  if not b then return nil, "no cgroups" end
  counter = counter + 1
  local name = ("truthound-%d-%d"):format(core.sandbox.getpid(), counter)
  local cg = {dirs = {}}
  local function fail(msg) M.remove(cg); return nil, msg end
  for _, c in ipairs{"memory", "cpu", "pids"} do
    local dir = b[c] .. "/" .. name
    local ok, msg = core.sandbox.mkdir(dir)
    if not ok then return fail(msg) end
    cg.dirs[c] = dir
  end
  local ok, msg
  if spec.memory then
    ok, msg = write(cg.dirs.memory .. "/memory.limit_in_bytes", spec.memory)
    if not ok then return fail(msg) end
    -- no swap beyond the limit, where the kernel accounts swap
    if core.fs.kind(cg.dirs.memory .. "/memory.memsw.limit_in_bytes") == "file" then
      write(cg.dirs.memory .. "/memory.memsw.limit_in_bytes", spec.memory)
    end
    write(cg.dirs.memory .. "/memory.swappiness", 0)
  end
  if spec.cpu_percent then
    local period = 100000
    ok, msg = write(cg.dirs.cpu .. "/cpu.cfs_period_us", period)
    if ok then ok, msg = write(cg.dirs.cpu .. "/cpu.cfs_quota_us",
                               math.max(1000, math.floor(period * spec.cpu_percent / 100))) end
    if not ok then return fail(msg) end
  end
  ok, msg = write(cg.dirs.pids .. "/pids.max", spec.pids)
  if not ok then return fail(msg) end
  cg.procs = {}
  for i, c in ipairs{"memory", "cpu", "pids"} do cg.procs[i] = cg.dirs[c] .. "/cgroup.procs" end
  if pid then
    for _, f in ipairs(cg.procs) do
      ok, msg = write(f, pid)
      if not ok then return fail(msg) end
    end
  end
  return cg
end

-- oom(cg) -> true when the kernel's OOM killer acted in the group.
function M.oom(cg)
  local t = cg.dirs.memory and read(cg.dirs.memory .. "/memory.oom_control")
  local n = t and tonumber(t:match("oom_kill (%d+)"))
  if n and n > 0 then return true end
  return false
end

function M.peak(cg)
  local t = cg.dirs.memory and read(cg.dirs.memory .. "/memory.max_usage_in_bytes")
  return t and tonumber(t:match("%d+"))
end

-- remove(cg): kill what is left in it, then remove the groups.
function M.remove(cg)
  for _, dir in pairs(cg.dirs) do
    local procs = read(dir .. "/cgroup.procs") or ""
    for pid in procs:gmatch("%d+") do core.sandbox.kill(tonumber(pid), 9) end
  end
  for c, dir in pairs(cg.dirs) do
    for _ = 1, 50 do
      if core.sandbox.rmdir(dir) then break end
      core.sandbox.usleep(1000)
    end
    cg.dirs[c] = nil
  end
end

return M
