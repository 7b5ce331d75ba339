-- The same kind of file with the limits inside resource_limits.
return {
  name = "nested example",
  description = "limits inside resource_limits",
  isolation_level = "CONTAINER",
  resource_limits = {
    max_memory_mb = 300,
    max_cpu_percent = 33.3,
    max_execution_time_sec = 0.5,
    max_file_descriptors = 32,
    allowed_paths = {"/opt/models"},
    denied_syscalls = {"ptrace", "mount"},
  },
  allow_network = true,
  required_signatures = 3,
  enforcement = "Best_Effort",
}
