-- DEVELOPMENT: your own plugins, on your own machine, while you write them.
--
-- No isolation: the plugin runs inside the host process, so nothing but the
-- time budget (an instruction hook) and the allocator cap can stop it, and
-- several fields below have no in-process mechanism at all. That is why this
-- preset says enforcement = "best_effort": it warns about what this host
-- cannot enforce instead of refusing to run. Never use it for code you did
-- not write. Signatures are not checked.
return {
  description = "Trusted plugins under development: no isolation, no signatures",
  isolation_level = "NONE",
  enforcement = "best_effort",
  resource_limits = {
    max_memory_mb = "4GiB",
    max_cpu_percent = "100%",
    max_execution_time_sec = "600s",
    max_file_descriptors = 1024,
    allowed_paths = {"/"},            -- the whole file system, readable...
    writable_paths = {},              -- ...and, with allow_file_write, writable
    denied_syscalls = {},             -- no seccomp without a worker process
  },
  allow_network = true,
  allow_subprocess = true,
  allow_file_write = true,
  allowed_modules = {},
  blocked_modules = {},
  required_signatures = 0,
  require_trusted_signer = false,
  signature_max_age_days = false,     -- no limit
}
