return {
  max_memory_mb = "0MB",
  max_cpu_percent = "0%",
  max_execution_time_sec = "400d",
}
-- expect: 2: max_memory_mb: expected a memory size of at least 1 MiB, got "0MB"
-- expect: 3: max_cpu_percent: expected a percentage above 0 and at most 100, got "0%"
-- expect: 4: max_execution_time_sec: expected a duration of at most 31536000 seconds (365 days), got "400d"
