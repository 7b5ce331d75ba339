-- truthound.cli: the tplua command line.
--
-- core/tplua.c sets up Lua and calls cli.main(argv, host); every decision
-- about arguments, commands, help text, error reports and exit codes is
-- made here. The host table gives what only C can do:
--
--   host.docall(f, ...)  -> true, results... | false, err, traceback
--                           (Ctrl-C interrupts f; the traceback stops at f)
--   host.repl(opts)      the libedit REPL (opts: prompt, prompt2, history,
--                           report(err, traceback))
--   host.stdin_tty       is standard input a terminal?
--   host.stderr_tty      is standard error a terminal? (progress lines)
--   host.lua_release     "Lua 5.4.4"
--
-- cli.main also works without a host (plain lua5.4, tests), minus the REPL.
--
-- A command is a table {name =, summary =, usage =, help =, run = fn}:
-- run(args) gets the arguments after the command name and returns an exit
-- code (nil or true: 0, false: 1, or an integer). Register one with
-- cli.register(cmd); built-in commands are modules truthound.cli.<name>,
-- loaded on first use, that return their command table.
--
-- Dispatch: argv[1] naming a command runs it; else an argv[1] starting with
-- '-' is an option (lua5.4's: -e, -l, -i, -v, --, -); else argv[1] is a
-- script path. A script that shares a command's name runs as ./name.

local errors = require("truthound.errors")

local cli = {
  PROGRAM = "tplua",
  VERSION = "0.1.0",
  EXIT_OK = 0,        -- success
  EXIT_FAILURE = 1,   -- a verdict of failure (e.g. verification failed)
  EXIT_USAGE = 2,     -- bad command line (a UsageError)
  EXIT_ERROR = 3,     -- runtime error
}

-- Built-in commands, in the order --help lists them.
local BUILTIN = {"check", "doctor", "graph", "keygen", "resolve", "run", "semver", "sign", "trust", "verify"}

local is_builtin = {}
for _, name in ipairs(BUILTIN) do is_builtin[name] = true end

local registered = {}   -- name -> command
local current_host      -- the host of the running cli.main
local current_command   -- the name of the command it runs, if any

---------------------------------------------------------------------------
-- Errors and reports

-- usage_error(msg [, command]): raise a UsageError (exit status 2). With a
-- command name, the report points at that command's --help.
function cli.usage_error(msg, command)
  errors.raise("UsageError", msg, {command = command}, 2)
end

-- describe(e) -> kind, message: the truthound class name for typed errors,
-- "error" for anything else.
function cli.describe(e)
  local kind = errors.kind(e)
  if kind then return kind, tostring(e.message) end
  if type(e) == "string" or type(e) == "number" then return "error", tostring(e) end
  local mt = getmetatable(e)
  if mt and mt.__tostring then
    local ok, s = pcall(tostring, e)
    if ok and type(s) == "string" then return "error", s end
  end
  return "error", ("(error object is a %s value)"):format(type(e))
end

-- exit_status(e): 2 for a usage error, 3 for anything else.
function cli.exit_status(e)
  return errors.is(e, "UsageError") and cli.EXIT_USAGE or cli.EXIT_ERROR
end

-- report(e [, traceback]): print "tplua: <kind>: <message>" (and the
-- traceback) on stderr; return the exit status for e.
function cli.report(e, traceback)
  local kind, msg = cli.describe(e)
  local out = {("%s: %s: %s\n"):format(cli.PROGRAM, kind, msg)}
  if traceback and traceback ~= "" then out[#out + 1] = traceback .. "\n" end
  if errors.is(e, "UsageError") and not msg:find("--help", 1, true) then
    local command = e.command or current_command
    local where = command and (cli.PROGRAM .. " " .. command) or cli.PROGRAM
    out[#out + 1] = ("Try '%s --help'.\n"):format(where)
  end
  io.stdout:flush()
  io.stderr:write(table.concat(out))
  return cli.exit_status(e)
end

-- exit_code(v, what): the exit status a command or main returned.
function cli.exit_code(v, what)
  if v == nil or v == true then return cli.EXIT_OK end
  if v == false then return cli.EXIT_FAILURE end
  if math.type(v) == "integer" and v >= 0 and v <= 255 then return v end
  error(("%s returned %s; expected nil, a boolean or an exit code 0-255")
        :format(what, type(v) == "number" and tostring(v) or "a " .. type(v)), 0)
end

---------------------------------------------------------------------------
-- Running user code

-- A host for plain lua5.4: the same calls, no Ctrl-C handling, no REPL.
local function plain_host()
  local function handler(e)   -- the traceback stops at f, as tplua's
    local tb = debug.traceback(nil, 2)
    return {e, tb:match("^(.-)\n\t%[C%]: in function 'xpcall'") or tb}
  end
  return {
    docall = function(f, ...)
      local r = table.pack(xpcall(f, handler, ...))
      if r[1] then return table.unpack(r, 1, r.n) end
      return false, r[2][1], r[2][2]
    end,
    repl = function()
      cli.usage_error("the interactive REPL needs the tplua program")
    end,
    stdin_tty = false,
    lua_release = _VERSION,
  }
end

-- host(): the host of the running cli.main (a plain one outside of it).
function cli.host()
  current_host = current_host or plain_host()
  return current_host
end

-- call(f, ...): run user code (a script, -e, a manifest) interruptibly. On
-- error, report it with its traceback and return the exit status; else
-- return 0 and f's results.
function cli.call(f, ...)
  local r = table.pack(cli.host().docall(f, ...))
  if not r[1] then return cli.report(r[2], r[3]) end
  return cli.EXIT_OK, table.unpack(r, 2, r.n)
end

-- load_script(path [, what]) -> chunk | nil, message: the chunk in file
-- path ("-" is stdin). A file that cannot be opened raises a usage error
-- naming it as what (default "script"); a syntax error is returned (the
-- caller reports it, without a traceback).
function cli.load_script(path, what)
  if path == "-" then path = nil end
  if path then
    local f, why = io.open(path, "r")
    if not f then
      why = why and why:match(": ([^:]*)$") or tostring(why)
      if not what and not path:find("[/.]") then
        cli.usage_error(("'%s' is neither a command nor a script (%s); commands: %s")
                        :format(path, why, table.concat(cli.names(), ", ")))
      end
      cli.usage_error(("cannot open %s '%s': %s"):format(what or "script", path, why))
    end
    f:close()
  end
  return loadfile(path)
end

-- set_arg(argv, script): the global arg as lua5.4 makes it: the script at
-- index 0, its arguments after, the interpreter and options before.
function cli.set_arg(argv, script)
  local t = {}
  for i = 0, #argv do t[i - script] = argv[i] end
  _G.arg = t
  return t
end

-- preload_tp(): the global tp that scripts, -e, manifests and the REPL see.
function cli.preload_tp()
  _G.tp = require("truthound")
end

---------------------------------------------------------------------------
-- Commands

local function check_command(cmd)
  if type(cmd) ~= "table" then
    error("a command must be a table, got " .. type(cmd), 3)
  end
  if type(cmd.name) ~= "string" or not cmd.name:match("^%a[%w_-]*$") then
    error("a command needs a name of letters, digits, '_' and '-', got "
          .. tostring(cmd.name), 3)
  end
  if type(cmd.run) ~= "function" then
    error("command '" .. cmd.name .. "' needs a run function", 3)
  end
  for _, k in ipairs({"summary", "usage", "help"}) do
    if cmd[k] ~= nil and type(cmd[k]) ~= "string" then
      error(("command '%s': %s must be a string"):format(cmd.name, k), 3)
    end
  end
end

-- register(cmd): add (or replace) a command. Returns cmd.
function cli.register(cmd)
  check_command(cmd)
  registered[cmd.name] = cmd
  return cmd
end

-- command(name): the command called name, loading a built-in on first use;
-- nil when there is none. A built-in that fails to load raises.
function cli.command(name)
  if registered[name] then return registered[name] end
  if not is_builtin[name] then return nil end
  local mod = require("truthound.cli." .. name)
  -- The module either returns its command or registered it itself.
  return registered[name] or cli.register(mod)
end

-- names(): every command name, built-in or registered, sorted.
function cli.names()
  local seen, list = {}, {}
  for _, name in ipairs(BUILTIN) do seen[name] = true end
  for name in pairs(registered) do seen[name] = true end
  for name in pairs(seen) do list[#list + 1] = name end
  table.sort(list)
  return list
end

-- usage_lines(cmd): its usage, each line starting "tplua <name>".
local function usage_lines(cmd)
  local lines = {}
  for line in (cmd.usage or cmd.name):gmatch("[^\n]+") do
    line = line:gsub("^%s*[Uu]sage:%s*", ""):gsub("^%s+", "")
    if not line:find("^" .. cli.PROGRAM .. " ") then
      if line:sub(1, #cmd.name) ~= cmd.name then line = cmd.name .. " " .. line end
      line = cli.PROGRAM .. " " .. line
    end
    lines[#lines + 1] = line
  end
  return lines
end

-- command_help(cmd): the text of `tplua <cmd> --help`.
function cli.command_help(cmd)
  local out = {}
  for i, line in ipairs(usage_lines(cmd)) do
    out[#out + 1] = (i == 1 and "usage: " or "       ") .. line
  end
  if cmd.summary then out[#out + 1] = "\n" .. cmd.summary end
  if cmd.help then out[#out + 1] = "\n" .. cmd.help:gsub("%s+$", "") end
  return table.concat(out, "\n") .. "\n"
end

local function run_command(cmd, args)
  if args[1] == "--help" or args[1] == "-h" then
    io.stdout:write(cli.command_help(cmd))
    return cli.EXIT_OK
  end
  return cli.exit_code(cmd.run(args), "command '" .. cmd.name .. "'")
end

---------------------------------------------------------------------------
-- Help and version

function cli.version()
  local ok, tp = pcall(require, "truthound")
  return ("%s %s (truthound %s, %s)"):format(cli.PROGRAM, cli.VERSION,
    ok and tp.VERSION or "unavailable", cli.host().lua_release or _VERSION)
end

local HELP = [==[
usage: tplua [options] [script [args]]
       tplua <command> [args]

Lua 5.4 with truthound preloaded as the global 'tp'. With no arguments it
starts an interactive REPL when stdin is a terminal, and otherwise runs
stdin as a chunk.

Options:
  -e CODE        run the Lua code CODE (may repeat)
  -l NAME        require module NAME into the global NAME (or -l g=NAME)
  -i             enter the REPL after the script or -e
  -v, --version  print the version
  -h, --help     print this help
  --             stop handling options; the next argument is the script
  -              run stdin as the script

Commands (tplua <command> --help for details):
%s
A script named like a command runs with a path: tplua ./run

Exit status: 0 ok, 1 a verdict of failure, 2 usage error, 3 runtime error.
Environment: TPLUA_HISTORY (REPL history file, default ~/.tplua_history;
empty for none), LUA_PATH and LUA_CPATH as in lua5.4.
]==]

function cli.help()
  local rows = {}
  for _, name in ipairs(cli.names()) do
    local ok, cmd = pcall(cli.command, name)
    local summary = ok and cmd.summary or "(cannot be loaded)"
    rows[#rows + 1] = ("  %-14s %s\n"):format(name, summary or "")
  end
  return HELP:format(table.concat(rows))
end

---------------------------------------------------------------------------
-- The interpreter: options, script, REPL

-- parse_options(argv) -> options: lua5.4's options, up to the script.
local function parse_options(argv)
  local o = {actions = {}}
  local i = 1
  while argv[i] do
    local a = argv[i]
    if a == "--" then i = i + 1; break
    elseif a == "-" or a:sub(1, 1) ~= "-" then break
    elseif a == "-i" then o.interactive = true
    elseif a == "-v" or a == "--version" then o.version = true
    elseif a == "-h" or a == "--help" then o.help = true
    elseif a:match("^%-[el]") then
      local value = #a > 2 and a:sub(3) or argv[i + 1]
      if value == nil then
        cli.usage_error(("option '%s' needs an argument"):format(a))
      end
      if #a == 2 then i = i + 1 end
      o.actions[#o.actions + 1] = {a:sub(2, 2), value}
      o.run_code = o.run_code or a:sub(2, 2) == "e"
    else
      cli.usage_error(("unknown option '%s'"):format(a))
    end
    i = i + 1
  end
  o.script = argv[i] and i or nil
  return o
end

-- A -e or -l action; returns an exit status.
local function run_action(action)
  local what, value = action[1], action[2]
  if what == "e" then
    local chunk, err = load(value, "=(command line)")
    if not chunk then return cli.report(err) end
    return (cli.call(chunk))
  end
  local global, module = value:match("^([^=]+)=(.+)$")
  global, module = global or value, module or value
  local status, m = cli.call(require, module)
  if status == cli.EXIT_OK then _G[global] = m end
  return status
end

local function history_path()
  local path = os.getenv("TPLUA_HISTORY")
  if path then return path ~= "" and path or nil end
  local home = os.getenv("HOME")
  return home and home ~= "" and (home .. "/.tplua_history") or nil
end

-- repl_report(err, traceback): how the REPL shows an error: typed errors
-- by tostring, anything else with its traceback, as lua5.4 does.
local function repl_report(e, traceback)
  local text
  if errors.kind(e) then
    text = tostring(e)
  else
    text = select(2, cli.describe(e))
    if traceback and traceback ~= "" then text = text .. "\n" .. traceback end
  end
  io.stdout:flush()
  io.stderr:write(text, "\n")
end

local function repl()
  io.stdout:write(cli.version(), " -- tp is require(\"truthound\"); Ctrl-D exits\n")
  cli.host().repl({
    prompt = "tp> ",
    prompt2 = "tp>> ",
    history = history_path(),
    report = repl_report,
  })
  return cli.EXIT_OK
end

local function run_script(argv, index)
  local chunk, err = cli.load_script(argv[index])
  if not chunk then return cli.report(err) end
  return (cli.call(chunk, table.unpack(argv, index + 1)))
end

-- Tasks the code spawned run once it returns, as node runs its event loop
-- after the main module: tplua -e 'tp.spawn(f)' runs f.
local function drain_loop()
  return (cli.call(require("truthound").run))
end

local function interpreter(argv, host)
  local o = parse_options(argv)
  if o.help then
    io.stdout:write(cli.help())
    return cli.EXIT_OK
  end
  cli.set_arg(argv, o.script or 0)
  if o.version then print(cli.version()) end
  local status = cli.call(cli.preload_tp)
  for _, action in ipairs(o.actions) do
    if status ~= cli.EXIT_OK then return status end
    status = run_action(action)
  end
  if status == cli.EXIT_OK and o.script then status = run_script(argv, o.script) end
  if status == cli.EXIT_OK then status = drain_loop() end
  if status ~= cli.EXIT_OK then return status end
  if o.interactive then return repl() end
  -- As lua5.4: with nothing else to do, the REPL or stdin.
  if o.script or o.version or o.run_code then return status end
  if host.stdin_tty then return repl() end
  status = run_script({[0] = argv[0], "-"}, 1)
  if status == cli.EXIT_OK then status = drain_loop() end
  return status
end

---------------------------------------------------------------------------
-- Entry

-- dispatch(argv): the exit status of one tplua invocation.
local function dispatch(argv, host)
  local cmd = argv[1] and cli.command(argv[1])
  if cmd then
    current_command = cmd.name
    cli.set_arg(argv, 1)
    return run_command(cmd, {table.unpack(argv, 2)})
  end
  return interpreter(argv, host)
end

-- main(argv [, host]) -> exit status. argv[0] is the program name.
function cli.main(argv, host)
  current_host, current_command = host or plain_host(), nil
  local r = table.pack(current_host.docall(dispatch, argv, current_host))
  if r[1] then return r[2] end
  -- Typed errors from commands are verdicts on input: no traceback. Other
  -- errors reaching this far are bugs: show where.
  local e, traceback = r[2], r[3]
  if errors.kind(e) or e == "interrupted!" then traceback = nil end
  return cli.report(e, traceback)
end

return cli
