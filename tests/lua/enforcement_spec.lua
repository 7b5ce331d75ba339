-- truthound.security.enforcement: the map of DESIGN.md section 5 over
-- crafted hosts (one with nothing, one with everything), every field at
-- every isolation level, both enforcement modes, the exact PolicyError
-- messages, and the engine registry. Plain tables of the policy's shape
-- stand in for SecurityPolicy; one test uses the real, frozen one.

local enforcement = require("truthound.security.enforcement")
local host = require("truthound.security.host")
local errors = require("truthound.errors")

local function yes(reason) return {available = true, tried = true, reason = reason or "works"} end

-- A host that offers everything (cgroup v2 preferred, Landlock ABI 7).
local function everything()
  local ns = {}
  for _, n in ipairs{"user", "mount", "pid", "net", "ipc", "uts", "cgroup"} do
    ns[n] = yes("unshare(" .. n .. ") works")
    ns[n].unprivileged = yes()
  end
  local function cg(ctl, f2, f1)
    return {v2 = {available = true, tried = true, file = f2, dir = "/sys/fs/cgroup/t",
                  reason = "cgroup v2: child groups of /sys/fs/cgroup/t get " .. f2},
            v1 = {available = true, tried = true, file = f1, dir = "/sys/fs/cgroup/" .. ctl,
                  reason = "cgroup v1: child groups of /sys/fs/cgroup/" .. ctl .. " get " .. f1}}
  end
  return {
    namespaces = ns,
    no_new_privs = yes("prctl(PR_SET_NO_NEW_PRIVS) works"),
    seccomp = {available = true, tried = true, reason = "a seccomp filter installs", mode = 0,
               actions = {ERRNO = yes(), KILL_PROCESS = yes()},
               libseccomp = {version = "2.5.4", api = 6}},
    landlock = {available = true, tried = true, reason = "Landlock ABI 7", abi = 7,
                restrict = yes("a ruleset restricts a process")},
    cgroups = {memory = cg("memory", "memory.max", "memory.limit_in_bytes"),
               cpu = cg("cpu", "cpu.max", "cpu.cfs_quota_us"),
               pids = cg("pids", "pids.max", "pids.max")},
    rlimits = {DATA = {soft = math.huge, hard = math.huge},
               NOFILE = {soft = 1024, hard = 4096}, cap_sys_resource = false},
    runtimes = {bwrap = {available = true, tried = true, found = true, version = "bubblewrap 0.8.0",
                         reason = "`bwrap --ro-bind / / --unshare-all /bin/true` works"}},
  }
end

local NOTHING = {}

-- A policy that asks for something in every field.
local function asking(level, overrides)
  local p = {
    isolation_level = level, enforcement = "strict",
    resource_limits = {
      max_memory_mb = 256, max_cpu_percent = 50, max_execution_time_sec = 10,
      max_file_descriptors = 64, allowed_paths = {"/srv/data"}, writable_paths = {},
      denied_syscalls = {"ptrace", "bpf"},
    },
    allow_network = false, allow_subprocess = false, allow_file_write = false,
    allowed_modules = {"json"}, blocked_modules = {"os"},
    required_signatures = 2, require_trusted_signer = true, signature_max_age_days = 90,
  }
  for k, v in pairs(overrides or {}) do p[k] = v end
  return p
end

-- A policy that asks for nothing.
local function lax(level)
  return {
    isolation_level = level or "NONE",
    resource_limits = {allowed_paths = {"/"}, writable_paths = {}, denied_syscalls = {}},
    allow_network = true, allow_subprocess = true, allow_file_write = true,
    allowed_modules = {}, blocked_modules = {},
    required_signatures = 0, require_trusted_signer = false, signature_max_age_days = false,
  }
end

local function pairs_of(rows)
  local out = {}
  for i, r in ipairs(rows) do out[i] = r.field .. "=" .. r.name end
  return out
end

local function raised(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return e
end

local function withdraw_all()
  for _, name in ipairs(host.mechanisms()) do enforcement.withdraw(name) end
end

local function provide_all(engine)
  for _, name in ipairs(host.mechanisms()) do enforcement.provide(name, engine or "test-engine") end
end

before_each(withdraw_all)
after_each(withdraw_all)

describe("the map", function()
  it("names only mechanisms the host module knows", function()
    for _, entry in ipairs(enforcement.MAP) do
      for _, level in ipairs{"NONE", "PROCESS", "CONTAINER"} do
        for _, m in ipairs(entry.all or entry[level]) do
          local names = type(m) == "string" and {m} or m.any or {}
          for _, name in ipairs(names) do
            assert.is_table(host.MECHANISMS[name], entry.field .. " " .. level .. " " .. name)
          end
          if type(m) == "table" and m.refuse then assert.are.equal("NONE", level) end
        end
      end
    end
  end)

  it("PROCESS: every field and its mechanisms", function()
    assert.are.same({
      "isolation_level=process.worker",
      "resource_limits.max_execution_time_sec=supervisor.timer",
      "resource_limits.max_memory_mb=lua.alloc_cap",
      "resource_limits.max_memory_mb=rlimit.data",
      "resource_limits.max_memory_mb=cgroup.memory",
      "resource_limits.max_cpu_percent=cgroup.cpu",
      "resource_limits.max_file_descriptors=rlimit.nofile",
      "resource_limits.allowed_paths=landlock.fs",
      "resource_limits.denied_syscalls=seccomp",
      "allow_network=netns",
      "allow_network=landlock.net",
      "allow_subprocess=seccomp.no_exec",
      "allow_file_write=landlock.fs",
      "allowed_modules=lua.require_gate",
      "blocked_modules=lua.require_gate",
      "required_signatures=signing.chain",
      "require_trusted_signer=signing.chain",
      "signature_max_age_days=signing.chain",
    }, pairs_of(enforcement.explain(asking("PROCESS"), everything())))
  end)

  it("CONTAINER: a bwrap container around the worker, and a mount view", function()
    local got = pairs_of(enforcement.explain(asking("CONTAINER"), everything()))
    assert.are.same({"isolation_level=container.bwrap", "isolation_level=process.worker"},
                    {got[1], got[2]})
    assert.are.same({"resource_limits.allowed_paths=landlock.fs", "resource_limits.allowed_paths=mountns"},
                    {got[9], got[10]})
    assert.are.equal(20, #got)
  end)

  it("NONE: in-process mechanisms, and refusals where none can exist", function()
    assert.are.same({
      "resource_limits.max_execution_time_sec=lua.instruction_hook",
      "resource_limits.max_memory_mb=lua.alloc_cap",
      "resource_limits.max_cpu_percent=none",
      "resource_limits.max_file_descriptors=none",
      "resource_limits.allowed_paths=lua.no_io",
      "resource_limits.denied_syscalls=none",
      "allow_network=lua.no_socket",
      "allow_subprocess=lua.no_subprocess",
      "allow_file_write=lua.no_io",
      "allowed_modules=lua.require_gate",
      "blocked_modules=lua.require_gate",
      "required_signatures=signing.chain",
      "require_trusted_signer=signing.chain",
      "signature_max_age_days=signing.chain",
    }, pairs_of(enforcement.explain(asking("NONE"), everything())))
  end)

  it("values that ask for nothing need no mechanism, at every level", function()
    for _, level in ipairs{"NONE", "PROCESS", "CONTAINER"} do
      local rows = enforcement.explain(lax(level), NOTHING)
      local want = level == "NONE" and {} or
        (level == "PROCESS" and {"isolation_level=process.worker"}
         or {"isolation_level=container.bwrap", "isolation_level=process.worker"})
      assert.are.same(want, pairs_of(rows), level)
    end
    -- nil quantities ask for nothing; absent path lists are empty views,
    -- as SecurityPolicy fills them in (forgetting a field never loosens).
    local p = lax("NONE")
    p.resource_limits = nil
    assert.are.same({"resource_limits.allowed_paths=lua.no_io", "resource_limits.writable_paths=lua.no_io"},
                    pairs_of(enforcement.explain(p, NOTHING)))
    assert.are.same({}, (enforcement.check(lax("NONE"), NOTHING)))
  end)

  it("reads the file view as SecurityPolicy:file_access does", function()
    local function paths(allowed, writable, write)
      local p = lax("PROCESS")
      p.resource_limits = {allowed_paths = allowed, writable_paths = writable}
      p.allow_file_write = write
      local out = {}
      for _, r in ipairs(enforcement.explain(p, everything())) do
        if r.field ~= "isolation_level" then out[#out + 1] = r.field:gsub("^resource_limits%.", "") end
      end
      return table.concat(out, " ")
    end
    assert.are.equal("", paths({"/"}, {}, true))                   -- everything, writable
    assert.are.equal("writable_paths", paths({"/"}, {"/tmp"}, true))
    assert.are.equal("allowed_paths writable_paths", paths({"/srv"}, {}, true))
    assert.are.equal("", paths({"/srv"}, {"/"}, true))             -- "/" writable is readable
    assert.are.equal("allowed_paths writable_paths", paths({}, {}, true))  -- empty: nothing
    assert.are.equal("allowed_paths allow_file_write", paths({}, {}, false))
    assert.are.equal("allow_file_write", paths({"/"}, {}, false))
  end)
end)

describe("explain", function()
  it("describes each row: label, availability, engine, reasons, a plain value", function()
    local rows = enforcement.explain(asking("PROCESS"), everything())
    local r = rows[5]
    assert.are.equal("resource_limits.max_memory_mb", r.field)
    assert.are.equal(256, r.value)
    assert.are.equal("cgroup.memory", r.name)
    assert.are.equal("cgroup v2 memory.max", r.mechanism)
    assert.is_true(r.available)
    assert.is_false(r.implemented)
    assert.is_nil(r.engine)
    assert.are.equal("cgroup v2: child groups of /sys/fs/cgroup/t get memory.max", r.host_reason)
    assert.are.equal("no engine in this build applies cgroup.memory yet", r.reason)
    local d = rows[9]
    assert.are.equal("resource_limits.denied_syscalls", d.field)
    assert.are.same({"ptrace", "bpf"}, d.value)
    assert.are.equal("seccomp filter of denied system calls, libseccomp 2.5.4", d.mechanism)
  end)

  it("labels carry this host's detail", function()
    local h = everything()
    h.cgroups.memory.v2.available = false
    local function label(name, field)
      for _, r in ipairs(enforcement.explain(asking("CONTAINER"), h)) do
        if r.name == name and (not field or r.field == field) then return r.mechanism end
      end
    end
    assert.are.equal("cgroup v1 memory.limit_in_bytes", label("cgroup.memory"))
    assert.are.equal("cgroup v2 cpu.max", label("cgroup.cpu"))
    assert.are.equal("Landlock ABI 7 filesystem rules", label("landlock.fs"))
    assert.are.equal("Landlock ABI 7 TCP bind and connect rules", label("landlock.net"))
    assert.are.equal("bubblewrap 0.8.0 container", label("container.bwrap"))
    assert.are.equal("RLIMIT_NOFILE", label("rlimit.nofile"))
    assert.are.equal("empty network namespace", label("netns"))
    assert.are.equal("mount namespace view", label("mountns"))
    assert.are.equal("supervisor timer, SIGKILL of the process group", label("supervisor.timer"))
  end)

  it("on a host with nothing, says what was not probed", function()
    local reasons = {}
    for _, r in ipairs(enforcement.explain(asking("CONTAINER"), NOTHING)) do
      reasons[r.name] = {r.available, r.reason, r.mechanism}
    end
    assert.are.same({false, "bwrap was not probed", "bubblewrap container"}, reasons["container.bwrap"])
    assert.are.same({false, "no_new_privs was not probed",
                     "worker process: fork+exec, unprivileged uid, no_new_privs"}, reasons["process.worker"])
    assert.are.same({false, "no writable memory controller: cgroup v2: cgroup v2 memory was not " ..
                     "probed; cgroup v1: cgroup v1 memory was not probed",
                     "cgroup memory controller (v2 or v1)"}, reasons["cgroup.memory"])
    assert.are.same({false, "RLIMIT_DATA was not probed", "RLIMIT_DATA"}, reasons["rlimit.data"])
    assert.are.same({false, "Landlock was not probed", "Landlock filesystem rules"}, reasons["landlock.fs"])
    assert.are.same({false, "seccomp was not probed", "seccomp filter of denied system calls"},
                    reasons["seccomp"])
    assert.are.same({false, "the net namespace was not probed; unprivileged: an unprivileged " ..
                     "net namespace was not probed", "empty network namespace"}, reasons["netns"])
    assert.are.same({false, "the mount namespace was not probed; unprivileged: an unprivileged " ..
                     "mount namespace was not probed", "mount namespace view"}, reasons["mountns"])
    -- Mechanisms inside the Lua state need nothing from the host.
    assert.are.same({true, "no engine in this build applies lua.alloc_cap yet", "Lua allocator cap"},
                    reasons["lua.alloc_cap"])
    assert.are.same({true, "no engine in this build applies signing.chain yet",
                     "signature verification chain"}, reasons["signing.chain"])
  end)

  it("refuses what the host lacks even where an engine is provided", function()
    provide_all()
    local bad = enforcement.failing(enforcement.explain(asking("PROCESS"), NOTHING))
    local names = {}
    for _, r in ipairs(bad) do names[#names + 1] = r.name end
    assert.are.same({"process.worker", "rlimit.data", "cgroup.memory", "cgroup.cpu",
                     "rlimit.nofile", "landlock.fs", "seccomp", "netns", "landlock.net",
                     "seccomp.no_exec", "landlock.fs"}, names)
    for _, r in ipairs(bad) do assert.is_true(r.implemented) end
  end)

  it("picks among alternatives: working, else offered by the host, else the first", function()
    local function net_row(h)
      for _, r in ipairs(enforcement.explain(asking("PROCESS"), h)) do
        if r.field == "allow_network" and r.name ~= "netns" then return r end
      end
    end
    local old = everything()
    old.landlock.abi = 3
    local r = net_row(old)
    assert.are.equal("seccomp.net", r.name)            -- Landlock ABI 3 has no TCP rules
    assert.are.same({"landlock.net", "seccomp.net"}, r.alternatives)
    assert.are.equal("landlock.net", net_row(everything()).name)
    enforcement.provide("seccomp.net", "seccomp-engine")
    r = net_row(everything())
    assert.are.equal("seccomp.net", r.name)            -- the one an engine applies
    assert.is_true(r.implemented)
    assert.are.equal("seccomp-engine", r.engine)
    local none = net_row(NOTHING)
    assert.are.equal("landlock.net", none.name)
    assert.are.equal("Landlock was not probed", none.reason)
    local abi3 = net_row({landlock = {available = true, reason = "Landlock ABI 3", abi = 3,
                                      restrict = yes()}})
    assert.are.equal("landlock.net", abi3.name)        -- neither is offered: the first
    assert.are.equal("Landlock ABI 3 has no TCP bind and connect rules (they arrived in ABI 4, " ..
                     "Linux 6.7)", abi3.reason)
  end)

  it("namespaces: ours, or else inside a user namespace of our own", function()
    local h = everything()
    h.namespaces.net = {available = false, tried = true,
                        reason = "unshare(CLONE_NEWNET) as this uid: Operation not permitted (EPERM)",
                        unprivileged = yes("uid 1000 can unshare(CLONE_NEWNET) inside a new user namespace")}
    local ok, reason = host.has("netns", h)
    assert.is_true(ok)
    assert.are.equal("uid 1000 can unshare(CLONE_NEWNET) inside a new user namespace", reason)
    h.namespaces.net.unprivileged = {available = false, tried = true,
                                     reason = "unshare(CLONE_NEWUSER) as uid 1000: No space left on device (ENOSPC)"}
    ok, reason = host.has("netns", h)
    assert.is_false(ok)
    assert.are.equal("unshare(CLONE_NEWNET) as this uid: Operation not permitted (EPERM); " ..
                     "unprivileged: unshare(CLONE_NEWUSER) as uid 1000: No space left on device (ENOSPC)",
                     reason)
  end)

  it("rlimits: a hard limit below the value is stricter, not a refusal", function()
    local function nofile(h)
      for _, r in ipairs(enforcement.explain(asking("PROCESS"), h)) do
        if r.name == "rlimit.nofile" then return r.available, r.host_reason end
      end
    end
    local h = everything()
    assert.are.same({true, "RLIMIT_NOFILE soft 1024, hard 4096: can be set to the policy's value"},
                    {nofile(h)})
    local p = asking("PROCESS")
    p.resource_limits.max_file_descriptors = 10000
    local rows = enforcement.explain(p, h)
    assert.are.equal("RLIMIT_NOFILE soft 1024, hard 4096: below the policy's 10000 descriptors " ..
                     "and cannot be raised without CAP_SYS_RESOURCE, so the sandbox gets the " ..
                     "stricter hard limit", rows[7].host_reason)
    assert.is_true(rows[7].available)
    h.rlimits.cap_sys_resource = true
    rows = enforcement.explain(p, h)
    assert.are.equal("RLIMIT_NOFILE soft 1024, hard 4096: CAP_SYS_RESOURCE allows raising it " ..
                     "to the policy's value", rows[7].host_reason)
    assert.are.equal("RLIMIT_DATA soft unlimited, hard unlimited: can be set to the policy's value",
                     rows[4].host_reason)
  end)

  it("takes enums in any case, and a frozen SecurityPolicy", function()
    local p = asking("process")
    p.enforcement = "Best_Effort"
    assert.are.equal(18, #enforcement.explain(p, everything()))
    local ok, security = pcall(require, "truthound.security")
    if not (ok and security.SecurityPolicy) then
      return pending("truthound.security is not available: " .. tostring(security))
    end
    local sp = security.SecurityPolicy.new{isolation_level = "container"}
    local rows = enforcement.explain(sp, everything())
    assert.is_true(#rows > 0)
    for _, r in ipairs(rows) do
      if type(r.value) == "table" then assert.is_nil(getmetatable(r.value), r.field) end
    end
  end)

  it("refuses what is not a policy, naming the field", function()
    local e = raised(enforcement.explain, asking("VM"), NOTHING)
    assert.is_true(errors.is(e, "PolicyError"))
    assert.are.equal("isolation_level", e.field)
    assert.are.equal('PolicyError: isolation_level: expected NONE, PROCESS or CONTAINER, got "VM"',
                     tostring(e))
    e = raised(enforcement.explain, {enforcement = "strict"}, NOTHING)
    assert.are.equal("isolation_level: expected NONE, PROCESS or CONTAINER, got nothing", e.message)
    e = raised(enforcement.check, asking("NONE", {enforcement = "lenient"}), NOTHING)
    assert.are.equal("enforcement", e.field)
    assert.are.equal('enforcement: expected "strict" or "best_effort", got "lenient"', e.message)
    e = raised(enforcement.check, "standard", NOTHING)
    assert.are.equal("expected a SecurityPolicy or a table, got string", e.message)
  end)
end)

describe("check", function()
  it("passes when every row is offered and applied", function()
    provide_all("test-engine")
    for _, level in ipairs{"NONE", "PROCESS", "CONTAINER"} do
      local p = asking(level)
      if level == "NONE" then   -- the refusals stay refusals
        p.resource_limits.max_cpu_percent = nil
        p.resource_limits.max_file_descriptors = nil
        p.resource_limits.denied_syscalls = {}
      end
      local warnings, bad = enforcement.check(p, everything())
      assert.are.same({}, warnings, level)
      assert.are.same({}, bad, level)
    end
    local r = enforcement.explain(asking("PROCESS"), everything())[1]
    assert.are.equal("applied by test-engine; prctl(PR_SET_NO_NEW_PRIVS) works", r.reason)
    assert.are.equal("test-engine", r.engine)
  end)

  it("strict: raises a PolicyError naming every field and mechanism", function()
    local p = lax("PROCESS")
    p.name = "mine"
    p.resource_limits.max_cpu_percent = 50
    local e = raised(enforcement.check, p, NOTHING)
    assert.is_true(errors.is(e, "PolicyError"))
    assert.are.equal(table.concat({
      'PolicyError: policy "mine" cannot be enforced on this host:',
      "  isolation_level: process.worker (worker process: fork+exec, unprivileged uid, " ..
        "no_new_privs): no_new_privs was not probed",
      "  resource_limits.max_cpu_percent: cgroup.cpu (cgroup cpu controller (v2 or v1)): no " ..
        "writable cpu controller: cgroup v2: cgroup v2 cpu was not probed; cgroup v1: cgroup v1 " ..
        "cpu was not probed",
      '(enforcement = "best_effort" would run it with warnings instead)',
    }, "\n"), tostring(e))
    assert.are.equal("isolation_level", e.field)
    assert.are.equal("process.worker", e.mechanism)
    assert.are.equal(2, #e.problems)
    assert.are.same({field = "resource_limits.max_cpu_percent", mechanism = "cgroup.cpu",
                     label = "cgroup cpu controller (v2 or v1)",
                     reason = "no writable cpu controller: cgroup v2: cgroup v2 cpu was not " ..
                              "probed; cgroup v1: cgroup v1 cpu was not probed"}, e.problems[2])
  end)

  it("strict: a mechanism no engine applies yet is refused too", function()
    local p = lax("PROCESS")
    enforcement.provide("process.worker", "worker")
    p.allow_network = false
    enforcement.provide("netns", "netns-engine")
    local e = raised(enforcement.check, p, everything())
    assert.are.equal(table.concat({
      "policy cannot be enforced on this host:",
      "  allow_network: landlock.net (Landlock ABI 7 TCP bind and connect rules): no engine in " ..
        "this build applies landlock.net yet",
      '(enforcement = "best_effort" would run it with warnings instead)',
    }, "\n"), e.message)
    assert.are.equal("allow_network", e.field)
    assert.are.equal("landlock.net", e.mechanism)
  end)

  it("strict at NONE: max_cpu_percent, max_file_descriptors and denied_syscalls are refused", function()
    provide_all()
    local e = raised(enforcement.check, asking("NONE"), everything())
    assert.are.equal(table.concat({
      "policy cannot be enforced on this host:",
      "  resource_limits.max_cpu_percent: none at NONE isolation: nothing can cap the CPU share " ..
        "of a plugin inside the host process; use PROCESS or CONTAINER isolation, or leave it unset",
      "  resource_limits.max_file_descriptors: none at NONE isolation: nothing can cap the " ..
        "descriptors of a plugin that shares the host process's table; use PROCESS or CONTAINER " ..
        "isolation, or leave it unset",
      "  resource_limits.denied_syscalls: none at NONE isolation: a seccomp filter would confine " ..
        "the host process, not the plugin inside it; use PROCESS or CONTAINER isolation",
      '(enforcement = "best_effort" would run it with warnings instead)',
    }, "\n"), e.message)
    assert.are.equal("none", e.mechanism)
  end)

  it("a path-named policy is the error's source", function()
    local p = lax("PROCESS")
    p.name = "/etc/tplua/policy.lua"
    local e = raised(enforcement.check, p, NOTHING)
    assert.are.equal("/etc/tplua/policy.lua", e.source)
  end)

  it("best_effort: one warning per field instead", function()
    enforcement.provide("lua.alloc_cap", "lua-engine")
    local p = asking("PROCESS", {enforcement = "best_effort"})
    local warnings, bad = enforcement.check(p, everything())
    assert.are.equal(18 - 1, #bad)     -- every row but lua.alloc_cap's
    assert.are.equal(15, #warnings)    -- one per field
    assert.are.equal("isolation_level is not enforced at full strength: process.worker (no engine " ..
                     "in this build applies process.worker yet)", warnings[1])
    assert.are.equal("resource_limits.max_memory_mb is not enforced at full strength: rlimit.data " ..
                     "(no engine in this build applies rlimit.data yet); cgroup.memory (no engine " ..
                     "in this build applies cgroup.memory yet)", warnings[3])
    local none = asking("NONE", {enforcement = "best_effort"})
    warnings = enforcement.check(none, NOTHING)
    assert.are.equal("resource_limits.max_cpu_percent is not enforced at full strength: none at " ..
                     "NONE isolation (nothing can cap the CPU share of a plugin inside the host " ..
                     "process; use PROCESS or CONTAINER isolation, or leave it unset)", warnings[2])
  end)

  it("defaults to the host's own probe", function()
    local rows = enforcement.explain(asking("PROCESS"))
    assert.are.equal(18, #rows)
    local h = host.probe()
    assert.are.equal((host.has("landlock.fs", h)), rows[8].available)
  end)
end)

describe("the engine registry", function()
  it("provides, reports and withdraws", function()
    assert.is_nil(enforcement.provider("seccomp"))
    enforcement.provide("seccomp", "seccomp-engine")
    assert.are.equal("seccomp-engine", enforcement.provider("seccomp"))
    enforcement.withdraw("seccomp")
    assert.is_nil(enforcement.provider("seccomp"))
  end)

  it("refuses unknown mechanisms and unnamed engines", function()
    local e = raised(enforcement.provide, "seccomp.everything", "x")
    assert.matches("unknown mechanism 'seccomp.everything'; known: ", e, 1, true)
    assert.matches("enforcement.provide: the engine must be named",
                   raised(enforcement.provide, "seccomp", ""), 1, true)
  end)
end)

describe("the presets on this host", function()
  it("are refused or warned about exactly when a row is not enforced", function()
    local ok, security = pcall(require, "truthound.security")
    if not (ok and security.policies) then return pending("no presets yet") end
    for _, name in ipairs(security.policies.list()) do
      local p = security.policies.get(name)
      local bad = enforcement.failing(enforcement.explain(p))
      local cok, warnings = pcall(enforcement.check, p)
      if #bad == 0 then
        assert.is_true(cok, name)
        assert.are.same({}, warnings)
      elseif p.enforcement == "best_effort" then
        assert.is_true(cok, name)
        local fields = {}
        for _, r in ipairs(bad) do fields[r.field] = true end
        local n = 0
        for _ in pairs(fields) do n = n + 1 end
        assert.are.equal(n, #warnings, name)
      else
        assert.is_false(cok, name)
        assert.is_true(errors.is(warnings, "PolicyError"), name)
        assert.are.equal(bad[1].field, warnings.field)
      end
    end
  end)
end)
