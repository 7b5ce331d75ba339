return {
  extends = "./ranges.lua",
}
-- expect: ranges.lua:3: max_memory_mb: expected a memory size of at least 1 MiB, got -512
-- expect: ranges.lua:4: max_cpu_percent: expected a percentage above 0 and at most 100, got 150
-- expect: ranges.lua:5: max_execution_time_sec: expected a duration above 0 seconds, got 0
-- expect: ranges.lua:6: max_file_descriptors: expected a whole number of file descriptors from 1 to 2147483647, got 0
-- expect: ranges.lua:7: required_signatures: expected a whole number of signatures from 0 to 16, got 17
-- expect: ranges.lua:8: signature_max_age_days: expected a number of days above 0 and at most 36500, or false for no limit, got -1
