-- Values no host can honour.
return {
  max_memory_mb = -512,
  max_cpu_percent = 150,
  max_execution_time_sec = 0,
  max_file_descriptors = 0,
  required_signatures = 17,
  signature_max_age_days = -1,
}
-- expect: 3: max_memory_mb: expected a memory size of at least 1 MiB, got -512
-- expect: 4: max_cpu_percent: expected a percentage above 0 and at most 100, got 150
-- expect: 5: max_execution_time_sec: expected a duration above 0 seconds, got 0
-- expect: 6: max_file_descriptors: expected a whole number of file descriptors from 1 to 2147483647, got 0
-- expect: 7: required_signatures: expected a whole number of signatures from 0 to 16, got 17
-- expect: 8: signature_max_age_days: expected a number of days above 0 and at most 36500, or false for no limit, got -1
