-- A preset, changed in two places.
return {
  extends = "STRICT",
  max_memory_mb = "256MB",
  allow_network = true,
}
