-- truthound.security.sandbox.errmap: an error table from a sandbox (the
-- NONE runtime or a worker's ERROR frame: {kind, message, fields}) to a
-- typed error of truthound.errors.
--
-- What a worker sends is untrusted: only the four sandbox kinds pass, only
-- known fields of plain types are copied, strings are cut short, and the
-- plugin id the host knows is set by the host.

local errors = require("truthound.errors")

local M = {}

local KINDS = {
  SandboxError = true, SandboxTimeoutError = true,
  SandboxResourceError = true, SandboxSecurityViolation = true,
}

-- field -> the Lua type it must have
local FIELDS = {
  reason = "string", timeout_seconds = "number", execution_time = "number",
  instructions = "number", resource_type = "string", limit = "number",
  actual = "number", violation_type = "string", attempted_action = "string",
  syscall = "string", traceback = "string", value = "any",
}

local MAX_TEXT = 4000

local function cut(s)
  if #s > MAX_TEXT then return s:sub(1, MAX_TEXT) .. "..." end
  return s
end

local function plain(v)
  local t = type(v)
  if t == "string" then return cut(v) end
  if t == "number" or t == "boolean" then return v end
  return nil
end

-- sanitize(e) -> kind, message, fields, all safe to show and raise.
function M.sanitize(e)
  if type(e) ~= "table" then
    return "SandboxError", "the sandbox reported a malformed error", {reason = "protocol"}
  end
  local kind = KINDS[e.kind] and e.kind or "SandboxError"
  local msg = type(e.message) == "string" and cut(e.message) or "(no message)"
  local fields = {}
  if type(e.fields) == "table" then
    for k, want in pairs(FIELDS) do
      local v = rawget(e.fields, k)
      if v ~= nil and (want == "any" or type(v) == want) then fields[k] = plain(v) end
    end
  end
  return kind, msg, fields
end

-- raise(e, ctx [, extra]): raise the typed error for e, naming the plugin.
-- extra fields (the host's own measurements) win over the sandbox's.
function M.raise(e, ctx, extra, level)
  local kind, msg, fields = M.sanitize(e)
  for k, v in pairs(extra or {}) do fields[k] = v end
  fields.plugin_id = ctx and ctx.plugin_id
  errors.raise(kind, ("plugin %s: %s"):format(ctx and ctx.plugin_id or "?", msg), fields,
               (level or 1) + 1)
end

-- make(kind, message, fields): the host's own error table.
function M.make(kind, message, fields)
  return {kind = kind, message = message, fields = fields or {}}
end

return M
