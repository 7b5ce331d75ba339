return {
  max_memory_mb = 1.5,
  max_cpu_percent = 100.5,
  max_execution_time_sec = 1e300,
  max_file_descriptors = 1e12,
  required_signatures = 1.5,
  signature_max_age_days = 1e9,
}
-- expect: 2: max_memory_mb: expected a whole number of MiB, got 1.5
-- expect: 3: max_cpu_percent: expected a percentage above 0 and at most 100, got 100.5
-- expect: 4: max_execution_time_sec: expected a duration of at most 31536000 seconds (365 days), got 1e+300
-- expect: 5: max_file_descriptors: expected a whole number of file descriptors from 1 to 2147483647, got 1000000000000
-- expect: 6: required_signatures: expected a whole number of signatures, got 1.5
-- expect: 7: signature_max_age_days: expected a number of days above 0 and at most 36500, or false for no limit, got 1000000000
