-- truthound.security.policies: the six presets, policy.lua files (with
-- extends), create_policy. The vectors are in tests/vectors/policies/.

local security = require("truthound.security")
local policies = require("truthound.security.policies")
local errors = require("truthound.errors")
local datafile = require("truthound.datafile")
local frozen = require("truthound.frozen")

local SecurityPolicy, ResourceLimits = security.SecurityPolicy, security.ResourceLimits

local VECTORS = "tests/vectors/policies/"

local function raised(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return e
end

local function thaw(v) return frozen.thaw(v) end

local function tmpdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  finally(function() os.execute("rm -rf '" .. dir .. "'") end)
  return dir
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- Every field of every preset (docs/policies.md has the same table).
local DENIED_BASE = {"add_key", "bpf", "keyctl", "perf_event_open", "process_vm_readv",
                     "process_vm_writev", "ptrace", "request_key", "unshare", "userfaultfd"}
local DENIED_STRICT = {"acct", "add_key", "adjtimex", "bpf", "chroot", "clock_adjtime",
  "clock_settime", "delete_module", "finit_module", "init_module", "io_uring_enter",
  "io_uring_register", "io_uring_setup", "kexec_file_load", "kexec_load", "keyctl",
  "lookup_dcookie", "mbind", "migrate_pages", "mount", "move_pages", "name_to_handle_at",
  "open_by_handle_at", "perf_event_open", "personality", "pivot_root", "process_vm_readv",
  "process_vm_writev", "ptrace", "quotactl", "reboot", "request_key", "setdomainname",
  "sethostname", "setns", "settimeofday", "swapoff", "swapon", "syslog", "umount2", "unshare",
  "userfaultfd"}
local BLOCKED = {"debug", "ffi", "io", "os", "package"}
local BLOCKED_STRICT = {"debug", "ffi", "io", "lfs", "luv", "os", "package", "posix", "socket"}

local function preset(iso, mem, cpu, time, fds, paths, denied, net, sub, write_, blocked,
                      sigs, trusted, age, enforcement)
  return {
    isolation_level = iso,
    resource_limits = {max_memory_mb = mem, max_cpu_percent = cpu, max_execution_time_sec = time,
                       max_file_descriptors = fds, allowed_paths = paths, writable_paths = {},
                       denied_syscalls = denied},
    allow_network = net, allow_subprocess = sub, allow_file_write = write_,
    allowed_modules = {}, blocked_modules = blocked, required_signatures = sigs,
    require_trusted_signer = trusted, signature_max_age_days = age, enforcement = enforcement,
  }
end

local EXPECTED = {
  development = preset("NONE", 4096, 100, 600, 1024, {"/"}, {}, true, true, true, {},
                       0, false, nil, "best_effort"),
  testing = preset("NONE", 2048, 100, 120, 1024, {"/"}, {}, true, false, true, {"debug"},
                   0, false, nil, "best_effort"),
  standard = preset("PROCESS", 512, 50, 30, 256, {}, DENIED_BASE, false, false, false, BLOCKED,
                    1, true, nil, "strict"),
  enterprise = preset("PROCESS", 1024, 80, 60, 512, {}, DENIED_BASE, false, false, false,
                      BLOCKED, 1, true, 365, "strict"),
  strict = preset("CONTAINER", 128, 25, 10, 64, {}, DENIED_STRICT, false, false, false,
                  BLOCKED_STRICT, 2, true, 90, "strict"),
  airgapped = preset("CONTAINER", 256, 50, 30, 64, {}, DENIED_STRICT, false, false, false,
                     BLOCKED_STRICT, 2, true, 365, "strict"),
}

-- A policy's fields without its name and description.
local function fields(p)
  local t = thaw(p)
  t.name, t.description = nil, nil
  return t
end

describe("the presets", function()
  it("are listed weakest first", function()
    assert.are.same({"development", "testing", "standard", "enterprise", "strict", "airgapped"},
                    policies.list())
  end)

  it("have the seed's values and the documented rest", function()
    for name, want in pairs(EXPECTED) do
      local p = policies.get(name)
      assert.are.same(want, fields(p), name)
      assert.are.equal(name, p.name)
      assert.is_string(p.description)
    end
  end)

  it("match the seed's table", function()
    local seed = {  -- isolation, memory, CPU, time, network, signatures
      DEVELOPMENT = {"NONE", 4096, 100, 600, true, 0},
      TESTING = {"NONE", 2048, 100, 120, true, 0},
      STANDARD = {"PROCESS", 512, 50, 30, false, 1},
      ENTERPRISE = {"PROCESS", 1024, 80, 60, false, 1},
      STRICT = {"CONTAINER", 128, 25, 10, false, 2},
      AIRGAPPED = {"CONTAINER", 256, 50, 30, false, 2},
    }
    for name, s in pairs(seed) do
      local p = policies[name]
      local rl = p.resource_limits
      assert.are.same(s, {p.isolation_level, rl.max_memory_mb, rl.max_cpu_percent,
                          rl.max_execution_time_sec, p.allow_network, p.required_signatures},
                      name)
    end
  end)

  it("are the same frozen objects however they are reached", function()
    assert.are.equal(policies.STRICT, policies.get("strict"))
    assert.are.equal(policies.STRICT, policies.get("STRICT"))
    assert.are.equal(policies.STRICT, policies.get("Strict"))
    assert.are.equal(policies.STRICT, policies.get(policies.STRICT))
    assert.is_true(SecurityPolicy.is(policies.AIRGAPPED))
    assert.matches("read%-only", raised(function() policies.STANDARD.allow_network = true end))
    assert.is_nil(policies.NOPE)
    assert.is_nil(policies.strict)       -- constants are upper case; get() takes any case
  end)

  it("are files on package.path, read by the loader for user files", function()
    for _, name in ipairs(policies.list()) do
      local path = package.searchpath("truthound.presets." .. name, package.path)
      assert.is_string(path, name)
      local p, info = policies.load(path)
      assert.are.same(fields(policies.get(name)), fields(p))
      assert.are.equal(path, p.name)
      assert.is_number(info.lines[""])   -- each is a `return {...}` data file
    end
  end)

  it("define the defaults: SecurityPolicy.new{} is STANDARD, ResourceLimits too", function()
    assert.are.same(fields(policies.STANDARD), fields(SecurityPolicy.new{}))
    assert.are.same(thaw(policies.STANDARD.resource_limits), ResourceLimits.new{}:to_table())
    assert.are.same(thaw(policies.STANDARD.resource_limits), ResourceLimits.standard():to_table())
    assert.are.same(thaw(policies.STRICT.resource_limits), ResourceLimits.minimal():to_table())
    assert.are.same(DENIED_BASE, ResourceLimits.DENIED_BASE)
    assert.are.same(DENIED_STRICT, ResourceLimits.DENIED_STRICT)
  end)

  it("grow stricter down the list", function()
    local rank = {NONE = 1, PROCESS = 2, CONTAINER = 3}
    local prev
    for _, name in ipairs{"standard", "strict"} do
      local p = policies.get(name)
      if prev then
        assert.is_true(rank[p.isolation_level] > rank[prev.isolation_level])
        assert.is_true(p.required_signatures > prev.required_signatures)
        assert.is_true(p.resource_limits.max_memory_mb < prev.resource_limits.max_memory_mb)
      end
      prev = p
    end
    for _, name in ipairs{"standard", "enterprise", "strict", "airgapped"} do
      local p = policies.get(name)
      assert.is_false(p.allow_network, name)
      assert.is_false(p.allow_subprocess, name)
      for _, m in ipairs{"debug", "io", "os", "package"} do
        assert.is_false((p:allows_module(m)), name .. " " .. m)
      end
    end
  end)

  it("get() refuses an unknown name, listing the presets", function()
    local e = raised(policies.get, "stict")
    assert.is_true(errors.is(e, "PolicyError"))
    assert.are.equal('unknown policy preset "stict"; expected one of development, testing, ' ..
                     "standard, enterprise, strict, airgapped (did you mean 'strict'?)", e.message)
    assert.are.equal("stict", e.input)
    e = raised(policies.get, "paranoid")
    assert.are.equal('unknown policy preset "paranoid"; expected one of development, testing, ' ..
                     "standard, enterprise, strict, airgapped", e.message)
    e = raised(policies.get, 3)
    assert.are.equal("expected a preset name (development, testing, standard, enterprise, " ..
                     "strict, airgapped), got 3", e.message)
  end)
end)

describe("policies.load", function()
  it("reads flat keys and quantities with units", function()
    local p, info = policies.load(VECTORS .. "good/flat.lua")
    local rl = p.resource_limits
    assert.are.equal("PROCESS", p.isolation_level)
    assert.are.same({1536, 12.5, 90, 128},
                    {rl.max_memory_mb, rl.max_cpu_percent, rl.max_execution_time_sec,
                     rl.max_file_descriptors})
    assert.are.same({"/srv/data", "/srv/input"}, thaw(rl.allowed_paths))
    assert.are.same({"/srv/out"}, thaw(rl.writable_paths))
    assert.are.equal(90, p.signature_max_age_days)
    assert.are.equal(VECTORS .. "good/flat.lua", p.name)
    assert.is_true(p:allows_module("socket.http"))
    assert.is_false((p:allows_module("socket.unix")))
    assert.is_false((p:allows_module("os")))
    -- untouched fields are STANDARD's
    assert.are.same(DENIED_BASE, thaw(rl.denied_syscalls))
    assert.are.equal(1, p.required_signatures)
    assert.are.equal(4, info.lines.max_memory_mb)
    assert.are.same({VECTORS .. "good/flat.lua"}, info.chain)
  end)

  it("reads resource_limits as a table, with any-case enums", function()
    local p = policies.load(VECTORS .. "good/nested.lua")
    local rl = p.resource_limits
    assert.are.equal("nested example", p.name)
    assert.are.equal("limits inside resource_limits", p.description)
    assert.are.equal("CONTAINER", p.isolation_level)
    assert.are.equal("best_effort", p.enforcement)
    assert.are.same({300, 33.3, 0.5, 32}, {rl.max_memory_mb, rl.max_cpu_percent,
                                           rl.max_execution_time_sec, rl.max_file_descriptors})
    assert.are.same({"ptrace", "mount"}, thaw(rl.denied_syscalls))
    assert.are.equal(3, p.required_signatures)
  end)

  it("gives an empty file STANDARD's values", function()
    assert.are.same(fields(policies.STANDARD), fields(policies.load(VECTORS .. "good/empty.lua")))
  end)

  it("applies the file over the preset it extends", function()
    local p, info = policies.load(VECTORS .. "good/extends_preset.lua")
    local want = thaw(policies.STRICT)
    want.name, want.description = nil, nil
    want.resource_limits.max_memory_mb = 256
    want.allow_network = true
    assert.are.same(want, fields(p))
    assert.are.equal(2, #info.chain)
    assert.matches("strict%.lua$", info.chain[2])
  end)

  it("follows a chain of relative paths, each from its own file", function()
    local p, info = policies.load(VECTORS .. "good/chain/app.lua")
    local rl = p.resource_limits
    assert.are.equal(120, rl.max_execution_time_sec)            -- app.lua
    assert.are.same({"/srv/team"}, thaw(rl.allowed_paths))        -- sub/team.lua
    assert.are.equal(60, rl.max_cpu_percent)                      -- base.lua
    assert.are.same({"debug", "ffi", "io", "os", "package", "socket"}, thaw(p.blocked_modules))
    assert.are.equal(1024, rl.max_memory_mb)                      -- enterprise
    assert.are.equal(365, p.signature_max_age_days)
    assert.are.equal(VECTORS .. "good/chain/app.lua", p.name)   -- names are not inherited
    assert.are.same({VECTORS .. "good/chain/app.lua", VECTORS .. "good/chain/sub/team.lua",
                     VECTORS .. "good/chain/base.lua"}, {info.chain[1], info.chain[2], info.chain[3]})
    assert.matches("enterprise%.lua$", info.chain[4])
  end)

  -- Each bad vector states the problems it must produce ("-- expect:").
  local function expected_of(path, dir)
    local want = {}
    for line in io.lines(path) do
      local e = line:match("^%-%- expect: (.*)$")
      if e then want[#want + 1] = (e:gsub("%$DIR/", function() return dir end)) end
    end
    return want
  end

  local function problems_of(e)
    if e.problems then return e.problems end
    -- A single error from the loader: its message carries the location.
    local prefix = e.source .. (e.line and (":" .. e.line) or "") .. ": " ..
                   (e.field and (e.field .. ": ") or "")
    local m = tostring(e.message)
    assert.are.equal(prefix, m:sub(1, #prefix))
    return {{source = e.source, line = e.line, field = e.field, message = m:sub(#prefix + 1)}}
  end

  local bad = {}
  for name in io.popen("cd " .. VECTORS .. "bad && ls *.lua cycle/*.lua"):lines() do
    bad[#bad + 1] = name
  end

  it("finds the bad vectors", function()
    assert.is_true(#bad >= 25)
  end)

  for _, name in ipairs(bad) do
    it("refuses bad/" .. name .. " with exactly the problems it lists", function()
      local dir = VECTORS .. "bad/"
      local want = expected_of(dir .. name, dir)
      assert.is_true(#want > 0, "no expectations in " .. name)
      local e = raised(policies.load, dir .. name)
      assert.is_true(errors.is(e, "PolicyError"), tostring(e))
      local got = {}
      for _, p in ipairs(problems_of(e)) do
        local src = p.source:sub(1, #dir) == dir and p.source:sub(#dir + 1) or p.source
        got[#got + 1] = ("%s%s: %s: %s"):format(src ~= name and (src .. ":") or "",
                                                p.line or "-", p.field or "", p.message)
      end
      assert.are.same(want, got)
      -- The message repeats every problem as "source:line: field: message".
      for _, p in ipairs(problems_of(e)) do
        assert.matches(datafile.format_problem(p), tostring(e), 1, true)
      end
    end)
  end

  it("reports a cycle with the chain, at the extends that closes it", function()
    local dir = VECTORS .. "bad/cycle/"
    local e = raised(policies.load, dir .. "one.lua")
    assert.are.same({dir .. "one.lua", dir .. "two.lua", dir .. "three.lua", dir .. "one.lua"},
                    e.chain)
    assert.are.equal(dir .. "three.lua", e.source)
    assert.are.equal(3, e.line)
    assert.are.equal("extends", e.field)
  end)

  it("says which file extended a base that has problems", function()
    local e = raised(policies.load, VECTORS .. "bad/extends_bad_base.lua")
    assert.are.equal(VECTORS .. "bad/ranges.lua", e.source)
    assert.are.same({VECTORS .. "bad/extends_bad_base.lua:2"}, e.extended_by)
    assert.matches("\n(extended by " .. VECTORS .. "bad/extends_bad_base.lua:2)",
                   e.message, 1, true)
  end)

  it("stops a chain longer than 16 files", function()
    local dir = tmpdir()
    for i = 1, 20 do
      write(("%s/p%d.lua"):format(dir, i), ('return {extends = "./p%d.lua"}\n'):format(i + 1))
    end
    write(dir .. "/p21.lua", "return {}\n")
    local e = raised(policies.load, dir .. "/p1.lua")
    assert.are.equal(dir .. "/p16.lua", e.source)
    assert.are.equal("extends chain longer than 16 files", e.problems[1].message)
    -- 16 is fine
    assert.is_true(SecurityPolicy.is(policies.load(dir .. "/p6.lua")))
  end)

  it("extends only regular files", function()
    local dir = tmpdir()
    write(dir .. "/dev.lua", 'return {extends = "/dev/zero"}\n')
    write(dir .. "/dir.lua", 'return {extends = "/"}\n')
    local e = raised(policies.load, dir .. "/dev.lua")
    assert.are.equal('cannot extend "/dev/zero": /dev/zero is a device, FIFO or socket, ' ..
                     "not a regular file", e.problems[1].message)
    e = raised(policies.load, dir .. "/dir.lua")
    assert.are.equal('cannot extend "/": / is a directory, not a regular file',
                     e.problems[1].message)
  end)

  it("sees through symbolic links when it looks for a cycle", function()
    local dir = tmpdir()
    write(dir .. "/a.lua", 'return {extends = "./link.lua"}\n')
    assert(os.execute(("ln -s a.lua '%s/link.lua'"):format(dir)))
    local e = raised(policies.load, dir .. "/a.lua")
    assert.are.same({dir .. "/a.lua", dir .. "/link.lua"}, e.chain)
    assert.are.equal("cycle in extends: " .. dir .. "/a.lua -> " .. dir .. "/link.lua",
                     e.problems[1].message)
  end)

  it("resolves an absolute extends as it is", function()
    local dir = tmpdir()
    write(dir .. "/base.lua", "return {max_memory_mb = 64}\n")
    write(dir .. "/child.lua", ('return {extends = %q}\n'):format(dir .. "/./base.lua"))
    assert.are.equal(64, policies.load(dir .. "/child.lua").resource_limits.max_memory_mb)
  end)

  it("refuses a missing or unreadable file with its path", function()
    local e = raised(policies.load, VECTORS .. "no-such.lua")
    assert.is_true(errors.is(e, "PolicyError"))
    assert.are.equal(VECTORS .. "no-such.lua", e.source)
    assert.matches("cannot open", e.message)
    e = raised(policies.load, VECTORS)
    assert.is_true(errors.is(e, "PolicyError"))
    assert.is_true(errors.is(raised(policies.load, 42), "UsageError"))
  end)
end)

describe("policies.eval", function()
  it("reads a policy from text, with lines in its problems", function()
    local p = policies.eval('return {\n  isolation_level = "none",\n}\n', "inline.lua")
    assert.are.equal("NONE", p.isolation_level)
    assert.are.equal("inline.lua", p.name)
    local e = raised(policies.eval, "return {\n  max_memory_mb = 0,\n}\n", "inline.lua")
    assert.are.equal("PolicyError: inline.lua:2: max_memory_mb: expected a memory size of at " ..
                     "least 1 MiB, got 0", tostring(e))
    assert.are.equal(2, e.line)
    assert.are.equal("max_memory_mb", e.field)
  end)

  it("resolves a relative extends from the name's directory", function()
    local p = policies.eval('return {extends = "./good/nested.lua"}', VECTORS .. "inline.lua")
    assert.are.equal(300, p.resource_limits.max_memory_mb)
  end)
end)

describe("policies.create_policy", function()
  it("merges flat overrides into the right sub-table (the seed's example)", function()
    local p = policies.create_policy{base = policies.STANDARD, max_memory_mb = 1024,
                                     allow_network = true}
    local want = fields(policies.STANDARD)
    want.resource_limits.max_memory_mb = 1024
    want.allow_network = true
    assert.are.same(want, fields(p))
    assert.is_nil(p.name)
  end)

  it("starts from STANDARD, a preset name, or a table of fields", function()
    assert.are.same(fields(policies.STANDARD), fields(policies.create_policy{}))
    assert.are.same(fields(policies.STANDARD), fields(policies.create_policy()))
    local p = policies.create_policy{base = "airgapped", max_cpu_percent = "10%"}
    assert.are.equal("CONTAINER", p.isolation_level)
    assert.are.equal(10, p.resource_limits.max_cpu_percent)
    local q = policies.create_policy{base = {isolation_level = "none", required_signatures = 0,
                                             require_trusted_signer = false},
                                     resource_limits = {max_memory_mb = "64MB"}}
    assert.are.equal("NONE", q.isolation_level)
    assert.are.equal(64, q.resource_limits.max_memory_mb)
    assert.are.equal(50, q.resource_limits.max_cpu_percent)
    assert.are.equal("named", policies.create_policy{name = "named"}.name)
  end)

  it("reports problems of the base and of the overrides together", function()
    local e = raised(policies.create_policy, {base = "standrd", max_memory_mb = -1})
    assert.are.equal("create_policy", e.source)
    local list = {}
    for i, p in ipairs(e.problems) do list[i] = p.field .. ": " .. p.message end
    assert.are.same({
      "base: unknown policy preset \"standrd\"; expected one of development, testing, standard, " ..
        "enterprise, strict, airgapped (did you mean 'standard'?)",
      "max_memory_mb: expected a memory size of at least 1 MiB, got -1",
    }, list)
    e = raised(policies.create_policy, {base = {allow_network = "yes"}})
    assert.are.equal("base.allow_network", e.problems[1].field)
    e = raised(policies.create_policy, {base = 5})
    assert.are.equal("expected a SecurityPolicy, a preset name or a table of fields, got 5",
                     e.problems[1].message)
    e = raised(policies.create_policy, {extends = "strict"})
    assert.are.equal("unknown key (extends is read in policy files; here write base = ...)",
                     e.problems[1].message)
    e = raised(policies.create_policy, "strict")
    assert.are.equal('expected a table of fields with an optional base, got "strict"',
                     e.problems[1].message)
  end)
end)

describe("docs/policies.md", function()
  it("has examples that load", function()
    local f = assert(io.open("docs/policies.md", "rb"))
    local text = f:read("a")
    f:close()
    local n = 0
    for block in text:gmatch("```lua\n(.-)```") do
      if block:match("^%-%-[^\n]*\nreturn {") or block:match("^return {") then
        n = n + 1
        local ok, e = pcall(policies.eval, block, "docs/policies.md")
        assert.is_true(ok, tostring(e) .. "\n" .. block)
      end
    end
    assert.is_true(n >= 7, "found " .. n .. " examples")
  end)
end)
