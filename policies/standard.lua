-- STANDARD: third-party plugins in production. Also what every field of a
-- policy means when it is left out (SecurityPolicy.new{} is this preset).
--
-- Each plugin runs in a worker process of its own, as an unprivileged user
-- with no_new_privs: half a CPU, 512 MiB, 30 s per call, 256 descriptors;
-- no network (an empty network namespace), no subprocesses, no file system
-- beyond what the worker needs to load the plugin, and a few system calls
-- that reach into other processes or rarely used kernel surfaces denied.
-- The modules that give a plugin the host's powers (io, os, debug,
-- package, ffi) cannot be required. One signature, from a trusted signer.
return {
  description = "Third-party plugins in production: a worker process, signed by a trusted signer",
  isolation_level = "PROCESS",
  enforcement = "strict",
  resource_limits = {
    max_memory_mb = "512MiB",
    max_cpu_percent = "50%",
    max_execution_time_sec = "30s",
    max_file_descriptors = 256,
    allowed_paths = {},
    writable_paths = {},
    denied_syscalls = {
      "add_key", "bpf", "keyctl", "perf_event_open", "process_vm_readv",
      "process_vm_writev", "ptrace", "request_key", "unshare", "userfaultfd",
    },
  },
  allow_network = false,
  allow_subprocess = false,
  allow_file_write = false,
  allowed_modules = {},
  blocked_modules = {"debug", "ffi", "io", "os", "package"},
  required_signatures = 1,
  require_trusted_signer = true,
  signature_max_age_days = false,
}
