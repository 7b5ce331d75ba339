-- truthound.security.signing: plugin signatures, the trust store and the
-- verification chain (docs/signing.md).
--
--   local signing = require("truthound.security.signing")
--   local svc = signing.SigningService.new{algorithm = "ED25519", signer_id = "acme"}
--   svc:sign{plugin_path = "plugins/hello", private_key = pem, write = true}
--   local store = signing.TrustStore.new{persist_path = "trust.json"}
--   store:add_trusted_key(public_pem, "acme", signing.TrustLevel.TRUSTED)
--   signing.verify_plugin("plugins/hello", "standard", store)    -- raises unless valid
--
-- Submodules, one capability each: envelope (plugin.sig and the signed
-- payload), json (the strict JSON both files use), trust_store, chain
-- (VerificationChainBuilder, verify_plugin), service (SigningService),
-- treehash (the tree digest).

local envelope = require("truthound.security.signing.envelope")
local trust_store = require("truthound.security.signing.trust_store")
local chain = require("truthound.security.signing.chain")
local service = require("truthound.security.signing.service")

return {
  SignatureAlgorithm = envelope.SignatureAlgorithm,
  TrustLevel = trust_store.TrustLevel,
  SigningService = service.SigningService,
  TrustStore = trust_store.TrustStore,
  VerificationChainBuilder = chain.VerificationChainBuilder,
  VerificationResult = chain.Result,
  verify_plugin = chain.verify_plugin,
  envelope = envelope,
  trust_store = trust_store,
  chain = chain,
  service = service,
}
