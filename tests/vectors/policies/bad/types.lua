-- A value of the wrong type for every field.
return {
  name = 42,
  description = {},
  isolation_level = 3,
  resource_limits = "small",
  allow_network = "yes",
  allow_subprocess = 0,
  allow_file_write = "false",
  allowed_modules = "socket",
  blocked_modules = {os = true},
  required_signatures = "2",
  require_trusted_signer = 1,
  signature_max_age_days = true,
  enforcement = false,
  extends = 7,
}
-- expect: 3: name: expected a name (a string), got 42
-- expect: 4: description: expected a description (a string), got a table
-- expect: 5: isolation_level: expected one of NONE, PROCESS, CONTAINER, got 3
-- expect: 6: resource_limits: expected a table of resource limits, got "small"
-- expect: 7: allow_network: expected true or false, got "yes"
-- expect: 8: allow_subprocess: expected true or false, got 0
-- expect: 9: allow_file_write: expected true or false, got "false"
-- expect: 10: allowed_modules: expected a list of module names, got "socket"
-- expect: 11: blocked_modules.os: expected a list of module names, without named keys; got the key "os"
-- expect: 12: required_signatures: expected a whole number of signatures, got "2"
-- expect: 13: require_trusted_signer: expected true or false, got 1
-- expect: 14: signature_max_age_days: expected a number of days, or false for no limit, got true
-- expect: 15: enforcement: expected one of strict, best_effort, got false
-- expect: 16: extends: expected a preset name such as "standard" or a path such as "./base.lua", got 7
