-- The verification chain (truthound.security.signing.chain): each check
-- against the attack it exists for, the threshold, rollback, custom
-- verifiers, X.509 chains through core.crypto.verify_chain, and
-- verify_plugin with the policy presets.

local signing = require("truthound.security.signing")
local envelope = require("truthound.security.signing.envelope")
local chain = require("truthound.security.signing.chain")
local errors = require("truthound.errors")
local crypto = require("truthound.native").crypto

local Builder = signing.VerificationChainBuilder
local DAY = 86400

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p '" .. p .. "'"))
  return p
end

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local roots = {}
local function plugin(id, version)
  local root = tmpdir()
  roots[#roots + 1] = root
  local dir = root .. "/" .. (id or "hello")
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  write(dir .. "/plugin.lua", ('return {id = "%s", version = "%s", entry = "main"}\n'):format(id or "hello",
                                                                                            version or "1.0.0"))
  write(dir .. "/main.lua", "return {}\n")
  return dir
end

local function kinds(r)
  local t = {}
  for i, e in ipairs(r.errors) do t[i] = errors.kind(e) or tostring(e) end
  return t
end

local function first_kind(r) return errors.kind(r.errors[1]) end

local NOW = os.time()

local function sign(dir, key, signer, opts)
  opts = opts or {}
  local alg = opts.algorithm or (type(key) == "string" and "HMAC_SHA256") or
              (key and key:type() == "rsa" and "RSA_SHA256") or (key and "ED25519") or "SHA256"
  local svc = signing.SigningService.new{algorithm = alg, signer_id = signer, validity_days = opts.days or 30}
  return svc:sign{plugin_path = dir, private_key = key, certificate = opts.certificate,
                  certificates = opts.certificates, created = opts.created or NOW, write = opts.write ~= false,
                  plugin_version = opts.plugin_version, plugin_id = opts.plugin_id}
end

local function full_chain(store, opts)
  opts = opts or {}
  return Builder.new():with_integrity_check():with_expiration_check{max_age_days = opts.max_age_days}
    :with_signature_check():with_trust_check(store, {require_trusted = opts.require_trusted})
    :with_chain_check(store):build()
end

teardown(function()
  for _, r in ipairs(roots) do os.execute("rm -rf '" .. r .. "'") end
end)

local alice = crypto.generate("ed25519")
local alice2 = crypto.generate("ed25519")
local bob = crypto.generate("ed25519")
local mallory = crypto.generate("ed25519")

describe("VerificationChainBuilder", function()
  it("builds a chain whose result carries level, signer, plugin and digest", function()
    local dir = plugin()
    sign(dir, alice, "alice")
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice", "trusted")
    local r = full_chain(store):verify(dir)
    assert.is_true(r.is_valid, tostring(r))
    assert.are.equal("TRUSTED", r.trust_level)
    assert.are.equal("alice", r.signer_id)
    assert.are.equal("hello", r.plugin_id)
    assert.are.equal("1.0.0", r.plugin_version)
    assert.matches("^sha256:%x+$", r.tree_digest)
    assert.are.same({}, r.errors)
    assert.are.equal("store", r.signatures[1].key_source)
  end)

  it("accepts the signature as an object, an envelope, text or a path", function()
    local dir = plugin()
    local sig = sign(dir, alice, "alice")
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    local c = full_chain(store)
    local text = envelope.read(dir):encode()
    for _, s in ipairs{sig, envelope.read(dir), text, dir .. "/plugin.sig", {sig}} do
      assert.is_true(c:verify(dir, s).is_valid)
    end
    assert.has_error(function() c:verify(dir, 42) end)
    assert.has_error(function() c:verify(nil) end)
  end)

  it("integrity: a changed, added or removed file is a SignatureTamperError with both digests", function()
    local dir = plugin()
    local sig = sign(dir, alice, "alice")
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    write(dir .. "/extra.lua", "")
    local r = full_chain(store):verify(dir)
    assert.are.same({"SignatureTamperError"}, kinds(r))
    assert.are.equal(sig.tree_digest, r.errors[1].expected_digest)
    assert.are.equal(r.tree_digest, r.errors[1].actual_digest)
    assert.are.equal("hello", r.errors[1].plugin_id)
  end)

  it("integrity: a tree that cannot be hashed is tampered, naming the path", function()
    local dir = plugin()
    sign(dir, alice, "alice")
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    os.remove(dir .. "/main.lua")
    os.execute("ln -s /etc/hostname '" .. dir .. "/main.lua'")
    local r = full_chain(store):verify(dir)
    assert.are.equal("SignatureTamperError", first_kind(r))
    assert.matches("main.lua", r.errors[1].message)
    assert.are.equal("main.lua", r.errors[1].path)
  end)

  it("expiration: expired, created in the future, older than max_age_days", function()
    local dir = plugin()
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    sign(dir, alice, "alice", {created = NOW - 40 * DAY, days = 30})
    local r = full_chain(store):verify(dir, nil, {now = NOW})
    assert.are.same({"SignatureExpiredError"}, kinds(r))
    assert.matches("expired on", r.errors[1].message)
    assert.are.equal(envelope.format_time(NOW), r.errors[1].now)

    sign(dir, alice, "alice", {created = NOW + 3600})
    r = full_chain(store):verify(dir, nil, {now = NOW})
    assert.are.same({"SignatureExpiredError"}, kinds(r))
    assert.matches("in the future", r.errors[1].message)
    -- A small clock skew is tolerated.
    sign(dir, alice, "alice", {created = NOW + 60})
    assert.is_true(full_chain(store):verify(dir, nil, {now = NOW}).is_valid)

    sign(dir, alice, "alice", {created = NOW - 10 * DAY, days = 365})
    r = full_chain(store, {max_age_days = 7}):verify(dir, nil, {now = NOW})
    assert.are.same({"SignatureExpiredError"}, kinds(r))
    assert.matches("more than 7 days ago", r.errors[1].message)
    assert.is_true(full_chain(store, {max_age_days = 11}):verify(dir, nil, {now = NOW}).is_valid)
  end)

  it("signature: a flipped bit anywhere in the signature is an InvalidSignatureError", function()
    local dir = plugin()
    local sig = sign(dir, alice, "alice", {write = false})
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    for _, i in ipairs{1, 17, 32, 64} do
      local t = sig:to_table()
      local raw = crypto.unbase64(t.signature)
      t.signature = raw:sub(1, i - 1) .. string.char(raw:byte(i) ~ 1) .. raw:sub(i + 1)
      local r = full_chain(store):verify(dir, envelope.new_signature(t))
      assert.are.same({"InvalidSignatureError"}, kinds(r))
      assert.are.equal("bad signature", r.errors[1].reason)
    end
  end)

  it("signature: keys come from the store, a given key, or the embedded certificate; none is an unknown signer", function()
    local dir = plugin()
    sign(dir, alice, "alice")
    local r = Builder.new():with_integrity_check():with_signature_check():build():verify(dir)
    assert.are.same({"UntrustedSignerError"}, kinds(r))
    r = Builder.new():with_integrity_check():with_signature_check{public_key = alice:public_pem()}:build():verify(dir)
    assert.is_true(r.is_valid)
    assert.are.equal("UNKNOWN", r.trust_level)
    r = Builder.new():with_signature_check():build():verify(dir, nil, {public_key = alice})
    assert.is_true(r.is_valid)
    assert.matches("no integrity check", table.concat(r.warnings, "\n"))
  end)

  it("trust: unknown, verified and trusted signers; require_trusted", function()
    local dir = plugin()
    sign(dir, alice, "alice")
    local store = signing.TrustStore.new()
    local r = full_chain(store):verify(dir)
    assert.are.equal("UntrustedSignerError", first_kind(r))

    store:add_trusted_key(alice, "alice", "verified")
    r = full_chain(store):verify(dir)
    assert.is_true(r.is_valid)
    assert.are.equal("VERIFIED", r.trust_level)
    r = full_chain(store, {require_trusted = true}):verify(dir)
    assert.are.same({"UntrustedSignerError"}, kinds(r))
    assert.matches("VERIFIED", r.errors[1].message)

    -- A trust check that accepts UNKNOWN still refuses revoked signers.
    local lax = Builder.new():with_signature_check():with_trust_check(store, {min_level = "unknown"}):build()
    store:set_signer_level("alice", "unknown")
    r = lax:verify(dir)
    assert.is_true(r.is_valid)
    assert.are.equal("UNKNOWN", r.trust_level)
    store:revoke_certificate("alice", "fired")
    r = lax:verify(dir)
    assert.are.same({"CertificateRevokedError"}, kinds(r))
    assert.are.equal("REVOKED", r.trust_level)
  end)

  it("trust: a key registered to one signer cannot sign as another", function()
    local dir = plugin()
    sign(dir, mallory, "alice")                   -- mallory claims to be alice
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    store:add_trusted_key(mallory, "mallory")
    local r = full_chain(store):verify(dir)
    assert.are.same({"UntrustedSignerError"}, kinds(r))
    assert.matches('belongs to signer "mallory", not "alice"', r.errors[1].message, 1, true)
  end)

  it("trust: a revoked key is a CertificateRevokedError", function()
    local dir = plugin()
    sign(dir, alice, "alice")
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    store:revoke_certificate(alice:key_id(), "compromised")
    local r = full_chain(store):verify(dir)
    assert.are.equal("CertificateRevokedError", first_kind(r))
    assert.are.equal("REVOKED", r.trust_level)
  end)

  it("trust: digest-only signatures verify but are never trusted", function()
    local dir = plugin()
    sign(dir, nil, "builder", {algorithm = "SHA512"})
    local store = signing.TrustStore.new()
    store:set_signer_level("builder", "trusted")
    local r = full_chain(store):verify(dir)
    assert.are.same({"UntrustedSignerError"}, kinds(r))
    assert.matches("digest%-only", r.errors[1].message)
    r = Builder.new():with_integrity_check():with_signature_check():with_trust_check(store, {min_level = "unknown"})
      :build():verify(dir)
    assert.is_true(r.is_valid)
    assert.are.equal("UNKNOWN", r.trust_level)
  end)

  it("HMAC: the key comes from the store by its id; a wrong key fails", function()
    local dir = plugin()
    local secret = crypto.random(32)
    sign(dir, secret, "ci")
    local store = signing.TrustStore.new()
    local r = full_chain(store):verify(dir)
    assert.are.equal("UntrustedSignerError", first_kind(r))
    store:add_hmac_key(secret, "ci", "trusted")
    r = full_chain(store):verify(dir)
    assert.is_true(r.is_valid, tostring(r))
    assert.are.equal("TRUSTED", r.trust_level)
    -- A signature made with another secret but carrying this key's id.
    local sig = envelope.read(dir).signatures[1]
    local t = sig:to_table()
    t.signature = crypto.hmac("sha256", crypto.random(32), sig:payload())
    r = full_chain(store):verify(dir, envelope.new_signature(t))
    assert.are.same({"InvalidSignatureError"}, kinds(r))
  end)
end)

describe("chain check (X.509)", function()
  local root_key = crypto.generate("ed25519")
  local root = crypto.make_certificate{subject = "CN=Acme Root,O=Acme", key = root_key, ca = true,
                                       key_usage = {"keyCertSign", "cRLSign"}, days = 3650}
  local inter_key = crypto.generate("ed25519")
  local inter = crypto.make_certificate{subject = "CN=Acme Signing CA,O=Acme", key = inter_key, ca = true,
                                        issuer_cert = root, issuer_key = root_key, key_usage = {"keyCertSign"},
                                        days = 1000}
  local leaf_key = crypto.generate("ed25519")
  local function leaf(over)
    local spec = {subject = "CN=acme,O=Acme", key = leaf_key, issuer_cert = inter, issuer_key = inter_key,
                  key_usage = {"digitalSignature"}, days = 100}
    for k, v in pairs(over or {}) do spec[k] = v end
    return crypto.make_certificate(spec)
  end

  local function store_with_root(level)
    local s = signing.TrustStore.new()
    s:add_trusted_certificate(root, level or "trusted")
    return s
  end

  it("builds a path leaf -> intermediate -> stored root and takes the root's level", function()
    local dir = plugin()
    local l = leaf()
    sign(dir, leaf_key, "acme", {certificate = l, certificates = {inter}})
    local r = full_chain(store_with_root()):verify(dir)
    assert.is_true(r.is_valid, tostring(r))
    assert.are.equal("TRUSTED", r.trust_level)
    assert.are.same({l:id(), inter:id(), root:id()}, r.signatures[1].chain)
    assert.are.equal("certificate", r.signatures[1].key_source)
    assert.are.equal("VERIFIED", full_chain(store_with_root("verified")):verify(dir).trust_level)
  end)

  it("the signer must be the leaf's CN (or the anchor's recorded signer)", function()
    local dir = plugin()
    sign(dir, leaf_key, "someone-else", {certificate = leaf(), certificates = {inter}})
    local r = full_chain(store_with_root()):verify(dir)
    assert.are.same({"UntrustedSignerError"}, kinds(r))
    local s = signing.TrustStore.new()
    s:add_trusted_certificate(root, "trusted", {signer = "someone-else"})
    assert.is_true(full_chain(s):verify(dir).is_valid)
  end)

  it("an expired leaf is a CertificateExpiredError", function()
    local dir = plugin()
    sign(dir, leaf_key, "acme", {certificate = leaf{not_before = NOW - 20 * DAY, days = 10},
                                 certificates = {inter}})
    local r = full_chain(store_with_root()):verify(dir)
    assert.are.equal("CertificateExpiredError", first_kind(r))
    assert.matches("expired", r.errors[1].message)
  end)

  it("a revoked intermediate or leaf is a CertificateRevokedError", function()
    local dir = plugin()
    local l = leaf()
    sign(dir, leaf_key, "acme", {certificate = l, certificates = {inter}})
    local s = store_with_root()
    s:revoke_certificate(inter:id(), "CA key leaked")
    local r = full_chain(s):verify(dir)
    assert.are.equal("CertificateRevokedError", first_kind(r))
    assert.are.equal(inter:id(), r.errors[1].serial)
    assert.are.equal("REVOKED", r.trust_level)
    s = store_with_root()
    s:revoke_certificate(l:id(), "lost")
    assert.are.equal("CertificateRevokedError", first_kind(full_chain(s):verify(dir)))
  end)

  it("a chain to a root that is not stored is an UntrustedSignerError", function()
    local dir = plugin()
    local other_key = crypto.generate("ed25519")
    local other_root = crypto.make_certificate{subject = "CN=Evil Root", key = other_key, ca = true,
                                               key_usage = {"keyCertSign"}, days = 10}
    local l = crypto.make_certificate{subject = "CN=acme", key = leaf_key, issuer_cert = other_root,
                                      issuer_key = other_key, key_usage = {"digitalSignature"}, days = 10}
    sign(dir, leaf_key, "acme", {certificate = l, certificates = {other_root}})
    local r = full_chain(store_with_root()):verify(dir)
    assert.are.equal("UntrustedSignerError", first_kind(r))
    assert.matches("untrusted root", r.errors[1].message)
    r = full_chain(signing.TrustStore.new()):verify(dir)
    assert.are.equal("UntrustedSignerError", first_kind(r))
  end)

  it("an issuer that is not a CA, or a leaf that may not sign, is an InvalidCertificateError", function()
    local dir = plugin()
    local notca_key = crypto.generate("ed25519")
    local notca = crypto.make_certificate{subject = "CN=Not A CA", key = notca_key, issuer_cert = root,
                                          issuer_key = root_key, key_usage = {"digitalSignature"}, days = 10}
    local l = crypto.make_certificate{subject = "CN=acme", key = leaf_key, issuer_cert = notca,
                                      issuer_key = notca_key, key_usage = {"digitalSignature"}, days = 10}
    sign(dir, leaf_key, "acme", {certificate = l, certificates = {notca}})
    local r = full_chain(store_with_root()):verify(dir)
    assert.are.equal("InvalidCertificateError", first_kind(r))
    assert.are.equal("not_ca", r.errors[1].reason)

    sign(dir, leaf_key, "acme", {certificate = leaf{key_usage = {"keyEncipherment"}}, certificates = {inter}})
    r = full_chain(store_with_root()):verify(dir)
    assert.are.equal("InvalidCertificateError", first_kind(r))
    assert.are.equal("key_usage", r.errors[1].reason)
  end)

  it("an embedded certificate for another key is refused", function()
    local dir = plugin()
    local sig = sign(dir, alice, "acme", {write = false})
    local t = sig:to_table()
    t.signature = crypto.unbase64(t.signature)
    t.certificates = {leaf():der()}
    local r = full_chain(store_with_root()):verify(dir, envelope.new_signature(t))
    assert.are.equal("InvalidSignatureError", first_kind(r))
    assert.matches("not the signing key", r.errors[1].message)
  end)

  it("a self-signed leaf stored directly is its own anchor", function()
    local dir = plugin()
    local self_signed = crypto.make_certificate{subject = "CN=acme", key = leaf_key,
                                                key_usage = {"digitalSignature"}, days = 10}
    sign(dir, leaf_key, "acme", {certificate = self_signed})
    local s = signing.TrustStore.new()
    assert.are.equal("UntrustedSignerError", first_kind(full_chain(s):verify(dir)))
    s:add_trusted_certificate(self_signed, "trusted")
    local r = full_chain(s):verify(dir)
    assert.is_true(r.is_valid, tostring(r))
    assert.are.same({self_signed:id()}, r.signatures[1].chain)
  end)
end)

describe("threshold, rollback, custom verifiers", function()
  local function two_of(store, require_trusted)
    return Builder.new():with_integrity_check():with_expiration_check():with_signature_check()
      :with_trust_check(store, {require_trusted = require_trusted}):with_chain_check(store)
      :with_threshold(2, {require_trusted = require_trusted}):build()
  end

  it("needs n signatures from n distinct signers and keys", function()
    local dir = plugin()
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    store:add_trusted_key(alice2, "alice")
    store:add_trusted_key(bob, "bob")
    sign(dir, alice, "alice")
    local r = two_of(store, true):verify(dir)
    assert.is_false(r.is_valid)
    assert.are.equal("threshold", r.errors[1].reason)
    assert.is_true(errors.is(r.errors[1], "SignatureError"))
    assert.are.equal(1, r.errors[1].found)
    assert.are.equal(2, r.errors[1].required)

    sign(dir, alice2, "alice")                       -- the same signer, another key
    r = two_of(store, true):verify(dir)
    assert.is_false(r.is_valid)
    assert.are.equal(1, r.errors[1].found)

    sign(dir, bob, "bob")
    r = two_of(store, true):verify(dir)
    assert.is_true(r.is_valid, tostring(r))
    assert.are.same({"alice", "alice", "bob"}, r.signers)
  end)

  it("counts only trusted signers under require_trusted, and ignores failures beyond the threshold", function()
    local dir = plugin()
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    store:add_trusted_key(bob, "bob", "verified")
    sign(dir, alice, "alice")
    sign(dir, bob, "bob")
    assert.is_false(two_of(store, true):verify(dir).is_valid)
    assert.is_true(two_of(store, false):verify(dir).is_valid)
    -- A third, broken signature does not spoil two good ones, but is reported.
    sign(dir, mallory, "mallory")
    local r = two_of(store, false):verify(dir)
    assert.is_true(r.is_valid)
    assert.matches("ignored: UntrustedSignerError", table.concat(r.warnings, "\n"))
  end)

  it("rollback: a version below the accepted one fails", function()
    local dir = plugin("hello", "1.4.0")
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    store:accept_version("hello", "1.5.0")
    sign(dir, alice, "alice")
    local c = Builder.new():with_integrity_check():with_signature_check():with_trust_check(store)
      :with_rollback_check(store):build()
    local r = c:verify(dir)
    assert.is_false(r.is_valid)
    assert.is_true(errors.is(r.errors[1], "SignatureError"))
    assert.are.equal("rollback", r.errors[1].reason)
    assert.are.equal("1.5.0", r.errors[1].accepted_version)
    store:accept_version("other", "9.0.0")
    local s2 = signing.TrustStore.new()
    s2:add_trusted_key(alice, "alice")
    s2:accept_version("hello", "1.4.0")
    assert.is_true(Builder.new():with_signature_check():with_trust_check(s2):with_rollback_check(s2):build()
                     :verify(dir).is_valid)
  end)

  it("custom verifiers: pass, refuse with a message, raise typed or plain errors", function()
    local dir = plugin()
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    sign(dir, alice, "alice")
    local seen
    local base = function()
      return Builder.new():with_integrity_check():with_signature_check():with_trust_check(store)
    end
    local r = base():with(function(info)
      seen = info
      info.warn("looked")
      return true
    end):build():verify(dir, nil, {ticket = 7})
    assert.is_true(r.is_valid)
    assert.are.equal("hello", seen.plugin_id)
    assert.are.equal(7, seen.context.ticket)
    assert.are.equal("alice", seen.signatures[1].signer)
    assert.are.same({"looked"}, r.warnings)

    r = base():with(function() return false, "not on Fridays" end, "calendar"):build():verify(dir)
    assert.is_false(r.is_valid)
    assert.matches("calendar: not on Fridays", r.errors[1].message)
    r = base():with(function() errors.raise("UntrustedSignerError", "policy says no") end):build():verify(dir)
    assert.are.equal("UntrustedSignerError", first_kind(r))
    r = base():with(function() error("boom") end):build():verify(dir)
    assert.are.equal("SignatureError", first_kind(r))
    assert.matches("boom", r.errors[1].message)
  end)

  it("runs the checks in a fixed order whatever order they were added", function()
    local dir = plugin()
    local store = signing.TrustStore.new()
    sign(dir, alice, "alice", {created = NOW - 100 * DAY, days = 10})
    write(dir .. "/main.lua", "return 1\n")
    local a = Builder.new():with_trust_check(store):with_signature_check():with_expiration_check()
      :with_integrity_check():build()
    local b = Builder.new():with_integrity_check():with_expiration_check():with_signature_check()
      :with_trust_check(store):build()
    assert.are.same(kinds(b:verify(dir)), kinds(a:verify(dir)))
    assert.are.same({"SignatureTamperError", "SignatureExpiredError", "UntrustedSignerError"}, kinds(a:verify(dir)))
  end)

  it("check() raises the first error, typed, with the whole result", function()
    local dir = plugin()
    sign(dir, alice, "alice")
    write(dir .. "/main.lua", "return 2\n")
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    local ok, e = pcall(full_chain(store).check, full_chain(store), dir)
    assert.is_false(ok)
    assert.is_true(errors.is(e, "SignatureTamperError"))
    assert.is_false(e.result.is_valid)
    write(dir .. "/main.lua", "return {}\n")
    assert.is_true(full_chain(store):check(dir).is_valid)
  end)

  it("an unsigned plugin or a broken plugin.sig is a verdict, not a crash", function()
    local dir = plugin()
    local store = signing.TrustStore.new()
    local r = full_chain(store):verify(dir)
    assert.is_false(r.is_valid)
    assert.are.equal("unsigned", r.errors[1].reason)
    write(dir .. "/plugin.sig", "{")
    r = full_chain(store):verify(dir)
    assert.are.equal("InvalidSignatureError", first_kind(r))
  end)
end)

describe("verify_plugin", function()
  local policies = require("truthound.security.policies")

  it("applies STANDARD: one signature from a trusted signer, and records the version", function()
    local dir = plugin("hello", "2.0.0")
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    sign(dir, alice, "alice")
    local r = signing.verify_plugin(dir, "standard", store)
    assert.is_true(r.is_valid)
    assert.are.equal("2.0.0", store:accepted_version("hello"))
    -- A verified (not trusted) signer is not enough for STANDARD.
    local s2 = signing.TrustStore.new()
    s2:add_trusted_key(alice, "alice", "verified")
    local ok, e = pcall(signing.verify_plugin, dir, policies.STANDARD, s2)
    assert.is_false(ok)
    assert.is_true(errors.is(e, "UntrustedSignerError"))
    assert.is_nil(s2:accepted_version("hello"))
  end)

  it("applies STRICT: two trusted signers, at most 90 days old", function()
    local dir = plugin()
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    store:add_trusted_key(bob, "bob")
    sign(dir, alice, "alice", {created = NOW - 100 * DAY, days = 365})
    sign(dir, bob, "bob")
    local r = signing.verify_plugin(dir, "strict", store, {raise = false})
    assert.is_false(r.is_valid)
    assert.are.equal("SignatureExpiredError", first_kind(r))
    sign(dir, alice, "alice")
    assert.is_true(signing.verify_plugin(dir, "strict", store).is_valid)
  end)

  it("refuses a rollback below what it accepted", function()
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    local new = plugin("hello", "1.1.0")
    sign(new, alice, "alice")
    signing.verify_plugin(new, "standard", store)
    local old = plugin("hello", "1.0.0")
    sign(old, alice, "alice")
    local ok, e = pcall(signing.verify_plugin, old, "standard", store)
    assert.is_false(ok)
    assert.are.equal("rollback", e.reason)
    assert.are.equal("1.1.0", store:accepted_version("hello"))
  end)

  it("DEVELOPMENT requires nothing and says so", function()
    local dir = plugin()
    local r = signing.verify_plugin(dir, "development", nil)
    assert.is_true(r.is_valid)
    assert.matches("requires no signature", r.warnings[1])
  end)

  it("needs a trust store when the policy requires signatures", function()
    local ok, e = pcall(signing.verify_plugin, plugin(), "standard", nil)
    assert.is_false(ok)
    assert.is_true(errors.is(e, "UsageError"))
  end)

  it("refuses an envelope made for another plugin directory", function()
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    local a = plugin("alpha")
    sign(a, alice, "alice")
    local b = plugin("beta")
    os.execute(("cp '%s/plugin.sig' '%s/plugin.sig'"):format(a, b))
    local r = signing.verify_plugin(b, "standard", store, {raise = false})
    assert.are.equal("SignatureTamperError", first_kind(r))
    assert.matches('for plugin "alpha", not "beta"', r.errors[1].message, 1, true)
  end)

  it("checks that the authenticated plugin.lua carries the signed id and version", function()
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    local dir = plugin("hello", "1.0.0")
    sign(dir, alice, "alice", {plugin_version = "3.0.0"})
    local r = signing.verify_plugin(dir, "standard", store, {raise = false})
    assert.is_false(r.is_valid)
    assert.are.equal("manifest mismatch", r.errors[1].reason)
    assert.is_nil(store:accepted_version("hello"))
  end)

  it("interprets no plugin byte before the signatures pass", function()
    local datafile = require("truthound.datafile")
    local calls = 0
    local load, eval = datafile.load, datafile.eval
    local dir = plugin()
    -- Only reads of the plugin count (the policy preset is a data file too).
    local function count(path) if tostring(path):find(dir, 1, true) then calls = calls + 1 end end
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    sign(dir, alice, "alice")
    write(dir .. "/plugin.lua", "while true do end\n")      -- tampered: never evaluated
    datafile.load = function(path, ...) count(path) return load(path, ...) end
    datafile.eval = function(src, name, ...) count(name) return eval(src, name, ...) end
    local ok, r = pcall(signing.verify_plugin, dir, "standard", store, {raise = false})
    datafile.load, datafile.eval = load, eval
    assert.is_true(ok)
    assert.are.equal(0, calls)
    assert.are.equal("SignatureTamperError", first_kind(r))
    -- Once the tree is authentic, plugin.lua is read (as data) for the id and version.
    write(dir .. "/plugin.lua", 'return {id = "hello", version = "1.0.0", entry = "main"}\n')
    datafile.load = function(path, ...) count(path) return load(path, ...) end
    r = signing.verify_plugin(dir, "standard", store)
    datafile.load = load
    assert.is_true(r.is_valid)
    assert.are.equal(1, calls)
  end)

  it("takes the policy's max age and custom verifiers", function()
    local store = signing.TrustStore.new()
    store:add_trusted_key(alice, "alice")
    local dir = plugin()
    sign(dir, alice, "alice", {created = NOW - 5 * DAY})
    local p = policies.create_policy{signature_max_age_days = 3}
    local r = signing.verify_plugin(dir, p, store, {raise = false})
    assert.are.equal("SignatureExpiredError", first_kind(r))
    r = signing.verify_plugin(dir, "standard", store, {raise = false, verifiers = {function() return false, "no" end}})
    assert.is_false(r.is_valid)
  end)
end)

describe("chain helpers", function()
  it("reads the one CN of an RFC 2253 subject, escapes included", function()
    assert.are.equal("acme", chain.common_name("CN=acme,O=Acme"))
    assert.are.equal("acme", chain.common_name("O=Acme,CN=acme"))
    assert.are.equal("acme", chain.common_name("CN=acme+O=x"))
    assert.are.equal("a,b+c", chain.common_name("CN=a\\,b\\+c"))
    assert.are.equal("é", chain.common_name("CN=\\C3\\A9"))
    assert.are.equal("bob", chain.common_name("O=x\\,CN=alice,CN=bob"))   -- the escaped one is not a CN
    assert.is_nil(chain.common_name("CN=a,CN=b"))                            -- two names: none
    assert.is_nil(chain.common_name("O=Acme"))
    assert.is_nil(chain.common_name(nil))
  end)
end)
