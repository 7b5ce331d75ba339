-- A value of the wrong type for every limit.
return {
  resource_limits = {
    max_memory_mb = true,
    max_cpu_percent = {},
    max_execution_time_sec = false,
    max_file_descriptors = "64",
    allowed_paths = "/srv",
    writable_paths = 1,
    denied_syscalls = {ptrace = true},
  },
}
-- expect: 4: resource_limits.max_memory_mb: expected a number of MiB or a size such as "512MB", got true
-- expect: 5: resource_limits.max_cpu_percent: expected a percentage such as 50 or "50%", got a table
-- expect: 6: resource_limits.max_execution_time_sec: expected a number of seconds or a duration such as "30s", got false
-- expect: 7: resource_limits.max_file_descriptors: expected a whole number of file descriptors, got "64"
-- expect: 8: resource_limits.allowed_paths: expected a list of absolute paths, got "/srv"
-- expect: 9: resource_limits.writable_paths: expected a list of absolute paths, got 1
-- expect: 10: resource_limits.denied_syscalls.ptrace: expected a list of system call names, without named keys; got the key "ptrace"
