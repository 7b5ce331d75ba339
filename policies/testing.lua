-- TESTING: running a plugin's test suite, on a developer machine or in CI.
--
-- Like DEVELOPMENT (no isolation, no signatures, best effort), with half
-- the memory and a fifth of the time, and closer to production where it
-- costs tests nothing: no subprocesses (a plugin that shells out should
-- fail its tests, not production) and no debug library (debug.sethook would
-- remove the time limit; debug.getregistry reaches the host's state).
return {
  description = "Plugin test suites: no isolation, no signatures, no subprocesses",
  isolation_level = "NONE",
  enforcement = "best_effort",
  resource_limits = {
    max_memory_mb = "2GiB",
    max_cpu_percent = "100%",
    max_execution_time_sec = "120s",
    max_file_descriptors = 1024,
    allowed_paths = {"/"},
    writable_paths = {},
    denied_syscalls = {},
  },
  allow_network = true,
  allow_subprocess = false,
  allow_file_write = true,
  allowed_modules = {},
  blocked_modules = {"debug"},
  required_signatures = 0,
  require_trusted_signer = false,
  signature_max_age_days = false,
}
