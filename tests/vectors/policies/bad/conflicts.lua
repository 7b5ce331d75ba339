-- Fields that contradict each other.
return {
  writable_paths = {"/srv/out"},
  required_signatures = 0,
  require_trusted_signer = true,
  signature_max_age_days = 30,
  max_memory_mb = 256,
  resource_limits = {
    max_memory_mb = 512,
  },
}
-- expect: 3: writable_paths: lists writable paths, but allow_file_write is false; set allow_file_write = true, or remove the paths
-- expect: 5: require_trusted_signer: has no effect while required_signatures is 0; require at least 1 signature, or set false
-- expect: 6: signature_max_age_days: has no effect while required_signatures is 0; require at least 1 signature, or set false for no limit
-- expect: 9: resource_limits.max_memory_mb: given twice: here and as the top-level key 'max_memory_mb' (line 7); write it once
