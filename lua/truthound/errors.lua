-- truthound.errors: the typed error hierarchy.
--
-- Every failure truthound raises is a table whose metatable is one of the
-- classes below. A class knows its parent, so errors.is(e, "SecurityError")
-- is true for a SandboxTimeoutError. Verdicts (a signature that does not
-- verify, a constraint not satisfied) are values, not errors.
--
--   local errors = require("truthound.errors")
--   local ok, e = pcall(errors.raise, "SandboxTimeoutError", "plugin ran too long",
--                       {timeout_seconds = 2, execution_time = 2.01})
--   errors.is(e, "SandboxError")   --> true
--   tostring(e)                    --> "SandboxTimeoutError: plugin ran too long"

local errors = {}

-- name, parent, the fields its raisers fill in (documentation and tests
-- use this list; extra fields are allowed).
local hierarchy = {
  {"Error", nil, {}},
  -- The seed's security hierarchy.
  {"SecurityError", "Error", {}},
  {"SandboxError", "SecurityError", {}},
  {"SandboxTimeoutError", "SandboxError", {"timeout_seconds", "execution_time"}},
  {"SandboxResourceError", "SandboxError", {"resource_type", "limit", "actual"}},
  {"SandboxSecurityViolation", "SandboxError", {"violation_type", "attempted_action"}},
  {"SignatureError", "SecurityError", {"plugin_id"}},
  {"SignatureExpiredError", "SignatureError", {"created", "expires", "now"}},
  {"SignatureTamperError", "SignatureError", {"expected_digest", "actual_digest"}},
  {"UntrustedSignerError", "SignatureError", {"signer", "key_id"}},
  {"InvalidSignatureError", "SignatureError", {"reason"}},
  {"SignatureThresholdError", "SignatureError", {"required", "found"}},
  {"SignatureRollbackError", "SignatureError", {"version", "accepted_version"}},
  {"CertificateError", "SecurityError", {"subject"}},
  {"CertificateExpiredError", "CertificateError", {"not_after"}},
  {"CertificateRevokedError", "CertificateError", {"serial", "revoked_at"}},
  {"CertificateNotFoundError", "CertificateError", {"key_id"}},
  {"InvalidCertificateError", "CertificateError", {"reason"}},
  -- Bad input: names the input, where it went wrong and what was expected.
  {"InputError", "Error", {"input", "source", "line", "position", "expected", "found"}},
  {"VersionError", "InputError", {}},
  {"ConstraintSyntaxError", "VersionError", {}},
  {"PolicyError", "InputError", {"field"}},
  {"ManifestError", "InputError", {"field"}},
  {"UsageError", "InputError", {}},
  {"ConfigError", "InputError", {"field"}},
  -- Plugin graph and lifecycle.
  {"DependencyError", "Error", {"plugin_id"}},
  {"DependencyCycleError", "DependencyError", {"cycle"}},
  {"MissingDependencyError", "DependencyError", {"dependency", "constraint"}},
  {"VersionConflictError", "DependencyError", {"dependency", "constraints"}},
  {"LifecycleError", "Error", {"plugin_id", "from_state", "to_state"}},
  {"LifecycleVetoError", "LifecycleError", {"reason", "event"}},
  {"PluginError", "Error", {"plugin_id", "state"}},
  {"ReloadInterrupted", "PluginError", {"version", "new_version"}},
  {"LoopError", "Error", {}},
}

local classes = {}
errors.classes = classes

local function tostring_error(e)
  return e.name .. ": " .. tostring(e.message)
end

-- new(kind, message [, fields]) -> error object (not raised)
function errors.new(kind, message, fields)
  local class = classes[kind]
  if not class then
    error("truthound.errors: unknown error kind '" .. tostring(kind) .. "'", 2)
  end
  local e = {}
  if fields then
    for k, v in pairs(fields) do e[k] = v end
  end
  e.message = message or e.message or kind
  return setmetatable(e, class)
end

-- raise(kind, message [, fields [, level]]): raise a typed error.
-- level is as for error(): 1 (default) is the caller of raise.
function errors.raise(kind, message, fields, level)
  error(errors.new(kind, message, fields), (level or 1) + 1)
end

-- is(e, kind): true when e is a truthound error of class kind or a subclass.
-- kind may be a name or a class table.
function errors.is(e, kind)
  if type(kind) == "table" then kind = kind.name end
  local class = type(e) == "table" and getmetatable(e)
  if not class or classes[rawget(class, "name") or false] ~= class then
    return false
  end
  while class do
    if class.name == kind then return true end
    class = class.parent
  end
  return false
end

-- kind(e): the class name of a truthound error, or nil for anything else.
function errors.kind(e)
  local class = type(e) == "table" and getmetatable(e)
  if class and classes[rawget(class, "name") or false] == class then
    return class.name
  end
  return nil
end

for _, def in ipairs(hierarchy) do
  local name, parent, fields = def[1], def[2], def[3]
  local class = {
    name = name,
    parent = parent and classes[parent] or nil,
    fields = fields,
    __tostring = tostring_error,
    __name = "truthound." .. name,
  }
  -- Instances read the class for name/parent; the class itself is callable
  -- as a constructor: errors.VersionError("bad", {input = "x"}).
  class.__index = class
  setmetatable(class, {
    __call = function(_, message, fields_)
      return errors.new(name, message, fields_)
    end,
  })
  classes[name] = class
  errors[name] = class
end

return errors
