-- ENTERPRISE: production plugins that do heavier work, in an organisation
-- that rotates its signing keys.
--
-- STANDARD's isolation and restrictions with more room (1 GiB, 80 % of a
-- CPU, 60 s, 512 descriptors), and signatures that expire: a signature
-- older than a year is refused, so that a plugin signed with a retired key
-- has to be signed again.
return {
  extends = "standard",
  description = "Heavier production plugins: a worker process, signatures at most a year old",
  resource_limits = {
    max_memory_mb = "1GiB",
    max_cpu_percent = "80%",
    max_execution_time_sec = "60s",
    max_file_descriptors = 512,
  },
  signature_max_age_days = 365,
}
