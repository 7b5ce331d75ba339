-- Limits written flat, at the top level, as quantities with units.
return {
  isolation_level = "process",
  max_memory_mb = "1.5GiB",
  max_cpu_percent = "12.5%",
  max_execution_time_sec = "1m30s",
  max_file_descriptors = 128,
  allowed_paths = {"/srv/data/", "//srv//input/./"},
  writable_paths = {"/srv/out"},
  allow_file_write = true,
  blocked_modules = {"os", "io", "socket.unix"},
  allowed_modules = {"socket"},
  signature_max_age_days = "90d",
}
