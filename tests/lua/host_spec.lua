-- truthound.security.host: the shape of the probe, and its answers checked
-- against independent evidence on this machine (procfs, sysfs, util-linux,
-- the shell's ulimit, the runtimes themselves). Where the evidence is not
-- there to compare with, the test says so (pending) instead of guessing.

local host = require("truthound.security.host")
local core = require("truthound.native")

-- Run a shell command without the sanitizer runtime the test runner
-- preloads into lua5.4 (it is not meant for sh, bwrap or unshare).
local function sh(cmd)
  local f = assert(io.popen("env -u LD_PRELOAD sh -c '" .. cmd:gsub("'", "'\\''") .. "' 2>/dev/null"))
  local out = f:read("a")
  local ok, _, code = f:close()
  return out, ok and 0 or code
end

local function read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function is_check(t)
  return type(t) == "table" and type(t.available) == "boolean" and type(t.reason) == "string"
         and t.reason ~= ""
end

local h = host.probe()

describe("host.probe", function()
  it("returns every section, each answer with a reason", function()
    for _, k in ipairs{"kernel", "namespaces", "no_new_privs", "seccomp", "landlock",
                       "cgroups", "rlimits", "runtimes"} do
      assert.is_table(h[k], k)
    end
    for _, ns in ipairs{"user", "mount", "pid", "net", "ipc", "uts", "cgroup"} do
      assert.is_true(is_check(h.namespaces[ns]), ns)
      assert.is_true(is_check(h.namespaces[ns].unprivileged), ns .. " unprivileged")
    end
    assert.is_true(is_check(h.no_new_privs))
    assert.is_true(is_check(h.seccomp))
    for _, a in ipairs{"KILL_PROCESS", "KILL_THREAD", "TRAP", "ERRNO", "USER_NOTIF",
                       "TRACE", "LOG", "ALLOW"} do
      assert.is_true(is_check(h.seccomp.actions[a]), a)
    end
    assert.is_true(is_check(h.landlock) and is_check(h.landlock.restrict))
    assert.is_number(h.landlock.abi)
    for _, ctl in ipairs{"memory", "cpu", "pids"} do
      for _, v in ipairs{"v2", "v1"} do
        local c = h.cgroups[ctl][v]
        assert.is_true(is_check(c), ctl .. " " .. v)
        assert.is_string(c.file)
      end
    end
    for _, r in ipairs{"AS", "DATA", "NOFILE", "NPROC", "CPU"} do
      assert.is_number(h.rlimits[r].soft, r)
      assert.is_true(h.rlimits[r].soft <= h.rlimits[r].hard, r)
    end
    assert.is_boolean(h.rlimits.cap_sys_resource)
    for _, rt in ipairs{"bwrap", "podman", "docker"} do
      assert.is_true(is_check(h.runtimes[rt]), rt)
      assert.is_string(h.runtimes[rt].command)
    end
  end)

  it("is cached per process, and probes again on refresh", function()
    assert.are.equal(h, host.probe())
    assert.are.equal(h, host.probe({runs = false}))   -- a probe with runs covers one without
    local again = host.probe({refresh = true})
    assert.are_not.equal(h, again)
    assert.are.same(h.landlock, again.landlock)
    h = again
  end)

  it("finds runtimes without running them when asked", function()
    local quick = core.probe.host({runs = false})
    for _, rt in ipairs{"bwrap", "podman", "docker"} do
      local t = quick.runtimes[rt]
      if t.found then
        assert.is_false(t.tried, rt)
        assert.is_false(t.available, rt)
        assert.are.equal("not run (probe runs skipped)", t.reason)
      else
        assert.are.equal(rt .. " is not on PATH", t.reason)
      end
    end
  end)

  it("refuses bad options", function()
    assert.has_error(function() core.probe.host({timeout_ms = 0}) end)
    assert.has_error(function() core.probe.host("fast") end)
  end)
end)

describe("the probe agrees with independent evidence", function()
  it("kernel release and uid", function()
    assert.are.equal((sh("uname -r"):gsub("%s+$", "")), h.kernel.release)
    assert.are.equal(tonumber((sh("id -u"))), h.euid)
  end)

  it("cgroup2 is found exactly when mountinfo has a cgroup2 line", function()
    local mountinfo = assert(read("/proc/self/mountinfo"))
    local v2_points = {}
    for line in mountinfo:gmatch("[^\n]+") do
      local point = line:match("^%S+ %S+ %S+ %S+ (%S+) .- %- cgroup2 ")
      if point then v2_points[#v2_points + 1] = point:gsub("\\040", " ") end
    end
    local found = {}
    for _, m in ipairs(h.cgroups.mounts) do
      if m.version == 2 then found[#found + 1] = m.mountpoint end
    end
    assert.are.same(v2_points, found)
  end)

  it("each v1 controller is where mountinfo and /proc/self/cgroup put it", function()
    local mountinfo = assert(read("/proc/self/mountinfo"))
    local own = {}
    for line in assert(read("/proc/self/cgroup")):gmatch("[^\n]+") do
      local ctls, path = line:match("^%d+:([^:]*):(.*)$")
      for c in ctls:gmatch("[^,]+") do own[c] = path end
    end
    local checked = 0
    for line in mountinfo:gmatch("[^\n]+") do
      local root, point, super = line:match("^%S+ %S+ %S+ (%S+) (%S+) .- %- cgroup %S+ (%S+)")
      if point then
        for _, ctl in ipairs{"memory", "cpu", "pids"} do
          if ("," .. super .. ","):find("," .. ctl .. ",", 1, true) and own[ctl] then
            local rel = root == "/" and own[ctl] or own[ctl]:sub(#root + 1)
            local want = (point .. rel):gsub("/+$", "")
            assert.are.equal(want, h.cgroups[ctl].v1.dir, ctl)
            checked = checked + 1
          end
        end
      end
    end
    if checked == 0 then pending("no cgroup v1 memory, cpu or pids hierarchy here") end
  end)

  it("our v2 group's controllers are its cgroup.controllers file", function()
    local dir = h.cgroups.memory.v2.dir
    if not dir then return pending("no cgroup2 group") end
    local text = read(dir .. "/cgroup.controllers") or ""
    local list = {}
    for c in text:gmatch("%S+") do list[#list + 1] = c end
    assert.are.same(list, h.cgroups.v2.controllers)
  end)

  it("a controller said to be available really takes a child group", function()
    for _, ctl in ipairs{"memory", "cpu", "pids"} do
      for _, v in ipairs{"v2", "v1"} do
        local c = h.cgroups[ctl][v]
        if c.available then
          local dir = c.dir .. "/tp-spec-" .. ctl .. v
          local _, made = sh("mkdir " .. dir .. " && test -w " .. dir .. "/" .. c.file)
          sh("rmdir " .. dir)
          assert.are.equal(0, made, ctl .. " " .. v)
        end
      end
    end
  end)

  it("leaves no probe groups behind", function()
    for _, ctl in ipairs{"memory", "cpu", "pids"} do
      for _, v in ipairs{"v2", "v1"} do
        local dir = h.cgroups[ctl][v].dir
        if dir then
          assert.are.equal("", (sh("ls -d " .. dir .. "/tp-probe-* 2>/dev/null")), dir)
        end
      end
    end
  end)

  it("Landlock: ABI >= 1 when the LSM list names landlock; rights follow the ABI", function()
    local lsm = read("/sys/kernel/security/lsm")
    if lsm then
      assert.are.equal((lsm:gsub("%s+$", "")), h.landlock.lsm)
    else
      assert.is_nil(h.landlock.lsm)
      -- securityfs is not mounted here: mount it in a private mount
      -- namespace (gone when the shell exits) to read the list.
      lsm = sh("unshare -m sh -c 'mount -t securityfs none /sys/kernel/security && " ..
               "cat /sys/kernel/security/lsm'")
    end
    assert.are.equal(h.landlock.abi > 0, h.landlock.available)
    assert.are.equal(h.landlock.abi >= 4, #h.landlock.net == 2)
    assert.are.equal(h.landlock.abi >= 6, #h.landlock.scope == 2)
    local n = 0
    for _, r in ipairs(core.probe.landlock_rights()) do
      if r.category == "fs" and r.abi <= h.landlock.abi then n = n + 1 end
    end
    assert.are.equal(n, #h.landlock.fs)
    if lsm == "" then return pending("no LSM list to compare with: consistency checked only") end
    lsm = lsm:gsub("%s+$", "")
    assert.are.equal(("," .. lsm .. ","):find(",landlock,", 1, true) ~= nil, h.landlock.abi >= 1,
                     "LSMs: " .. lsm)
  end)

  it("seccomp: mode, filters and actions as procfs reports them", function()
    local status = assert(read("/proc/self/status"))
    local mode = tonumber(status:match("\nSeccomp:%s*(%d+)"))
    if mode then assert.are.equal(mode, h.seccomp.mode) end
    if status:find("\nSeccomp_filters:") and mode == 0 then
      assert.is_true(h.seccomp.available)
    end
    local avail = read("/proc/sys/kernel/seccomp/actions_avail")
    if not avail then return pending("no /proc/sys/kernel/seccomp/actions_avail") end
    local listed = {}
    for a in avail:gmatch("%S+") do listed[a:upper()] = true end
    for name, t in pairs(h.seccomp.actions) do
      assert.are.equal(listed[name] == true, t.available, name)
    end
  end)

  it("libseccomp's version is the installed package's", function()
    local v = sh("dpkg-query -W -f='${Version}' libseccomp2")
    if v == "" then return pending("dpkg-query does not know libseccomp2") end
    assert.are.equal(h.seccomp.libseccomp.version, v:match("^(%d+%.%d+%.%d+)"))
  end)

  it("no_new_privs as /proc/self/status says", function()
    local status = assert(read("/proc/self/status"))
    assert.are.equal(status:match("\nNoNewPrivs:%s*(%d)") == "1", h.no_new_privs.set)
  end)

  it("namespaces: the sysctl, and unshare(1) gets what the probe got", function()
    local max = read("/proc/sys/user/max_user_namespaces")
    assert.are.equal(max and tonumber(max), h.namespaces.max_user_namespaces)
    local _, have = sh("command -v unshare")
    if have ~= 0 then return pending("no unshare(1)") end
    for ns, flag in pairs{net = "-n", mount = "-m", ipc = "-i", uts = "-u", user = "-U",
                          cgroup = "-C", pid = "-p"} do
      local _, code = sh("unshare " .. flag .. " true")
      assert.are.equal(code == 0, h.namespaces[ns].available, ns)
    end
  end)

  it("rlimits as the shell's ulimit, and CAP_SYS_RESOURCE as CapEff", function()
    local function ulimit(opt, scale)
      local out = sh("ulimit " .. opt):gsub("%s+$", "")
      if out == "unlimited" then return math.huge end
      return tonumber(out) * scale
    end
    assert.are.equal(ulimit("-Sn", 1), h.rlimits.NOFILE.soft)
    assert.are.equal(ulimit("-Hn", 1), h.rlimits.NOFILE.hard)
    assert.are.equal(ulimit("-Sd", 1024), h.rlimits.DATA.soft)
    assert.are.equal(ulimit("-Hd", 1024), h.rlimits.DATA.hard)
    assert.are.equal(ulimit("-St", 1), h.rlimits.CPU.soft)
    local cap = assert(read("/proc/self/status")):match("\nCapEff:%s*(%x+)")
    local bit = (tonumber(cap:sub(-8), 16) >> 24) & 1     -- CAP_SYS_RESOURCE is 24
    assert.are.equal(bit == 1, h.rlimits.cap_sys_resource)
  end)

  it("container runtimes: found as on PATH, and bwrap's probe run as bwrap says", function()
    for _, rt in ipairs{"bwrap", "podman", "docker"} do
      local path = sh("command -v " .. rt):gsub("%s+$", "")
      assert.are.equal(path ~= "", h.runtimes[rt].found, rt)
      if path ~= "" then assert.are.equal(path, h.runtimes[rt].path) end
    end
    if not h.runtimes.bwrap.found then return pending("no bwrap") end
    local _, code = sh("bwrap --ro-bind / / --unshare-all /bin/true")
    assert.are.equal(code == 0, h.runtimes.bwrap.available)
  end)
end)

describe("core.probe parsers", function()
  it("read mountinfo and /proc/self/cgroup text", function()
    local m = core.probe.parse_mountinfo(
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n" ..
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n" ..
      "not a mount line\n")
    assert.are.same({
      {version = 1, mountpoint = "/sys/fs/cgroup/cpu,cpuacct", root = "/", controllers = {"cpu", "cpuacct"}},
      {version = 2, mountpoint = "/sys/fs/cgroup/unified", root = "/", controllers = {}},
    }, m)
    assert.are.same({{id = 0, controllers = {}, path = "/a b"}, {id = 4, controllers = {"memory"}, path = "/x"}},
                    core.probe.parse_proc_cgroup("0::/a b\n4:memory:/x\nbad\n"))
    assert.are.same({}, core.probe.parse_mountinfo(""))
  end)
end)

describe("host.has", function()
  it("answers for every mechanism, with a reason and a label", function()
    for _, name in ipairs(host.mechanisms()) do
      local ok, reason, label = host.has(name, h)
      assert.is_boolean(ok)
      assert.is_string(reason)
      assert.is_string(label)
    end
  end)

  it("agrees with the probe", function()
    assert.are.equal(h.landlock.available and h.landlock.restrict.available,
                     (host.has("landlock.fs", h)))
    assert.are.equal(h.landlock.abi >= 4 and h.landlock.restrict.available,
                     (host.has("landlock.net", h)))
    assert.are.equal(h.namespaces.net.available or h.namespaces.net.unprivileged.available,
                     (host.has("netns", h)))
    assert.are.equal(h.runtimes.bwrap.available, (host.has("container.bwrap", h)))
    assert.are.equal(h.cgroups.memory.v2.available or h.cgroups.memory.v1.available,
                     (host.has("cgroup.memory", h)))
  end)

  it("raises for an unknown mechanism", function()
    assert.has_error(function() host.has("landlock.everything", h) end)
  end)
end)
