-- tplua doctor: what this host offers a sandbox, and which presets can run
-- here at full strength.
--
--   tplua doctor              the report, grouped, one line per probe
--   tplua doctor --json       the probe, the mechanisms and the presets as JSON
--   tplua doctor --no-runs    do not run the container runtimes (faster)

local errors = require("truthound.errors")
local host = require("truthound.security.host")
local enforcement = require("truthound.security.enforcement")
require("truthound.security.sandbox")   -- the engines register the mechanisms they apply

local function usage_error(msg)
  errors.raise("UsageError", msg .. " (see 'tplua doctor --help')")
end

local function state(t)
  if type(t) ~= "table" then return "unknown" end
  if t.available then return "available" end
  return t.tried == false and "not tried" or "unavailable"
end

local function limit(v)
  if v == nil then return "unknown" end
  if v == math.huge then return "unlimited" end
  return ("%d"):format(v)
end

---------------------------------------------------------------------------
-- Presets

-- presets(h) -> list of {name, policy, rows, failing} or nil, why.
local function presets(h)
  local ok, security = pcall(require, "truthound.security")
  if not ok then return nil, "truthound.security cannot be loaded: " .. tostring(security) end
  local pok, policies = pcall(function() return security.policies end)
  if not pok or type(policies) ~= "table" then
    return nil, "truthound.security has no policies yet" ..
                (not pok and (": " .. tostring(policies)) or "")
  end
  local out = {}
  for _, name in ipairs(policies.list()) do
    local entry = {name = name}
    local gok, p = pcall(policies.get, name)
    if not gok then
      entry.error = select(2, pcall(tostring, p))
    else
      entry.policy = p
      local eok, rows = pcall(enforcement.explain, p, h)
      if eok then
        entry.rows = rows
        entry.failing = enforcement.failing(rows)
      else
        entry.error = tostring(rows)
      end
    end
    out[#out + 1] = entry
  end
  return out
end

---------------------------------------------------------------------------
-- Text report

local function report(h, out)
  local function line(fmt, ...) out[#out + 1] = fmt:format(...) end
  local function item(label, t, detail)
    local reason = type(t) == "table" and t.reason or ""
    if detail and detail ~= "" then reason = reason ~= "" and (reason .. "; " .. detail) or detail end
    line("  %-16s %-12s %s", label, state(t), reason)
  end

  line("tplua doctor: what this host offers a sandbox")
  line("Linux %s %s; running as uid %s (euid %s)", h.kernel and h.kernel.release or "?",
       h.kernel and h.kernel.machine or "?", tostring(h.uid), tostring(h.euid))

  line("")
  line("Namespaces (unshare in a child; unprivileged: as uid 65534 in a new user namespace)")
  local ns = h.namespaces or {}
  for _, name in ipairs{"user", "mount", "pid", "net", "ipc", "uts", "cgroup"} do
    local t = ns[name]
    local u = type(t) == "table" and t.unprivileged
    local detail = "unprivileged: " .. state(u)
    if type(u) == "table" and not u.available then detail = detail .. " (" .. tostring(u.reason) .. ")" end
    item(name, t, detail)
  end
  line("  %-16s %s; kernel.unprivileged_userns_clone %s", "sysctls",
       ns.max_user_namespaces and ("user.max_user_namespaces " .. ns.max_user_namespaces)
         or "user.max_user_namespaces absent",
       ns.unprivileged_userns_clone and tostring(ns.unprivileged_userns_clone) or "absent")

  line("")
  line("Seccomp")
  local sc = h.seccomp or {}
  local modes = {[0] = "none", [1] = "strict", [2] = "filter"}
  item("filter", sc, "this process's mode: " .. (modes[sc.mode] or "unknown"))
  local have, lack = {}, {}
  for _, a in ipairs{"KILL_PROCESS", "KILL_THREAD", "TRAP", "ERRNO", "USER_NOTIF", "TRACE", "LOG", "ALLOW"} do
    local t = sc.actions and sc.actions[a]
    if type(t) == "table" and t.available then have[#have + 1] = a else lack[#lack + 1] = a end
  end
  line("  %-16s %-12s %s", "actions", #have > 0 and "available" or "unavailable",
       #have > 0 and table.concat(have, " ") or "none")
  for _, a in ipairs(lack) do item(a, sc.actions and sc.actions[a]) end
  local ls = sc.libseccomp or {}
  line("  %-16s %-12s %s", "libseccomp", ls.version and "available" or "unavailable",
       ls.version and ("%s (API level %s)"):format(ls.version, tostring(ls.api)) or "not found")

  line("")
  line("Landlock")
  local ll = h.landlock or {}
  item("ABI", ll)
  item("restrict", ll.restrict)
  local function rights(label, list)
    if type(list) == "table" and #list > 0 then
      line("  %-16s %-12s %s", label, "available", table.concat(list, " "))
    else
      line("  %-16s %-12s %s", label, "unavailable", "not in ABI " .. tostring(ll.abi or 0))
    end
  end
  rights("filesystem", ll.fs)
  rights("network", ll.net)
  rights("scoping", ll.scope)
  if ll.abi and ll.known_abi and ll.abi > ll.known_abi then
    line("  %-16s ABI %d is newer than this build knows (%d): rights listed up to %d",
         "note", ll.abi, ll.known_abi, ll.known_abi)
  end
  line("  %-16s %s", "LSMs", ll.lsm or "unknown (/sys/kernel/security/lsm is not readable)")

  line("")
  line("no_new_privs")
  item("set", h.no_new_privs, "this process: " ..
       ((h.no_new_privs or {}).set and "already set" or "not set"))

  line("")
  line("Cgroups")
  local cg = h.cgroups or {}
  if cg.error then line("  %-16s %-12s %s", "mountinfo", "unavailable", cg.error) end
  for _, m in ipairs(cg.mounts or {}) do
    local what
    if m.version == 2 then
      local c = cg.v2 and cg.v2.controllers or {}
      what = "our group's controllers: " .. (#c > 0 and table.concat(c, " ") or "none")
    else
      what = #m.controllers > 0 and table.concat(m.controllers, " ") or ("name=" .. tostring(m.name))
    end
    line("  %-16s %-12s %s (%s)", "v" .. m.version .. " mount", "", m.mountpoint, what)
  end
  if #(cg.mounts or {}) == 0 then line("  %-16s %-12s %s", "mounts", "unavailable", "no cgroup file system is mounted") end
  for _, ctl in ipairs{"memory", "cpu", "pids"} do
    for _, v in ipairs{"v2", "v1"} do item(ctl .. " " .. v, cg[ctl] and cg[ctl][v]) end
  end

  line("")
  line("Resource limits (soft / hard)")
  local rl = h.rlimits or {}
  for _, name in ipairs{"AS", "DATA", "NOFILE", "NPROC", "CPU"} do
    local t = rl[name] or {}
    if t.error then line("  %-16s %s", "RLIMIT_" .. name, "unknown: " .. t.error)
    else line("  %-16s %s / %s", "RLIMIT_" .. name, limit(t.soft), limit(t.hard)) end
  end
  line("  %-16s %s", "CAP_SYS_RESOURCE", rl.cap_sys_resource and "held: limits may be raised"
       or "absent: limits can only be lowered")

  line("")
  line("Container runtimes")
  for _, name in ipairs{"bwrap", "podman", "docker"} do
    local t = (h.runtimes or {})[name]
    local detail = type(t) == "table" and t.found and
      ("found: %s at %s"):format(t.version or name, t.path) or nil
    item(name, t, detail)
  end
end

local function report_mechanisms(h, out)
  out[#out + 1] = ""
  out[#out + 1] = "Mechanisms (what a sandbox engine could apply here; see docs/host.md)"
  for _, name in ipairs(host.mechanisms()) do
    local ok, reason = host.has(name, h)
    local engine = enforcement.provider(name)
    out[#out + 1] = ("  %-22s %-12s %s"):format(name, ok and "available" or "unavailable",
      (engine and ("engine: " .. engine) or "no engine in this build yet") ..
      (ok and "" or ("; " .. reason)))
  end
end

local function report_presets(list, why, out)
  out[#out + 1] = ""
  out[#out + 1] = "Presets at full strength (every field enforced by a mechanism this host " ..
                  "offers and this build applies)"
  if not list then
    out[#out + 1] = "  skipped: " .. why
    return
  end
  for _, e in ipairs(list) do
    if e.error then
      out[#out + 1] = ("  %-12s %-10s %s"):format(e.name, "?", "cannot be checked: " .. e.error)
    else
      local p = e.policy
      local verdict = #e.failing == 0 and "yes" or
        (p.enforcement == "best_effort" and
          ("no (best_effort: runs with warnings on %d fields)"):format((function()
            local seen, n = {}, 0
            for _, r in ipairs(e.failing) do
              if not seen[r.field] then seen[r.field] = true; n = n + 1 end
            end
            return n
          end)())
          or "no (strict: refused here)")
      out[#out + 1] = ("  %-12s %-10s %s"):format(e.name, p.isolation_level, verdict)
      local host_lacks, no_engine, seen = {}, {}, {}
      for _, r in ipairs(e.failing) do
        if not r.available then
          host_lacks[#host_lacks + 1] = r
        elseif not seen[r.name] then
          seen[r.name] = true
          no_engine[#no_engine + 1] = r.name
        end
      end
      for _, r in ipairs(host_lacks) do
        out[#out + 1] = "      " .. enforcement.format_row(r)
      end
      if #host_lacks == 0 and #e.failing > 0 then
        out[#out + 1] = "      this host offers every mechanism it needs"
      end
      if #no_engine > 0 then
        out[#out + 1] = "      no engine in this build applies yet: " .. table.concat(no_engine, ", ")
      end
    end
  end
end

---------------------------------------------------------------------------
-- JSON

-- A copy fit for cjson: math.huge becomes "unlimited", frozen records
-- become plain tables.
local function jsonable(v, depth)
  depth = depth or 0
  if type(v) == "number" then
    if v == math.huge then return "unlimited" end
    if v ~= v then return nil end
    return v
  end
  if type(v) ~= "table" or depth > 20 then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = jsonable(x, depth + 1) end
  return out
end

local function as_json(h, list, why)
  local cjson = require("cjson")
  local mechanisms = {}
  for _, name in ipairs(host.mechanisms()) do
    local ok, reason, label = host.has(name, h)
    mechanisms[name] = {available = ok, reason = reason, label = label,
                        engine = enforcement.provider(name) or cjson.null}
  end
  local doc = {host = jsonable(h), mechanisms = mechanisms}
  if list then
    local arr = {}
    for i, e in ipairs(list) do
      arr[i] = {name = e.name, error = e.error,
                isolation_level = e.policy and e.policy.isolation_level,
                enforcement = e.policy and e.policy.enforcement,
                full_strength = e.failing and #e.failing == 0 or false,
                rows = e.rows and jsonable(e.rows) or nil}
    end
    doc.presets = arr
  else
    doc.presets = cjson.null
    doc.presets_skipped = why
  end
  return cjson.encode(doc)
end

---------------------------------------------------------------------------

local function run(args)
  local json, runs = false, true
  for _, a in ipairs(args) do
    if a == "--json" then json = true
    elseif a == "--no-runs" then runs = false
    else usage_error("doctor: unknown argument '" .. a .. "'") end
  end
  local h = host.probe({runs = runs})
  local list, why = presets(h)
  if json then
    io.write(as_json(h, list, why), "\n")
    return 0
  end
  local out = {}
  report(h, out)
  report_mechanisms(h, out)
  report_presets(list, why, out)
  io.write(table.concat(out, "\n"), "\n")
  return 0
end

return {
  name = "doctor",
  summary = "what this host can enforce, and which presets can run here",
  usage = "tplua doctor [--json] [--no-runs]",
  help = [[
Probes the kernel and the userland the way a sandbox would use them and
prints, grouped, each answer with its reason: namespaces (as root and as an
unprivileged user), seccomp (filter mode, return actions, libseccomp),
Landlock (ABI and what it covers), no_new_privs, cgroups (mounts, and
whether a memory, cpu or pids group can be created), resource limits, and
the container runtimes (bwrap, podman, docker) with a probe run of each.
Then each mechanism truthound's engines apply, and for each preset whether
it can run here at full strength, and if not which fields fail and why.

--json     print the probe, the mechanisms and the presets as one JSON object
--no-runs  find the container runtimes but do not run them

Exit status 0: the report is information, not a verdict. See docs/host.md.]],
  run = run,
}
