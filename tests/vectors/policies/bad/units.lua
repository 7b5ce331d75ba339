-- Quantities that do not parse, or are not a whole number of the unit.
return {
  max_memory_mb = "512XB",
  max_cpu_percent = "50",
  max_execution_time_sec = "30sec",
  resource_limits = {
    max_file_descriptors = 8,
  },
  signature_max_age_days = "1y",
}
-- expect: 3: max_memory_mb: invalid size "512XB" at column 4: expected a size unit (B, K, KB, KiB, M, MB, MiB, ...), found 'XB'
-- expect: 4: max_cpu_percent: expected a percentage with a unit such as "50%", or a plain number of percent without quotes, got "50"
-- expect: 5: max_execution_time_sec: invalid duration "30sec" at column 3: expected a duration unit (d, h, m, s, ms), found 'sec'
-- expect: 9: signature_max_age_days: invalid duration "1y" at column 2: expected a duration unit (d, h, m, s, ms), found 'y'
