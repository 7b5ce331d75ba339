-- The sandbox hostile suite's runner (tests/hostile/sandbox.sh starts it
-- under tplua; docs/hostile.md lists the attacks). Prints TAP.
--
--   tplua run.lua TMP SRC list              the cases and their levels
--   tplua run.lua TMP SRC case PLUGIN LEVEL  one case at one level
--   tplua run.lua TMP SRC fake VARIANT       the host against a fake worker
--
-- TMP is a scratch directory (mode 0755) the driver made; SRC is this
-- directory. Each case of cases.lua runs its plugin at every level that
-- promises to stop it and asserts: the exact typed error and its fields (or
-- the result), that no secret leaked into the error, that the host is
-- unharmed (its files intact, its string library its own, a canary plugin
-- in this same process still answers, no process of the attack left), and,
-- where the case has one, that a control run shows the same action
-- succeeding when the sandbox allows it.
--
-- TPHOSTILE_LEVELS (e.g. "NONE PROCESS") and TPHOSTILE_CASES (Lua patterns,
-- space-separated) narrow a run while iterating.

local TMP, SRC, MODE, VARIANT = arg[1], arg[2], arg[3], arg[4]
assert(TMP and SRC and MODE, "usage: run.lua TMP SRC list | case PLUGIN LEVEL | fake VARIANT")

local errors = require("truthound.errors")
local tp = require("truthound")
local core = require("truthound.native")
local sandbox = require("truthound.security.sandbox")
local common = require("truthound.security.sandbox.common")

local MIB = 1024 * 1024
local H = {}          -- what cases.lua gets: expectations, env, helpers

---------------------------------------------------------------------------
-- Small tools

local function sh(cmd)
  local ok = os.execute(cmd)
  assert(ok, "command failed: " .. cmd)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local d = f:read("a")
  f:close()
  return d
end

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end
H.read, H.write, H.sh = read, write, sh

local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then
    if #v > 80 then return ("%q..(%d bytes)"):format(v:sub(1, 60), #v) end
    return ("%q"):format(v)
  end
  if type(v) ~= "table" or depth > 2 then return tostring(v) end
  if errors.kind(v) then
    local parts = {}
    for k, x in pairs(v) do
      if k ~= "message" and k ~= "traceback" then parts[#parts + 1] = k .. "=" .. show(x, depth + 1) end
    end
    table.sort(parts)
    return ("%s{%s} %s"):format(errors.kind(v), table.concat(parts, ", "), show(tostring(v.message), depth + 1))
  end
  local parts = {}
  for k, x in pairs(v) do
    parts[#parts + 1] = tostring(k) .. "=" .. show(x, depth + 1)
    if #parts > 8 then parts[#parts + 1] = "..."; break end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end
H.show = show

local HOST_PID = tonumber(read("/proc/self/stat"):match("^(%d+)"))

local function ls(dir)
  local ok, names = pcall(core.fs.list, dir)
  if ok and type(names) == "table" then return names end
  local out, p = {}, io.popen("ls -1 " .. dir .. " 2>/dev/null")
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

-- Every live process: pid -> {ppid, cmdline}.
local function processes()
  local out = {}
  for _, name in ipairs(ls("/proc")) do
    local pid = tonumber(name)
    if pid then
      local stat = read("/proc/" .. pid .. "/stat")
      if stat then
        local state, ppid = stat:match("%) (%S) (%d+)")
        if state and state ~= "Z" then
          out[pid] = {ppid = tonumber(ppid),
                      cmd = (read("/proc/" .. pid .. "/cmdline") or ""):gsub("%z", " ")}
        end
      end
    end
  end
  return out
end

-- The processes below the host, as a set.
local function descendants()
  local procs, set, grew = processes(), {}, true
  set[HOST_PID] = true
  while grew do
    grew = false
    for pid, p in pairs(procs) do
      if not set[pid] and set[p.ppid] then set[pid] = true; grew = true end
    end
  end
  set[HOST_PID] = nil
  local out = {}
  for pid in pairs(set) do out[pid] = procs[pid].cmd end
  return out
end

-- Processes anywhere whose command line has one of the attacks' markers.
-- The marker names this run only (the driver's pid), so that a suite run
-- by someone else at the same time is not taken for ours.
local MARKER = "tphostile-" .. (os.getenv("TPHOSTILE_RUN") or "0")
local function marked()
  local out = {}
  for pid, p in pairs(processes()) do
    if p.cmd:find(MARKER, 1, true) then out[#out + 1] = ("%d %s"):format(pid, p.cmd) end
  end
  return out
end

local function sleep(s)
  local ok = pcall(tp.sleep, s)
  if not ok then os.execute(("sleep %.2f"):format(s)) end
end

---------------------------------------------------------------------------
-- The scene: the host's secrets, an allowed directory, a writable one,
-- a FIFO, listeners on loopback and on a unix socket.

local ENV = {
  root = TMP,
  data = TMP .. "/data",
  host_dir = TMP .. "/host/keys",
  host_key = TMP .. "/host/keys/host.key",
  outside = TMP .. "/outside",
  work = TMP .. "/work",
  fifo_dir = TMP .. "/fifo",
  fifo = TMP .. "/fifo/pipe",
  sock_dir = TMP .. "/sock",
  sock = TMP .. "/sock/service.sock",
  plugins = TMP .. "/plugins",
  host_pid = HOST_PID,
  marker = MARKER,
}
H.env = ENV

local KEY = "-----BEGIN PRIVATE KEY-----\ntphostile-host-key-" .. tostring(os.time()) ..
            "-MC4CAQAwBQYDK2VwBCIEIN0tHiS1s+no7+a+real+key+\n-----END PRIVATE KEY-----\n"
local VICTIM = "the host's file, which no plugin may change\n"
local DATA = "data a plugin may read\n"
local SECRET = os.getenv("TPHOSTILE_SECRET") or "no-secret-set"
ENV.key_text = KEY
H.SECRETS = {KEY:match("tphostile%-host%-key%-%d+"), SECRET}

local function scene()
  for _, d in ipairs{ENV.data, ENV.host_dir, ENV.outside, ENV.work, ENV.fifo_dir, ENV.sock_dir} do
    sh(("mkdir -p '%s'"):format(d))
  end
  -- world-readable and world-writable where a plugin's uid could: only the
  -- sandbox's own mechanisms (Landlock, mount view) stand in the way.
  sh(("chmod 0755 '%s' '%s/host' '%s'"):format(TMP, TMP, ENV.host_dir))
  sh(("chmod 0777 '%s' '%s' '%s' '%s' '%s'"):format(ENV.data, ENV.outside, ENV.work, ENV.fifo_dir, ENV.sock_dir))
  write(ENV.host_key, KEY)
  write(ENV.outside .. "/victim.txt", VICTIM)
  write(ENV.data .. "/data.txt", DATA)
  sh(("chmod 0644 '%s'; chmod 0666 '%s/victim.txt' '%s/data.txt'"):format(ENV.host_key, ENV.outside, ENV.data))
  sh(("ln -sf '%s' '%s/link.key'"):format(ENV.host_key, ENV.data))
  sh(("ln -sf '%s/victim.txt' '%s/evil'"):format(ENV.outside, ENV.work))
  sh(("rm -f '%s' && mkfifo -m 0666 '%s'"):format(ENV.fifo, ENV.fifo))
  -- the plugins, readable by the unprivileged uid the workers run as
  sh(("rm -rf '%s' && mkdir -p '%s' && cp -R '%s'/. '%s'/ && rm -f '%s'/*.lua '%s'/*.sh")
     :format(ENV.plugins, ENV.plugins, SRC, ENV.plugins, ENV.plugins, ENV.plugins))
  sh(("ln -sf '%s' '%s/require_symlink/leak.lua'"):format(ENV.host_key, ENV.plugins))
  sh(("chmod -R a+rX '%s'"):format(ENV.plugins))
end

-- restore(): put the host's files back after a control run changed them.
function H.restore()
  write(ENV.outside .. "/victim.txt", VICTIM)
  write(ENV.data .. "/data.txt", DATA)
  os.remove(ENV.outside .. "/moved.txt")
  os.remove(ENV.work .. "/moved.txt")
  sh(("chmod 0666 '%s/victim.txt' '%s/data.txt'"):format(ENV.outside, ENV.data))
  if not read(ENV.work .. "/evil") then
    os.remove(ENV.work .. "/evil")
    sh(("ln -sf '%s/victim.txt' '%s/evil'"):format(ENV.outside, ENV.work))
  end
end

-- intact() -> nil, or what changed on the host.
local function intact()
  if read(ENV.host_key) ~= KEY then return "the host key changed" end
  if read(ENV.outside .. "/victim.txt") ~= VICTIM then return "outside/victim.txt changed" end
  if read(ENV.data .. "/data.txt") ~= DATA then return "data/data.txt changed" end
  if read(ENV.outside .. "/moved.txt") then return "a file appeared in outside/" end
  if ("abc"):upper() ~= "ABC" or string.rep("a", 3) ~= "aaa" or ("x"):rep(2) ~= "xx" then
    return "the host's string library was patched"
  end
  return nil
end

-- Listeners: TCP, UDP ("udp" and "dns"), a unix socket. drain(name) -> what
-- arrived since the last drain (nil when nothing did).
local socket = require("socket")
local listeners = {}

local function listen()
  local tcp = assert(socket.bind("127.0.0.1", 0))
  tcp:settimeout(0)
  listeners.tcp = tcp
  ENV.port = select(2, tcp:getsockname())
  for _, name in ipairs{"udp", "dns"} do
    local u = assert(socket.udp())
    assert(u:setsockname("127.0.0.1", 0))
    u:settimeout(0)
    listeners[name] = u
    ENV[name .. "_port"] = select(2, u:getsockname())
  end
  local unix = require("socket.unix")
  local us = (unix.stream or unix)()
  os.remove(ENV.sock)
  assert(us:bind(ENV.sock))
  assert(us:listen(8))
  us:settimeout(0)
  listeners.unix = us
  sh(("chmod 0777 '%s'"):format(ENV.sock))
  ENV.port, ENV.udp_port, ENV.dns_port = tonumber(ENV.port), tonumber(ENV.udp_port), tonumber(ENV.dns_port)
end

function H.drain(name)
  local l = listeners[name]
  if name == "tcp" or name == "unix" then
    local c = l:accept()
    if not c then return nil end
    c:settimeout(1)
    local line = c:receive("*l")
    c:close()
    return line or "(a connection)"
  end
  local d = l:receive()
  return d
end

---------------------------------------------------------------------------
-- Expectations

-- An expectation is {kind = exact class name, fields = {name = value},
-- numbers = {field names that must be numbers >= 0}, match = text the
-- message must contain (plain), action = {allowed attempted_action texts}}
-- or {any = {expectation, ...}} or {result = function(values) -> nil | why}.
function H.timeout(seconds)
  return {kind = "SandboxTimeoutError", fields = {timeout_seconds = seconds},
          numbers = {"execution_time"}}
end
function H.memory(mb)
  return {kind = "SandboxResourceError", fields = {resource_type = "memory", limit = mb * MIB},
          numbers = {"actual"}}
end
function H.module(name)
  return {kind = "SandboxSecurityViolation", fields = {violation_type = "module"},
          action_has = name}
end
function H.subprocess()
  return {kind = "SandboxSecurityViolation", fields = {violation_type = "subprocess"},
          action = {"clone", "fork", "vfork", "execve", "execveat", "os.execute", "io.popen"}}
end
function H.runtime(match)
  return {kind = "SandboxError", fields = {reason = "runtime"}, match = match}
end
function H.result_error()
  return {kind = "SandboxError", fields = {reason = "result"}}
end
function H.any(...) return {any = {...}} end
function H.result(fn) return {result = fn} end

local function leaks(e)
  local text = show(e) .. " " .. tostring(e and e.message) .. " " .. tostring(e and e.traceback)
  for _, s in ipairs(H.SECRETS) do
    if s and text:find(s, 1, true) then return "the error carries a secret of the host: " .. s end
  end
  return nil
end

-- check(expect, ok, values) -> nil, or why it failed
local function check(expect, ok, values)
  if expect.any then
    local whys = {}
    for _, x in ipairs(expect.any) do
      local why = check(x, ok, values)
      if not why then return nil end
      whys[#whys + 1] = why
    end
    return table.concat(whys, "\n  or: ")
  end
  if expect.result then
    if not ok then return "expected a result, got " .. show(values[1]) end
    return expect.result(values)
  end
  if ok then
    local shown = {}
    for i = 1, math.min(values.n, 4) do shown[i] = show(values[i]) end
    return ("expected %s, but the call returned: %s"):format(expect.kind, table.concat(shown, ", "))
  end
  local e = values[1]
  local kind = errors.kind(e)
  if kind ~= expect.kind then
    return ("expected %s, got %s"):format(expect.kind, show(e))
  end
  for k, v in pairs(expect.fields or {}) do
    if e[k] ~= v then
      return ("expected %s.%s = %s, got %s: %s"):format(kind, k, show(v), show(e[k]), show(e))
    end
  end
  for _, k in ipairs(expect.numbers or {}) do
    if type(e[k]) ~= "number" or e[k] < 0 then
      return ("expected %s.%s to be a number >= 0: %s"):format(kind, k, show(e))
    end
  end
  if expect.match and not tostring(e.message):find(expect.match, 1, true) then
    return ("expected the message to say %q: %s"):format(expect.match, show(e))
  end
  if expect.action_has and not tostring(e.attempted_action):find(expect.action_has, 1, true) then
    return ("expected attempted_action to name %q: %s"):format(expect.action_has, show(e))
  end
  if expect.action then
    local hit = false
    for _, a in ipairs(expect.action) do
      if tostring(e.attempted_action):find(a, 1, true) then hit = true end
    end
    if not hit then
      return ("expected attempted_action to be one of %s: %s"):format(table.concat(expect.action, "/"), show(e))
    end
  end
  return leaks(e)
end

---------------------------------------------------------------------------
-- Policies

-- policy(level, knobs): a SecurityPolicy for one run. knobs: mem (MiB),
-- time (s), read, write (paths), subprocess, net, modules (allowed),
-- blocked, fds. At NONE, max_cpu_percent and max_file_descriptors cannot be
-- unset and nothing in-process can enforce them, so NONE policies are
-- best_effort; the suite checks that the only warnings are about those two
-- (every other field stays enforced: see the "NONE warnings" test).
local nonewarn = {}
function H.policy(level, k)
  k = k or {}
  local rl = {max_memory_mb = k.mem or 32, max_execution_time_sec = k.time or 1,
              allowed_paths = k.read or {}, writable_paths = k.write or {}}
  local spec = {isolation_level = level, resource_limits = rl,
                allow_network = k.net or false, allow_subprocess = k.subprocess or false,
                allow_file_write = k.write ~= nil and #k.write > 0,
                allowed_modules = k.modules or {},
                blocked_modules = k.blocked or {"debug", "ffi", "io", "os", "package"},
                required_signatures = 0, require_trusted_signer = false}
  if level == "NONE" then
    rl.denied_syscalls = {}
    spec.enforcement = "best_effort"
  else
    rl.max_cpu_percent = 100
    rl.max_file_descriptors = k.fds or 64
  end
  return spec
end

common.set_warn(function(msg) nonewarn[#nonewarn + 1] = msg end)

---------------------------------------------------------------------------
-- Engines, contexts, the canary

local engines, engine_err = {}, {}
local function engine(level)
  if engines[level] then return engines[level] end
  if engine_err[level] then error(engine_err[level], 0) end
  local ok, e = pcall(sandbox.SandboxFactory.create, level)
  if not ok then
    engine_err[level] = "no engine for " .. level .. ": " .. show(e)
    error(engine_err[level], 0)
  end
  engines[level] = e
  return e
end

local ctx_n = 0
local function create(level, plugin, knobs, entry)
  local eng = engine(level)
  ctx_n = ctx_n + 1
  local ok, ctx = pcall(eng.create_sandbox, eng, ("hostile.%s.%d"):format(plugin, ctx_n),
                        H.policy(level, knobs),
                        {plugin_dir = ENV.plugins .. "/" .. plugin, entry = entry or "attack"})
  if not ok then return nil, ctx end
  return ctx
end

local function call(level, ctx, target, args)
  local eng = engine(level)
  args = args or {n = 0}
  return table.pack(pcall(eng.execute, eng, ctx, target, table.unpack(args, 1, args.n or #args)))
end

local function terminate(level, ctx)
  if ctx then
    local ok, e = pcall(engine(level).terminate, engine(level), ctx)
    if not ok then return "terminate raised: " .. show(e) end
  end
  return nil
end

local canaries = {}
local function canary(level)
  local c = canaries[level]
  if not c then
    local ctx, e = create(level, "canary", {}, "canary")
    if not ctx then return "the canary's sandbox could not be created: " .. show(e) end
    c = ctx
    canaries[level] = c
  end
  local r = call(level, c, "canary.ping", {21, n = 1})
  if not r[1] or r[2] ~= 42 or r[3] ~= "pong" then
    return "the canary plugin no longer answers: " .. show(r[2])
  end
  return nil
end
H.canary = canary

---------------------------------------------------------------------------
-- TAP

local n, failed = 0, 0
local function tap(ok, name, why)
  n = n + 1
  if ok then
    print(("ok %d - %s"):format(n, name))
  else
    failed = failed + 1
    print(("not ok %d - %s"):format(n, name))
    print("# " .. tostring(why):gsub("\n", "\n# "))
  end
  io.stdout:flush()
end
H.tap = tap

local function wanted(name, level)
  local levels = os.getenv("TPHOSTILE_LEVELS")
  if levels and levels ~= "" and not (" " .. levels .. " "):find(" " .. level .. " ", 1, true) then
    return false
  end
  local pats = os.getenv("TPHOSTILE_CASES")
  if not pats or pats == "" then return true end
  for p in pats:gmatch("%S+") do
    if name:find(p) then return true end
  end
  return false
end

-- Wait (a little) for the processes the attack started to go.
local function strays(before)
  local left
  for _ = 1, 60 do
    left = {}
    for pid, cmd in pairs(descendants()) do
      if not before[pid] then left[#left + 1] = ("%d %s"):format(pid, cmd) end
    end
    for _, m in ipairs(marked()) do left[#left + 1] = m end
    if #left == 0 then return nil end
    sleep(0.05)
  end
  table.sort(left)
  return "processes left behind: " .. table.concat(left, "; ")
end

-- run_case(c, level)
local function run_case(c, level)
  local name = ("%s [%s] %s"):format(c.plugin, level, c.what or "")
  print("# running " .. c.plugin .. " at " .. level)
  io.stdout:flush()
  local before = descendants()
  for _, l in ipairs{"tcp", "udp", "dns", "unix"} do while H.drain(l) do end end
  local knobs = type(c.policy) == "function" and c.policy(level, ENV) or c.policy or {}
  local args = c.args and c.args(ENV, level) or {ENV, n = 1}
  local expect = c.expect
  if expect and not (expect.kind or expect.any or expect.result) then
    expect = expect[level] or expect.default
  end
  local why
  local vm0 = tonumber((read("/proc/self/status") or ""):match("VmHWM:%s*(%d+)")) or 0
  local ok, err = pcall(function()
    local ctx, e = create(level, c.plugin, knobs)
    local r
    if not ctx then
      r = {false, e, n = 2}
    elseif c.run then
      why = c.run(level, ctx, engine(level), ENV, call)
    else
      r = call(level, ctx, c.target or "attack.run", args)
    end
    if r and not why then why = check(expect, r[1], r[1] and table.pack(table.unpack(r, 2, r.n)) or {r[2], n = 1}) end
    if not why and c.after then why = c.after(ENV, r, level, ctx) end
    local t = terminate(level, ctx)
    why = why or t
  end)
  if not ok then why = "the case itself raised: " .. show(err) end
  if c.hwm_mb then
    local vm1 = tonumber((read("/proc/self/status") or ""):match("VmHWM:%s*(%d+)")) or 0
    if (vm1 - vm0) / 1024 > c.hwm_mb and level == "NONE" then
      why = (why and why .. "; " or "") ..
            ("the host process's peak memory grew by %d MiB (the cap is in the Lua allocator only)")
            :format((vm1 - vm0) // 1024)
    end
  end
  for _, l in ipairs{"tcp", "udp", "dns", "unix"} do
    local got = H.drain(l)
    if got then why = (why and why .. "; " or "") .. ("the %s listener received %s"):format(l, show(got)) end
  end
  why = why or strays(before) or intact() or canary(level)
  H.restore()
  tap(why == nil, name, why)
  -- the control: the same action, allowed, succeeds
  if c.control and (c.control_levels == nil or c.control_levels[level]) then
    local cwhy
    local cok, cerr = pcall(function() cwhy = c.control(level, ENV, create, call, terminate) end)
    if not cok then cwhy = "the control raised: " .. show(cerr) end
    H.restore()
    cwhy = cwhy or intact()
    H.restore()
    tap(cwhy == nil, ("%s [%s] control: %s"):format(c.plugin, level, c.control_what or "the action works when allowed"), cwhy)
  end
end

---------------------------------------------------------------------------
-- A fake worker (run in its own process by the driver, with
-- TRUTHOUND_WORKER pointing at it): any failure must be a SandboxError, the
-- host must not crash or hang, and the NONE canary must still answer.

local function run_fake(variant)
  local level = "PROCESS"
  local e
  local ok, err = pcall(function()
    local ctx, ce = create(level, "canary", {}, "canary")
    if not ctx then e = ce; return end
    local r = call(level, ctx, "canary.ping", {1, n = 1})
    if r[1] then e = "the call returned " .. show(r[2]) .. " from a fake worker" else e = r[2] end
    terminate(level, ctx)
  end)
  local why
  if not ok then why = "the host raised something else: " .. show(err)
  elseif type(e) == "string" then why = e
  elseif variant == "violation_spoof" then
    -- a worker that lies about itself harms only its own plugin: any
    -- sandbox error will do, as long as the worker is gone
    if not errors.is(e, "SandboxError") then why = "expected a sandbox error, got " .. show(e) end
  elseif errors.kind(e) ~= "SandboxError" and not (variant == "silent" and errors.kind(e) == "SandboxTimeoutError") then
    why = "expected a SandboxError, got " .. show(e)
  end
  why = why or strays({}) or canary("NONE")
  tap(why == nil, ("fake worker %s [PROCESS] -> %s"):format(variant, e and errors.kind(e) or "?"), why)
  if why == nil then print("# " .. show(e)) end
end

---------------------------------------------------------------------------

scene()
listen()
H.LEVELS = {"NONE", "PROCESS", "CONTAINER"}

-- The engine names its cgroups truthound-<host pid>-<n> (cgroup.lua), in
-- the v1 hierarchies or the unified one, wherever this host's group is.
local function leftover_cgroups()
  local p = io.popen(("find /sys/fs/cgroup -maxdepth 6 -type d -name 'truthound-%d-*' 2>/dev/null")
                     :format(HOST_PID))
  local left = {}
  for l in p:lines() do left[#left + 1] = l end
  p:close()
  if #left > 0 then return "cgroups left behind: " .. table.concat(left, " ") end
  return nil
end

local function release()
  for _, eng in pairs(engines) do
    for _, c in pairs(canaries) do pcall(eng.terminate, eng, c) end
    pcall(eng.cleanup, eng)
  end
  pcall(sandbox.SandboxFactory.cleanup_all)
end

if MODE == "fake" then
  run_fake(VARIANT)
  release()
elseif MODE == "list" then
  -- the driver runs each case at each level in a host process of its own,
  -- so that a host that hangs (a hole at NONE) costs one case, not the run
  for _, c in ipairs(dofile(SRC .. "/cases.lua")(H)) do
    for _, level in ipairs(c.levels) do
      if wanted(c.plugin, level) then print(c.plugin .. " " .. level) end
    end
  end
  os.exit(0)
elseif MODE == "case" then
  local level = arg[5]
  for _, c in ipairs(dofile(SRC .. "/cases.lua")(H)) do
    -- a plugin may have one case per group of levels
    local at = false
    for _, l in ipairs(c.levels) do at = at or l == level end
    if c.plugin == VARIANT and at then run_case(c, level) end
  end
  -- NONE runs its policies best_effort only for what NONE cannot have
  if level == "NONE" then
    local bad = {}
    for _, w in ipairs(nonewarn) do
      if not (w:find("max_cpu_percent", 1, true) or w:find("max_file_descriptors", 1, true)) then
        bad[#bad + 1] = w
      end
    end
    if #bad > 0 then
      tap(false, VARIANT .. " [NONE] best_effort warned only about max_cpu_percent and max_file_descriptors",
          "other warnings: " .. table.concat(bad, " | "))
    end
  end
  -- everything released: no process of this host left, no cgroup
  release()
  local why = strays({})
  if why then tap(false, VARIANT .. " [" .. level .. "] after cleanup no worker or attack process is left", why) end
  why = leftover_cgroups()
  if why then tap(false, VARIANT .. " [" .. level .. "] after cleanup no cgroup of this host is left", why) end
end

for _, l in pairs(listeners) do l:close() end
print("1.." .. n)
os.exit(failed == 0 and 0 or 1)
