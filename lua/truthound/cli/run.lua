-- truthound.cli.run: `tplua run [--json] MANIFEST [args]`, run an
-- application: its plugins under an EnterprisePluginManager, its main in
-- the loop, until main returns or SIGINT/SIGTERM arrives.
--
-- An application manifest is trusted Lua (unlike plugin.lua and policy.lua,
-- which are data): a file returning a table with
--
--   name, version, description   strings about the application
--   main                         function(manager, app), a task of the loop
--   handlers                     {event = function(plugin, event, data)},
--                                lifecycle handlers (after_load, on_error ...)
--   shutdown_grace_ms            how long the shutdown may take (5000)
--   and the manager's settings   plugin_dirs, require_signature,
--                                trust_store_path, default_security_policy,
--                                policies, auto_load, audit_log ...
--                                (truthound.manager.config); relative paths
--                                are read from the manifest's directory
--
-- An unknown key is a ManifestError. docs/manager.md has the whole story;
-- app is {path, manifest, args}. main's result is the exit status: nil or
-- true 0, false 1, an integer. A first SIGINT or SIGTERM stops main (its
-- task is cancelled) and shuts the plugins down in reverse dependency
-- order, then tplua exits 0; a second one while that runs tears every
-- sandbox down at once and exits 128 + the signal's number.

local cli = require("truthound.cli")
local errors = require("truthound.errors")
local manager_config = require("truthound.manager.config")

local APP_FIELDS = {
  name = "string",
  version = "string",
  description = "string",
  main = "function",
  handlers = "table",
  shutdown_grace_ms = "number",
}

local CONFIG_FIELDS = {
  plugin_dirs = true, scan_entrypoints = true, auto_load = true, auto_activate = true,
  default_security_policy = true, policies = true, require_signature = true,
  trust_store_path = true, enable_hot_reload = true, watch_for_changes = true,
  strict_version_check = true, strict_dependencies = true, allow_missing_optional = true,
  audit_log = true, sandbox = true, stage_dir = true, reload = true,
}

local SIGNUM = {INT = 2, TERM = 15}

local function known_fields()
  local names = {}
  for k in pairs(APP_FIELDS) do names[#names + 1] = k end
  for k in pairs(CONFIG_FIELDS) do names[#names + 1] = k end
  table.sort(names)
  return table.concat(names, ", ")
end

local function manifest_error(path, msg, fields)
  fields = fields or {}
  fields.source = path
  errors.raise("ManifestError", path .. ": " .. msg, fields, 2)
end

-- check(path, m): the manifest's shape, every key known and well typed.
local function check(path, m)
  if type(m) ~= "table" then
    manifest_error(path, "a manifest must return a table, got " .. type(m),
                   {expected = "table", found = type(m)})
  end
  for k, v in pairs(m) do
    local want = APP_FIELDS[k]
    if not want and not CONFIG_FIELDS[k] then
      manifest_error(path, ("unknown key '%s' (known: %s)"):format(tostring(k),
                     known_fields()), {field = tostring(k)})
    end
    if want and type(v) ~= want then
      manifest_error(path, ("'%s' must be a %s, got %s"):format(k, want, type(v)),
                     {field = k, expected = want, found = type(v)})
    end
  end
  for event, fn in pairs(m.handlers or {}) do
    if type(event) ~= "string" or type(fn) ~= "function" then
      manifest_error(path, "handlers: expected {event_name = function(plugin, event, data) ... end}",
                     {field = "handlers"})
    end
  end
  return m
end

local function dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

-- The manager's config from the manifest: its keys, paths under the
-- manifest's directory, and "plugins" beside it as the default directory
-- when there is one.
local function config_of(path, m)
  local base = dirname(path)
  local c = {base_dir = base}
  for k in pairs(CONFIG_FIELDS) do c[k] = m[k] end
  if c.plugin_dirs == nil then
    local fs = require("truthound.native").fs
    c.plugin_dirs = fs.kind(base .. "/plugins") == "directory" and {"plugins"} or {}
  end
  return c
end

---------------------------------------------------------------------------
-- Output

local function tty()
  local host = cli.host()
  return host and host.stderr_tty
end

local function progress(fmt, ...)
  if tty() then io.stderr:write(("tplua: " .. fmt .. "\n"):format(...)) end
end

-- The summary table: one row per plugin, columns sized to their contents.
local function summary_table(rows, refused, footer)
  local head = {"plugin", "version", "state", "isolation", "policy", "signer", "note"}
  local lines = {}
  for _, r in ipairs(rows) do
    lines[#lines + 1] = {r.id, r.version, r.state, r.isolation or "", tostring(r.policy or ""),
                         r.signer or "-", r.error or ""}
  end
  for _, r in ipairs(refused) do
    lines[#lines + 1] = {r.id, "-", "REFUSED", "", "", "", r.reason}
  end
  local width = {}
  for i, h in ipairs(head) do width[i] = #h end
  for _, l in ipairs(lines) do
    for i = 1, #head - 1 do width[i] = math.max(width[i], #l[i]) end
  end
  local function row(cells)
    local out = {}
    for i = 1, #head - 1 do out[i] = cells[i] .. (" "):rep(width[i] - #cells[i]) end
    out[#head] = cells[#head]
    return (table.concat(out, "  "):gsub("%s+$", ""))
  end
  local out = {row(head)}
  for _, l in ipairs(lines) do out[#out + 1] = row(l) end
  out[#out + 1] = footer
  io.stdout:write(table.concat(out, "\n"), "\n")
end

local function json_summary(rows, refused, extra)
  local cjson = require("cjson")
  local doc = {plugins = rows, refused = {}}
  for i, r in ipairs(refused) do doc.refused[i] = {id = r.id, dir = r.dir, reason = r.reason} end
  for k, v in pairs(extra) do doc[k] = v end
  if #rows == 0 then doc.plugins = cjson.empty_array or {} end
  io.stdout:write(cjson.encode(doc), "\n")
end

---------------------------------------------------------------------------
-- The application

-- run_app(path, m, args, json): everything inside one loop task. Returns
-- an exit status.
local function run_app(path, m, args, json)
  local tp = require("truthound")
  local mgr = tp.EnterprisePluginManager.new(config_of(path, m))
  for event, fn in pairs(m.handlers or {}) do mgr:on(event:upper(), fn) end
  local app = {path = path, manifest = m, args = {table.unpack(args, 2)}, manager = mgr}
  local status, main_err, main_tb, signal = cli.EXIT_OK, nil, nil, nil
  local stopping = false

  local watch = tp.signal.watch({"INT", "TERM"}, function(name)
    if stopping then
      -- A second signal: no more grace.
      io.stderr:write(("tplua: SIG%s again: stopping every plugin now\n"):format(name))
      require("truthound.security.sandbox").SandboxFactory.cleanup_all()
      mgr.audit:write("forced", {signal = name})
      os.exit(128 + SIGNUM[name], true)
    end
    stopping, signal = true, name
    mgr.audit:write("signal", {signal = name})
    if app.task and app.task:status() ~= "done" and app.task:status() ~= "failed" then
      pcall(app.task.cancel, app.task)
    end
  end)

  local t0 = tp.now()
  progress("discovering and verifying plugins in %s", table.concat(mgr.config.plugin_dirs, ", "))
  mgr:discover_plugins()
  for _, r in ipairs(mgr:refused_plugins()) do
    io.stderr:write(("tplua: refused plugin %s (%s): %s\n"):format(r.id, r.dir, r.reason))
  end
  if mgr.config.auto_load then
    progress("loaded %d plugin(s) in %.0f ms", #mgr:list_plugins(), tp.now() - t0)
  end

  if m.main and not stopping then
    app.task = tp.spawn(function() return m.main(mgr, app) end)
    local ok, r = pcall(app.task.wait, app.task)
    if ok then
      local valid, code = pcall(cli.exit_code, r, "main")
      if not valid then main_err = errors.new("ManifestError", path .. ": " .. code, {source = path})
      else status = code end
    elseif not signal then
      main_err, main_tb = app.task:error() or r, app.task:traceback()
    end
  end

  local rows = mgr:list_plugins()
  stopping = true
  local t1 = tp.now()
  local clean = mgr:shutdown{grace_ms = m.shutdown_grace_ms or 5000}
  watch:stop()
  local footer = ("%d plugin(s)%s; shut down %s in %.0f ms%s"):format(#rows,
    #mgr:refused_plugins() > 0 and (", %d refused"):format(#mgr:refused_plugins()) or "",
    clean and "cleanly" or "with errors", tp.now() - t1,
    signal and (" (SIG%s)"):format(signal) or "")
  if json then
    json_summary(rows, mgr:refused_plugins(), {clean = clean, signal = signal,
      shutdown_ms = tp.now() - t1})
  elseif #rows > 0 or #mgr:refused_plugins() > 0 then
    summary_table(rows, mgr:refused_plugins(), footer)
  end
  mgr:close()
  if main_err then return cli.report(main_err, main_tb) end
  if signal then return cli.EXIT_OK end
  return status
end

-- load_manifest(path, args): run the manifest file with tp and arg set;
-- returns an exit status and the checked manifest.
local function load_manifest(path, args)
  local chunk, err = cli.load_script(path, "manifest")
  if not chunk then errors.raise("ManifestError", err, {source = path}) end
  local prog = type(_G.arg) == "table" and _G.arg[-1] or cli.PROGRAM
  cli.set_arg({[0] = prog, "run", table.unpack(args)}, 2)
  cli.preload_tp()
  local status, m = cli.call(chunk)
  if status ~= cli.EXIT_OK then return status end
  return status, check(path, m)
end

-- in_loop(f, ...): f as a task, and the loop until it is idle; f's result.
local function in_loop(f, ...)
  local tp = require("truthound")
  local t = tp.spawn(f, ...)
  tp.run()
  return t:wait()
end

local function run(args)
  local json = false
  if args[1] == "--json" then json = true; table.remove(args, 1) end
  local path = args[1]
  if not path then cli.usage_error("missing the manifest path", "run") end
  if path:sub(1, 1) == "-" then cli.usage_error(("unknown option '%s'"):format(path), "run") end
  local status, m = load_manifest(path, args)
  if status ~= cli.EXIT_OK then return status end
  local cstatus, code = cli.call(in_loop, run_app, path, m, args, json)
  if cstatus ~= cli.EXIT_OK then return cstatus end
  return code
end

return {
  name = "run",
  summary = "run an application manifest: its plugins, then its main",
  usage = "run [--json] MANIFEST [args]",
  help = [[
MANIFEST is a Lua file returning a table: name, version, description
(strings), main (a function), handlers (lifecycle handlers by event name),
shutdown_grace_ms, and the plugin manager's settings (plugin_dirs,
require_signature, trust_store_path, default_security_policy, policies,
auto_load, audit_log, ...; docs/manager.md). Relative paths are read from
the manifest's directory. tplua discovers the plugins (verifying each
before reading it), loads them when auto_load is set, then calls
main(manager, app) as a task of the loop; app is {path, manifest, args,
manager}, args (and the global arg) hold the words after MANIFEST.

When main returns, or at the first SIGINT or SIGTERM, the plugins are
deactivated and unloaded in reverse dependency order and a summary table is
printed (--json: one JSON document instead). A second signal stops every
sandbox at once and exits 128 + its number. main's result is the exit
status: nil or true 0, false 1, or an integer 0-255; after a signal, 0.
Errors in the manifest or in main exit 3.]],
  run = run,
}
