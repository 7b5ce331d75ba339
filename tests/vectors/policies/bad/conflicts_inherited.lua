-- The contradiction comes from the base: STANDARD requires a trusted signer.
return {
  extends = "standard",
  required_signatures = 0,
}
-- expect: 4: required_signatures: is 0, but require_trusted_signer (inherited) asks for a signature check; also set require_trusted_signer = false, or require at least 1 signature
