-- truthound.security.signing.service: SigningService, which signs a plugin
-- tree and verifies one signature.
--
--   local SigningService = require("truthound.security.signing.service").SigningService
--   local svc = SigningService.new{algorithm = "ed25519", signer_id = "acme", validity_days = 365}
--   local sig = svc:sign{plugin_path = "plugins/hello", private_key = key,   -- a Key or PEM
--                        certificate = cert, metadata = {ticket = "REL-42"}, write = true}
--   local r = svc:verify{plugin_path = "plugins/hello", signature = sig, public_key = key:public_pem()}
--   r.is_valid, r.trust_level, r.errors
--
-- Signing loads plugin.lua (as data, through truthound.manifest) for the
-- plugin's id and version unless they are given, hashes the tree, builds
-- the canonical payload (docs/formats.md) and signs it. With write = true
-- the signature goes into <plugin_path>/plugin.sig, replacing one by the
-- same key and dropping signatures of an older tree.

local errors = require("truthound.errors")
local envelope = require("truthound.security.signing.envelope")
local trust_store = require("truthound.security.signing.trust_store")
local chain = require("truthound.security.signing.chain")
local native = require("truthound.native")

local M = {}

local function crypto() return native.crypto end

local function usage(msg, level)
  errors.raise("UsageError", msg, nil, (level or 1) + 1)
end

local SigningService = {}
SigningService.__index = SigningService
SigningService.__name = "truthound.SigningService"
M.SigningService = SigningService

M.DEFAULT_VALIDITY_DAYS = 365
M.MAX_VALIDITY_DAYS = 36500

-- new{algorithm, signer_id, validity_days}. algorithm may be omitted: it
-- then follows the key (ED25519, RSA_PSS_SHA256, HMAC_SHA256 for a secret).
function SigningService.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then usage("SigningService.new: expected a table of options", 2) end
  local alg
  if opts.algorithm ~= nil then
    local why
    alg, why = envelope.SignatureAlgorithm.parse(opts.algorithm)
    if not alg then usage("SigningService.new: " .. why, 2) end
  end
  local signer = opts.signer_id
  if type(signer) ~= "string" then usage("SigningService.new: expected signer_id (a string)", 2) end
  local days = opts.validity_days or M.DEFAULT_VALIDITY_DAYS
  if type(days) ~= "number" or days ~= days or days <= 0 or days > M.MAX_VALIDITY_DAYS then
    usage(("SigningService.new: validity_days must be a number of days above 0 and at most %d")
          :format(M.MAX_VALIDITY_DAYS), 2)
  end
  return setmetatable({algorithm = alg, signer_id = signer, validity_days = days}, SigningService)
end

local function load_private_key(k)
  if type(k) == "string" then
    local key, err = crypto().load_key(k)
    if not key then usage("sign: private_key is not a key: " .. tostring(err), 3) end
    k = key
  end
  if type(k) ~= "userdata" or not k.sign then usage("sign: expected private_key (a Key or PEM text)", 3) end
  if not k:is_private() then usage("sign: private_key is a public key; signing needs the private one", 3) end
  return k
end

local function default_algorithm(key)
  if type(key) == "string" and not key:find("-----BEGIN", 1, true) then return "HMAC_SHA256" end
  local k = load_private_key(key)
  return k:type() == "ed25519" and "ED25519" or "RSA_PSS_SHA256"
end

local function as_certs(opts)
  local list = {}
  local function one(c)
    if type(c) == "string" then
      local cert, err = crypto().load_certificate(c)
      if not cert then usage("sign: not a certificate: " .. tostring(err), 4) end
      c = cert
    end
    if type(c) ~= "userdata" or not c.der then usage("sign: expected a certificate (a Cert, PEM or DER)", 4) end
    list[#list + 1] = c
  end
  if opts.certificate ~= nil then one(opts.certificate) end
  for _, c in ipairs(opts.certificates or {}) do one(c) end
  return list
end

-- sign{plugin_path, private_key, certificate, certificates, metadata,
-- plugin_id, plugin_version, created, write} -> Signature.
-- private_key: a Key or PEM (RSA, Ed25519), the raw secret (HMAC), nothing
-- (SHA256, SHA512). certificate: the signer's certificate (its key must be
-- private_key's); certificates: intermediates after it. created: Unix
-- seconds (default now).
function SigningService:sign(opts)
  if type(opts) ~= "table" or type(opts.plugin_path) ~= "string" then
    usage("sign: expected {plugin_path = DIR, private_key = ...}", 2)
  end
  local dir = opts.plugin_path
  local alg = self.algorithm or default_algorithm(opts.private_key)
  local info = envelope.ALGORITHMS[alg]
  local c = crypto()

  local id, version = opts.plugin_id, opts.plugin_version
  if id == nil or version == nil then
    local m = require("truthound.manifest").load(dir)
    id, version = id or m.id, version or m.version
  end
  local hex = require("truthound.security.signing.treehash").digest(dir)

  local key, secret, key_id
  if info.kind == "digest" then
    key_id = envelope.NO_KEY
  elseif info.kind == "hmac" then
    secret = opts.private_key
    if type(secret) ~= "string" or #secret < envelope.HMAC_MIN_KEY then
      usage(("sign: %s needs a secret of at least %d bytes as private_key"):format(alg, envelope.HMAC_MIN_KEY), 2)
    end
    key_id = trust_store.hmac_key_id(secret)
  else
    key = load_private_key(opts.private_key)
    if key:type() ~= info.key_type then
      errors.raise("InvalidSignatureError", ("wrong algorithm for an %s key: %s needs an %s key")
                   :format(key:type(), alg, info.key_type), {reason = "wrong algorithm"}, 2)
    end
    key_id = key:key_id()
  end

  local certs = as_certs(opts)
  if #certs > 0 then
    if not key then usage("sign: certificates go only with RSA and Ed25519 signatures", 2) end
    if certs[1]:public_key():key_id() ~= key_id then
      usage("sign: the certificate is not for this key (its key id is " .. certs[1]:public_key():key_id() .. ")", 2)
    end
  end

  local created = opts.created or os.time()
  if math.type(created) ~= "integer" then created = math.floor(created) end
  local fields = {
    plugin_id = id, plugin_version = version, tree_digest = "sha256:" .. hex,
    signer = self.signer_id, key_id = key_id, algorithm = alg,
    created = envelope.format_time(created),
    expires = envelope.format_time(created + math.floor(self.validity_days * 86400)),
    metadata = opts.metadata or {},
  }
  local field, why = envelope.check_fields(fields)
  if field then usage(("sign: %s: %s"):format(field, why), 2) end
  local payload = envelope.payload(fields)
  if info.kind == "digest" then
    fields.signature = c.digest(info.hash, payload)
  elseif info.kind == "hmac" then
    fields.signature = c.hmac(info.hash, secret, payload)
  else
    fields.signature = key:sign(alg, payload)
  end
  fields.certificates = {}
  for i, cert in ipairs(certs) do fields.certificates[i] = cert:der() end
  local sig = envelope.new_signature(fields)
  if opts.write then M.write(dir, sig) end
  return sig
end

-- write(dir, sig) -> path, kept, dropped: add sig to dir/plugin.sig.
-- Signatures of another tree or version are dropped (they no longer
-- verify); one by the same key is replaced.
function M.write(dir, sig)
  local env = envelope.new()
  local dropped = 0
  local ok, old = pcall(envelope.read, dir)
  if ok then
    for _, s in ipairs(old.signatures) do
      if s.plugin_id == sig.plugin_id and s.plugin_version == sig.plugin_version and
         s.tree_digest == sig.tree_digest then
        env:add(s)
      else
        dropped = dropped + 1
      end
    end
  elseif not (errors.is(old, "SignatureError") and old.reason == "unsigned") then
    -- An unreadable plugin.sig is replaced, never merged into.
    dropped = -1
  end
  env:add(sig)
  local path = envelope.write(dir, env)
  return path, #env.signatures, dropped
end

-- verify{plugin_path, signature | signature_file, public_key | hmac_key |
-- trust_store, now, max_age_days, require_trusted} -> Result. Without a
-- trust store the result's level is UNKNOWN: the caller vouches for the key.
function SigningService:verify(opts)
  if type(opts) ~= "table" or type(opts.plugin_path) ~= "string" then
    usage("verify: expected {plugin_path = DIR, ...}", 2)
  end
  local b = chain.VerificationChainBuilder.new()
    :with_integrity_check()
    :with_expiration_check{max_age_days = opts.max_age_days}
    :with_signature_check{public_key = opts.public_key, hmac_key = opts.hmac_key}
  if opts.trust_store then
    b:with_trust_check(opts.trust_store, {require_trusted = opts.require_trusted})
     :with_chain_check(opts.trust_store)
  end
  local sig = opts.signature
  if sig == nil and opts.signature_file then sig = opts.signature_file end
  return b:build():verify(opts.plugin_path, sig, {now = opts.now, plugin_id = opts.plugin_id})
end

return M
