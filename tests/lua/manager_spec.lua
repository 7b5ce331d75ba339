-- EnterprisePluginManager (truthound.manager): config checks, discovery,
-- capabilities against the policy, load order, activation, dependents,
-- calls, violations, handlers and vetoes, the audit log, entry points.
-- Plugins run at NONE isolation (the development preset) to keep this
-- fast; tests/e2e/manager.sh covers signed plugins in PROCESS workers.

local errors = require("truthound.errors")
local sandbox = require("truthound.security.sandbox")
local manager = require("truthound.manager")
local Manager = manager.EnterprisePluginManager
local tp = require("truthound")

sandbox.set_warn(function() end)

local dirs = dofile("tests/lua/support/plugin_dirs.lua")
local tmpdir, write, plugin = dirs.tmpdir, dirs.write, dirs.plugin

local function new(root, extra)
  local cfg = {plugin_dirs = {root}, require_signature = false, scan_entrypoints = false,
               default_security_policy = "development"}
  for k, v in pairs(extra or {}) do cfg[k] = v end
  local m = Manager.new(cfg)
  m:set_warn(function() end)
  return m
end

local function lines(path)
  local out = {}
  for l in io.lines(path) do out[#out + 1] = require("cjson").decode(l) end
  return out
end

describe("EnterprisePluginManagerConfig", function()
  it("refuses unknown keys and wrong types, naming them", function()
    local ok, e = pcall(Manager.new, {plugin_dir = {"x"}})
    assert.is_false(ok)
    assert.equal("ConfigError", errors.kind(e))
    assert.equal("plugin_dir", e.field)
    assert.matches("unknown key", e.message)
    ok, e = pcall(Manager.new, {auto_load = "yes"})
    assert.equal("auto_load", e.field)
    assert.matches("expected a boolean, got string", e.message)
  end)

  it("refuses what it cannot do rather than ignoring it", function()
    local ok, e = pcall(Manager.new, {watch_for_changes = true})
    assert.is_false(ok)
    assert.equal("watch_for_changes", e.field)
    assert.matches("needs enable_hot_reload", e.message)
    ok, e = pcall(Manager.new, {strict_version_check = false})
    assert.is_false(ok)
    assert.equal("strict_version_check", e.field)
  end)

  it("reads policies by preset name and per plugin, and paths under base_dir", function()
    local c = manager.Config.new{base_dir = "/srv/app", plugin_dirs = {"plugins", "/opt/p"},
                                 policies = {x = "strict"}, trust_store_path = "trust.json"}
    assert.same({"/srv/app/plugins", "/opt/p"}, c.plugin_dirs)
    assert.equal("/srv/app/trust.json", c.trust_store_path)
    assert.equal("strict", c:policy_for("x").name)
    assert.equal("standard", c:policy_for("y").name)
    local ok, e = pcall(manager.Config.new, {policies = {x = "nosuch"}})
    assert.is_false(ok)
    assert.equal("PolicyError", errors.kind(e))
  end)
end)

describe("EnterprisePluginManager", function()
  local root
  before_each(function() root = tmpdir() end)
  after_each(function()
    sandbox.SandboxFactory.cleanup_all()
    os.execute("rm -rf '" .. root .. "'")
  end)

  it("discovers, loads in dependency order, activates, calls and shuts down in reverse", function()
    plugin(root, "base", "1.0.0", 'hooks = {"load", "activate", "deactivate", "unload"}',
           'function M.load() M.n = 0 end function M.activate() end function M.deactivate() end\n' ..
           'function M.unload() end function M.bump(k) M.n = M.n + k return M.n end')
    plugin(root, "app", "2.1.0", 'dependencies = {base = "^1"}, hooks = {"activate"}',
           'function M.activate() end function M.hello(who) return "hi " .. who end')
    local m = new(root, {audit_log = root .. "/audit.jsonl"})
    local order = {}
    m:on("AFTER_ACTIVATE", function(p) order[#order + 1] = p.id end)
    assert.same({"app", "base"}, m:discover_plugins())
    assert.is_true(m:load("app"))
    assert.same({"base", "app"}, order)
    assert.equal("ACTIVE", m:get_state("app"))
    assert.equal("hi you", m:get_plugin("app"):call("hello", "you"))
    assert.equal(2, m:get_plugin("base"):call("bump", 2))
    assert.equal(5, m:get_plugin("base"):call("bump", 3))       -- module state persists
    local list = m:list_plugins()
    assert.equal("app", list[1].id)
    assert.equal("2.1.0", list[1].version)
    assert.equal("NONE", list[1].isolation)
    assert.equal("development", list[1].policy)
    assert.is_true(m:shutdown())
    assert.equal("UNLOADED", m:get_state("base"))
    m:close()
    local unloaded = {}
    for _, r in ipairs(lines(root .. "/audit.jsonl")) do
      if r.event == "transition" and r.to == "UNLOADED" then unloaded[#unloaded + 1] = r.plugin_id end
    end
    assert.same({"app", "base"}, unloaded)
  end)

  it("refuses a plugin that asks for more than its policy allows, before loading it", function()
    plugin(root, "net", "1.0.0", 'capabilities = {network = true}')
    plugin(root, "ok", "1.0.0")
    local m = new(root, {default_security_policy = "standard", require_signature = false,
                         policies = {net = "development", ok = "development"}})
    -- development allows the network: both are discovered
    assert.same({"net", "ok"}, m:discover_plugins())
    local strictish = require("truthound.security").policies.create_policy{
      base = "development", allow_network = false, name = "nonet"}
    local m2 = new(root, {policies = {net = strictish}})
    assert.same({"ok"}, m2:discover_plugins())
    local r = m2:refused_plugins()[1]
    assert.equal("net", r.id)
    assert.matches("asks for network access, which policy nonet does not allow %(allow_network%)", r.reason)
    local ok, e = pcall(m2.load, m2, "net")
    assert.is_false(ok)
    assert.equal("PluginError", errors.kind(e))
    assert.matches("it was refused", e.message)
  end)

  it("requires a trust store when signatures are required, and says so", function()
    plugin(root, "p", "1.0.0")
    local m = new(root, {require_signature = true})
    assert.same({}, m:discover_plugins())
    assert.matches("no trust store", m:refused_plugins()[1].reason)
  end)

  it("picks up new directories and fixed plugins when discovering again, once each", function()
    plugin(root, "a", "1.0.0")
    os.execute(("mkdir -p '%s/b'"):format(root))             -- no plugin.lua yet
    local m = new(root)
    assert.same({"a"}, m:discover_plugins())
    assert.equal(1, #m:refused_plugins())
    plugin(root, "b", "1.0.0")
    plugin(root, "c", "2.0.0")
    assert.same({"a", "b", "c"}, m:discover_plugins())
    assert.same({}, m:refused_plugins())
    assert.same({"a", "b", "c"}, m:discover_plugins())      -- again: nothing doubles
    for _, p in ipairs(m:list_plugins()) do assert.equal(1, #p.versions) end
  end)

  it("skips directories whose name is not a plugin id", function()
    plugin(root, "Bad_Name", "1.0.0")
    local m = new(root)
    assert.same({}, m:discover_plugins())
    assert.matches("not a plugin id", m:refused_plugins()[1].reason)
  end)

  it("refuses to unload or deactivate what active plugins need, unless forced", function()
    plugin(root, "base", "1.0.0")
    plugin(root, "app", "1.0.0", 'dependencies = {base = "^1"}')
    local m = new(root)
    m:discover_plugins()
    assert.is_true(m:load("app"))
    local ok, e = m:unload("base")
    assert.is_false(ok)
    assert.matches("needed by app", e.message)
    ok, e = m:deactivate("base")
    assert.is_false(ok)
    assert.matches("needed by app, which is active", e.message)
    assert.is_true(m:unload("base", {force = true}))
    assert.equal("UNLOADED", m:get_state("app"))
    assert.equal("UNLOADED", m:get_state("base"))
    -- and it loads again afterwards
    assert.is_true(m:load("app"))
    assert.equal("ACTIVE", m:get_state("base"))
  end)

  it("puts a plugin whose hook fails in ERROR, keeps the others, and retries on an explicit load", function()
    write(root .. "/flag", "fail")
    plugin(root, "flaky", "1.0.0", 'hooks = {"activate"}',
           ('function M.activate() error("activate failed", 0) end'))
    plugin(root, "fine", "1.0.0")
    plugin(root, "needs", "1.0.0", 'dependencies = {flaky = "^1"}')
    local m = new(root)
    m:discover_plugins()
    local ok, failures = m:load_all()
    assert.is_false(ok)
    assert.equal("ERROR", m:get_state("flaky"))
    assert.equal("ACTIVE", m:get_state("fine"))
    assert.is_not_nil(failures.needs)
    local row
    for _, p in ipairs(m:list_plugins()) do if p.id == "flaky" then row = p end end
    assert.matches("activate failed", row.error)
    -- ERROR -> LOADING is an explicit retry; it fails the same way
    local ok2, e = m:load("flaky")
    assert.is_false(ok2)
    assert.matches("activate failed", tostring(e))
  end)

  it("moves a plugin whose call is stopped by the sandbox to ERROR", function()
    plugin(root, "spin", "1.0.0", nil, 'function M.spin() while true do end end function M.ok() return 1 end')
    local policy = require("truthound.security").policies.create_policy{base = "development",
      max_execution_time_sec = "200ms", name = "fast"}
    local m = new(root, {default_security_policy = policy})
    m:discover_plugins()
    assert.is_true(m:load("spin"))
    local h = m:get_plugin("spin")
    assert.equal(1, h:call("ok"))
    local ok, e = pcall(h.call, h, "spin")
    assert.is_false(ok)
    assert.equal("SandboxTimeoutError", errors.kind(e))
    assert.equal("ERROR", h:state())
    local ok2, e2 = pcall(h.call, h, "ok")
    assert.is_false(ok2)
    assert.equal("PluginError", errors.kind(e2))
    assert.matches("not ACTIVE", e2.message)
  end)

  it("checks call names and unknown plugins", function()
    plugin(root, "p", "1.0.0", nil, "function M.f() return 1 end")
    local m = new(root)
    m:discover_plugins()
    m:load("p")
    local h = m:get_plugin("p")
    local ok, e = pcall(h.call, h, "os.exit")
    assert.is_false(ok)
    assert.equal("UsageError", errors.kind(e))
    ok, e = pcall(m.get_plugin, m, "nope")
    assert.is_false(ok)
    assert.equal("PluginError", errors.kind(e))
    assert.matches("no plugin 'nope' was discovered", e.message)
  end)

  it("lets a BEFORE_LOAD handler veto a load", function()
    plugin(root, "p", "1.0.0")
    local m = new(root)
    m:on("BEFORE_LOAD", function(p) return false, "not today" end)
    m:discover_plugins()
    local ok, e = m:load("p")
    assert.is_false(ok)
    assert.equal("LifecycleVetoError", errors.kind(e))
    assert.equal("DISCOVERED", m:get_state("p"))
  end)

  it("refuses a dependency problem with the resolver's explanation", function()
    plugin(root, "a", "1.0.0", 'dependencies = {b = "^2"}')
    plugin(root, "b", "1.0.0")
    local m = new(root)
    m:discover_plugins()
    local ok, e = pcall(m.load, m, "a")
    assert.is_false(ok)
    assert.equal("DependencyError", errors.kind(e))
    assert.matches("a 1.0.0 depends on b %^2", e.explanation)
  end)

  it("picks, among several directories, the newest version that resolves", function()
    local other = tmpdir()
    plugin(root, "lib", "2.0.0")
    plugin(other, "lib", "1.5.0")
    plugin(root, "app", "1.0.0", 'dependencies = {lib = "^1"}')
    local m = new(root, {plugin_dirs = {root, other}})
    m:discover_plugins()
    assert.same({"2.0.0", "1.5.0"}, m:list_plugins()[2].versions)
    assert.is_true(m:load("app"))
    assert.equal("1.5.0", m:get_plugin("lib"):version())
    os.execute("rm -rf '" .. other .. "'")
  end)

  it("finds plugins installed as rocks under truthound_plugins/ on package.path", function()
    local tree = tmpdir()
    os.execute(("mkdir -p '%s/truthound_plugins'"):format(tree))
    plugin(tree .. "/truthound_plugins", "rocky", "0.1.0", nil, "function M.f() return 'rock' end")
    local saved = package.path
    package.path = tree .. "/?.lua;" .. saved
    local m = new(root, {scan_entrypoints = true})
    local ok, ids = pcall(m.discover_plugins, m)
    package.path = saved
    assert.is_true(ok, tostring(ids))
    assert.same({"rocky"}, ids)
    assert.is_true(m:load("rocky"))
    assert.equal("rock", m:get_plugin("rocky"):call("f"))
    os.execute("rm -rf '" .. tree .. "'")
  end)

  it("runs the hooks on every worker of a pool, and on every worker started later", function()
    plugin(root, "pooled", "1.0.0", 'hooks = {"load", "activate"}',
           'function M.load() M.loaded = true end function M.activate() M.active = true end\n' ..
           'function M.v() assert(M.loaded and M.active, "hooks missing") M.n = (M.n or 0) + 1 return M.n end')
    local policy = require("truthound.security").policies.create_policy{base = "standard",
      required_signatures = 0, require_trusted_signer = false, name = "unsigned"}
    local m = new(root, {default_security_policy = policy,
                         sandbox = {pool_size = 2, pool_max = 3, recycle_after = 3}})
    m:discover_plugins()
    assert.is_true(m:load("pooled"))
    local h = m:get_plugin("pooled")
    local errs = {}
    for _ = 1, 3 do                           -- concurrent callers: every worker serves
      tp.spawn(function()
        for _ = 1, 10 do
          local ok, e = pcall(h.call, h, "v")
          if not ok then errs[#errs + 1] = tostring(e) end
        end
      end)
    end
    tp.run()
    assert.same({}, errs)                      -- recycled and new workers replayed load, activate
    assert.is_true(m.records.pooled.ctx.pool.started > 3)
    m:shutdown()
  end)

  it("waits inside loop tasks like every other operation", function()
    plugin(root, "p", "1.0.0", nil, "function M.f(x) return x * 2 end")
    local m = new(root)
    m:discover_plugins()
    local t = tp.spawn(function()
      assert(m:load("p"))
      tp.sleep(1)
      return m:get_plugin("p"):call("f", 21)
    end)
    tp.run()
    assert.equal(42, t:wait())
  end)
end)

describe("the staging of verified plugins (truthound.manager.stage)", function()
  local stage = require("truthound.manager.stage")
  local treehash = require("truthound.security.signing.treehash")
  local fs = require("truthound.native").fs
  local root
  before_each(function() root = tmpdir() end)
  after_each(function() os.execute("rm -rf '" .. root .. "'") end)

  local function mode(path)
    local p = io.popen("stat -c %a '" .. path .. "'")
    local m = p:read("l")
    p:close()
    return m
  end

  it("copies a tree exactly, keeps the executable bit, and removes it all", function()
    plugin(root, "p", "1.0.0", nil, "function M.f() return 1 end")
    os.execute(("mkdir -p '%s/p/lib/deep' && printf 'x' >'%s/p/lib/deep/data.txt' && " ..
                "printf '#!/bin/sh\\n' >'%s/p/run.sh' && chmod 700 '%s/p/run.sh' && chmod 600 '%s/p/main.lua'")
               :format(root, root, root, root, root))
    local digest = treehash.digest(root .. "/p")
    local area = stage.new(root)
    local dst = assert(area:copy(root .. "/p", "p", "sha256:" .. digest))
    assert.matches("/p$", dst)
    assert.equal(digest, treehash.digest(dst))
    assert.equal("755", mode(dst))
    assert.equal("755", mode(dst .. "/run.sh"))        -- executable: 0755 whatever the source's bits
    assert.equal("644", mode(dst .. "/main.lua"))      -- readable by the unprivileged worker
    assert.equal("755", mode(area.root))
    local r = area.root
    area:remove()
    assert.is_nil(fs.kind(r))
  end)

  it("refuses a copy whose digest is not the signed one", function()
    plugin(root, "p", "1.0.0")
    local area = stage.new(root)
    local dst, e = area:copy(root .. "/p", "p", "sha256:" .. ("0"):rep(64))
    assert.is_nil(dst)
    assert.equal("SignatureTamperError", errors.kind(e))
    assert.matches("changed while they were verified or copied", e.message)
    area:remove()
  end)

  it("writes new files only, with exactly the bits asked for", function()
    local p = root .. "/f"
    assert.is_true(fs.write_new(p, "data", tonumber("640", 8)))
    assert.equal("640", mode(p))
    local ok, why = fs.write_new(p, "again", tonumber("644", 8))
    assert.is_nil(ok)
    assert.matches("exists", why)
    os.execute(("ln -s '%s' '%s/link'"):format(p, root))
    assert.is_nil((fs.write_new(root .. "/link", "x", tonumber("644", 8))))
  end)
end)
