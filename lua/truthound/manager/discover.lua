-- truthound.manager.discover: finding plugin directories and reading the
-- ones that pass their verification.
--
--   local discover = require("truthound.manager.discover")
--   for _, c in ipairs(discover.candidates(config)) do ... end   -- {dir, name, origin}
--   local rec, err = discover.read(c, policy, {require_signature = true, store = store})
--
-- Order matters and is the point of this file: a candidate is a directory
-- whose *name* is a plugin id; nothing inside it is read until the
-- verification chain (truthound.security.signing.verify_plugin: tree
-- digest, signatures, trust, expiry, rollback) has passed for it. Only
-- then is plugin.lua, now authenticated, read as data, and only then may
-- the sandbox run the plugin's modules.
--
-- Entry points: a plugin installed as a rock puts its directory at
-- <lua tree>/truthound_plugins/<id>/ (plugin.lua and its modules), next
-- to the other modules of the tree. scan_entrypoints looks for
-- truthound_plugins/ under every root of package.path (the part of each
-- template before "?"), so whatever tree `require` would search is
-- searched for plugins too (docs/manager.md).

local native = require("truthound.native")
local manifest = require("truthound.manifest")
local signing = require("truthound.security.signing")

local fs = native.fs

local M = {}

M.ENTRYPOINT_DIR = "truthound_plugins"

local function join(dir, name)
  return dir:sub(-1) == "/" and dir .. name or dir .. "/" .. name
end

-- The roots of package.path: "/usr/share/lua/5.4/?.lua" -> "/usr/share/lua/5.4/".
function M.path_roots(path)
  local roots, seen = {}, {}
  for template in (path or package.path):gmatch("[^;]+") do
    local root = template:match("^(.-)%?")
    if root and root ~= "" and root:sub(-1) == "/" and not seen[root] then
      seen[root] = true
      roots[#roots + 1] = root
    end
  end
  return roots
end

-- candidates(config) -> list of {dir, name, origin}, and a list of notes
-- (directories that could not be listed). Sorted by name, then by the
-- order of the roots; the same real directory is listed once.
function M.candidates(config)
  local roots = {}
  for _, d in ipairs(config.plugin_dirs) do roots[#roots + 1] = {dir = d, origin = "plugin_dirs"} end
  if config.scan_entrypoints then
    for _, r in ipairs(M.path_roots()) do
      local d = r .. M.ENTRYPOINT_DIR
      if fs.kind(d) == "directory" then roots[#roots + 1] = {dir = d, origin = "entrypoint"} end
    end
  end
  local out, notes, seen = {}, {}, {}
  for rank, root in ipairs(roots) do
    local names, why = fs.list(root.dir)
    if not names then
      notes[#notes + 1] = ("%s: cannot list: %s"):format(root.dir, tostring(why))
    else
      table.sort(names)
      for _, name in ipairs(names) do
        local dir = join(root.dir, name)
        local real = name:sub(1, 1) ~= "." and fs.kind(dir) == "directory" and fs.realpath(dir)
        if real and not seen[real] then
          seen[real] = true
          out[#out + 1] = {dir = dir, real = real, name = name, origin = root.origin, rank = rank}
        end
      end
    end
  end
  table.sort(out, function(a, b)
    if a.name ~= b.name then return a.name < b.name end
    return a.rank < b.rank
  end)
  return out, notes
end

-- The policy the verification applies: the plugin's own, with at least
-- one signature when the manager requires signatures.
local function verification_policy(policy, require_signature)
  if require_signature and policy.required_signatures < 1 then
    return policy:with{required_signatures = 1}
  end
  return policy
end

-- read(c, policy, opts) -> record, or nil and an error (typed) with the
-- verification result when there is one. opts: require_signature, store
-- (a TrustStore; nil when nothing needs one), now, stage (a function
-- returning the staging area: a verified plugin is read and run from its
-- checked copy, truthound.manager.stage).
function M.read(c, policy, opts)
  local id_problem = manifest.id_problem(c.name)
  if id_problem then
    return nil, require("truthound.errors").new("PluginError",
      ("%s: not a plugin directory: its name is not a plugin id (%s)"):format(c.dir, id_problem),
      {plugin_id = c.name})
  end
  local vpolicy = verification_policy(policy, opts.require_signature)
  local verdict
  if vpolicy.required_signatures > 0 then
    if opts.store == nil then
      return nil, require("truthound.errors").new("SignatureError",
        ("%s: policy %s requires %d signature(s) but the manager has no trust store " ..
         "(trust_store_path)"):format(c.dir, tostring(vpolicy.name), vpolicy.required_signatures),
        {plugin_id = c.name})
    end
    -- record = false: the store's accepted version (rollback protection)
    -- moves when the manager loads this version, not when it merely finds it
    local ok, r = pcall(signing.verify_plugin, c.dir, vpolicy, opts.store,
                        {raise = false, now = opts.now, plugin_id = c.name, record = false})
    if not ok then return nil, r end
    if not r.is_valid then return nil, r.errors[1], r end
    verdict = r
  end
  local dir = c.real or c.dir
  if verdict and opts.stage then
    local staged, serr = opts.stage():copy(dir, c.name, verdict.tree_digest)
    if not staged then return nil, serr, verdict end
    dir = staged
  end
  -- Verified (or nothing to verify under this policy): plugin.lua is data.
  local ok, m = pcall(manifest.load, dir)
  if not ok then return nil, m, verdict end
  return {id = m.id, version = m.version, dir = dir, source_dir = c.real or c.dir, manifest = m,
          origin = c.origin, verdict = verdict,
          signer = verdict and verdict.signer_id or nil,
          trust_level = verdict and verdict.trust_level or "UNVERIFIED"}, nil, verdict
end

-- capability_problems(m, policy) -> list of strings: what the manifest
-- asks for that the policy does not allow.
function M.capability_problems(m, policy)
  local caps, out = m.capabilities or {}, {}
  local function no(what, field)
    out[#out + 1] = ("asks for %s, which policy %s does not allow (%s)")
                    :format(what, tostring(policy.name or "custom"), field)
  end
  if caps.network and not policy.allow_network then no("network access", "allow_network") end
  if caps.subprocess and not policy.allow_subprocess then no("subprocesses", "allow_subprocess") end
  if caps.file_write and not policy.allow_file_write then no("file writes", "allow_file_write") end
  for _, mod in ipairs(caps.modules or {}) do
    if not policy:allows_module(mod) then no(("module '%s'"):format(mod), "allowed_modules") end
  end
  local view = policy.resource_limits.allowed_paths
  for _, p in ipairs(caps.paths or {}) do
    local covered = false
    for _, a in ipairs(view or {}) do
      if a == "/" or p == a or p:sub(1, #a + 1) == a .. "/" then covered = true break end
    end
    if not covered then no(("path %s"):format(p), "resource_limits.allowed_paths") end
  end
  return out
end

return M
