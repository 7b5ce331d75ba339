-- STRICT: plugins you have reason to distrust, or that handle data you
-- must protect.
--
-- A container (its own mount, PID, IPC, UTS and network namespaces) around
-- the worker; ResourceLimits.minimal() (128 MiB, a quarter of a CPU, 10 s)
-- with 64 descriptors; two signatures from trusted signers, at most 90 days
-- old. On top of STANDARD's denied system calls: administration calls
-- (mount, modules, clocks, swap, reboot, namespaces), NUMA page moves, and
-- io_uring, whose queued operations seccomp does not see. Modules that
-- reach the file system, the network or the host (lfs, luv, posix, socket)
-- are blocked too, should the container's Lua path hold them.
return {
  description = "Distrusted plugins: a container, two trusted signatures at most 90 days old",
  isolation_level = "CONTAINER",
  enforcement = "strict",
  resource_limits = {
    max_memory_mb = "128MiB",
    max_cpu_percent = "25%",
    max_execution_time_sec = "10s",
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
  signature_max_age_days = 90,
}
