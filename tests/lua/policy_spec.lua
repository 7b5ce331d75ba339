-- The policy model: IsolationLevel, ResourceLimits, SecurityPolicy
-- (truthound.security). Files, presets and extends: policies_spec.lua;
-- hostile files: policy_hostile_spec.lua.

local security = require("truthound.security")
local errors = require("truthound.errors")
local datafile = require("truthound.datafile")
local frozen = require("truthound.frozen")

local IsolationLevel = security.IsolationLevel
local ResourceLimits = security.ResourceLimits
local SecurityPolicy = security.SecurityPolicy

local function raised(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return e
end

-- The problems of a PolicyError as "field: message" lines (in order).
local function problems(e)
  assert.is_true(errors.is(e, "PolicyError"), tostring(e))
  local out = {}
  for i, p in ipairs(e.problems) do out[i] = (p.field or "") .. ": " .. p.message end
  return out
end

local function policy_problems(spec)
  return problems(raised(SecurityPolicy.new, spec))
end

local function limit_problems(spec)
  return problems(raised(ResourceLimits.new, spec))
end

describe("IsolationLevel", function()
  it("is a table of string constants, weakest first", function()
    assert.are.equal("NONE", IsolationLevel.NONE)
    assert.are.equal("PROCESS", IsolationLevel.PROCESS)
    assert.are.equal("CONTAINER", IsolationLevel.CONTAINER)
    assert.are.same({"NONE", "PROCESS", "CONTAINER"}, IsolationLevel.list())
  end)

  it("parses any case and names what it expected", function()
    assert.are.equal("PROCESS", IsolationLevel.parse("process"))
    assert.are.equal("CONTAINER", IsolationLevel.parse("Container"))
    local v, msg = IsolationLevel.parse("proces")
    assert.is_nil(v)
    assert.are.equal('unknown isolation level "proces"; expected one of NONE, PROCESS, ' ..
                     "CONTAINER (did you mean 'PROCESS'?)", msg)
    assert.is_nil((IsolationLevel.parse(3)))
  end)

  it("cannot be changed", function()
    assert.matches("read%-only", raised(function() IsolationLevel.WASM = "WASM" end))
  end)

  it("has an Enforcement sibling", function()
    assert.are.same({"strict", "best_effort"}, security.Enforcement.list())
    assert.are.equal("best_effort", security.Enforcement.parse("BEST_EFFORT"))
  end)
end)

describe("ResourceLimits", function()
  it("has the seed's three presets", function()
    local m, s, g = ResourceLimits.minimal(), ResourceLimits.standard(), ResourceLimits.generous()
    assert.are.same({128, 25, 10, 64}, {m.max_memory_mb, m.max_cpu_percent,
                                        m.max_execution_time_sec, m.max_file_descriptors})
    assert.are.same({512, 50, 30, 256}, {s.max_memory_mb, s.max_cpu_percent,
                                         s.max_execution_time_sec, s.max_file_descriptors})
    assert.are.same({2048, 100, 300, 1024}, {g.max_memory_mb, g.max_cpu_percent,
                                             g.max_execution_time_sec, g.max_file_descriptors})
    for _, l in ipairs{m, s, g} do
      assert.are.same({}, frozen.thaw(l.allowed_paths))
      assert.are.same({}, frozen.thaw(l.writable_paths))
      assert.is_true(ResourceLimits.is(l))
    end
    assert.are.same(ResourceLimits.DENIED_BASE, frozen.thaw(s.denied_syscalls))
    assert.are.same(ResourceLimits.DENIED_STRICT, frozen.thaw(m.denied_syscalls))
  end)

  it("fills omitted fields with standard()'s values", function()
    assert.are.same(ResourceLimits.standard():to_table(), ResourceLimits.new{}:to_table())
    assert.are.same(ResourceLimits.standard():to_table(), ResourceLimits.new():to_table())
    local l = ResourceLimits.new{max_memory_mb = 100}
    assert.are.equal(100, l.max_memory_mb)
    assert.are.equal(50, l.max_cpu_percent)
  end)

  it("reads quantities as numbers in the field's unit or as strings with a unit", function()
    local sizes = {
      {512, 512}, {512.0, 512}, {"512MB", 512}, {"512MiB", 512}, {"512M", 512},
      {"512mb", 512}, {"1.5GiB", 1536}, {"1GB", 1024}, {"1G", 1024}, {"2048KiB", 2},
      {"1TiB", 1048576}, {" 64 MB ", 64}, {"1048576K", 1024}, {"134217728B", 128},
    }
    for _, c in ipairs(sizes) do
      local v = ResourceLimits.new{max_memory_mb = c[1]}.max_memory_mb
      assert.are.equal(c[2], v, tostring(c[1]))
      assert.are.equal("integer", math.type(v), tostring(c[1]))
    end
    local durations = {
      {30, 30}, {0.5, 0.5}, {"30s", 30}, {"2m", 120}, {"500ms", 0.5}, {"1m30s", 90},
      {"1h", 3600}, {"1d", 86400}, {"1.5s", 1.5}, {"1h30m", 5400}, {"250ms", 0.25},
    }
    for _, c in ipairs(durations) do
      assert.are.equal(c[2], ResourceLimits.new{max_execution_time_sec = c[1]}
                             .max_execution_time_sec, tostring(c[1]))
    end
    local percents = {{50, 50}, {12.5, 12.5}, {"50%", 50}, {"12.5%", 12.5}, {"100%", 100},
                      {"0.5%", 0.5}, {100.0, 100}}
    for _, c in ipairs(percents) do
      assert.are.equal(c[2], ResourceLimits.new{max_cpu_percent = c[1]}.max_cpu_percent,
                       tostring(c[1]))
    end
  end)

  it("normalises paths and keeps their order", function()
    local l = ResourceLimits.new{allowed_paths = {"/srv/data/", "//srv//in/./x", "/"},
                                 writable_paths = {"/tmp/./out"}}
    assert.are.same({"/srv/data", "/srv/in/x", "/"}, frozen.thaw(l.allowed_paths))
    assert.are.same({"/tmp/out"}, frozen.thaw(l.writable_paths))
  end)

  it("reports every problem at once, with the field and what was expected", function()
    local e = raised(ResourceLimits.new, {
      max_memory_mb = -1, max_cpu_percent = "150%", max_execution_time_sec = "soon",
      max_file_descriptors = 0, allowed_paths = {"rel", "/a/../b"},
      denied_syscalls = {"Ptrace"}, max_memroy_mb = 1,
    })
    assert.are.equal("ResourceLimits.new", e.source)
    assert.is_nil(e.line)
    assert.are.same({
      "max_memory_mb: expected a memory size of at least 1 MiB, got -1",
      "max_cpu_percent: expected a percentage above 0 and at most 100, got \"150%\"",
      "max_execution_time_sec: invalid duration \"soon\" at column 1: expected a number " ..
        "(such as 512 or 1.5), found 'soon'",
      "max_file_descriptors: expected a whole number of file descriptors from 1 to " ..
        "2147483647, got 0",
      "allowed_paths[1]: expected an absolute path (starting with '/'), got the relative path \"rel\"",
      "allowed_paths[2]: expected a normalised absolute path without '..', got \"/a/../b\"",
      "denied_syscalls[1]: expected a system call name such as \"ptrace\" (lowercase letters, " ..
        "digits and '_'), got \"Ptrace\" (did you mean 'ptrace'?)",
      "max_memroy_mb: unknown key (did you mean 'max_memory_mb'?)",
    }, problems(e))
    -- The message lists them all, one a line.
    assert.matches("^8 problems in ResourceLimits.new:\n", e.message)
    assert.are.equal(9, select(2, e.message:gsub("\n", "\n")) + 1)
  end)

  it("refuses what is not a whole number of MiB, descriptors or a finite number", function()
    assert.are.same({"max_memory_mb: expected a whole number of MiB, got 0.5"},
                    limit_problems{max_memory_mb = 0.5})
    assert.are.same({'max_memory_mb: expected a whole number of MiB, got "1.5MiB" (1572864 bytes)'},
                    limit_problems{max_memory_mb = "1.5MiB"})
    assert.are.same({"max_memory_mb: expected a number of MiB or a size such as \"512MB\", got inf"},
                    limit_problems{max_memory_mb = math.huge})
    assert.are.same({"max_cpu_percent: expected a percentage above 0 and at most 100, got nan"},
                    limit_problems{max_cpu_percent = 0/0})
    assert.are.same({"max_file_descriptors: expected a whole number of file descriptors, got 1.5"},
                    limit_problems{max_file_descriptors = 1.5})
    assert.are.same({"max_execution_time_sec: expected a duration of at most 31536000 seconds " ..
                     "(365 days), got \"366d\""}, limit_problems{max_execution_time_sec = "366d"})
    assert.are.same({"max_memory_mb: expected a memory size of at most 1073741824 MiB (1 PiB), " ..
                     "got \"2PiB\""}, limit_problems{max_memory_mb = "2PiB"})
  end)

  it("asks for a unit in a quantity string, or no quotes", function()
    assert.are.same({'max_memory_mb: expected a size with a unit such as "512MB", or a plain ' ..
                     'number of MiB without quotes, got "512"'}, limit_problems{max_memory_mb = "512"})
    assert.are.same({'max_execution_time_sec: expected a duration with a unit such as "30s", or ' ..
                     'a plain number of seconds without quotes, got "30"'},
                    limit_problems{max_execution_time_sec = "30"})
  end)

  it("checks lists: no named keys, no holes, no duplicates, a bounded length", function()
    assert.are.same({'allowed_paths.x: expected a list of absolute paths, without named keys; ' ..
                     'got the key "x"'}, limit_problems{allowed_paths = {"/a", x = "/b"}})
    assert.are.same({"allowed_paths[2]: expected a list of absolute paths without holes; " ..
                     "entry 2 is missing"}, limit_problems{allowed_paths = {"/a", nil, "/c"}})
    assert.are.same({'denied_syscalls[2]: duplicate entry "ptrace" (also denied_syscalls[1])'},
                    limit_problems{denied_syscalls = {"ptrace", "ptrace"}})
    local many = {}
    for i = 1, ResourceLimits.MAX_LIST + 1 do many[i] = "/p" .. i end
    assert.are.same({"allowed_paths: expected at most 1024 entries, got 1025"},
                    limit_problems{allowed_paths = many})
  end)

  it("checks system call names against libseccomp when a resolver is there", function()
    finally(function() ResourceLimits.set_syscall_resolver(nil) end)
    ResourceLimits.set_syscall_resolver(function(name)
      return ({ptrace = 101, mount = 165})[name]
    end)
    assert.are.same({"ptrace", "mount"},
                    frozen.thaw(ResourceLimits.new{denied_syscalls = {"ptrace", "mount"}}
                                .denied_syscalls))
    assert.are.same({'denied_syscalls[1]: unknown system call "ptrase"; expected a name ' ..
                     'libseccomp knows, such as "ptrace"'},
                    limit_problems{denied_syscalls = {"ptrase"}})
  end)

  it("is frozen; with{} gives a changed, re-validated copy", function()
    local l = ResourceLimits.standard()
    assert.matches("ResourceLimits is read%-only %(field 'max_memory_mb'%)",
                   raised(function() l.max_memory_mb = 1 end))
    assert.matches("read%-only", raised(function() l.allowed_paths[1] = "/" end))
    local l2 = l:with{max_memory_mb = "1GiB"}
    assert.are.equal(1024, l2.max_memory_mb)
    assert.are.equal(512, l.max_memory_mb)
    assert.are.equal(50, l2.max_cpu_percent)
    local e = raised(l.with, l, {max_cpu_percent = 0})
    assert.are.equal("ResourceLimits:with", e.source)
    assert.are.same({"max_cpu_percent: expected a percentage above 0 and at most 100, got 0"},
                    problems(e))
  end)

  it("refuses a non-table", function()
    assert.are.same({": expected a table of resource limits, got \"big\""},
                    limit_problems("big"))
  end)
end)

describe("SecurityPolicy.new", function()
  it("takes STANDARD's value for every omitted field", function()
    local p = SecurityPolicy.new{}
    assert.are.equal("PROCESS", p.isolation_level)
    assert.are.equal(512, p.resource_limits.max_memory_mb)
    assert.is_false(p.allow_network)
    assert.is_false(p.allow_subprocess)
    assert.is_false(p.allow_file_write)
    assert.are.same({}, frozen.thaw(p.allowed_modules))
    assert.are.same({"debug", "ffi", "io", "os", "package"}, frozen.thaw(p.blocked_modules))
    assert.are.equal(1, p.required_signatures)
    assert.is_true(p.require_trusted_signer)
    assert.is_nil(p.signature_max_age_days)
    assert.are.equal("strict", p.enforcement)
    assert.is_nil(p.name)
    assert.is_true(SecurityPolicy.is(p))
    assert.is_true(ResourceLimits.is(p.resource_limits))
    assert.are.same(SecurityPolicy.new():to_table(), p:to_table())
  end)

  it("reads the seed's example", function()
    local p = SecurityPolicy.new{
      isolation_level = IsolationLevel.PROCESS,
      resource_limits = ResourceLimits.new{
        max_memory_mb = 512, max_cpu_percent = 50.0, max_execution_time_sec = 30.0,
        max_file_descriptors = 100, allowed_paths = {"/data/input"},
        writable_paths = {"/data/output"}, denied_syscalls = {"fork", "vfork", "clone"},
      },
      allow_network = false, allow_subprocess = false, allow_file_write = true,
      allowed_modules = {"polars", "numpy", "pandas"},
      blocked_modules = {"os", "subprocess", "socket", "pickle", "ctypes"},
      required_signatures = 1, require_trusted_signer = true, signature_max_age_days = 365,
    }
    assert.are.equal(100, p.resource_limits.max_file_descriptors)
    assert.are.same({"fork", "vfork", "clone"}, frozen.thaw(p.resource_limits.denied_syscalls))
    assert.are.equal(365, p.signature_max_age_days)
  end)

  it("takes limits flat or inside resource_limits, enums in any case", function()
    local a = SecurityPolicy.new{isolation_level = "container", max_memory_mb = "256MB",
                                 enforcement = "Best_Effort"}
    local b = SecurityPolicy.new{isolation_level = "CONTAINER", enforcement = "best_effort",
                                 resource_limits = {max_memory_mb = 256}}
    assert.are.same(a:to_table(), b:to_table())
    assert.are.equal("CONTAINER", a.isolation_level)
    assert.are.equal("best_effort", a.enforcement)
    assert.are.equal(256, a.resource_limits.max_memory_mb)
    -- resource_limits merges over the defaults, field by field
    assert.are.equal(50, b.resource_limits.max_cpu_percent)
  end)

  it("keeps name and description, and reads the age as days or a duration", function()
    local p = SecurityPolicy.new{name = "payments", description = "the payment plugins",
                                 signature_max_age_days = "36h"}
    assert.are.equal("payments", p.name)
    assert.are.equal("the payment plugins", p.description)
    assert.are.equal(1.5, p.signature_max_age_days)
    assert.is_nil(SecurityPolicy.new{signature_max_age_days = false}.signature_max_age_days)
  end)

  it("reports every wrong type, with the field and what was expected", function()
    assert.are.same({
      "name: expected a name (a string), got 1",
      "isolation_level: expected one of NONE, PROCESS, CONTAINER, got true",
      "resource_limits: expected a table of resource limits, got 5",
      "allow_network: expected true or false, got \"true\"",
      "allow_subprocess: expected true or false, got 0",
      "allow_file_write: expected true or false, got a table",
      "allowed_modules: expected a list of module names, got \"socket\"",
      "blocked_modules[1]: expected a module name, got 1",
      "required_signatures: expected a whole number of signatures, got \"1\"",
      "require_trusted_signer: expected true or false, got \"yes\"",
      "signature_max_age_days: expected a number of days, or false for no limit, got true",
      "enforcement: expected one of strict, best_effort, got 1",
    }, policy_problems{
      name = 1, isolation_level = true, resource_limits = 5, allow_network = "true",
      allow_subprocess = 0, allow_file_write = {}, allowed_modules = "socket",
      blocked_modules = {1}, required_signatures = "1", require_trusted_signer = "yes",
      signature_max_age_days = true, enforcement = 1,
    })
  end)

  it("reports impossible values", function()
    assert.are.same({
      "isolation_level: unknown isolation level \"vm\"; expected one of NONE, PROCESS, CONTAINER",
      "required_signatures: expected a whole number of signatures from 0 to 16, got 17",
      "signature_max_age_days: expected a number of days above 0 and at most 36500, or false " ..
        "for no limit, got 0",
      "enforcement: unknown enforcement \"lenient\"; expected one of strict, best_effort",
      "max_cpu_percent: expected a percentage above 0 and at most 100, got 101",
    }, policy_problems{isolation_level = "vm", required_signatures = 17,
                       signature_max_age_days = 0, enforcement = "lenient",
                       max_cpu_percent = 101})
  end)

  it("suggests the key that was meant", function()
    -- Known fields first, in their order, then the others sorted.
    assert.are.same({
      "resource_limits.allow_network: unknown key (allow_network is a policy field: write " ..
        "it outside resource_limits)",
      "resource_limits.max_memroy_mb: unknown key (did you mean 'max_memory_mb'?)",
      "allow_netwrok: unknown key (did you mean 'allow_network'?)",
      "isolation: unknown key (did you mean 'isolation_level'?)",
      "memory: unknown key (did you mean 'max_memory_mb'?)",
    }, policy_problems{allow_netwrok = true, isolation = "NONE", memory = 1,
                       resource_limits = {max_memroy_mb = 1, allow_network = true}})
    local e = raised(SecurityPolicy.new, {flavour = 1})
    assert.matches("^flavour: unknown key; expected one of: name, description, " ..
                   "isolation_level, ", problems(e)[1])
    assert.are.same({"base: unknown key (base is an option of policies.create_policy)"},
                    policy_problems{base = "strict"})
    assert.are.same({"extends: unknown key (extends is read in policy files; here use " ..
                     "policies.create_policy{base = ...})"}, policy_problems{extends = "strict"})
    assert.are.same({"[1]: expected a named field (key = value), got a list entry; a policy " ..
                     "is a table of named fields"}, policy_problems{"PROCESS"})
  end)

  it("refuses contradictions, blaming the field that was written", function()
    assert.are.same({"writable_paths: lists writable paths, but allow_file_write is false; " ..
                     "set allow_file_write = true, or remove the paths"},
                    policy_problems{writable_paths = {"/tmp"}})
    assert.are.same({"require_trusted_signer: has no effect while required_signatures is 0; " ..
                     "require at least 1 signature, or set false"},
                    policy_problems{required_signatures = 0, require_trusted_signer = true})
    assert.are.same({"required_signatures: is 0, but require_trusted_signer (inherited) asks " ..
                     "for a signature check; also set require_trusted_signer = false, or " ..
                     "require at least 1 signature"},
                    policy_problems{required_signatures = 0})
    assert.are.same({"signature_max_age_days: has no effect while required_signatures is 0; " ..
                     "require at least 1 signature, or set false for no limit"},
                    policy_problems{required_signatures = 0, require_trusted_signer = false,
                                    signature_max_age_days = 30})
    assert.are.same({"resource_limits.max_memory_mb: given twice: here and as the top-level " ..
                     "key 'max_memory_mb'; write it once"},
                    policy_problems{max_memory_mb = 1, resource_limits = {max_memory_mb = 2}})
    -- A failed field does not also produce a contradiction.
    assert.are.same({"allow_file_write: expected true or false, got \"yes\""},
                    policy_problems{allow_file_write = "yes", writable_paths = {"/tmp"}})
    -- Consistent: fine.
    local p = SecurityPolicy.new{required_signatures = 0, require_trusted_signer = false,
                                 allow_file_write = true, writable_paths = {"/tmp"}}
    assert.are.equal(0, p.required_signatures)
  end)

  it("raises one PolicyError with source, field and the full list", function()
    local e = raised(SecurityPolicy.new, {allow_network = 1, max_cpu_percent = 0})
    assert.is_true(errors.is(e, "PolicyError"))
    assert.is_true(errors.is(e, "InputError"))
    assert.are.equal("SecurityPolicy.new", e.source)
    assert.are.equal("allow_network", e.field)
    assert.are.equal(2, #e.problems)
    assert.are.equal("SecurityPolicy.new: allow_network: expected true or false, got 1",
                     datafile.format_problem(e.problems[1]))
    assert.are.equal("PolicyError: 2 problems in SecurityPolicy.new:\n" ..
                     "SecurityPolicy.new: allow_network: expected true or false, got 1\n" ..
                     "SecurityPolicy.new: max_cpu_percent: expected a percentage above 0 and " ..
                     "at most 100, got 0", tostring(e))
  end)

  it("refuses a non-table", function()
    assert.are.same({": expected a table of policy fields, got \"strict\""},
                    policy_problems("strict"))
  end)

  it("lists at most 50 problems and counts the rest", function()
    local spec = {}
    for i = 1, 80 do spec["unknown_" .. i] = i end
    local list = policy_problems(spec)
    assert.are.equal(51, #list)
    assert.are.equal(": and 30 more problems not listed", list[51])
  end)

  it("shows hostile strings escaped and cut", function()
    local list = policy_problems{isolation_level = "\27[31m" .. ("x"):rep(100)}
    assert.are.equal(1, #list)
    assert.is_nil(list[1]:find("[%c]"))
    assert.matches('"\\x1b[31mxxx', list[1], 1, true)
    assert.matches('..."', list[1], 1, true)
  end)
end)

describe("a SecurityPolicy", function()
  local p = SecurityPolicy.new{allowed_paths = {"/srv"}}

  it("is read-only, all the way down", function()
    assert.matches("SecurityPolicy is read%-only %(field 'allow_network'%)",
                   raised(function() p.allow_network = true end))
    assert.matches("read%-only", raised(function() p.resource_limits.max_memory_mb = 1 end))
    assert.matches("read%-only", raised(function() p.blocked_modules[1] = "x" end))
    assert.matches("read%-only", raised(function() p.resource_limits.allowed_paths[2] = "/" end))
    assert.matches("read%-only", raised(table.insert, p.blocked_modules, "x"))
    assert.is_false(p.allow_network)
    assert.are.equal("SecurityPolicy", getmetatable(p))
  end)

  it("reads like a table: pairs, ipairs, #", function()
    local keys = {}
    for k in pairs(p) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({"allow_file_write", "allow_network", "allow_subprocess", "allowed_modules",
                     "blocked_modules", "enforcement", "isolation_level", "require_trusted_signer",
                     "required_signatures", "resource_limits"}, keys)
    assert.are.equal(5, #p.blocked_modules)
    local n = 0
    for _, m in ipairs(p.blocked_modules) do n = n + 1; assert.is_string(m) end
    assert.are.equal(5, n)
    assert.are.equal("/srv", p.resource_limits.allowed_paths[1])
  end)

  it("with{} re-validates and returns a new policy; the old one is unchanged", function()
    local q = p:with{max_memory_mb = 1024, allow_network = true, blocked_modules = {"os"}}
    assert.are.equal(1024, q.resource_limits.max_memory_mb)
    assert.is_true(q.allow_network)
    assert.are.same({"os"}, frozen.thaw(q.blocked_modules))      -- lists replace
    assert.are.same({"/srv"}, frozen.thaw(q.resource_limits.allowed_paths))
    assert.are.equal(512, p.resource_limits.max_memory_mb)
    assert.is_false(p.allow_network)
    local r = q:with{resource_limits = {max_cpu_percent = "10%"}}
    assert.are.equal(10, r.resource_limits.max_cpu_percent)
    assert.are.equal(1024, r.resource_limits.max_memory_mb)
    assert.are.same(p:to_table(), p:with{}:to_table())
    local e = raised(p.with, p, {max_memory_mb = "lots", allow_network = "no"})
    assert.are.equal("SecurityPolicy:with", e.source)
    assert.are.equal(2, #e.problems)
  end)

  it("with{} drops the name and description unless it gives new ones", function()
    local named = SecurityPolicy.new{name = "a", description = "b"}
    assert.is_nil(named:with{allow_network = true}.name)
    assert.is_nil(named:with{}.description)
    assert.are.equal("c", named:with{name = "c"}.name)
  end)

  it("with{} can remove the signature age limit", function()
    local q = SecurityPolicy.new{signature_max_age_days = 30}
    assert.are.equal(30, q.signature_max_age_days)
    assert.is_nil(q:with{signature_max_age_days = false}.signature_max_age_days)
  end)

  it("to_table() is a plain, mutable copy", function()
    local t = p:to_table()
    assert.is_nil(getmetatable(t))
    assert.is_nil(getmetatable(t.resource_limits))
    t.allow_network = true
    assert.is_false(p.allow_network)
  end)

  it("to_lua() writes a policy file that loads back to the same policy", function()
    local policies = security.policies
    local odd = SecurityPolicy.new{
      name = 'quote " and \\ and\nnewline', max_cpu_percent = 33.3,
      max_execution_time_sec = 0.25, signature_max_age_days = 0.5,
      allowed_paths = {"/a b", "/c"}, isolation_level = "none", enforcement = "best_effort",
    }
    for _, q in ipairs{p, odd, SecurityPolicy.new{}} do
      local back = policies.eval(q:to_lua(), "roundtrip.lua")
      local a, b = q:to_table(), back:to_table()
      if a.name == nil then a.name = "roundtrip.lua" end
      assert.are.same(a, b)
    end
  end)
end)

describe("policy:allows_module", function()
  it("blocks a module and its submodules, not names that share a prefix", function()
    local p = SecurityPolicy.new{blocked_modules = {"os", "socket"}}
    assert.is_false((p:allows_module("os")))
    assert.is_false((p:allows_module("socket.http")))
    assert.is_true(p:allows_module("oss"))
    assert.is_true(p:allows_module("json"))
    local ok, why = p:allows_module("socket.core")
    assert.is_false(ok)
    assert.are.equal("module 'socket.core' is blocked (blocked_modules: 'socket')", why)
  end)

  it("admits only what a non-empty allowlist covers; the most specific entry decides", function()
    local p = SecurityPolicy.new{allowed_modules = {"socket", "json"},
                                 blocked_modules = {"socket.unix", "json"}}
    assert.is_true(p:allows_module("socket.http"))
    assert.is_false((p:allows_module("socket.unix")))
    assert.is_true(p:allows_module("json"))          -- the allowlist wins a tie
    local ok, why = p:allows_module("lpeg")
    assert.is_false(ok)
    assert.are.equal("module 'lpeg' is not in allowed_modules", why)
    local q = SecurityPolicy.new{allowed_modules = {"socket.http"}, blocked_modules = {"socket"}}
    assert.is_true(q:allows_module("socket.http"))
    assert.is_false((q:allows_module("socket")))
    assert.is_false((q:allows_module(42)))
  end)
end)

describe("policy:file_access", function()
  it("reads allowed and writable paths; writes nothing without allow_file_write", function()
    local p = SecurityPolicy.new{allowed_paths = {"/in", "/out"}}
    assert.are.same({read = {"/in", "/out"}, write = {}}, p:file_access())
  end)

  it("writes every allowed path when writable_paths is empty", function()
    local p = SecurityPolicy.new{allowed_paths = {"/in"}, allow_file_write = true}
    assert.are.same({read = {"/in"}, write = {"/in"}}, p:file_access())
  end)

  it("writes only writable_paths when given; they are readable too", function()
    local p = SecurityPolicy.new{allowed_paths = {"/in", "/out"}, writable_paths = {"/out", "/tmp"},
                                 allow_file_write = true}
    assert.are.same({read = {"/in", "/out", "/tmp"}, write = {"/out", "/tmp"}}, p:file_access())
  end)
end)

describe("truthound.security", function()
  it("loads its submodules lazily", function()
    assert.are.equal(require("truthound.security.policies"), security.policies)
    assert.is_nil(security.no_such_thing)
  end)

  it("gives the presets as SecurityPolicy.STANDARD too (the seed's spelling)", function()
    assert.are.equal(security.policies.STANDARD, SecurityPolicy.STANDARD)
    assert.is_nil(SecurityPolicy.NOPE)
  end)
end)

describe("SecurityPolicy.is", function()
  it("refuses a policy changed behind the proxy's back with rawset", function()
    local p = SecurityPolicy.new{}
    assert.is_true(SecurityPolicy.is(p))
    rawset(p, "allow_network", true)
    assert.is_false(SecurityPolicy.is(p))
    local l = ResourceLimits.new{}
    rawset(l, "max_memory_mb", 1e9)
    assert.is_false(ResourceLimits.is(l))
    assert.is_false(SecurityPolicy.is({}))
    assert.is_false(SecurityPolicy.is(setmetatable({}, {__metatable = "SecurityPolicy"})))
  end)
end)
