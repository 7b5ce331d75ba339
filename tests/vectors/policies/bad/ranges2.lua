-- More impossible values: zero, fractions, infinities, too large.
return {
  resource_limits = {
    max_memory_mb = 0,
    max_cpu_percent = 0,
    max_execution_time_sec = -5,
    max_file_descriptors = 2.5,
  },
  required_signatures = -1,
  signature_max_age_days = 0,
}
-- expect: 4: resource_limits.max_memory_mb: expected a memory size of at least 1 MiB, got 0
-- expect: 5: resource_limits.max_cpu_percent: expected a percentage above 0 and at most 100, got 0
-- expect: 6: resource_limits.max_execution_time_sec: expected a duration above 0 seconds, got -5
-- expect: 7: resource_limits.max_file_descriptors: expected a whole number of file descriptors, got 2.5
-- expect: 9: required_signatures: expected a whole number of signatures from 0 to 16, got -1
-- expect: 10: signature_max_age_days: expected a number of days above 0 and at most 36500, or false for no limit, got 0
