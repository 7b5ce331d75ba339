-- examples/policy.lua: the policy of the report plugin (manifest.lua's
-- `policies`). A policy file is data (docs/policies.md): it extends a
-- preset and tightens it.
return {
  extends = "standard",
  name = "report",
  max_memory_mb = "32MB",
  max_execution_time_sec = "2s",
  max_cpu_percent = "25%",
}
