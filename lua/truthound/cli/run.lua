-- truthound.cli.run: `tplua run MANIFEST [args]`, run an application.
--
-- An application manifest is trusted Lua (unlike plugin.lua and policy.lua,
-- which are data): a file returning a table. For now the table may hold
--
--   name        string    what the application is called
--   version     string    its version
--   description string    one line about it
--   main        function  main(app), run inside the truthound loop
--
-- and nothing else: an unknown key is a ManifestError, so a manifest written
-- for the plugin manager (a later issue) fails loudly instead of running
-- without its plugins. app is {path =, manifest =, args = {...}}; args (also
-- the global arg, arg[0] being the manifest) are the words after MANIFEST.
-- main runs as a task of the loop, so it may wait (tp.sleep, ...); after it
-- returns, tplua runs the loop until no task is left. main's result is the
-- exit status: nil or true 0, false 1 (a verdict of failure), or an integer.

local cli = require("truthound.cli")
local errors = require("truthound.errors")

local FIELDS = {
  name = "string",
  version = "string",
  description = "string",
  main = "function",
}

local function known_fields()
  local names = {}
  for k in pairs(FIELDS) do names[#names + 1] = k end
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
    local want = FIELDS[k]
    if not want then
      manifest_error(path, ("unknown key '%s' (known: %s)"):format(tostring(k),
                     known_fields()), {field = tostring(k)})
    end
    if type(v) ~= want then
      manifest_error(path, ("'%s' must be a %s, got %s"):format(k, want, type(v)),
                     {field = k, expected = want, found = type(v)})
    end
  end
  return m
end

-- main's failure, carried out of the loop (which stops at the first task
-- that fails) with the traceback taken inside the task.
local Failure = {}

-- in_loop(f, ...): run f as a task of the truthound loop and the loop until
-- it is idle. Returns true, results or false, err, traceback (the traceback
-- of the task's own stack, which stops at f).
local function in_loop(f, ...)
  local tp = require("truthound")
  local function handler(e)
    local tb = debug.traceback(nil, 2)
    return {e, tb:match("^(.-)\n\t%[C%]: in function 'xpcall'") or tb}
  end
  local out
  tp.spawn(function(...)
    local r = table.pack(xpcall(f, handler, ...))
    if not r[1] then error(setmetatable(r[2], Failure), 0) end
    out = r
  end, ...)
  local ok, e = pcall(tp.run)
  if not ok then
    if getmetatable(e) == Failure then return false, e[1], e[2] end
    error(e, 0)                 -- another task failed
  end
  if not out then
    error("main did not finish: the loop ran out of work while it waited", 0)
  end
  return table.unpack(out, 1, out.n)
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

-- start(path, m, args): main in the loop; its result as an exit status.
local function start(path, m, args)
  local app = {path = path, manifest = m, args = {table.unpack(args, 2)}}
  local status, ok, result, traceback = cli.call(in_loop, m.main, app)
  if status ~= cli.EXIT_OK then return status end
  if not ok then return cli.report(result, traceback) end
  local valid, code = pcall(cli.exit_code, result, "main")
  if not valid then manifest_error(path, code) end
  return code
end

local function run(args)
  local path = args[1]
  if not path then cli.usage_error("missing the manifest path", "run") end
  local status, m = load_manifest(path, args)
  if status ~= cli.EXIT_OK or not m.main then return status end
  return start(path, m, args)
end

return {
  name = "run",
  summary = "run an application manifest (its main, inside the loop)",
  usage = "run MANIFEST [args]",
  help = [[
MANIFEST is a Lua file returning a table with optional fields name,
version, description (strings) and main (a function). tplua runs the file,
checks the table (an unknown key is an error), then calls main(app) as a
task of the truthound loop, app being {path, manifest, args}; args (and the
global arg) hold the words after MANIFEST. When main returns, the loop runs
until no task is left. main's result is the exit status: nil or true 0,
false 1, or an integer 0-255. Errors in the manifest or in main exit 3.]],
  run = run,
}
