-- truthound.manager.config: EnterprisePluginManagerConfig, the settings of
-- one plugin manager, checked once so that the manager never meets a bad
-- value halfway through a load.
--
--   local Config = require("truthound.manager.config")
--   local c = Config.new{plugin_dirs = {"plugins"}, require_signature = true,
--                        trust_store_path = "trust.json",
--                        policies = {["csv-stats"] = "strict"}}
--
-- Fields (the seed's, plus policies, audit_log, base_dir and sandbox):
--
--   plugin_dirs              list of directories of plugin directories ({"plugins"})
--   scan_entrypoints         also look in truthound_plugins/ beside every
--                            package.path root (true; docs/manager.md)
--   auto_load                load every discovered plugin (false)
--   auto_activate            activate what load() loads (true)
--   default_security_policy  preset name, SecurityPolicy or policy.lua path ("standard")
--   policies                 {[plugin id] = policy}: per-plugin overrides ({})
--   require_signature        verify every plugin, at least one signature,
--                            before reading it (true)
--   trust_store_path         the TrustStore file (nil; needed when anything
--                            is verified)
--   enable_hot_reload        manager.hot_reload is a HotReloadManager
--                            (truthound.lifecycle.hot_reload) (false)
--   watch_for_changes        with enable_hot_reload: every loaded plugin's
--                            directory is watched and reloaded on change
--   reload                   HotReloadManager options ({debounce_ms,
--                            drain_timeout_ms, strategy})
--   strict_version_check     true; false is refused: every selected version
--                            satisfies every constraint, always
--   strict_dependencies      a missing required dependency fails the load (true)
--   allow_missing_optional   a missing optional dependency is fine (true)
--   audit_log                path of the JSON-lines audit log (nil: none)
--   base_dir                 relative paths are read from here (the cwd)
--   sandbox                  options for every plugin's sandbox context
--                            ({}; e.g. {pool_size = 1})
--   stage_dir                where verified plugins are copied to run
--                            (TMPDIR or /tmp; truthound.manager.stage)
--
-- Unknown keys and wrong types are ConfigErrors naming the key.

local errors = require("truthound.errors")
local security = require("truthound.security")

local M = {}

local Config = {__name = "truthound.EnterprisePluginManagerConfig"}
Config.__index = Config
M.Config = Config

local DEFAULTS = {
  plugin_dirs = {"plugins"},
  scan_entrypoints = true,
  auto_load = false,
  auto_activate = true,
  default_security_policy = "standard",
  policies = {},
  require_signature = true,
  enable_hot_reload = false,
  watch_for_changes = false,
  strict_version_check = true,
  strict_dependencies = true,
  allow_missing_optional = true,
  sandbox = {},
  reload = {},
}

local TYPES = {
  plugin_dirs = "table", scan_entrypoints = "boolean", auto_load = "boolean",
  auto_activate = "boolean", default_security_policy = "policy", policies = "table",
  require_signature = "boolean", trust_store_path = "string",
  enable_hot_reload = "boolean", watch_for_changes = "boolean",
  strict_version_check = "boolean", strict_dependencies = "boolean",
  allow_missing_optional = "boolean", audit_log = "string", base_dir = "string",
  sandbox = "table", stage_dir = "string", reload = "table",
}

local function config_error(field, msg, level)
  errors.raise("ConfigError", ("manager config: %s: %s"):format(field, msg),
               {field = field}, (level or 1) + 1)
end

local function known()
  local names = {}
  for k in pairs(TYPES) do names[#names + 1] = k end
  table.sort(names)
  return table.concat(names, ", ")
end

-- A path as given, or joined to base when relative.
local function under(base, path)
  if path:sub(1, 1) == "/" or base == nil then return path end
  return (base:gsub("/+$", "")) .. "/" .. path
end
M.under = under

-- policy(spec, base, field) -> SecurityPolicy: a preset name, a policy, or
-- a policy.lua path (anything with a '/' or ending in .lua).
local function policy_of(spec, base, field)
  if security.SecurityPolicy.is(spec) then return spec end
  if type(spec) ~= "string" then
    config_error(field, "expected a preset name, a SecurityPolicy or a policy.lua path, got "
                 .. type(spec), 3)
  end
  local policies = security.policies
  if spec:find("/", 1, true) or spec:match("%.lua$") then
    return policies.load(under(base, spec))
  end
  return policies.get(spec)
end

local function check_type(k, v)
  local want = TYPES[k]
  if want == nil then
    config_error(k, ("unknown key (known: %s)"):format(known()), 3)
  end
  if want == "policy" then return end
  if type(v) ~= want then
    config_error(k, ("expected a %s, got %s"):format(want, type(v)), 3)
  end
end

-- new(t) -> a Config (t may already be one).
function Config.new(t)
  if getmetatable(t) == Config then return t end
  if type(t) ~= "table" then
    errors.raise("UsageError", "EnterprisePluginManagerConfig.new: expected a table, got " .. type(t),
                 nil, 2)
  end
  local c = {}
  for k, v in pairs(t) do
    if type(k) ~= "string" then config_error(tostring(k), "keys are field names", 2) end
    check_type(k, v)
    c[k] = v
  end
  for k, v in pairs(DEFAULTS) do if c[k] == nil then c[k] = v end end
  if c.watch_for_changes and not c.enable_hot_reload then
    config_error("watch_for_changes", "needs enable_hot_reload = true", 2)
  end
  if not c.strict_version_check then
    config_error("strict_version_check", "false is not supported: every selected version " ..
                 "satisfies every constraint; the resolver's explanation says what to relax", 2)
  end
  local dirs = {}
  for i, d in ipairs(c.plugin_dirs) do
    if type(d) ~= "string" or d == "" then
      config_error(("plugin_dirs[%d]"):format(i), "expected a directory path", 2)
    end
    dirs[i] = under(c.base_dir, d)
  end
  c.plugin_dirs = dirs
  if c.trust_store_path then c.trust_store_path = under(c.base_dir, c.trust_store_path) end
  if c.audit_log then c.audit_log = under(c.base_dir, c.audit_log) end
  if c.stage_dir then c.stage_dir = under(c.base_dir, c.stage_dir) end
  c.default_security_policy = policy_of(c.default_security_policy, c.base_dir,
                                        "default_security_policy")
  local per = {}
  for id, spec in pairs(c.policies) do
    if type(id) ~= "string" then config_error("policies", "keys are plugin ids", 2) end
    per[id] = policy_of(spec, c.base_dir, ("policies[%q]"):format(id))
  end
  c.policies = per
  return setmetatable(c, Config)
end

-- policy_for(id) -> the plugin's SecurityPolicy.
function Config:policy_for(id)
  return self.policies[id] or self.default_security_policy
end

return M
