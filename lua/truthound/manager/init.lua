-- truthound.manager: EnterprisePluginManager, what an application runs.
--
--   local tp = require("truthound")
--   local m = tp.EnterprisePluginManager.new{plugin_dirs = {"plugins"},
--     require_signature = true, trust_store_path = "trust.json"}
--   m:discover_plugins()              -- verified first, then read
--   m:load("csv-stats")               -- its dependencies first; activates
--   m:get_plugin("csv-stats"):call("summarize", rows)
--   m:shutdown()                      -- reverse dependency order
--
-- The pieces: truthound.manager.config (the settings), .discover
-- (finding plugins, verifying before reading), truthound.dependencies
-- (which versions, in which order), truthound.lifecycle (the states, the
-- handlers that observe and veto), truthound.security.sandbox (where the
-- plugin's code runs, under its policy), .audit (what happened).
--
-- One plugin failing never takes the others down: its load, activation or
-- call failure moves it to ERROR with the reason; plugins that need it
-- are not activated; the rest carry on. docs/manager.md.

local errors = require("truthound.errors")
local lifecycle = require("truthound.lifecycle")
local sandbox = require("truthound.security.sandbox")
local enforcement = require("truthound.security.enforcement")
local DependencyResolver = require("truthound.dependencies").DependencyResolver
local Config = require("truthound.manager.config").Config
local discover = require("truthound.manager.discover")
local audit = require("truthound.manager.audit")

local M = {Config = Config}

local Manager = {__name = "truthound.EnterprisePluginManager"}
Manager.__index = Manager
M.EnterprisePluginManager = Manager

local Plugin = {__name = "truthound.Plugin"}
Plugin.__index = Plugin
M.Plugin = Plugin

-- Errors after which a PROCESS worker was killed: the plugin's state in
-- the sandbox is gone, so the plugin goes to ERROR.
local KILLS = {SandboxTimeoutError = true, SandboxResourceError = true,
               SandboxSecurityViolation = true}

local function plugin_error(id, state, fmt, ...)
  errors.raise("PluginError", fmt:format(...), {plugin_id = id, state = state}, 3)
end

local function describe(e)
  if e == nil then return "unknown error" end
  return tostring(e)
end

---------------------------------------------------------------------------
-- Construction

-- new(config) -> manager. config: an EnterprisePluginManagerConfig or the
-- table for one.
function Manager.new(config)
  local cfg = Config.new(config or {})
  local self = setmetatable({
    config = cfg,
    records = {},       -- id -> record (below)
    refused = {},       -- list of {id, dir, reason, error}
    order = {},         -- ids in the order they were loaded
    audit = audit.open(cfg.audit_log),
    warn = function(msg) io.stderr:write("tplua: warning: ", msg, "\n") end,
  }, Manager)
  self.lifecycle = lifecycle.LifecycleManager.new{warn = function(msg) self.warn(msg) end}
  -- This manager runs verify_plugin before it reads any plugin: the
  -- policies' signature fields are enforced (docs/host.md).
  enforcement.provide("signing.chain", "EnterprisePluginManager")
  if cfg.enable_hot_reload then
    self.hot_reload = require("truthound.lifecycle.hot_reload").HotReloadManager.new(self, cfg.reload)
  end
  self.audit:write("manager_started", {plugin_dirs = cfg.plugin_dirs,
    require_signature = cfg.require_signature, scan_entrypoints = cfg.scan_entrypoints})
  return self
end

-- on(event, handler [, opts]) -> handle: a lifecycle handler
-- (truthound.lifecycle). handler(plugin, event, data), plugin being the
-- Plugin handle.
function Manager:on(event, handler, opts)
  return self.lifecycle:on(event, handler, opts)
end

function Manager:set_warn(fn) self.warn = fn end

-- The staging area for verified plugins (truthound.manager.stage), made
-- on first use.
function Manager:_stage()
  if self.stage == nil then
    self.stage = require("truthound.manager.stage").new(self.config.stage_dir)
  end
  return self.stage
end

function Manager:_store()
  if self.store == nil and self.config.trust_store_path then
    self.store = require("truthound.security.signing").TrustStore.new{
      persist_path = self.config.trust_store_path}
  end
  return self.store
end

---------------------------------------------------------------------------
-- Discovery

local function version_key(v)
  return require("truthound.versioning").parse_version(v)
end

-- The record of a discovered plugin id. candidates: every verified
-- version found (the resolver picks one); chosen: the candidate loaded or
-- to be loaded.
function Manager:_add_candidate(c)
  local rec = self.records[c.id]
  if rec == nil then
    rec = {id = c.id, candidates = {}}
    rec.handle = setmetatable({id = c.id, manager = self, _rec = rec}, Plugin)
    self.records[c.id] = rec
    self.lifecycle:register(rec.handle)
  end
  for _, old in ipairs(rec.candidates) do
    if old.version == c.version then
      self.warn(("plugin %s %s is in %s and in %s; the first is used"):format(c.id, c.version,
        old.dir, c.dir))
      return
    end
  end
  rec.candidates[#rec.candidates + 1] = c
  table.sort(rec.candidates, function(a, b) return version_key(a.version) > version_key(b.version) end)
  if not rec.ctx then rec.chosen = rec.candidates[1] end
end

function Manager:_refuse(c, err, verdict)
  local reason = describe(err)
  for i = #self.refused, 1, -1 do          -- discovered again: the latest verdict counts
    if self.refused[i].dir == c.dir then table.remove(self.refused, i) end
  end
  self.refused[#self.refused + 1] = {id = c.name, dir = c.dir, reason = reason, error = err}
  self.audit:write("refused", {plugin_id = c.name, dir = c.dir, reason = reason,
    kind = errors.kind(err), valid = verdict and verdict.is_valid})
end

-- discover_plugins() -> ids: every plugin directory found is verified
-- (when its policy or require_signature asks), then read; refused ones
-- are in manager:refused_plugins() with the reason. Calling it again
-- picks up new directories and versions.
function Manager:discover_plugins()
  local cfg = self.config
  local cands, notes = discover.candidates(cfg)
  for _, n in ipairs(notes) do self.warn(n) end
  for _, c in ipairs(cands) do
    local known = self.records[c.name]
    local already = false
    for _, k in ipairs(known and known.candidates or {}) do
      if (k.source_dir or k.dir) == c.real then already = true end
    end
    if not already then
      local policy = cfg:policy_for(c.name)
      local rec, err, verdict = discover.read(c, policy,
        {require_signature = cfg.require_signature, store = self:_store(),
         stage = function() return self:_stage() end})
      if verdict then
        self.audit:write("verified", {plugin_id = c.name, dir = c.dir, valid = verdict.is_valid,
          signer = verdict.signer_id, trust_level = verdict.trust_level,
          errors = verdict.errors, warnings = verdict.warnings})
      end
      if rec then
        local problems = discover.capability_problems(rec.manifest, policy)
        if #problems > 0 then
          rec, err = nil, errors.new("PolicyError", ("plugin %s %s"):format(c.name,
            table.concat(problems, "; ")), {plugin_id = c.name, field = "capabilities"})
        end
      end
      if rec then
        rec.policy = policy
        for i = #self.refused, 1, -1 do     -- refused before, fixed since
          if self.refused[i].dir == c.dir then table.remove(self.refused, i) end
        end
        self:_add_candidate(rec)
        self.audit:write("discovered", {plugin_id = rec.id, version = rec.version,
          dir = rec.source_dir, staged = rec.dir ~= rec.source_dir and rec.dir or nil,
          origin = rec.origin, signer = rec.signer, trust_level = rec.trust_level,
          policy = policy.name, isolation = policy.isolation_level})
      else
        self:_refuse(c, err, verdict)
      end
    end
  end
  if cfg.auto_load then self:load_all() end
  local ids = {}
  for id in pairs(self.records) do ids[#ids + 1] = id end
  table.sort(ids)
  return ids
end

function Manager:refused_plugins()
  return self.refused
end

---------------------------------------------------------------------------
-- Questions

function Manager:_record(id, level)
  if type(id) == "table" and getmetatable(id) == Plugin then id = id.id end
  local rec = type(id) == "string" and self.records[id]
  if not rec then
    local why = ""
    for _, r in ipairs(self.refused) do
      if r.id == id then why = " (it was refused: " .. r.reason .. ")" break end
    end
    errors.raise("PluginError", ("no plugin '%s' was discovered%s"):format(tostring(id), why),
                 {plugin_id = id}, (level or 1) + 1)
  end
  return rec
end

function Manager:get_state(id)
  return self.lifecycle:get_state(self:_record(id, 2).id)
end

-- list_plugins() -> {{id, version, state, policy, isolation, signer,
-- trust_level, versions, error}, ...} sorted by id.
function Manager:list_plugins()
  local out = {}
  for id, rec in pairs(self.records) do
    local c = rec.chosen
    local versions = {}
    for i, k in ipairs(rec.candidates) do versions[i] = k.version end
    out[#out + 1] = {id = id, version = c.version, state = self.lifecycle:get_state(id),
      policy = c.policy.name, isolation = c.policy.isolation_level, signer = c.signer,
      trust_level = c.trust_level, versions = versions, error = rec.reason}
  end
  table.sort(out, function(a, b) return a.id < b.id end)
  return out
end

-- get_plugin(id) -> the Plugin handle (raises PluginError for an unknown id).
function Manager:get_plugin(id)
  return self:_record(id, 2).handle
end

---------------------------------------------------------------------------
-- Transitions

-- go(rec, to, metadata) -> ok, err, with the audit line. A transition
-- the lifecycle refuses outright (illegal) raises.
function Manager:_go(rec, to, metadata)
  local from = self.lifecycle:get_state(rec.id)
  local ok, err = self.lifecycle:transition(rec.handle, to, metadata)
  local now = self.lifecycle:get_state(rec.id)
  if now == "ERROR" and from ~= "ERROR" then
    local hist = self.lifecycle:get_history(rec.id, 1)
    rec.reason = hist[1] and hist[1].reason or describe(err)
    self:_stop(rec)      -- a plugin in ERROR holds no worker
  elseif ok and to ~= "ERROR" then
    rec.reason = nil
  end
  self.audit:write("transition", {plugin_id = rec.id, from = from, to = to, state = now,
    ok = ok and true or false, reason = not ok and describe(err) or nil,
    version = rec.chosen and rec.chosen.version})
  return ok, err
end

-- The engine for an isolation level; never a weaker one than asked.
function Manager:_engine(level)
  local ok, why = sandbox.SandboxFactory.is_available(level)
  if not ok then
    errors.raise("SandboxError", ("isolation level %s is not available here: %s")
                 :format(level, tostring(why)), {reason = "unavailable"}, 2)
  end
  return sandbox.SandboxFactory.create(level)
end

-- A verified version that is now loaded becomes the trust store's accepted
-- version of the plugin (rollback protection, docs/signing.md): an older
-- one will be refused from now on. Versions only found are not recorded.
function Manager:_accept(c)
  if c.verdict and self:_store() then
    local ok, e = pcall(self.store.accept_version, self.store, c.id, c.version)
    if not ok then self.warn(("cannot record %s %s as accepted: %s"):format(c.id, c.version, describe(e))) end
  end
end

-- The sandbox context options for candidate c: one worker, never
-- recycled, so that a plugin's module state lives as long as the plugin
-- (the sandbox setting's pool_size / recycle_after change that).
function Manager:_sandbox_opts(c)
  local opts = {pool_size = 1, pool_max = 1, recycle_after = math.huge}
  for k, v in pairs(self.config.sandbox) do opts[k] = v end
  opts.plugin_dir, opts.entry = c.dir, c.manifest.entry
  return opts
end

-- Start the chosen candidate's sandbox and run its load hook.
function Manager:_start(rec)
  local c = rec.chosen
  local engine = self:_engine(c.policy.isolation_level)
  local ctx = engine:create_sandbox(rec.id, c.policy, self:_sandbox_opts(c))
  rec.engine, rec.ctx = engine, ctx
  local ok, e = pcall(self._hook, self, rec, "load")
  if not ok then
    self:_stop(rec)
    error(e, 0)
  end
end

-- Tear the sandbox down (idempotent).
function Manager:_stop(rec)
  if rec.ctx then
    pcall(rec.engine.terminate, rec.engine, rec.ctx)
    rec.ctx, rec.engine = nil, nil
  end
end

-- Run a hook of the plugin's entry module inside its sandbox: on every
-- worker of its pool (engine:broadcast), and, for load and activate, on
-- every worker the pool starts later too (engine:set_init), so that each
-- worker's module state is the plugin's state. deactivate takes activate
-- out of what later workers replay.
local REPLAY = {load = {"load"}, activate = {"load", "activate"}, deactivate = {"load"}}

function Manager:_hook(rec, name, ...)
  local m = rec.chosen.manifest
  if not rec.ctx then error(("plugin %s has no sandbox"):format(rec.id), 0) end
  local function refs(names)
    local out = {}
    for _, h in ipairs(names or {}) do
      if m:has_hook(h) then out[#out + 1] = m.entry .. "." .. h end
    end
    return out
  end
  local before = rec.init
  if REPLAY[name] then
    rec.init = refs(REPLAY[name])
    rec.engine:set_init(rec.ctx, rec.init)
  end
  if not m:has_hook(name) then return end
  local ok, e = pcall(rec.engine.broadcast, rec.engine, rec.ctx, m.entry .. "." .. name, ...)
  if not ok then
    if REPLAY[name] and rec.ctx then
      rec.init = before
      rec.engine:set_init(rec.ctx, before or {})
    end
    error(e, 0)
  end
end

-- Which versions, in which order: the resolver over every candidate.
function Manager:_resolve(ids)
  local infos, loaded = {}, {}
  for id, rec in pairs(self.records) do
    if rec.ctx then loaded[id] = rec.chosen.version end
    for _, c in ipairs(rec.candidates) do
      infos[#infos + 1] = {id = c.id, version = c.version, dependencies = c.manifest.dependencies}
    end
  end
  local reqs = {}
  for i, id in ipairs(ids) do reqs[i] = {name = id} end
  local r = DependencyResolver.new{strict = self.config.strict_dependencies,
    allow_missing_optional = self.config.allow_missing_optional}
  local res = r:resolve(infos, {requirements = reqs, loaded = loaded})
  self.audit:write("resolved", {plugins = ids, success = res.success, selected = res.selected,
    load_order = res.load_order, explanation = not res.success and res.explanation or nil})
  if not res.success then
    errors.raise("DependencyError", ("cannot load %s:\n%s"):format(table.concat(ids, ", "),
      res.explanation or "no explanation"), {plugin_id = ids[1], explanation = res.explanation,
      conflicts = res.conflicts, missing = res.missing}, 3)
  end
  for _, w in ipairs(res.warnings or {}) do self.audit:write("warning", {message = describe(w)}) end
  return res
end

-- The ids rec depends on (required, and optional ones that are present).
function Manager:_deps(rec)
  local out = {}
  for name, d in pairs(rec.chosen.manifest.dependencies or {}) do
    if d.type == "required" or (d.type == "optional" and self.records[name]) then
      out[#out + 1] = name
    end
  end
  table.sort(out)
  return out
end

-- The ids of plugins with a sandbox that depend on id.
function Manager:_dependents(id)
  local out = {}
  for oid, rec in pairs(self.records) do
    if rec.ctx and oid ~= id then
      for _, d in ipairs(self:_deps(rec)) do
        if d == id then out[#out + 1] = oid end
      end
    end
  end
  table.sort(out)
  return out
end

-- Load one plugin (its dependencies are loaded). -> ok, err
function Manager:_load_one(rec, version)
  local state = self.lifecycle:get_state(rec.id)
  if rec.ctx then return true end
  for _, c in ipairs(rec.candidates) do
    if c.version == version then rec.chosen = c end
  end
  if state ~= "DISCOVERED" and state ~= "UNLOADED" and state ~= "ERROR" then
    return false, errors.new("PluginError", ("plugin %s is %s"):format(rec.id, state),
                             {plugin_id = rec.id, state = state})
  end
  local ok, err = self:_go(rec, "LOADING", {version = rec.chosen.version})
  if not ok then return false, err end
  ok, err = self:_go(rec, "LOADED", {action = function() self:_start(rec) end})
  if ok and self.config.watch_for_changes and not rec.watch then
    rec.watch = self.hot_reload:watch{plugin_id = rec.id, auto_reload = true}
  end
  if ok then
    self:_accept(rec.chosen)
    for i = #self.order, 1, -1 do
      if self.order[i] == rec.id then table.remove(self.order, i) end
    end
    self.order[#self.order + 1] = rec.id
  end
  return ok, err
end

-- load(id [, {activate = bool}]) -> ok, err: the plugin and its
-- dependencies, in dependency order, each in its own sandbox; then
-- activated when auto_activate (or opts.activate) says so. A dependency
-- problem (missing, conflict, cycle) raises DependencyError with the
-- resolver's explanation; a plugin that fails goes to ERROR and ok is
-- false with the error.
function Manager:load(id, opts)
  local rec = self:_record(id, 2)
  local res = self:_resolve({rec.id})
  local first_err
  for _, pid in ipairs(res.load_order) do
    local prec = self.records[pid]
    if prec then
      local blocked, why
      for _, d in ipairs(self:_deps(prec)) do
        local drec = self.records[d]
        if drec and not drec.ctx then
          blocked = d
          why = self.lifecycle:get_state(d) == "ERROR" and "is in ERROR" or "did not load"
        end
      end
      local ok, err
      if prec.ctx then
        ok = true
      elseif blocked then
        prec.reason = ("not loaded: its dependency %s %s"):format(blocked, why)
        ok, err = false, errors.new("PluginError", ("plugin %s %s"):format(pid, prec.reason),
                                    {plugin_id = pid})
        self.audit:write("skipped", {plugin_id = pid, reason = prec.reason})
      elseif pid ~= rec.id and self.lifecycle:get_state(pid) == "ERROR" then
        -- Only an explicit load retries a plugin in ERROR.
        ok, err = false, errors.new("PluginError", ("plugin %s is in ERROR (%s)")
                                    :format(pid, tostring(prec.reason)), {plugin_id = pid})
      else
        ok, err = self:_load_one(prec, res.selected[pid])
      end
      if not ok and pid == rec.id then first_err = err end
    end
  end
  if first_err then return false, first_err end
  local activate = self.config.auto_activate
  if opts and opts.activate ~= nil then activate = opts.activate end
  if activate then return self:activate(rec.id) end
  return true
end

-- load_all() -> ok, failures: every discovered plugin (the newest version
-- that resolves), in dependency order; failures maps id -> error.
function Manager:load_all()
  local failures, ok_all = {}, true
  local ids = {}
  for id in pairs(self.records) do ids[#ids + 1] = id end
  table.sort(ids)
  for _, id in ipairs(ids) do
    if not self.records[id].ctx and self.lifecycle:get_state(id) ~= "ERROR" then
      local pok, ok, err = pcall(self.load, self, id)
      if not pok then ok, err = false, ok end
      if not ok then
        failures[id] = err
        ok_all = false
        local rec = self.records[id]
        if not rec.reason and errors.kind(err) then
          rec.reason = tostring(err):match("^[^\n]*")
        end
        if not pok then self.audit:write("load_failed", {plugin_id = id, reason = describe(err)}) end
      end
    end
  end
  return ok_all, failures
end

-- activate(id) -> ok, err. Its dependencies are activated first; when one
-- cannot be, the plugin stays as it is.
function Manager:activate(id)
  local rec = self:_record(id, 2)
  local state = self.lifecycle:get_state(rec.id)
  if state == "ACTIVE" then return true end
  if not rec.ctx then
    local ok, err = self:load(rec.id, {activate = false})
    if not ok then return false, err end
    state = self.lifecycle:get_state(rec.id)
  end
  for _, d in ipairs(self:_deps(rec)) do
    local ok, err = self:activate(d)
    if not ok then
      local e = errors.new("PluginError", ("plugin %s not activated: its dependency %s is not " ..
        "active (%s)"):format(rec.id, d, describe(err)), {plugin_id = rec.id, state = state})
      self.audit:write("skipped", {plugin_id = rec.id, reason = e.message})
      return false, e
    end
  end
  local ok, err = self:_go(rec, "ACTIVATING")
  if not ok then return false, err end
  return self:_go(rec, "ACTIVE", {action = function() self:_hook(rec, "activate") end})
end

-- deactivate(id [, {force}]) -> ok, err. Refuses while plugins that depend
-- on it are active, unless force (then those go first).
function Manager:deactivate(id, opts)
  local rec = self:_record(id, 2)
  if self.lifecycle:get_state(rec.id) ~= "ACTIVE" then return true end
  for _, d in ipairs(self:_dependents(rec.id)) do
    if self.lifecycle:get_state(d) == "ACTIVE" then
      if not (opts and opts.force) then
        return false, errors.new("PluginError", ("plugin %s is needed by %s, which is active " ..
          "(deactivate it first, or force)"):format(rec.id, d), {plugin_id = rec.id, state = "ACTIVE"})
      end
      self:deactivate(d, opts)
    end
  end
  local ok, err = self:_go(rec, "DEACTIVATING")
  if not ok then return false, err end
  return self:_go(rec, "INACTIVE", {action = function() self:_hook(rec, "deactivate") end})
end

-- unload(id [, {force}]) -> ok, err. Refuses while plugins that depend on
-- it are loaded, unless force (then those are unloaded first).
function Manager:unload(id, opts)
  local rec = self:_record(id, 2)
  local state = self.lifecycle:get_state(rec.id)
  if state == "UNLOADED" or state == "DISCOVERED" then return true end
  local deps = self:_dependents(rec.id)
  if #deps > 0 then
    if not (opts and opts.force) then
      return false, errors.new("PluginError", ("plugin %s is needed by %s (unload %s first, or " ..
        "force)"):format(rec.id, table.concat(deps, ", "), #deps == 1 and "it" or "them"),
        {plugin_id = rec.id, state = state})
    end
    for _, d in ipairs(deps) do self:unload(d, opts) end
  end
  if state == "ACTIVE" then
    local ok, err = self:deactivate(rec.id, opts)
    if not ok then return false, err end
  end
  local ok, err = self:_go(rec, "UNLOADING")
  if not ok then return false, err end
  if rec.watch then rec.watch:cancel(); rec.watch = nil end
  return self:_go(rec, "UNLOADED", {action = function()
    local hok, herr = pcall(self._hook, self, rec, "unload")
    self:_stop(rec)
    if not hok then error(herr, 0) end
  end})
end

-- shutdown([{grace_ms}]) -> ok: deactivate and unload every plugin in
-- reverse load order; past the grace period (default 5000 ms) the
-- remaining sandboxes are torn down without their hooks.
function Manager:shutdown(opts)
  local grace = opts and opts.grace_ms or 5000
  local now = require("truthound.native").loop.now
  local deadline = now() + grace
  local clean = true
  self.audit:write("shutdown", {grace_ms = grace})
  if self.hot_reload then self.hot_reload:stop() end
  for i = #self.order, 1, -1 do
    local id = self.order[i]
    local rec = self.records[id]
    if rec and rec.ctx then
      if now() > deadline then
        clean = false
        self.audit:write("forced", {plugin_id = id, reason = "grace period over"})
        self:_stop(rec)
      else
        local ok, err = self:unload(id, {force = true})
        if not ok then
          clean = false
          self.warn(("plugin %s did not unload cleanly: %s"):format(id, describe(err)))
          self:_stop(rec)
        end
      end
    end
  end
  sandbox.SandboxFactory.cleanup_all()
  self.audit:write("manager_stopped", {clean = clean})
  return clean
end

-- close(): the audit log is closed and the staged copies removed. Call it
-- after shutdown.
function Manager:close()
  self.audit:close()
  if self.stage then self.stage:remove() end
end

---------------------------------------------------------------------------
-- Plugin handles

function Plugin:__tostring()
  return ("plugin %s (%s)"):format(self.id, self.manager.lifecycle:get_state(self.id) or "?")
end

function Plugin:state() return self.manager.lifecycle:get_state(self.id) end
function Plugin:version() return self._rec.chosen and self._rec.chosen.version end
function Plugin:manifest() return self._rec.chosen and self._rec.chosen.manifest end
function Plugin:history(limit) return self.manager.lifecycle:get_history(self.id, limit) end

-- The calls under way in each sandbox context (a reload drains them).
local inflight = setmetatable({}, {__mode = "k"})
M.inflight = function(ctx) return inflight[ctx] or 0 end

-- call(fn, ...) -> the results of the entry module's function fn, run in
-- the plugin's sandbox. An ACTIVE plugin takes calls, and so does one
-- being reloaded (the version in service answers). A call that ends with
-- the sandbox killing the plugin (time, memory, a forbidden system call)
-- moves it to ERROR; a call cut short by an IMMEDIATE reload raises
-- ReloadInterrupted.
function Plugin:call(fn, ...)
  local m, rec = self.manager, self._rec
  if type(fn) ~= "string" or not fn:match("^[%a_][%w_]*$") then
    errors.raise("UsageError", ("plugin %s: call: expected a function name, got %s")
                 :format(self.id, type(fn) == "string" and ("%q"):format(fn) or type(fn)), nil, 2)
  end
  local state = m.lifecycle:get_state(self.id)
  if (state ~= "ACTIVE" and state ~= "RELOADING") or not rec.ctx then
    plugin_error(self.id, state, "plugin %s is %s, not ACTIVE: it takes no calls%s", self.id, state,
                 rec.reason and (" (" .. rec.reason .. ")") or "")
  end
  local ctx, engine, chosen = rec.ctx, rec.engine, rec.chosen
  inflight[ctx] = (inflight[ctx] or 0) + 1
  local r = table.pack(pcall(engine.execute, engine, ctx, chosen.manifest.entry .. "." .. fn, ...))
  inflight[ctx] = inflight[ctx] - 1
  if r[1] then return table.unpack(r, 2, r.n) end
  local e = r[2]
  if ctx.interrupted then
    errors.raise("ReloadInterrupted", ("plugin %s: the call to %s was cut short by an IMMEDIATE " ..
      "reload (%s -> %s)"):format(self.id, fn, chosen.version, tostring(ctx.interrupted)),
      {plugin_id = self.id, version = chosen.version, new_version = ctx.interrupted}, 2)
  end
  local kind = errors.kind(e)
  if kind and KILLS[kind] and ctx == rec.ctx then
    m.audit:write("violation", {plugin_id = self.id, call = fn, kind = kind, message = e.message,
      violation_type = e.violation_type, attempted_action = e.attempted_action,
      resource_type = e.resource_type})
    m:_go(rec, "ERROR", {reason = describe(e)})
    m:_stop(rec)
  end
  error(e, 2)
end

return M
