-- truthound.security: the policy model and, on first use, the modules that
-- enforce it.
--
--   local security = require("truthound.security")
--   security.IsolationLevel.PROCESS                      --> "PROCESS"
--   security.SecurityPolicy.new{isolation_level = "container"}
--   security.ResourceLimits.minimal()
--   security.policies.STRICT                             --> a preset (policies/strict.lua)
--   security.policies.load("policy.lua")                 --> a policy file
--
-- The model (fields, defaults, validation, the file format) is described in
-- docs/policies.md; which mechanism enforces each field, in docs/host.md.

local policy = require("truthound.security.policy")
local limits = require("truthound.security.limits")

local security = {
  IsolationLevel = policy.IsolationLevel,
  Enforcement = policy.Enforcement,
  SecurityPolicy = policy.SecurityPolicy,
  ResourceLimits = limits,
}

-- Fields that name a submodule, loaded when first read.
local submodules = {
  policies = "truthound.security.policies",
  host = "truthound.security.host",
  enforcement = "truthound.security.enforcement",
  signing = "truthound.security.signing",
}

return setmetatable(security, {
  __index = function(t, k)
    local name = submodules[k]
    if not name then return nil end
    local m = require(name)
    rawset(t, k, m)
    return m
  end,
})
