-- AIRGAPPED: hosts without a network, where plugins arrive on media and
-- are updated rarely.
--
-- STRICT's container, denied system calls, blocked modules and two trusted
-- signatures, with more room for batch work (256 MiB, half a CPU, 30 s,
-- 64 descriptors) and signatures valid for a year, since a re-signed
-- plugin takes long to reach an air-gapped site. No network, of course:
-- the worker's network namespace is empty.
return {
  extends = "strict",
  description = "Hosts without a network: a container, two trusted signatures at most a year old",
  resource_limits = {
    max_memory_mb = "256MiB",
    max_cpu_percent = "50%",
    max_execution_time_sec = "30s",
  },
  signature_max_age_days = 365,
}
