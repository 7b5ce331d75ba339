-- truthound.lifecycle.hot_reload: HotReloadManager — a changed plugin is
-- verified, resolved and staged beside the old version, then swapped in
-- without dropping calls; or the old version keeps serving and the reason
-- is reported.
--
--   local HotReloadManager = require("truthound.lifecycle").HotReloadManager
--   local hr = HotReloadManager.new(manager, {debounce_ms = 20})
--   local w = hr:watch{plugin_id = "greeter", auto_reload = true}   -- w:cancel()
--   local r = hr:reload("greeter", {strategy = "GRACEFUL"})
--   r.success, r.reload_time_ms, r.previous_version, r.new_version, r.error, r.rolled_back
--
-- manager is the EnterprisePluginManager (truthound.manager): it holds
-- what a reload needs besides the lifecycle — verification, staging,
-- the resolver's view of what is loaded, the sandboxes, the audit log.
-- The pipeline and what is atomic: docs/hot-reload.md.

local errors = require("truthound.errors")
local loop = require("truthound.loop")
local discover = require("truthound.manager.discover")

local M = {}

M.ReloadStrategy = {GRACEFUL = "GRACEFUL", IMMEDIATE = "IMMEDIATE", ROLLING = "ROLLING"}

local HotReloadManager = {__name = "truthound.HotReloadManager"}
HotReloadManager.__index = HotReloadManager
M.HotReloadManager = HotReloadManager

local DEFAULTS = {debounce_ms = 20, drain_timeout_ms = 5000, strategy = "GRACEFUL"}

local function usage(msg, level)
  errors.raise("UsageError", msg, nil, (level or 1) + 1)
end

local function describe(e)
  return e == nil and "unknown error" or tostring(e)
end

local function strategy_of(s, level)
  local k = type(s) == "string" and s:upper()
  if not (k and M.ReloadStrategy[k]) then
    usage(("reload: strategy must be GRACEFUL, IMMEDIATE or ROLLING, got %s"):format(tostring(s)),
          (level or 1) + 1)
  end
  return k
end

-- new(manager [, opts]) -> hot reload manager. opts: debounce_ms (20),
-- drain_timeout_ms (5000: how long GRACEFUL lets the old version finish
-- its calls), strategy (GRACEFUL).
function HotReloadManager.new(manager, opts)
  if type(manager) ~= "table" or type(manager.get_plugin) ~= "function" then
    usage("HotReloadManager.new: expected an EnterprisePluginManager", 2)
  end
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do
    if DEFAULTS[k] == nil then usage(("HotReloadManager.new: unknown option '%s'"):format(tostring(k)), 2) end
    o[k] = v
  end
  o.strategy = strategy_of(o.strategy, 2)
  return setmetatable({manager = manager, opts = o, state = {}, watches = {}}, HotReloadManager)
end

---------------------------------------------------------------------------
-- The pipeline

local function result(t0, prev, fields)
  local r = {success = false, rolled_back = false, previous_version = prev and prev.version,
             reload_time_ms = loop.now() - t0}
  for k, v in pairs(fields) do r[k] = v end
  return r
end

-- Can cand replace rec's version? Its loaded dependents' constraints must
-- still hold, and its own required dependencies must be loaded in
-- versions its constraints accept. nil, or the error.
local function check_fit(m, rec, cand)
  for _, did in ipairs(m:_dependents(rec.id)) do
    local d = m.records[did].chosen.manifest.dependencies[rec.id]
    if d and d.parsed_constraint and not d.parsed_constraint:is_satisfied_by(cand.version) then
      return errors.new("VersionConflictError", ("%s %s cannot replace %s: %s %s depends on %s %s")
        :format(rec.id, cand.version, rec.chosen.version, did, m.records[did].chosen.version, rec.id,
                d.constraint), {plugin_id = rec.id, dependency = rec.id, constraints = {d.constraint}})
    end
  end
  for name, d in pairs(cand.manifest.dependencies or {}) do
    local drec = m.records[name]
    local loaded = drec and drec.ctx and drec.chosen.version
    if d.type == "required" and not loaded then
      return errors.new("MissingDependencyError", ("%s %s needs %s %s, which is not loaded")
        :format(rec.id, cand.version, name, d.constraint or "*"),
        {plugin_id = rec.id, dependency = name, constraint = d.constraint})
    end
    if loaded and d.parsed_constraint and not d.parsed_constraint:is_satisfied_by(loaded) then
      return errors.new("VersionConflictError", ("%s %s needs %s %s, but %s %s is loaded")
        :format(rec.id, cand.version, name, d.constraint, name, loaded),
        {plugin_id = rec.id, dependency = name, constraints = {d.constraint}})
    end
  end
end

-- Start cand in a fresh sandbox beside the old one; run load, hand the
-- old version's saved state over, run activate.
-- -> engine, ctx, init (the hooks later workers replay) | nil, err
local function start_new(m, rec, cand)
  local engine = m:_engine(cand.policy.isolation_level)
  local ctx = engine:create_sandbox(rec.id, cand.policy, m:_sandbox_opts(cand))
  local entry, new_m, old_m = cand.manifest.entry, cand.manifest, rec.chosen.manifest
  local init = {}
  local ok, err = pcall(function()
    -- every worker of the new pool runs the hooks (broadcast), and so
    -- does every worker it starts later (init)
    for _, h in ipairs({"load", "restore", "activate"}) do
      if h == "restore" then
        if old_m:has_hook("save") and new_m:has_hook("restore") then
          local saved = rec.engine:execute(rec.ctx, old_m.entry .. ".save")
          engine:broadcast(ctx, entry .. ".restore", saved)
        end
      elseif new_m:has_hook(h) then
        init[#init + 1] = entry .. "." .. h
        engine:set_init(ctx, init)
        engine:broadcast(ctx, entry .. "." .. h)
      end
    end
  end)
  if not ok then
    pcall(engine.terminate, engine, ctx)
    return nil, err
  end
  return engine, ctx, init
end

-- The old version goes: GRACEFUL lets its calls finish (up to the drain
-- timeout) and runs its deactivate and unload hooks; IMMEDIATE cuts its
-- calls short (they raise ReloadInterrupted) and skips the hooks.
local function retire(self, old, strategy, new_version)
  local function hooks()
    for _, h in ipairs({"deactivate", "unload"}) do
      if old.chosen.manifest:has_hook(h) then
        pcall(old.engine.execute, old.engine, old.ctx, old.chosen.manifest.entry .. "." .. h)
      end
    end
  end
  local inflight = require("truthound.manager").inflight
  if strategy == "IMMEDIATE" then
    old.ctx.interrupted = new_version
    pcall(old.engine.terminate, old.engine, old.ctx)
    return
  end
  loop.spawn(function()
    local deadline = loop.now() + self.opts.drain_timeout_ms
    while inflight(old.ctx) > 0 and loop.now() < deadline do loop.sleep(1) end
    if inflight(old.ctx) == 0 then hooks() end
    pcall(old.engine.terminate, old.engine, old.ctx)
  end)
end

-- After id was reloaded: its active dependents hear ON_RELOAD, and those
-- whose dependency on it says reactivate = true are deactivated and
-- activated again — together with the active plugins above them, which
-- must go down first: deactivation in reverse load order, activation in
-- load order.
function HotReloadManager:_tell_dependents(id, from, to)
  local m = self.manager
  local rank = {}
  for i, pid in ipairs(m.order) do rank[pid] = i end
  local function by_rank(a, b) return (rank[a] or 0) < (rank[b] or 0) end
  local deps = m:_dependents(id)
  table.sort(deps, by_rank)
  local redo, list = {}, {}
  local function add(pid)
    if redo[pid] or m.lifecycle:get_state(pid) ~= "ACTIVE" then return end
    redo[pid] = true
    list[#list + 1] = pid
    for _, up in ipairs(m:_dependents(pid)) do add(up) end
  end
  for _, did in ipairs(deps) do
    local drec = m.records[did]
    if m.lifecycle:get_state(did) == "ACTIVE" then
      m.lifecycle:emit(drec.handle, "ON_RELOAD", {dependency = id, previous_version = from,
                                                  new_version = to})
      local d = drec.chosen.manifest.dependencies[id]
      if d and d.reactivate then add(did) end
    end
  end
  table.sort(list, by_rank)
  for i = #list, 1, -1 do m:deactivate(list[i]) end
  for _, pid in ipairs(list) do
    local ok, err = m:activate(pid)
    m.audit:write("reactivated", {plugin_id = pid, dependency = id, ok = ok and true or false,
                                  reason = not ok and describe(err) or nil})
  end
end

-- ROLLING: the workers of the plugin's pool are replaced one at a time by
-- workers of the new version (the engine's roll); each must run the new
-- version's load and activate hooks before an old worker leaves, so the
-- pool never shrinks. For plugins without per-worker state: there is no
-- save/restore, and calls meanwhile are answered by either version.
function HotReloadManager:_roll(rec, prev, cand, t0, rollback)
  local m, id = self.manager, rec.id
  if cand.manifest.entry ~= prev.manifest.entry then
    return rollback(errors.new("UsageError", ("ROLLING keeps the entry module: %s %s names %s, " ..
      "the running version %s"):format(id, cand.version, cand.manifest.entry, prev.manifest.entry)))
  end
  local engine = rec.engine
  local ok, new_ctx = pcall(engine.create_sandbox, engine, id, cand.policy, {plugin_dir = cand.dir,
    entry = cand.manifest.entry, pool_size = 0, pool_max = 1, quiet = true})
  if not ok then return rollback(new_ctx) end
  local checks = {}
  for _, h in ipairs({"load", "activate"}) do
    if cand.manifest:has_hook(h) then checks[#checks + 1] = cand.manifest.entry .. "." .. h end
  end
  local rok, err = engine:roll(rec.ctx, new_ctx, {checks = checks})
  pcall(engine.terminate, engine, new_ctx)
  if not rok then return rollback(err) end
  rec.chosen, rec.init = cand, checks
  m:_accept(cand)
  for i, k in ipairs(rec.candidates) do
    if k.version == cand.version then table.remove(rec.candidates, i) break end
  end
  table.insert(rec.candidates, 1, cand)
  m:_go(rec, "ACTIVE", {reason = ("rolled %s -> %s"):format(prev.version, cand.version),
                        version = cand.version})
  self:_tell_dependents(id, prev.version, cand.version)
  local ms = loop.now() - t0
  m.audit:write("reload", {plugin_id = id, success = true, strategy = "ROLLING",
    previous_version = prev.version, new_version = cand.version, reload_time_ms = ms})
  return result(t0, prev, {success = true, new_version = cand.version})
end

-- One reload of id: everything before the swap may fail and roll back.
function HotReloadManager:_reload(id, strategy)
  local m = self.manager
  local rec = m:_record(id, 3)
  local t0 = loop.now()
  local prev = rec.chosen
  local state = m.lifecycle:get_state(id)
  if state ~= "ACTIVE" or not rec.ctx then
    return result(t0, prev, {error = errors.new("PluginError",
      ("plugin %s is %s: only an ACTIVE plugin is reloaded"):format(id, state),
      {plugin_id = id, state = state})})
  end
  if strategy == "ROLLING" and not (rec.engine.roll and rec.ctx.pool) then
    return result(t0, prev, {error = errors.new("UsageError", ("plugin %s runs at %s isolation, " ..
      "without a pool of workers to roll; ROLLING needs PROCESS or CONTAINER"):format(id,
      rec.chosen.policy.isolation_level))})
  end
  local ok, err = m:_go(rec, "RELOADING", {reason = "reload"})
  if not ok then return result(t0, prev, {error = err}) end

  local function rollback(e)
    local reason = "reload failed: " .. describe(e)
    m:_go(rec, "ACTIVE", {rolled_back = true, reason = reason, error = e})
    m.audit:write("reload", {plugin_id = id, success = false, rolled_back = true, reason = reason,
      previous_version = prev.version, reload_time_ms = loop.now() - t0})
    return result(t0, prev, {error = e, rolled_back = true})
  end

  local policy = m.config:policy_for(id)
  local src = prev.source_dir or prev.dir
  local c = {dir = src, real = src, name = id, origin = prev.origin}
  local cand, rerr, verdict = discover.read(c, policy, {require_signature = m.config.require_signature,
    store = m:_store(), stage = function() return m:_stage() end})
  if verdict then
    m.audit:write("verified", {plugin_id = id, dir = src, valid = verdict.is_valid, signer = verdict.signer_id,
      trust_level = verdict.trust_level, errors = verdict.errors, reload = true})
  end
  if not cand then return rollback(rerr) end
  if cand.id ~= id then
    return rollback(errors.new("ManifestError", ("%s/plugin.lua now says id %s"):format(src, cand.id)))
  end
  local problems = discover.capability_problems(cand.manifest, policy)
  if #problems > 0 then
    return rollback(errors.new("PolicyError", ("plugin %s %s"):format(id, table.concat(problems, "; ")),
                               {plugin_id = id, field = "capabilities"}))
  end
  cand.policy = policy
  local ferr = check_fit(m, rec, cand)
  if ferr then return rollback(ferr) end
  if strategy == "ROLLING" then return self:_roll(rec, prev, cand, t0, rollback) end
  local sok, engine, ctx, init = pcall(start_new, m, rec, cand)
  if not sok or not engine then return rollback(sok and ctx or engine) end

  -- The swap: from here on, new calls go to the new version.
  local old = {ctx = rec.ctx, engine = rec.engine, chosen = rec.chosen}
  rec.ctx, rec.engine, rec.chosen, rec.init = ctx, engine, cand, init
  m:_accept(cand)
  for i, k in ipairs(rec.candidates) do
    if k.version == cand.version then table.remove(rec.candidates, i) break end
  end
  table.insert(rec.candidates, 1, cand)
  m:_go(rec, "ACTIVE", {reason = ("reloaded %s -> %s"):format(prev.version, cand.version),
                        version = cand.version})
  retire(self, old, strategy, cand.version)
  local ms = loop.now() - t0
  m.audit:write("reload", {plugin_id = id, success = true, strategy = strategy,
    previous_version = prev.version, new_version = cand.version, reload_time_ms = ms})
  self:_tell_dependents(id, prev.version, cand.version)
  return result(t0, prev, {success = true, new_version = cand.version})
end

-- reload(id [, {strategy}]) -> ReloadResult {success, reload_time_ms,
-- previous_version, new_version, error, rolled_back}. Requests for a
-- plugin whose reload is under way coalesce: they wait for it and get its
-- result; one that arrives once it has started makes one more run after
-- it (the files may have changed meanwhile). A request from inside the
-- reload (a handler) returns {queued = true} at once.
function HotReloadManager:reload(id, opts)
  local strategy = strategy_of(opts and opts.strategy or self.opts.strategy, 2)
  local st = self.state[id]
  if st == nil then st = {}; self.state[id] = st end
  if st.task and (st.task:status() == "pending" or st.task:status() == "running"
                  or st.task:status() == "waiting") then
    st.again = strategy
    -- From inside the reload itself (a handler): it runs once more after
    -- this one; waiting for it here would wait for ourselves.
    if loop.current() == st.task then return {success = false, queued = true, rolled_back = false} end
    return st.task:wait()
  end
  st.task = loop.spawn(function()
    local r
    repeat
      local s = st.again or strategy
      st.again = nil
      r = self:_reload(id, s)
    until st.again == nil
    return r
  end)
  return st.task:wait()
end

---------------------------------------------------------------------------
-- Watching

local Watch = {__name = "truthound.ReloadWatch"}
Watch.__index = Watch

function Watch:cancel()
  if not self.fsw then return false end
  self.fsw:stop()
  self.fsw = nil
  self.hr.watches[self] = nil
  return true
end

-- watch{plugin_id, plugin_path, auto_reload} -> watch with cancel(). The
-- plugin's directory tree (plugin_path; default the directory it was
-- discovered in) is watched; a quiet batch of changes (debounce_ms)
-- reloads it when auto_reload (default true), else calls on_change(batch)
-- if given. results (a list) keeps every ReloadResult.
function HotReloadManager:watch(spec)
  if type(spec) ~= "table" or type(spec.plugin_id) ~= "string" then
    usage("watch: expected {plugin_id = ID [, plugin_path = DIR, auto_reload = true]}", 2)
  end
  local m = self.manager
  local rec = m:_record(spec.plugin_id, 2)
  local path = spec.plugin_path or rec.chosen.source_dir or rec.chosen.dir
  local w = setmetatable({hr = self, plugin_id = spec.plugin_id, path = path, results = {}}, Watch)
  local auto = spec.auto_reload ~= false
  local fswatch = require("truthound.fswatch")
  w.fsw = fswatch.watch(path, {debounce_ms = self.opts.debounce_ms}, function(batch)
    m.audit:write("changed", {plugin_id = spec.plugin_id, changes = #batch.changes,
                              overflow = batch.overflow})
    if auto then
      local r = self:reload(spec.plugin_id)
      w.results[#w.results + 1] = r
      if spec.on_reload then spec.on_reload(r) end
    elseif spec.on_change then
      spec.on_change(batch)
    end
  end)
  self.watches[w] = true
  return w
end

-- stop(): cancel every watch.
function HotReloadManager:stop()
  for w in pairs(self.watches) do w:cancel() end
end

return M
