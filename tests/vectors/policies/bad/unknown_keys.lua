-- Misspelt and unknown keys, at the top level and inside resource_limits.
return {
  isolaton_level = "PROCESS",
  Max_Memory_MB = 512,
  timeout = 10,
  network = true,
  colour = "blue",
  base = "strict",
  resource_limits = {
    max_cpu_precent = 50,
    allow_network = false,
    size = 1,
  },
  [1] = "PROCESS",
}
-- expect: 3: isolaton_level: unknown key (did you mean 'isolation_level'?)
-- expect: 4: Max_Memory_MB: unknown key (did you mean 'max_memory_mb'?)
-- expect: 5: timeout: unknown key (did you mean 'max_execution_time_sec'?)
-- expect: 6: network: unknown key (did you mean 'allow_network'?)
-- expect: 7: colour: unknown key; expected one of: name, description, isolation_level, resource_limits, allow_network, allow_subprocess, allow_file_write, allowed_modules, blocked_modules, required_signatures, require_trusted_signer, signature_max_age_days, enforcement, max_memory_mb, max_cpu_percent, max_execution_time_sec, max_file_descriptors, allowed_paths, writable_paths, denied_syscalls, extends
-- expect: 8: base: unknown key (did you mean 'extends'?)
-- expect: 10: resource_limits.max_cpu_precent: unknown key (did you mean 'max_cpu_percent'?)
-- expect: 11: resource_limits.allow_network: unknown key (allow_network is a policy field: write it outside resource_limits)
-- expect: 12: resource_limits.size: unknown key; expected one of: max_memory_mb, max_cpu_percent, max_execution_time_sec, max_file_descriptors, allowed_paths, writable_paths, denied_syscalls
-- expect: 14: [1]: expected a named field (key = value), got a list entry; a policy is a table of named fields
