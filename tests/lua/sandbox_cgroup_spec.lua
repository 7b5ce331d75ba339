-- A worker's control group: the core.cgroup binding (core/lua/l_cgroup.c
-- over core/sandbox/cgroup.c), the engines' module
-- (truthound.security.sandbox.cgroup), and the proof that the limits bite:
-- a spawned process over its memory limit is OOM-killed and reported, and a
-- PROCESS worker spinning under max_cpu_percent = 20 is throttled by the
-- kernel (cpu.stat's nr_throttled), while one at 100% (pinned to a CPU)
-- is not.
-- Creating groups needs root: without it, or on a host with no usable
-- controllers, the cases are pending with the reason.

local core = require("truthound.native")
local errors = require("truthound.errors")
local cgroup = require("truthound.security.sandbox.cgroup")
local sandbox = require("truthound.security.sandbox")
local enforcement = require("truthound.security.enforcement")
local security = require("truthound.security")

sandbox.set_warn(function() end)

local MIB = 1024 * 1024
local usable, why = cgroup.usable()

local function skip()
  if core.sandbox.getuid() ~= 0 then pending("creating cgroups needs root"); return true end
  if not usable then pending("cgroups are not usable here: " .. tostring(why)); return true end
end

local function read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local PID = tonumber(read("/proc/self/stat"):match("^%d+"))

local function is_dir(path) return core.fs.kind(path) == "directory" end

local function raises(kind, fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected " .. kind)
  assert.is_true(errors.is(e, kind), "expected " .. kind .. ", got " .. tostring(e))
  return e
end

-- A pid that existed and is gone.
local function dead_pid()
  local p = assert(io.popen("sh -c 'echo $$'"))
  local pid = tonumber(p:read("l"))
  p:close()
  return pid
end

-- spawn(argv, cg) -> pid: a child placed in cg by core.sandbox.spawn, the
-- way the engines start workers (it joins before it execs).
local function spawn(argv, cg)
  local pid, fd = core.sandbox.spawn{exec = argv[1], argv = argv, env = {"PATH=/usr/bin:/bin"},
                                     cgroups = cg.procs}
  assert(pid, fd)
  core.sandbox.channel(fd):close()
  return pid
end

-- wait(pid) -> how, n (bounded: the child is killed after ~10 s)
local function wait(pid)
  local t0 = os.time()
  while true do
    local how, n = core.sandbox.reap(pid)
    if how then return how, n end
    if os.time() - t0 > 10 then core.sandbox.kill(pid, 9) end
    assert(os.time() - t0 < 20, "child " .. pid .. " was not reaped")
    os.execute("sleep 0.01")
  end
end

local function mkdir(d) assert(os.execute("mkdir " .. d)) end
local function rmdir(d) os.execute("rmdir " .. d .. " 2>/dev/null") end

-- Our groups (truthound-<our pid>-*) in every directory of dirs' parents.
local function ours(dirs)
  local seen, n = {}, 0
  local prefix = "truthound-" .. PID .. "-"
  for _, d in pairs(dirs) do
    local parent = d:match("^(.*)/[^/]+$")
    if not seen[parent] then
      seen[parent] = true
      for _, name in ipairs(core.fs.list(parent) or {}) do
        if name:sub(1, #prefix) == prefix then n = n + 1 end
      end
    end
  end
  return n
end

describe("core.cgroup", function()
  it("makes a group with every limit set, and removes it", function()
    if skip() then return end
    local g = assert(core.cgroup.create{memory_bytes = 48 * MIB, cpu_percent = 30, pids_max = 12})
    local dirs = {}
    for _, c in ipairs{"memory", "cpu", "pids"} do
      local v = g:version(c)
      assert.is_true(v == 1 or v == 2, c)
      dirs[c] = g:dir(c)
      assert.is_true(is_dir(dirs[c]), dirs[c])
      assert.matches("/truthound%-" .. PID .. "%-%d+$", dirs[c])
    end
    local mem = g:version("memory") == 2 and "memory.max" or "memory.limit_in_bytes"
    assert.equal(48 * MIB, tonumber(read(dirs.memory .. "/" .. mem):match("%d+")))
    local cpu = g:version("cpu") == 2 and "cpu.max" or "cpu.cfs_quota_us"
    assert.equal(30000, tonumber(read(dirs.cpu .. "/" .. cpu):match("%d+")))
    assert.equal("12", read(dirs.pids .. "/pids.max"):match("%d+"))
    -- procs: each distinct cgroup.procs once
    local procs, seen = g:procs(), {}
    assert.is_true(#procs >= 1 and #procs <= 3)
    for _, p in ipairs(procs) do
      assert.matches("/cgroup%.procs$", p)
      assert.equal("file", core.fs.kind(p))
      assert.is_nil(seen[p])
      seen[p] = true
    end
    assert.matches("^cgroup /", tostring(g))
    assert.is_true(g:destroy())
    for c, d in pairs(dirs) do assert.is_false(is_dir(d), c .. " stayed: " .. d) end
    assert.is_true(g:destroy())                     -- idempotent
    assert.equal("cgroup (destroyed)", tostring(g))
    raises("UsageError", g.stats, g)
    raises("UsageError", g.procs, g)
  end)

  it("makes only the controllers asked for", function()
    if skip() then return end
    local g = assert(core.cgroup.create{pids_max = 4})
    assert.equal(0, g:version("memory"))
    assert.equal(0, g:version("cpu"))
    assert.is_nil(g:dir("memory"))
    assert.is_string(g:dir("pids"))
    assert.equal(1, #g:procs())
    local s = g:stats()
    assert.equal(0, s.memory_peak)
    assert.equal(0, s.nr_throttled)
    assert.is_true(g:destroy())
  end)

  it("refuses malformed limits (a misspelt limit is never no limit)", function()
    raises("UsageError", core.cgroup.create, {memory = 1})
    raises("UsageError", core.cgroup.create, {memory_bytes = -1})
    raises("UsageError", core.cgroup.create, {cpu_percent = 12.5})
    raises("UsageError", core.cgroup.create, {cpu_percent = 100001})
    raises("UsageError", core.cgroup.create, {pids_max = "8"})
    raises("UsageError", core.cgroup.create, {[1] = 8})
    assert.has_error(function() core.cgroup.create() end)
  end)

  it("moves a process in, counts it, kills it", function()
    if skip() then return end
    local g = assert(core.cgroup.create{pids_max = 8})
    local p = assert(io.popen("exec sh -c 'echo $$; exec sleep 30'"))
    local pid = tonumber(p:read("l"))
    assert.is_true(g:add(pid))
    assert.matches(g:dir("pids"):match("truthound%-[%d-]+$"), read("/proc/" .. pid .. "/cgroup"),
                   1, true)
    assert.equal(1, g:stats().pids_current)
    assert.is_true(g:kill() >= 1)
    p:close()                                    -- reaps the killed sleep
    assert.is_true(g:destroy())
  end)

  it("names the controller and the file when the kernel refuses", function()
    if skip() then return end
    local g = assert(core.cgroup.create{pids_max = 8})
    local ok, msg = g:add(dead_pid())
    assert.is_nil(ok)
    assert.matches("pids", msg)
    assert.matches(g:dir("pids") .. "/cgroup.procs", msg, 1, true)
    assert.is_true(g:destroy())
  end)

  it("never leaks a group: __close and __gc remove it", function()
    if skip() then return end
    local dir
    do
      local g <close> = assert(core.cgroup.create{pids_max = 8})
      dir = g:dir("pids")
      assert.is_true(is_dir(dir))
    end
    assert.is_false(is_dir(dir))
    local g = assert(core.cgroup.create{pids_max = 8})
    dir = g:dir("pids")
    g = nil                                       -- the only reference
    collectgarbage()
    collectgarbage()
    assert.is_false(is_dir(dir))
  end)

  it("sweeps the groups of dead hosts, and only those", function()
    if skip() then return end
    local g = assert(core.cgroup.create{pids_max = 8})
    local parent = g:dir("pids"):match("^(.*)/[^/]+$")
    local stale = ("%s/truthound-%d-5"):format(parent, dead_pid())
    local live = ("%s/truthound-1-5"):format(parent)          -- init is alive
    mkdir(stale)
    mkdir(live)
    assert.is_true(cgroup.sweep() >= 1)
    assert.is_false(is_dir(stale))
    assert.is_true(is_dir(live))
    assert.is_true(is_dir(g:dir("pids")))        -- ours stays
    rmdir(live)
    assert.is_true(g:destroy())
  end)
end)

describe("truthound.security.sandbox.cgroup", function()
  local function pol(extra)
    local spec = {isolation_level = "PROCESS", enforcement = "best_effort",
                  required_signatures = 0, require_trusted_signer = false,
                  resource_limits = {max_execution_time_sec = 5, denied_syscalls = {}}}
    for k, v in pairs(extra or {}) do spec[k] = v end
    return security.SecurityPolicy.new(spec)
  end

  it("says whether it is usable, and registers cgroup.* exactly then", function()
    assert.is_boolean(usable)
    assert.is_string(why)
    if usable then
      assert.matches("memory v[12], cpu v[12], pids v[12]", why)
      assert.matches("PROCESS", tostring(enforcement.provider("cgroup.memory")))
      assert.matches("PROCESS", tostring(enforcement.provider("cgroup.cpu")))
    else
      assert.is_nil(cgroup.spec(pol()))
      assert.is_falsy(tostring(enforcement.provider("cgroup.memory")):match("PROCESS"))
      assert.is_falsy(tostring(enforcement.provider("cgroup.cpu")):match("PROCESS"))
    end
  end)

  it("derives the limits from the policy", function()
    if skip() then return end
    local s = cgroup.spec(pol{resource_limits = {max_memory_mb = 100, max_cpu_percent = 20.7,
                                                 max_execution_time_sec = 5}})
    assert.equal((100 + cgroup.HEADROOM_MB) * MIB, s.memory)
    assert.equal(20, s.cpu_percent)                 -- rounded down: never looser
    assert.equal(cgroup.PIDS, s.pids)
    s = cgroup.spec(pol{allow_subprocess = true,
                        resource_limits = {max_cpu_percent = 0.5, max_execution_time_sec = 5}})
    assert.equal(1, s.cpu_percent)                  -- the kernel's smallest quota
    assert.equal(cgroup.PIDS_SUBPROCESS, s.pids)
    s = cgroup.spec(pol())                          -- the standard limits
    assert.equal(50, s.cpu_percent)
    assert.equal((512 + cgroup.HEADROOM_MB) * MIB, s.memory)
    -- a limit the policy does not have is not set
    s = cgroup.spec({resource_limits = {}, allow_subprocess = false})
    assert.is_nil(s.memory)
    assert.is_nil(s.cpu_percent)
    assert.equal(cgroup.PIDS, s.pids)
  end)

  it("creates, reports an OOM kill and the peak, and removes", function()
    if skip() then return end
    local cg = assert(cgroup.create{memory = 24 * MIB, pids = 8})
    assert.is_string(cg.dirs.memory)
    assert.is_nil(cg.dirs.cpu)
    assert.is_false(cgroup.oom(cg))
    local pid = spawn({"/usr/bin/perl", "-e", '$x = "m" x (256 * 1024 * 1024); exit 0'}, cg)
    local how, n = wait(pid)
    assert.equal("signaled", how)
    assert.equal(9, n)
    assert.is_true(cgroup.oom(cg))
    local peak = cgroup.peak(cg)
    assert.is_true(peak > 16 * MIB and peak <= 25 * MIB, tostring(peak))
    local dir = cg.dirs.memory
    assert.is_true(cgroup.remove(cg))
    assert.is_false(is_dir(dir))
    assert.is_nil(cg.group)
    assert.is_false(cgroup.oom(cg))
    assert.is_nil(cgroup.peak(cg))
    assert.is_true(cgroup.remove(cg))                -- idempotent
  end)

  it("fails without leaving a group when the process cannot be moved in", function()
    if skip() then return end
    local probe = assert(cgroup.create{memory = 64 * MIB, cpu_percent = 50, pids = 8})
    local dirs = {}
    for k, v in pairs(probe.dirs) do dirs[k] = v end
    cgroup.remove(probe)
    local before = ours(dirs)
    local cg, msg = cgroup.create({memory = 64 * MIB, cpu_percent = 50, pids = 8}, dead_pid())
    assert.is_nil(cg)
    assert.matches("cgroup.procs", msg, 1, true)
    assert.equal(before, ours(dirs))
  end)
end)

-- The proof: the CPU quota bites a real worker.
describe("a PROCESS worker under max_cpu_percent", function()
  local engine, ok, pwhy
  setup(function()
    ok, pwhy = sandbox.SandboxFactory.is_available("PROCESS")
    if ok then engine = sandbox.SandboxFactory.create("PROCESS", {singleton = false}) end
  end)
  teardown(function()
    if engine then engine:cleanup() end
    sandbox.SandboxFactory.reset()
  end)

  local function unavailable()
    if skip() then return true end
    if not ok then pending("PROCESS is not available: " .. tostring(pwhy)); return true end
  end

  -- One worker's group after a call that spins for `cpu` seconds of CPU
  -- time (os.clock): at 20% of a CPU that is ~1 s of wall time.
  local function spin(percent, cpu, opts)
    local rl = {max_execution_time_sec = 20, denied_syscalls = {}, max_cpu_percent = percent}
    local ctx = engine:create_sandbox("spin", security.SecurityPolicy.new{
      isolation_level = "PROCESS", enforcement = "best_effort", required_signatures = 0,
      require_trusted_signer = false, allowed_modules = {"os"}, blocked_modules = {},
      resource_limits = rl}, opts)
    local used = engine:execute(ctx, function(s)
      local t0 = os.clock()
      while os.clock() - t0 < s do end
      return os.clock() - t0
    end, cpu)
    assert.is_true(used >= cpu)
    local w = next(ctx.pool.all)
    assert.is_table(w.cg, "the worker has a group")
    local stats = cgroup.stats(w.cg)
    local dir = w.cg.dirs.cpu
    local quota = dir and read(dir .. (w.cg.group:version("cpu") == 2 and "/cpu.max"
                                                                      or "/cpu.cfs_quota_us"))
    engine:terminate(ctx)
    return stats, dir, quota and tonumber(quota:match("%-?%d+"))
  end

  it("is throttled by the kernel at 20%", function()
    if unavailable() then return end
    local s, dir, quota = spin(20, 0.2)
    assert.is_string(dir)
    assert.equal(20000, quota)
    print(("# 20%%: nr_periods %d nr_throttled %d throttled %d ms"):format(
          s.nr_periods, s.nr_throttled, s.throttled_ns // 1000000))
    assert.is_true(s.nr_periods > 0)
    assert.is_true(s.nr_throttled > 0, "cpu.stat nr_throttled stayed 0")
    assert.is_true(s.throttled_ns > 0)
    assert.is_false(is_dir(dir))                 -- removed with the worker
  end)

  it("is not throttled at 100% of the one CPU it is pinned to", function()
    if unavailable() then return end
    local s, dir, quota = spin(100, 0.2, {cpu = 0})
    assert.is_string(dir)
    assert.equal(100000, quota)
    print(("# 100%%: nr_periods %d nr_throttled %d"):format(s.nr_periods, s.nr_throttled))
    assert.equal(0, s.nr_throttled)
  end)

  it("gets the standard 50% when the policy does not say", function()
    if unavailable() then return end
    local _, dir, quota = spin(nil, 0.01)
    assert.is_string(dir)
    assert.equal(50000, quota)
  end)
end)
