-- truthound.manager.audit: the manager's audit log, one JSON object per
-- line (docs/formats.md, "Audit log").
--
--   local audit = require("truthound.manager.audit")
--   local log = audit.open("/var/log/app/plugins.jsonl")   -- nil path: a log that keeps nothing
--   log:write("verified", {plugin_id = "hello", valid = true, signer = "acme"})
--   log:close()
--
-- Each line is written whole with one write and flushed at once, so a
-- crash leaves complete lines and a reader can follow the file while the
-- application runs. Lines are appended: a restart adds to the same log.

local cjson = require("cjson")
local errors = require("truthound.errors")
local wallclock = require("truthound.native").loop.wallclock

local M = {}

local Log = {__name = "truthound.AuditLog"}
Log.__index = Log

-- UTC time with milliseconds, RFC 3339.
local function timestamp()
  local t = wallclock()
  local s = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. (".%03dZ"):format(math.floor((t - s) * 1000))
end
M.timestamp = timestamp

-- A value as JSON can carry it: errors and other objects become strings.
local function plain(v, depth)
  local t = type(v)
  if t == "string" or t == "number" or t == "boolean" then return v end
  if t == "table" and not errors.kind(v) and getmetatable(v) == nil and depth < 4 then
    local out = {}
    for k, x in pairs(v) do
      if type(k) == "string" or type(k) == "number" then out[k] = plain(x, depth + 1) end
    end
    return out
  end
  if v == nil then return nil end
  return tostring(v)
end

-- open(path) -> log. nil path: a log that writes nothing.
function M.open(path)
  if path == nil then return setmetatable({lines = 0}, Log) end
  local f, why = io.open(path, "a")
  if not f then
    errors.raise("ConfigError", ("audit_log: cannot open %s: %s"):format(path, why),
                 {field = "audit_log", input = path}, 2)
  end
  f:setvbuf("no")
  return setmetatable({f = f, path = path, lines = 0}, Log)
end

-- write(event, fields): one line {"ts": ..., "event": event, ...fields}.
-- A log that cannot be written any more says so once on stderr and goes
-- on: losing the audit trail must not take the plugins down with it.
function Log:write(event, fields)
  local rec = {}
  for k, v in pairs(fields or {}) do rec[k] = plain(v, 0) end
  rec.ts = timestamp()
  rec.event = event
  self.lines = self.lines + 1
  if not self.f then return end
  local ok, line = pcall(cjson.encode, rec)
  if not ok then line = cjson.encode({ts = rec.ts, event = event, error = tostring(line)}) end
  local wok, why = self.f:write(line .. "\n")
  if not wok and not self.broken then
    self.broken = true
    io.stderr:write(("tplua: warning: audit log %s: %s\n"):format(self.path, tostring(why)))
  end
end

function Log:close()
  if self.f then self.f:close(); self.f = nil end
end

return M
