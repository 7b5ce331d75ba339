return {
  resource_limits = {
    max_memory_mb = "512KB",
    max_cpu_percent = "-5%",
    max_execution_time_sec = "1s1m",
  },
}
-- expect: 3: resource_limits.max_memory_mb: expected a whole number of MiB, got "512KB" (524288 bytes)
-- expect: 4: resource_limits.max_cpu_percent: invalid percentage "-5%" at column 1: expected a number (such as 512 or 1.5; a quantity is never negative), found '-'
-- expect: 5: resource_limits.max_execution_time_sec: invalid duration "1s1m" at column 4: expected a unit smaller than s (ms): units go from d down to ms, each once, found 'm'
