-- AIRGAPPED: hosts without a network, where plugins arrive on media and
-- are updated rarely.
--
-- STRICT's container, denied system calls, blocked modules and two trusted
-- signatures, with more room for batch work (256 MiB, half a CPU, 30 s,
-- 64 descriptors) and signatures valid for a year, since a re-signed
-- plugin takes long to reach an air-gapped site. No network, of course:
-- the worker's network namespace is empty.
return {
  description = "Hosts without a network: a container, two trusted signatures at most a year old",
  isolation_level = "CONTAINER",
  enforcement = "strict",
  resource_limits = {
    max_memory_mb = "256MiB",
    max_cpu_percent = "50%",
    max_execution_time_sec = "30s",
    max_file_descriptors = 64,
    allowed_paths = {},
    writable_paths = {},
    denied_syscalls = {
      "acct", "add_key", "adjtimex", "bpf", "chroot", "clock_adjtime", "clock_settime",
      "delete_module", "finit_module", "init_module", "io_uring_enter",
      "io_uring_register", "io_uring_setup", "kexec_file_load", "kexec_load", "keyctl",
      "lookup_dcookie", "mbind", "migrate_pages", "mount", "move_pages",
      "name_to_handle_at", "open_by_handle_at", "perf_event_open", "personality",
      "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace", "quotactl",
      "reboot", "request_key", "setdomainname", "sethostname", "setns", "settimeofday",
      "swapoff", "swapon", "syslog", "umount2", "unshare", "userfaultfd",
    },
  },
  allow_network = false,
  allow_subprocess = false,
  allow_file_write = false,
  allowed_modules = {},
  blocked_modules = {"debug", "ffi", "io", "lfs", "luv", "os", "package", "posix", "socket"},
  required_signatures = 2,
  require_trusted_signer = true,
  signature_max_age_days = 365,
}
