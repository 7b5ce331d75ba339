-- truthound.errors: the typed hierarchy of the seed plus ours.

local errors = require("truthound.errors")

describe("errors", function()
  it("has the seed's hierarchy", function()
    local parent = {
      SandboxError = "SecurityError", SandboxTimeoutError = "SandboxError",
      SandboxResourceError = "SandboxError", SandboxSecurityViolation = "SandboxError",
      SignatureError = "SecurityError", SignatureExpiredError = "SignatureError",
      SignatureTamperError = "SignatureError", UntrustedSignerError = "SignatureError",
      InvalidSignatureError = "SignatureError", SignatureThresholdError = "SignatureError",
      SignatureRollbackError = "SignatureError", CertificateError = "SecurityError",
      CertificateExpiredError = "CertificateError", CertificateRevokedError = "CertificateError",
      CertificateNotFoundError = "CertificateError", InvalidCertificateError = "CertificateError",
      ConstraintSyntaxError = "VersionError", VersionError = "InputError",
      PolicyError = "InputError", ManifestError = "InputError", UsageError = "InputError",
      DependencyCycleError = "DependencyError", MissingDependencyError = "DependencyError",
      VersionConflictError = "DependencyError",
    }
    for name, p in pairs(parent) do
      local e = errors.new(name, "m")
      assert.is_true(errors.is(e, name), name)
      assert.is_true(errors.is(e, p), name .. " is a " .. p)
      assert.is_true(errors.is(e, "Error"), name .. " is an Error")
      assert.are.equal(p, errors.classes[name].parent.name)
    end
  end)

  it("does not confuse siblings or parents with children", function()
    local e = errors.new("SandboxTimeoutError", "slow")
    assert.is_false(errors.is(e, "SandboxResourceError"))
    assert.is_false(errors.is(e, "SignatureError"))
    assert.is_false(errors.is(errors.new("SecurityError", "x"), "SandboxError"))
  end)

  it("carries fields and prints kind and message", function()
    local ok, e = pcall(errors.raise, "SandboxTimeoutError", "plugin ran 2.01s of 2s",
                        {timeout_seconds = 2, execution_time = 2.01})
    assert.is_false(ok)
    assert.are.equal(2, e.timeout_seconds)
    assert.are.equal(2.01, e.execution_time)
    assert.are.equal("SandboxTimeoutError", e.name)
    assert.are.equal("SandboxTimeoutError: plugin ran 2.01s of 2s", tostring(e))
    assert.are.equal("SandboxTimeoutError", errors.kind(e))
  end)

  it("classes are callable constructors and usable in is()", function()
    local e = errors.SandboxResourceError("memory", {resource_type = "memory", limit = 128, actual = 300})
    assert.is_true(errors.is(e, errors.SandboxError))
    assert.are.equal(300, e.actual)
  end)

  it("answers false for anything that is not one of its errors", function()
    assert.is_false(errors.is("SecurityError: text", "SecurityError"))
    assert.is_false(errors.is({name = "SecurityError"}, "SecurityError"))
    assert.is_false(errors.is(setmetatable({}, {name = "SecurityError"}), "SecurityError"))
    assert.is_false(errors.is(nil, "Error"))
    assert.is_nil(errors.kind("text"))
  end)

  it("refuses unknown kinds loudly", function()
    assert.has_error(function() errors.new("NoSuchError", "x") end,
                     "truthound.errors: unknown error kind 'NoSuchError'")
  end)

  it("lets the C core raise typed errors", function()
    local ok, e = pcall(require("truthound.versioning").parse_version, "x")
    assert.is_false(ok)
    assert.are.equal("VersionError", errors.kind(e))
  end)
end)
