-- truthound.security.host: what this host offers a sandbox.
--
--   local host = require("truthound.security.host")
--   local h = host.probe()                 --> the probe table (cached per process)
--   h.landlock.abi                          --> 7
--   h.cgroups.memory.v1.available           --> true
--   host.has("landlock.net")                --> true, "Landlock ABI 7: TCP bind and connect rules",
--                                               "Landlock ABI 7 TCP bind and connect rules"
--   host.has("cgroup.memory", h)            --> available, reason, label
--
-- probe() runs core.probe.host() (core/sandbox/probe.c): every kernel and
-- userland probe, each with available/reason, described in docs/host.md.
-- It forks a few children and runs the container runtimes it finds (with a
-- timeout), so it takes tens of milliseconds; the answer is cached for the
-- process. Treat the table as read-only: it is shared.
--
-- host.MECHANISMS names every mechanism a sandbox engine may apply and says
-- what each needs from the host. Whether an engine in this build applies
-- it is truthound.security.enforcement's business, not the host's.

local core = require("truthound.native")

local host = {}

local cached          -- the probe table of this process
local cached_runs     -- whether it ran the container runtimes

-- probe([opts]) -> table. opts.refresh = true probes again; opts.runs =
-- false finds the container runtimes without running them (a cached probe
-- that ran them is still returned); opts.timeout_ms bounds each run.
function host.probe(opts)
  opts = opts or {}
  local runs = opts.runs ~= false
  if cached and not opts.refresh and (cached_runs or not runs) then return cached end
  cached = core.probe.host({runs = runs, timeout_ms = opts.timeout_ms})
  cached_runs = runs
  return cached
end

-- forget(): drop the cached probe (tests, or after changing the host).
function host.forget()
  cached, cached_runs = nil, nil
end

---------------------------------------------------------------------------
-- Reading a probe table defensively: a crafted or partial table (tests,
-- another host's --json) answers "not probed" rather than raising.

local function get(t, ...)
  for i = 1, select("#", ...) do
    if type(t) ~= "table" then return nil end
    t = t[select(i, ...)]
  end
  return t
end

local function check(t, what)
  if type(t) ~= "table" then return false, what .. " was not probed" end
  if t.available then return true, t.reason or what end
  return false, t.reason or (what .. " is unavailable")
end

local function unlimited(v) return v == math.huge end

local function show_limit(v)
  if v == nil then return "unknown" end
  if unlimited(v) then return "unlimited" end
  return ("%d"):format(v)
end

local function always(label, reason)
  return {label = label, needs = function() return true, reason end}
end

-- An rlimit mechanism: lowering a limit always works; raising one past its
-- hard limit needs CAP_SYS_RESOURCE. A hard limit below the policy's value
-- still enforces (a stricter limit), so it is reported, not refused.
local function rlimit(name, unit)
  return {
    label = "RLIMIT_" .. name,
    needs = function(h, value)
      local rl = get(h, "rlimits", name)
      if type(rl) ~= "table" or rl.hard == nil then
        return false, "RLIMIT_" .. name .. " was not probed" ..
                      (rl and rl.error and (": " .. rl.error) or "")
      end
      local base = ("RLIMIT_%s soft %s, hard %s"):format(name, show_limit(rl.soft),
                                                         show_limit(rl.hard))
      if value == nil or unlimited(rl.hard) or value <= rl.hard then
        return true, base .. ": can be set to the policy's value"
      end
      if get(h, "rlimits", "cap_sys_resource") then
        return true, base .. ": CAP_SYS_RESOURCE allows raising it to the policy's value"
      end
      return true, ("%s: below the policy's %s %s and cannot be raised without " ..
                    "CAP_SYS_RESOURCE, so the sandbox gets the stricter hard limit")
                   :format(base, show_limit(value), unit)
    end,
  }
end

-- A cgroup controller, v2 preferred.
local function cgroup(ctl)
  return {
    label = function(h)
      for _, v in ipairs{"v2", "v1"} do
        local c = get(h, "cgroups", ctl, v)
        if type(c) == "table" and c.available then
          return ("cgroup %s %s"):format(v, c.file or ctl)
        end
      end
      return "cgroup " .. ctl .. " controller (v2 or v1)"
    end,
    needs = function(h)
      local why = {}
      for _, v in ipairs{"v2", "v1"} do
        local ok, reason = check(get(h, "cgroups", ctl, v), "cgroup " .. v .. " " .. ctl)
        if ok then return true, reason end
        why[#why + 1] = "cgroup " .. v .. ": " .. reason
      end
      return false, "no writable " .. ctl .. " controller: " .. table.concat(why, "; ")
    end,
  }
end

-- A namespace with our credentials, or else inside a user namespace of
-- our own (what a host that is not root would do).
local function namespace(ns, what)
  return {
    label = what,
    needs = function(h)
      local t = get(h, "namespaces", ns)
      local ok, reason = check(t, "the " .. ns .. " namespace")
      if ok then return true, reason end
      local u_ok, u_reason = check(get(t, "unprivileged"), "an unprivileged " .. ns .. " namespace")
      if u_ok then return true, u_reason end
      return false, reason .. "; unprivileged: " .. u_reason
    end,
  }
end

-- seccomp filters that deny with an errno or kill the process.
local function seccomp(label)
  return {
    label = function(h)
      local v = get(h, "seccomp", "libseccomp", "version")
      return v and ("%s, libseccomp %s"):format(label, v) or label
    end,
    needs = function(h)
      local ok, reason = check(get(h, "seccomp"), "seccomp")
      if not ok then return false, reason end
      if not get(h, "seccomp", "libseccomp", "version") then
        return false, "libseccomp was not found"
      end
      for _, action in ipairs{"ERRNO", "KILL_PROCESS"} do
        local a_ok, a_reason = check(get(h, "seccomp", "actions", action), "SECCOMP_RET_" .. action)
        if not a_ok then return false, a_reason end
      end
      return true, reason .. "; SECCOMP_RET_ERRNO and SECCOMP_RET_KILL_PROCESS are available"
    end,
  }
end

local function landlock(min_abi, what, since)
  return {
    label = function(h)
      local abi = get(h, "landlock", "abi")
      return abi and abi > 0 and ("Landlock ABI %d %s"):format(abi, what)
             or ("Landlock %s"):format(what)
    end,
    needs = function(h)
      local ok, reason = check(get(h, "landlock"), "Landlock")
      if not ok then return false, reason end
      local abi = get(h, "landlock", "abi") or 0
      if abi < min_abi then
        return false, ("Landlock ABI %d has no %s (%s)"):format(abi, what, since)
      end
      local r_ok, r_reason = check(get(h, "landlock", "restrict"), "a Landlock restriction")
      if not r_ok then return false, r_reason end
      return true, ("Landlock ABI %d: %s"):format(abi, what)
    end,
  }
end

-- name -> {label = string | function(h), needs = function(h, value) ->
-- available, reason}. The names are the ones engines register with
-- truthound.security.enforcement.provide().
host.MECHANISMS = {
  -- In the Lua state that runs the plugin (any isolation level).
  ["lua.alloc_cap"] = always("Lua allocator cap", "a lua_Alloc that refuses past the cap"),
  ["lua.instruction_hook"] = always("instruction hook + wall clock",
    "a count hook, re-armed every line so pcall cannot swallow it, checks a wall clock"),
  ["lua.require_gate"] = always("require gate", "require consults allowed/blocked modules"),
  ["lua.no_io"] = always("io and os absent", "the plugin's state has no io or os library"),
  ["lua.no_socket"] = always("no socket modules", "the require gate refuses socket modules"),
  ["lua.no_subprocess"] = always("no os.execute/io.popen",
    "the plugin's state has no os.execute or io.popen"),
  ["signing.chain"] = always("signature verification chain",
    "signatures are verified before any plugin byte is interpreted"),
  -- Around a worker process.
  ["process.worker"] = {
    label = "worker process: fork+exec, unprivileged uid, no_new_privs",
    needs = function(h) return check(get(h, "no_new_privs"), "no_new_privs") end,
  },
  ["supervisor.timer"] = always("supervisor timer, SIGKILL of the process group",
    "the host's loop times the worker and kills its process group"),
  ["rlimit.data"] = rlimit("DATA", "bytes"),
  ["rlimit.nofile"] = rlimit("NOFILE", "descriptors"),
  ["cgroup.memory"] = cgroup("memory"),
  ["cgroup.cpu"] = cgroup("cpu"),
  ["landlock.fs"] = landlock(1, "filesystem rules", "Landlock is new in Linux 5.13"),
  ["landlock.net"] = landlock(4, "TCP bind and connect rules", "they arrived in ABI 4, Linux 6.7"),
  ["seccomp"] = seccomp("seccomp filter of denied system calls"),
  ["seccomp.net"] = seccomp("seccomp filter on socket()"),
  ["seccomp.no_exec"] = seccomp("seccomp filter on execve/fork/clone"),
  ["netns"] = namespace("net", "empty network namespace"),
  ["mountns"] = namespace("mount", "mount namespace view"),
  ["container.bwrap"] = {
    label = function(h)
      local v = get(h, "runtimes", "bwrap", "version")
      return v and (v .. " container") or "bubblewrap container"
    end,
    needs = function(h) return check(get(h, "runtimes", "bwrap"), "bwrap") end,
  },
}

-- The mechanism names, sorted.
function host.mechanisms()
  local out = {}
  for name in pairs(host.MECHANISMS) do out[#out + 1] = name end
  table.sort(out)
  return out
end

-- has(name [, h [, value]]) -> available, reason, label. h defaults to
-- host.probe(); value is the quantity the policy asks for where it matters
-- (bytes for rlimit.data, descriptors for rlimit.nofile).
function host.has(name, h, value)
  local m = host.MECHANISMS[name]
  if not m then
    error(("unknown mechanism '%s'; known: %s"):format(tostring(name),
          table.concat(host.mechanisms(), ", ")), 2)
  end
  h = h or host.probe()
  local ok, reason = m.needs(h, value)
  local label = m.label
  if type(label) == "function" then label = label(h) end
  return ok and true or false, reason, label
end

return host
