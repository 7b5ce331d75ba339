-- truthound.security.limits: ResourceLimits, the quantities a sandbox caps.
--
--   local ResourceLimits = require("truthound.security").ResourceLimits
--   local l = ResourceLimits.new{max_memory_mb = "1GiB", max_execution_time_sec = "2m"}
--   l.max_memory_mb, l.max_execution_time_sec   --> 1024, 120
--   l.max_cpu_percent                           --> 50 (the STANDARD preset's value)
--   l:with{max_cpu_percent = "80%"}             --> a changed, re-validated copy
--   ResourceLimits.minimal()                    --> 128 MiB, 25%, 10 s
--
-- Quantities are stored in the unit the field's name says (MiB, percent,
-- seconds) and may be given as numbers in that unit or as strings with a
-- unit, read by truthound.units ("512MB", "1.5GiB", "30s", "500ms", "50%").
-- Every problem of a table is collected and raised at once as a
-- PolicyError (truthound.datafile.problems), never the first one alone.
--
-- This file also holds the value checks SecurityPolicy and the policy file
-- loader share (M._check, M._util): one place decides what a valid path,
-- module name or system call name is.

local datafile = require("truthound.datafile")
local frozen = require("truthound.frozen")

local M = {}

local MIB = 1024 * 1024

-- Bounds. Lower bounds are what the mechanisms need to mean anything;
-- upper bounds catch typos (a value no host could honour) before they reach
-- a kernel interface that would overflow or clamp them silently.
M.MAX_MEMORY_MB = 1024 * 1024 * 1024     -- 1 PiB in MiB
M.MAX_SECONDS = 365 * 24 * 3600          -- one year, for one execution
M.MAX_FILE_DESCRIPTORS = 2147483647      -- RLIMIT_NOFILE is an int in the kernel
M.MAX_LIST = 1024                        -- entries in one list field
M.MAX_PATH = 4095                        -- bytes: Linux PATH_MAX less the NUL
M.MAX_MODULE = 255                       -- bytes of a module name
M.MAX_SYSCALL = 64                       -- bytes of a system call name
M.MAX_PROBLEMS = 50                      -- reported one by one; the rest counted

-- The fields, in the order documents and messages list them.
M.FIELDS = {"max_memory_mb", "max_cpu_percent", "max_execution_time_sec",
            "max_file_descriptors", "allowed_paths", "writable_paths", "denied_syscalls"}

---------------------------------------------------------------------------
-- Shared helpers: showing values, suggestions, problem collection

local util = {}
M._util = util

-- A value as messages show it: strings quoted with control bytes escaped
-- (a hostile file must not drive the terminal) and long ones cut.
function util.show(v)
  local t = type(v)
  if t == "string" then
    local cut = #v > 60
    local s = (cut and v:sub(1, 57) or v):gsub('[%c"\\\128-\255]', function(c)
      if c == '"' or c == "\\" then return "\\" .. c end
      return ("\\x%02x"):format(c:byte())
    end)
    return '"' .. s .. (cut and '..."' or '"')
  elseif t == "number" then
    if v ~= v then return "nan" end
    if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
    if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2^53 then
      return ("%d"):format(v)
    end
    return ("%.14g"):format(v)
  elseif t == "table" then
    return "a table"
  end
  return tostring(v)
end

-- "got <kind> <value>": what a message says it found.
function util.got(v)
  local t = type(v)
  if t == "string" then return "got " .. util.show(v) end
  if t == "number" or t == "boolean" then return "got " .. util.show(v) end
  if t == "nil" then return "got nothing" end
  return "got a " .. t
end

-- Edit distance with adjacent transpositions (optimal string alignment).
local function distance(a, b)
  if math.abs(#a - #b) > 3 then return math.huge end
  local prev2, prev, cur = nil, {}, nil
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    cur = {[0] = i}
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local d = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      if prev2 and i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        d = math.min(d, prev2[j - 2] + 1)
      end
      cur[j] = d
    end
    prev2, prev = prev, cur
  end
  return prev[#b]
end

-- suggest(word, candidates [, aliases]) -> the nearest candidate, or nil.
-- Near means a different case, an alias people use for the field
-- ("timeout"), or one edit per four letters (at least one, at most three).
function util.suggest(word, candidates, aliases)
  if type(word) ~= "string" or #word > 64 then return nil end
  local low = word:lower()
  if aliases and aliases[low] then return aliases[low] end
  local best, best_d = nil, math.huge
  for _, c in ipairs(candidates) do
    local d = (low == c:lower()) and 0 or distance(low, c:lower())
    if d < best_d then best, best_d = c, d end
  end
  local limit = math.min(3, math.max(1, #word // 4))
  if best_d <= limit then return best end
  return nil
end

-- Dotted path of a key under prefix, as truthound.datafile writes them.
function util.path(prefix, key)
  if math.type(key) == "integer" then return ("%s[%d]"):format(prefix, key) end
  if type(key) == "string" and key:match("^[%a_][%w_]*$") then
    return prefix == "" and key or (prefix .. "." .. key)
  end
  return ("%s[%s]"):format(prefix, util.show(key))
end

-- keys(t) -> the keys of t in a stable order: the names of order first (as
-- listed), then other strings sorted, then numbers, then anything else.
function util.keys(t, order)
  local rank = {}
  for i, k in ipairs(order or {}) do rank[k] = i end
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  local function class(k)
    if rank[k] then return 1 end
    if type(k) == "string" then return 2 end
    if type(k) == "number" then return 3 end
    return 4
  end
  table.sort(ks, function(a, b)
    local ca, cb = class(a), class(b)
    if ca ~= cb then return ca < cb end
    if ca == 1 then return rank[a] < rank[b] end
    if ca == 2 or ca == 3 then return a < b end
    return tostring(a) < tostring(b)
  end)
  return ks
end

-- problems(source_or_info) -> a datafile problem collector raising
-- PolicyError, which stops listing after MAX_PROBLEMS (a hostile file could
-- otherwise make a message of a million lines) and counts the rest.
function util.problems(info)
  if type(info) == "string" then info = {source = info, lines = {}} end
  local P = datafile.problems(info, "PolicyError")
  local add, raise_if_any = P.add, P.raise_if_any
  local extra = 0
  function P:add(path, message)
    if self:count() >= M.MAX_PROBLEMS then extra = extra + 1; return end
    add(self, path, message)
  end
  -- full() -> true once further problems are only counted: callers skip
  -- composing messages nobody will read (suggestions cost an edit distance
  -- per known key).
  function P:full() return self:count() >= M.MAX_PROBLEMS end
  function P:raise_if_any()
    if extra > 0 then
      add(self, "", ("and %d more problem%s not listed"):format(extra, extra == 1 and "" or "s"))
      extra = 0
    end
    return raise_if_any(self)
  end
  return P
end

---------------------------------------------------------------------------
-- Value checks. Each check(v, path, P) returns the normalised value, or
-- nil after adding its problems to P.

local check = {}
M._check = check

local units_mod
local function units()
  units_mod = units_mod or require("truthound.units")
  return units_mod
end

local function finite(x) return x == x and x ~= math.huge and x ~= -math.huge end

-- An integral float becomes an integer, so 512.0 prints as 512.
local function tidy(x)
  return math.tointeger(x) or x
end

-- A quantity written as a string: through units, with the parser's column
-- in the message. A string that is only a number is refused: in a string
-- it would need a unit, and without quotes it already means the field's
-- unit.
local function parse_quantity(v, path, P, kind, parse, unit_hint)
  if v:match("^%s*[+-]?[%d.]+%s*$") then
    P:add(path, ("expected a %s with a unit such as %s, or a plain number of %s " ..
                 "without quotes, got %s"):format(kind, unit_hint.example, unit_hint.unit,
                                                  util.show(v)))
    return nil
  end
  local value, err = parse(v)
  if value == nil then
    local e = type(err) == "table" and err or {}
    local msg = ("invalid %s %s"):format(kind, util.show(v))
    if e.position then msg = msg .. (" at column %d"):format(e.position) end
    msg = msg .. (": expected %s"):format(e.expected or ("a " .. kind .. " such as " .. unit_hint.example))
    if e.found and e.found ~= "" then msg = msg .. ", found " .. tostring(e.found) end
    if type(err) == "string" then msg = msg .. " (" .. err .. ")" end
    P:add(path, msg)
    return nil
  end
  return value
end

-- Sizes in MiB: a positive whole number of MiB.
function check.memory_mb(v, path, P)
  local what = 'a number of MiB or a size such as "512MB"'
  local mib
  if type(v) == "number" then
    if not finite(v) then P:add(path, ("expected %s, got %s"):format(what, util.show(v))); return nil end
    mib = math.tointeger(v)
    if not mib then
      P:add(path, ("expected a whole number of MiB, got %s"):format(util.show(v)))
      return nil
    end
  elseif type(v) == "string" then
    local bytes = parse_quantity(v, path, P, "size", units().parse_size,
                                 {example = '"512MB"', unit = "MiB"})
    if bytes == nil then return nil end
    if bytes % MIB ~= 0 then
      P:add(path, ("expected a whole number of MiB, got %s (%s bytes)")
                  :format(util.show(v), util.show(bytes)))
      return nil
    end
    mib = math.tointeger(bytes // MIB)
  else
    P:add(path, ("expected %s, %s"):format(what, util.got(v)))
    return nil
  end
  if mib < 1 then
    P:add(path, ("expected a memory size of at least 1 MiB, got %s"):format(util.show(v)))
    return nil
  elseif mib > M.MAX_MEMORY_MB then
    P:add(path, ("expected a memory size of at most %d MiB (1 PiB), got %s")
                :format(M.MAX_MEMORY_MB, util.show(v)))
    return nil
  end
  return mib
end

-- A share of one CPU in percent: above 0, at most 100.
function check.percent(v, path, P)
  local what = 'a percentage such as 50 or "50%"'
  local n
  if type(v) == "number" then
    n = v
  elseif type(v) == "string" then
    n = parse_quantity(v, path, P, "percentage", units().parse_percent,
                       {example = '"50%"', unit = "percent"})
    if n == nil then return nil end
  else
    P:add(path, ("expected %s, %s"):format(what, util.got(v)))
    return nil
  end
  if not finite(n) or n <= 0 or n > 100 then
    P:add(path, ("expected a percentage above 0 and at most 100, got %s"):format(util.show(v)))
    return nil
  end
  return tidy(n)
end

-- A duration in seconds: above 0, at most max (MAX_SECONDS).
function check.seconds(v, path, P, max)
  max = max or M.MAX_SECONDS
  local what = 'a number of seconds or a duration such as "30s"'
  local n
  if type(v) == "number" then
    n = v
  elseif type(v) == "string" then
    n = parse_quantity(v, path, P, "duration", units().parse_duration,
                       {example = '"30s"', unit = "seconds"})
    if n == nil then return nil end
  else
    P:add(path, ("expected %s, %s"):format(what, util.got(v)))
    return nil
  end
  if not finite(n) or n <= 0 then
    P:add(path, ("expected a duration above 0 seconds, got %s"):format(util.show(v)))
    return nil
  elseif n > max then
    P:add(path, ("expected a duration of at most %d seconds (%d days), got %s")
                :format(max, max // 86400, util.show(v)))
    return nil
  end
  return tidy(n)
end

-- A whole number in [lo, hi].
function check.integer(v, path, P, lo, hi, what)
  if type(v) ~= "number" then
    P:add(path, ("expected %s, %s"):format(what, util.got(v)))
    return nil
  end
  local i = math.tointeger(v)
  if not i then
    P:add(path, ("expected %s, got %s"):format(what, util.show(v)))
    return nil
  end
  if i < lo or i > hi then
    P:add(path, ("expected %s from %d to %d, got %s"):format(what, lo, hi, util.show(v)))
    return nil
  end
  return i
end

function check.boolean(v, path, P)
  if type(v) ~= "boolean" then
    P:add(path, ("expected true or false, %s"):format(util.got(v)))
    return nil
  end
  return v
end

-- A list of strings: keys exactly 1..n, at most MAX_LIST entries, each
-- checked by item(s, ipath, P) -> normalised string or nil; duplicates
-- (after normalising) are problems. Returns a new plain list.
function check.list(v, path, P, what, item)
  if type(v) ~= "table" then
    P:add(path, ("expected %s, %s"):format(what, util.got(v)))
    return nil
  end
  local n, bad = 0, false
  for k in pairs(v) do
    if math.type(k) == "integer" and k >= 1 then
      n = n + 1
    else
      P:add(util.path(path, k), ("expected %s, without named keys; got the key %s")
                               :format(what, util.show(k)))
      bad = true
    end
  end
  if bad then return nil end
  if n > M.MAX_LIST then
    P:add(path, ("expected at most %d entries, got %d"):format(M.MAX_LIST, n))
    return nil
  end
  for i = 1, n do
    if v[i] == nil then
      P:add(util.path(path, i), ("expected %s without holes; entry %d is missing"):format(what, i))
      return nil
    end
  end
  local out, seen, ok = {}, {}, true
  for i = 1, n do
    local ipath = util.path(path, i)
    local s = item(v[i], ipath, P)
    if s == nil then
      ok = false
    elseif seen[s] then
      P:add(ipath, ("duplicate entry %s (also %s)"):format(util.show(s), util.path(path, seen[s])))
      ok = false
    else
      seen[s] = i
      out[#out + 1] = s
    end
  end
  return ok and out or nil
end

-- An absolute path, normalised: "//", "/./" and a trailing "/" are
-- harmless and are removed; ".." is refused, because what it names depends
-- on symbolic links the policy cannot see.
function check.path(v, path, P)
  if type(v) ~= "string" then
    P:add(path, ("expected an absolute path, %s"):format(util.got(v)))
    return nil
  end
  if v == "" then
    P:add(path, "expected an absolute path, got an empty string")
    return nil
  elseif #v > M.MAX_PATH then
    P:add(path, ("expected a path of at most %d bytes, got %d bytes"):format(M.MAX_PATH, #v))
    return nil
  elseif v:find("%c") then
    P:add(path, ("expected a path without control characters, got %s"):format(util.show(v)))
    return nil
  elseif v:sub(1, 1) ~= "/" then
    P:add(path, ("expected an absolute path (starting with '/'), got the relative path %s")
                :format(util.show(v)))
    return nil
  end
  local parts = {}
  for part in v:gmatch("[^/]+") do
    if part == ".." then
      P:add(path, ("expected a normalised absolute path without '..', got %s"):format(util.show(v)))
      return nil
    elseif part ~= "." then
      parts[#parts + 1] = part
    end
  end
  return "/" .. table.concat(parts, "/")
end

-- A Lua module name as require takes it: names of letters, digits, '_'
-- and '-' (require reads "a-b" as b with a version prefix), joined by '.'.
function check.module(v, path, P)
  if type(v) ~= "string" then
    P:add(path, ("expected a module name, %s"):format(util.got(v)))
    return nil
  end
  local seg = "[%w_][%w_%-]*"
  local rest = v
  local ok = #v > 0 and #v <= M.MAX_MODULE
  while ok do
    local s, e = rest:find("^" .. seg)
    if not s then ok = false; break end
    rest = rest:sub(e + 1)
    if rest == "" then break end
    if rest:sub(1, 1) ~= "." then ok = false; break end
    rest = rest:sub(2)
  end
  if not ok then
    P:add(path, ("expected a module name such as \"socket\" or \"socket.http\" (letters, " ..
                 "digits, '_', '-', parts joined by '.'), got %s"):format(util.show(v)))
    return nil
  end
  return v
end

-- The system call table, when a binding for libseccomp is there: a
-- function name -> number or nil (core.seccomp.resolve). Until then only
-- the shape of a name is checked (docs/policies.md, open points).
local resolver
local function syscall_resolver()
  if resolver == nil then
    resolver = false
    local ok, core = pcall(require, "truthound.native")
    local sc = ok and type(core) == "table" and rawget(core, "seccomp")
    if type(sc) == "table" and type(sc.resolve) == "function" then resolver = sc.resolve end
  end
  return resolver or nil
end
M._syscall_resolver = syscall_resolver

-- set_syscall_resolver(fn|nil): tests and the sandbox may install the
-- table lookup; nil goes back to looking for the binding.
function M.set_syscall_resolver(fn) resolver = fn end

function check.syscall(v, path, P)
  if type(v) ~= "string" then
    P:add(path, ("expected a system call name, %s"):format(util.got(v)))
    return nil
  end
  if #v == 0 or #v > M.MAX_SYSCALL or not v:match("^[a-z0-9_]+$") then
    local low = v:lower()
    local hint = (#v <= M.MAX_SYSCALL and low:match("^[a-z0-9_]+$"))
                 and (" (did you mean '%s'?)"):format(low) or ""
    P:add(path, ("expected a system call name such as \"ptrace\" (lowercase letters, " ..
                 "digits and '_'), got %s%s"):format(util.show(v), hint))
    return nil
  end
  local resolve = syscall_resolver()
  if resolve and resolve(v) == nil then
    P:add(path, ("unknown system call %s; expected a name libseccomp knows, such as \"ptrace\"")
                :format(util.show(v)))
    return nil
  end
  return v
end

---------------------------------------------------------------------------
-- ResourceLimits

local FIELD_CHECK = {
  max_memory_mb = check.memory_mb,
  max_cpu_percent = check.percent,
  max_execution_time_sec = check.seconds,
  max_file_descriptors = function(v, path, P)
    return check.integer(v, path, P, 1, M.MAX_FILE_DESCRIPTORS, "a whole number of file descriptors")
  end,
  allowed_paths = function(v, path, P)
    return check.list(v, path, P, "a list of absolute paths", check.path)
  end,
  writable_paths = function(v, path, P)
    return check.list(v, path, P, "a list of absolute paths", check.path)
  end,
  denied_syscalls = function(v, path, P)
    return check.list(v, path, P, "a list of system call names", check.syscall)
  end,
}
M._field_check = FIELD_CHECK

-- What people write for a field; only ever used for "did you mean".
M._ALIASES = {
  memory = "max_memory_mb", mem = "max_memory_mb", memory_mb = "max_memory_mb",
  max_memory = "max_memory_mb", max_mem = "max_memory_mb", memory_limit = "max_memory_mb",
  cpu = "max_cpu_percent", cpu_percent = "max_cpu_percent", max_cpu = "max_cpu_percent",
  cpu_limit = "max_cpu_percent",
  time = "max_execution_time_sec", timeout = "max_execution_time_sec",
  max_time = "max_execution_time_sec", execution_time = "max_execution_time_sec",
  max_execution_time = "max_execution_time_sec", timeout_seconds = "max_execution_time_sec",
  fds = "max_file_descriptors", max_fds = "max_file_descriptors", nofile = "max_file_descriptors",
  file_descriptors = "max_file_descriptors", max_open_files = "max_file_descriptors",
  paths = "allowed_paths", read_paths = "allowed_paths", readable_paths = "allowed_paths",
  write_paths = "writable_paths", writeable_paths = "writable_paths",
  syscalls = "denied_syscalls", blocked_syscalls = "denied_syscalls",
  deny_syscalls = "denied_syscalls",
}

-- System calls the presets deny on top of what the booleans imply
-- (allow_subprocess = false already stops execve and fork). DENIED_BASE:
-- reaching into other processes (ptrace, process_vm_*), kernel surfaces a
-- plugin never needs and exploits often do (bpf, userfaultfd,
-- perf_event_open, keyrings), new namespaces (unshare). DENIED_STRICT adds
-- administration calls a container has no business making (mount, module
-- loading, clocks, swap, reboot) and io_uring, which bypasses seccomp for
-- the operations it queues. docs/policies.md explains each.
M.DENIED_BASE = {"add_key", "bpf", "keyctl", "perf_event_open", "process_vm_readv",
                 "process_vm_writev", "ptrace", "request_key", "unshare", "userfaultfd"}
M.DENIED_STRICT = {"acct", "add_key", "adjtimex", "bpf", "chroot", "clock_adjtime",
                   "clock_settime", "delete_module", "finit_module", "init_module",
                   "io_uring_enter", "io_uring_register", "io_uring_setup", "kexec_file_load",
                   "kexec_load", "keyctl", "lookup_dcookie", "mbind", "migrate_pages", "mount",
                   "move_pages", "name_to_handle_at", "open_by_handle_at", "perf_event_open",
                   "personality", "pivot_root", "process_vm_readv", "process_vm_writev",
                   "ptrace", "quotactl", "reboot", "request_key", "setdomainname", "sethostname",
                   "setns", "settimeofday", "swapoff", "swapon", "syslog", "umount2", "unshare",
                   "userfaultfd"}

-- The three presets of the seed. standard() is also what an omitted field
-- means, and equals the STANDARD policy's limits; minimal() equals the
-- STRICT policy's (tests/lua/policy_spec.lua holds them together with
-- policies/*.lua).
local PRESETS = {
  minimal = {max_memory_mb = 128, max_cpu_percent = 25, max_execution_time_sec = 10,
             max_file_descriptors = 64, denied_syscalls = M.DENIED_STRICT},
  standard = {max_memory_mb = 512, max_cpu_percent = 50, max_execution_time_sec = 30,
              max_file_descriptors = 256, denied_syscalls = M.DENIED_BASE},
  generous = {max_memory_mb = 2048, max_cpu_percent = 100, max_execution_time_sec = 300,
              max_file_descriptors = 1024, denied_syscalls = M.DENIED_BASE},
}

local function preset_data(name)
  local p = PRESETS[name]
  local denied = {}
  for i, s in ipairs(p.denied_syscalls) do denied[i] = s end
  return {max_memory_mb = p.max_memory_mb, max_cpu_percent = p.max_cpu_percent,
          max_execution_time_sec = p.max_execution_time_sec,
          max_file_descriptors = p.max_file_descriptors,
          allowed_paths = {}, writable_paths = {}, denied_syscalls = denied}
end

-- defaults() -> a plain table of the limits an omitted field takes.
function M.defaults() return preset_data("standard") end

local function copy(t)
  local out = {}
  for k, v in pairs(t) do
    if type(v) == "table" then v = copy(v) end
    out[k] = v
  end
  return out
end
M._copy = copy

-- apply(out, spec, prefix, P [, state]): check every key of spec as a
-- limits field and store the normalised values into out; a field that
-- fails keeps out's value. Unknown keys are problems. state.given[field]
-- receives the path each field was written at, state.bad[field] true when
-- its check failed; state.hints[key] explains a key that belongs elsewhere.
function M._apply(out, spec, prefix, P, state)
  state = state or {}
  local hints = state.hints or {}
  for _, k in ipairs(util.keys(spec, M.FIELDS)) do
    local path = util.path(prefix, k)
    local fcheck = type(k) == "string" and FIELD_CHECK[k]
    if fcheck then
      local v = fcheck(spec[k], path, P)
      if v ~= nil then out[k] = v elseif state.bad then state.bad[k] = true end
      if state.given then state.given[k] = path end
    elseif type(k) ~= "string" then
      P:add(path, "expected a named field (key = value), got a list entry")
    elseif P.full and P:full() then
      P:add(path, "unknown key")
    else
      local s = util.suggest(k, M.FIELDS, M._ALIASES)
      local msg = "unknown key"
      if hints[k] then msg = msg .. " " .. hints[k]
      elseif s then msg = msg .. (" (did you mean '%s'?)"):format(s)
      else msg = msg .. "; expected one of: " .. table.concat(M.FIELDS, ", ") end
      P:add(path, msg)
    end
  end
end

local Limits = {}        -- methods of a ResourceLimits record
M.methods = Limits

local function make(data)
  return frozen.freeze(data, {name = "ResourceLimits", methods = Limits})
end
M._make = make

-- is(v) -> true for a ResourceLimits record.
function M.is(v)
  return frozen.is(v, "ResourceLimits")
end

-- build(spec, base, source) -> record: spec over base (a plain table).
local function build(spec, base, source)
  local P = util.problems(source)
  local out = copy(base)
  if type(spec) ~= "table" then
    P:add("", ("expected a table of resource limits, %s"):format(util.got(spec)))
  else
    M._apply(out, spec, "", P)
  end
  P:raise_if_any()
  return make(out)
end

-- new{...} -> ResourceLimits. Omitted fields take standard()'s values
-- (512 MiB, 50 %, 30 s, 256 descriptors, no paths, DENIED_BASE).
function M.new(spec)
  return build(spec == nil and {} or spec, M.defaults(), "ResourceLimits.new")
end

-- The seed's presets (128 MiB 25 % 10 s; 512 MiB 50 % 30 s; 2048 MiB
-- 100 % 300 s), with 64, 256 and 1024 descriptors and no paths.
function M.minimal() return make(preset_data("minimal")) end
function M.standard() return make(preset_data("standard")) end
function M.generous() return make(preset_data("generous")) end

-- limits:with{...} -> a changed, re-validated copy.
function Limits:with(overrides)
  return build(overrides == nil and {} or overrides, frozen.thaw(self), "ResourceLimits:with")
end

-- limits:to_table() -> a plain, mutable deep copy.
function Limits:to_table() return frozen.thaw(self) end

return M
