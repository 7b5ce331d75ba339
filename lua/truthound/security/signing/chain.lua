-- truthound.security.signing.chain: the verification chain, and
-- verify_plugin, which applies a SecurityPolicy's signature fields.
--
--   local chain = require("truthound.security.signing.chain")
--   local c = chain.VerificationChainBuilder.new()
--     :with_integrity_check()                       -- tree digest = the signed one
--     :with_expiration_check{max_age_days = 90}      -- created, expires, age
--     :with_signature_check()                       -- the bytes, with the named key
--     :with_trust_check(store)                      -- signer known, level, revocation
--     :with_chain_check(store)                      -- X.509 path to a stored root
--     :with_threshold(2, {require_trusted = true})  -- distinct signers
--     :with_rollback_check(store)                   -- no version below an accepted one
--     :with(function(info) ... end)                 -- custom Lua verifiers
--     :build()
--   local r = c:verify("plugins/hello")             -- reads plugins/hello/plugin.sig
--   r.is_valid, r.trust_level, r.signer_id, r.errors, r.warnings
--   c:check("plugins/hello")                        -- the same, raising the first error
--   chain.verify_plugin("plugins/hello", "strict", store)   -- raises, or returns the result
--
-- Verdicts are values: verify() returns a result whose errors are typed
-- error objects (SignatureTamperError, SignatureExpiredError,
-- InvalidSignatureError, UntrustedSignerError, CertificateRevokedError,
-- CertificateExpiredError, InvalidCertificateError, ...); it raises only on
-- misuse. Nothing in the plugin is interpreted: the tree is hashed as
-- bytes, plugin.sig parsed as JSON. The checks run per signature in a fixed
-- order (integrity, expiration, signature, trust, chain) whatever order the
-- builder was given, then the threshold, rollback and custom verifiers for
-- the plugin. A plugin is valid when enough signatures pass every check
-- (one, unless a threshold says otherwise); the errors of the signatures
-- that failed are then warnings. docs/signing.md explains what each check
-- stops and what it does not.

local errors = require("truthound.errors")
local envelope = require("truthound.security.signing.envelope")
local trust_store = require("truthound.security.signing.trust_store")
local native = require("truthound.native")

local M = {}

M.CLOCK_SKEW = 300    -- seconds a signature's creation may lie in the future
local RANK = trust_store.RANK

local function crypto() return native.crypto end

-- Classes that are not in truthound.errors yet fall back to their parent.
local function kind_or(kind, parent)
  return errors.classes[kind] and kind or parent
end

---------------------------------------------------------------------------
-- Results

local Result = {}
Result.__index = Result
Result.__name = "truthound.VerificationResult"
M.Result = Result

-- raise_if_invalid() -> self, or raises the first error (typed), with the
-- whole result in its field `result`.
function Result:raise_if_invalid(level)
  if self.is_valid then return self end
  local e = self.errors[1] or errors.new("SignatureError", "verification failed")
  if type(e) == "table" then rawset(e, "result", self) end
  error(e, (level or 1) + 1)
end

function Result:__tostring()
  if self.is_valid then
    return ("valid: %s %s signed by %s (%s)"):format(tostring(self.plugin_id), tostring(self.plugin_version),
                                                      tostring(self.signer_id), self.trust_level)
  end
  local lines = {"invalid:"}
  for _, e in ipairs(self.errors) do lines[#lines + 1] = "  " .. tostring(e) end
  return table.concat(lines, "\n")
end

---------------------------------------------------------------------------
-- Per-signature state

-- add(st, kind, message, fields): record a typed error once.
local function add(st, kind, message, fields)
  local key = kind .. "\0" .. message
  if st.seen[key] then return end
  st.seen[key] = true
  fields = fields or {}
  if fields.plugin_id == nil then fields.plugin_id = st.sig.plugin_id end
  st.errors[#st.errors + 1] = errors.new(kind, message, fields)
end

local function add_error_object(st, e)
  local key = tostring(errors.kind(e)) .. "\0" .. tostring(e.message)
  if st.seen[key] then return end
  st.seen[key] = true
  st.errors[#st.errors + 1] = e
end

local function who(sig)
  return ("signature by %s (%s, key %s)"):format(envelope.show(sig.signer), sig.algorithm, sig.key_id)
end

-- The CN of a subject as core.crypto prints it (RFC 2253 style: RDNs
-- joined by ',' or '+', special characters escaped with '\', others as
-- \XX). A comma inside a value is escaped, so "O=x\,CN=alice" has no CN.
-- nil unless there is exactly one CN: a certificate with two names for its
-- subject names no signer.
local function common_name(subject)
  if type(subject) ~= "string" then return nil end
  local parts, cur, i = {}, {}, 1
  local raw = {}                       -- each part as written, to find "CN="
  while i <= #subject do
    local ch = subject:sub(i, i)
    if ch == "\\" then
      local hex = subject:match("^%x%x", i + 1)
      if hex then
        cur[#cur + 1] = string.char(tonumber(hex, 16))
        raw[#raw + 1] = "\\" .. hex
        i = i + 3
      else
        cur[#cur + 1] = subject:sub(i + 1, i + 1)
        raw[#raw + 1] = subject:sub(i, i + 1)
        i = i + 2
      end
    elseif ch == "," or ch == "+" then
      parts[#parts + 1] = {table.concat(raw), table.concat(cur)}
      cur, raw = {}, {}
      i = i + 1
    else
      cur[#cur + 1] = ch
      raw[#raw + 1] = ch
      i = i + 1
    end
  end
  parts[#parts + 1] = {table.concat(raw), table.concat(cur)}
  local found, count = nil, 0
  for _, p in ipairs(parts) do
    if p[1]:match("^%s*CN=") then
      count = count + 1
      found = p[2]:match("^%s*CN=(.*)$")
    end
  end
  if count ~= 1 then return nil end
  return found
end
M.common_name = common_name

---------------------------------------------------------------------------
-- Certificate chains (memoised per signature: trust and chain both use it)

-- verify_chain's failure codes -> the typed error that names them.
local CHAIN_ERRORS = {
  expired = "CertificateExpiredError",
  revoked = "CertificateRevokedError",
  untrusted = "UntrustedSignerError",
}

-- eval_chain(st, ctx, store) -> {ok, chain = {ids}, anchor = id, leaf} |
-- {ok = false, kind, message, fields}
local function eval_chain(st, ctx, store)
  if st.chain_result then return st.chain_result end
  local sig = st.sig
  local c = crypto()
  local r
  local leaf, err = c.load_certificate(sig.certificates[1])
  local anchors = store:anchors()
  if not leaf then
    r = {ok = false, kind = "InvalidCertificateError",
         message = ("%s: its certificate cannot be read: %s"):format(who(sig), tostring(err)),
         fields = {reason = tostring(err)}}
  elseif #anchors == 0 then
    r = {ok = false, kind = "UntrustedSignerError",
         message = ("%s: the trust store holds no certificate to build a chain to"):format(who(sig)),
         fields = {signer = sig.signer, key_id = sig.key_id, subject = leaf:subject()}}
  else
    local untrusted = {}
    for i = 2, #sig.certificates do
      local cert = c.load_certificate(sig.certificates[i])
      if cert then untrusted[#untrusted + 1] = cert end
    end
    local ok, res, info = c.verify_chain(leaf, {trusted = anchors, untrusted = untrusted,
                                                revoked = store:revoked_ids(), at = ctx.now,
                                                purpose = st.purpose})
    if ok then
      r = {ok = true, chain = res, anchor = res[#res], leaf = leaf}
    else
      info = info or {}
      local kind = CHAIN_ERRORS[info.code] or "InvalidCertificateError"
      local fields = {subject = info.subject ~= "" and info.subject or leaf:subject(), reason = info.code,
                      certificate = info.certificate}
      if kind == "CertificateRevokedError" then
        local rv = info.certificate and store:is_revoked(info.certificate)
        fields.serial, fields.revoked_at = info.certificate, rv and rv.time
      elseif kind == "CertificateExpiredError" then
        local bad = info.certificate == leaf:id() and leaf or nil
        fields.not_after = bad and bad:not_after() or nil
      elseif kind == "UntrustedSignerError" then
        fields.signer, fields.key_id = sig.signer, sig.key_id
      end
      r = {ok = false, kind = kind, fields = fields,
           message = ("%s: certificate chain: %s"):format(who(sig), tostring(res))}
    end
  end
  st.chain_result = r
  return r
end

---------------------------------------------------------------------------
-- The checks. Each takes (st, ctx, opts) and records errors in st.

local checks = {}

function checks.integrity(st, ctx)
  local sig = st.sig
  if ctx.plugin_id and sig.plugin_id ~= ctx.plugin_id then
    add(st, "SignatureTamperError", ("%s: the signature is for plugin %s, not %s")
        :format(who(sig), envelope.show(sig.plugin_id), envelope.show(ctx.plugin_id)),
        {expected_digest = sig.tree_digest, expected_plugin_id = ctx.plugin_id})
  end
  if ctx.tree_error then
    local e = ctx.tree_error
    add(st, "SignatureTamperError", ("%s: the plugin tree cannot be hashed: %s"):format(ctx.plugin_path,
        tostring(type(e) == "table" and e.message or e)),
        {path = type(e) == "table" and e.path or nil, expected_digest = sig.tree_digest})
    return
  end
  local actual = "sha256:" .. ctx.tree_digest
  if sig.tree_digest ~= actual then
    add(st, "SignatureTamperError", ("%s: the plugin's files changed since it was signed (tree digest %s, signed %s)")
        :format(ctx.plugin_path, actual, sig.tree_digest),
        {expected_digest = sig.tree_digest, actual_digest = actual})
  end
end

function checks.expiration(st, ctx, opts)
  local sig, now = st.sig, ctx.now
  local fields = {created = sig.created, expires = sig.expires, now = envelope.format_time(now)}
  if sig.created_at > now + (opts.skew or M.CLOCK_SKEW) then
    add(st, "SignatureExpiredError", ("%s: created %s, in the future (now %s)")
        :format(who(sig), sig.created, fields.now), fields)
  end
  if sig.expires_at <= now then
    add(st, "SignatureExpiredError", ("%s: expired on %s (now %s)"):format(who(sig), sig.expires, fields.now), fields)
  end
  local max_age = opts.max_age_days or ctx.max_age_days
  if max_age and now - sig.created_at > max_age * 86400 then
    fields.max_age_days = max_age
    add(st, "SignatureExpiredError", ("%s: created %s, more than %s days ago")
        :format(who(sig), sig.created, tostring(max_age)), fields)
  end
end

-- find_public_key(st, ctx, opts, store) -> Key, source | nil
local function find_public_key(st, ctx, opts, store)
  local sig = st.sig
  local candidates = {opts.public_key, ctx.public_key}
  for i = 1, 2 do
    local given = candidates[i]
    if given ~= nil then
      local key = given
      if type(given) == "string" then
        key = crypto().load_key(given, {public = true}) or crypto().load_key(given)
      end
      if key and key:key_id() == sig.key_id then return key, "given" end
    end
  end
  if store then
    local e = store:key_entry(sig.key_id)
    if e and e.kind == "public" then return e.key, "store" end
  end
  if #sig.certificates > 0 then
    local leaf = crypto().load_certificate(sig.certificates[1])
    if leaf then
      local key = leaf:public_key()
      if key:key_id() == sig.key_id then return key, "certificate" end
      add(st, "InvalidSignatureError", ("%s: the embedded certificate holds key %s, not the signing key")
          :format(who(sig), key:key_id()), {reason = "certificate key mismatch"})
      return nil
    end
  end
  return nil
end

function checks.signature(st, ctx, opts, store)
  local sig = st.sig
  local info = envelope.ALGORITHMS[sig.algorithm]
  local c = crypto()
  local payload = sig:payload()
  local ok
  if info.kind == "digest" then
    ok = c.equal(c.digest(info.hash, payload), sig.signature)
    st.integrity_only = true
  elseif info.kind == "hmac" then
    local secret
    local candidates = {opts.hmac_key, ctx.hmac_key}
    for i = 1, 2 do
      local given = candidates[i]
      if type(given) == "string" and #given >= envelope.HMAC_MIN_KEY and
         trust_store.hmac_key_id(given) == sig.key_id then
        secret, st.key_source = given, "given"
      end
    end
    if not secret and store then
      local e = store:key_entry(sig.key_id)
      if e and e.kind == "hmac" then secret, st.key_source = e.key, "store" end
    end
    if not secret then
      st.no_key = true
      add(st, "UntrustedSignerError", ("%s: no HMAC key with this id in the trust store"):format(who(sig)),
          {signer = sig.signer, key_id = sig.key_id})
      return
    end
    ok = c.equal(c.hmac(info.hash, secret, payload), sig.signature)
  else
    local key, source = find_public_key(st, ctx, opts, store)
    if not key then
      if #st.errors == 0 then
        st.no_key = true
        add(st, "UntrustedSignerError", ("%s: no public key with this id (not in the trust store, no certificate)")
            :format(who(sig)), {signer = sig.signer, key_id = sig.key_id})
      end
      return
    end
    st.key_source = source
    local pok, r = pcall(key.verify, key, sig.algorithm, payload, sig.signature)
    if not pok then
      if errors.kind(r) then
        r.message = ("%s: %s"):format(who(sig), tostring(r.message))
        if r.plugin_id == nil then r.plugin_id = sig.plugin_id end
        add_error_object(st, r)
      else
        add(st, "InvalidSignatureError", ("%s: %s"):format(who(sig), tostring(r)), {reason = "verify failed"})
      end
      return
    end
    ok = r
  end
  if ok then
    st.signature_ok = true
    if info.kind == "digest" then
      st.warnings[#st.warnings + 1] = ("%s is integrity only: anyone can compute it, so it never makes a signer trusted")
                                      :format(who(sig))
    elseif st.key_source == "certificate" and not ctx.has_trust then
      st.warnings[#st.warnings + 1] = ("%s: the key comes from the signature's own certificate; without a trust " ..
                                       "or chain check nothing vouches for it"):format(who(sig))
    end
  else
    add(st, "InvalidSignatureError", ("%s: the signature does not match the signed payload"):format(who(sig)),
        {reason = "bad signature"})
  end
end

local function min_level(opts)
  if opts.require_trusted then return "TRUSTED" end
  return opts.min_level and assert(trust_store.TrustLevel.parse(opts.min_level)) or "VERIFIED"
end

function checks.trust(st, ctx, opts, store)
  local sig = st.sig
  local want = min_level(opts)
  local level, bound
  local info = envelope.ALGORITHMS[sig.algorithm]
  if info.kind == "digest" then
    level = "UNKNOWN"
    st.level = level
    if RANK[want] > RANK.UNKNOWN then
      add(st, "UntrustedSignerError", ("%s: a digest-only signature proves no signer; it can never be trusted")
          :format(who(sig)), {signer = sig.signer, key_id = sig.key_id})
    end
    return
  end
  local rev = store:is_revoked(sig.key_id)
  if rev then
    add(st, "CertificateRevokedError", ("%s: key %s was revoked on %s (%s)"):format(who(sig), sig.key_id, rev.time,
        rev.reason), {revoked_at = rev.time, serial = sig.key_id})
    st.level = "REVOKED"
    return
  end
  local e = store:key_entry(sig.key_id)
  if e then
    level, bound = e.level, e.signer
  elseif #sig.certificates > 0 then
    local r = eval_chain(st, ctx, store)
    if r.ok then
      local anchor = store:certificate_entry(r.anchor)
      level = anchor and anchor.level or "UNKNOWN"
      bound = anchor and anchor.signer or common_name(r.leaf:subject())
    else
      add(st, r.kind, r.message, r.fields)
      st.level = r.kind == "CertificateRevokedError" and "REVOKED" or "UNKNOWN"
      return
    end
  else
    level = "UNKNOWN"
  end
  if bound and bound ~= sig.signer then
    add(st, "UntrustedSignerError", ("%s: the key belongs to signer %s, not %s")
        :format(who(sig), envelope.show(bound), envelope.show(sig.signer)),
        {signer = sig.signer, key_id = sig.key_id})
    st.level = "UNKNOWN"
    return
  end
  local cap = store:signer_cap(sig.signer)
  if cap then level = trust_store.weaker(level, cap) end
  st.level = level
  if level == "REVOKED" then
    local rv = store:is_revoked(sig.signer)
    add(st, "CertificateRevokedError", ("%s: signer %s was revoked%s"):format(who(sig), envelope.show(sig.signer),
        rv and (" on %s (%s)"):format(rv.time, rv.reason) or ""), {revoked_at = rv and rv.time})
  elseif RANK[level] < RANK[want] then
    -- An unknown key was already reported by the signature check.
    if level == "UNKNOWN" and st.no_key then return end
    add(st, "UntrustedSignerError", ("%s: signer %s is %s in the trust store; %s is required")
        :format(who(sig), envelope.show(sig.signer), level == "UNKNOWN" and "unknown" or level, want),
        {signer = sig.signer, key_id = sig.key_id, level = level})
  elseif level == "UNKNOWN" then
    st.warnings[#st.warnings + 1] = ("%s: signer %s is not in the trust store"):format(who(sig), envelope.show(sig.signer))
  end
end

function checks.chain(st, ctx, opts, store)
  local sig = st.sig
  if #sig.certificates == 0 then return end
  local r = eval_chain(st, ctx, store)
  if not r.ok then
    add(st, r.kind, r.message, r.fields)
    if r.kind == "CertificateRevokedError" then st.level = "REVOKED" end
    return
  end
  st.chain = r.chain
end

local ORDER = {"integrity", "expiration", "signature", "trust", "chain"}
M.ORDER = ORDER

---------------------------------------------------------------------------
-- Builder

local Builder = {}
Builder.__index = Builder
Builder.__name = "truthound.VerificationChainBuilder"
M.VerificationChainBuilder = Builder

function Builder.new()
  return setmetatable({steps = {}, custom = {}}, Builder)
end

local function is_store(v) return trust_store.TrustStore.is(v) end

local function need_store(store, what)
  if type(store) == "string" then return trust_store.TrustStore.load(store) end
  if not is_store(store) then
    errors.raise("UsageError", ("%s: expected a TrustStore (or its path), got %s"):format(what, type(store)), nil, 3)
  end
  return store
end

function Builder:with_integrity_check()
  self.steps.integrity = {}
  return self
end

-- with_expiration_check{max_age_days = n, skew = seconds}
function Builder:with_expiration_check(opts)
  opts = opts or {}
  if type(opts) == "number" then opts = {max_age_days = opts} end
  local age = opts.max_age_days
  if age ~= nil and (type(age) ~= "number" or age ~= age or age <= 0) then
    errors.raise("UsageError", "with_expiration_check: max_age_days must be a number above 0", nil, 2)
  end
  self.steps.expiration = {max_age_days = age, skew = opts.skew}
  return self
end

-- with_signature_check{public_key = Key|PEM, hmac_key = secret}: keys given
-- by the caller; otherwise the trust store of a trust or chain check, or
-- the embedded certificate.
function Builder:with_signature_check(opts)
  self.steps.signature = opts or {}
  return self
end

-- with_trust_check(store [, {require_trusted = bool, min_level = level}]):
-- the signer must reach min_level (VERIFIED by default; TRUSTED with
-- require_trusted). Revoked keys, certificates and signers always fail.
function Builder:with_trust_check(store, opts)
  self.store = need_store(store, "with_trust_check")
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.min_level ~= nil then
    local lv, why = trust_store.TrustLevel.parse(o.min_level)
    if not lv then errors.raise("UsageError", "with_trust_check: " .. why, nil, 2) end
    o.min_level = lv
  end
  self.steps.trust = o
  return self
end

-- with_chain_check(store [, {purpose = "code_signing"}])
function Builder:with_chain_check(store, opts)
  self.store = need_store(store, "with_chain_check")
  self.steps.chain = opts or {}
  return self
end

-- with_threshold(n [, {require_trusted = bool}]): n signatures that pass
-- every check, from n distinct signers and n distinct keys.
function Builder:with_threshold(n, opts)
  if math.type(n) ~= "integer" or n < 0 then
    errors.raise("UsageError", "with_threshold: expected a whole number of signatures", nil, 2)
  end
  self.threshold = {n = n, require_trusted = opts and opts.require_trusted}
  return self
end

-- with_rollback_check(store): the version must not be below the highest
-- version of the same plugin id the store has accepted.
function Builder:with_rollback_check(store)
  self.store = need_store(store, "with_rollback_check")
  self.rollback = true
  return self
end

-- with(fn [, name]): fn(info) after the other checks; info has plugin_path,
-- plugin_id, plugin_version, tree_digest, signatures (those that passed),
-- context, warn(msg). Return true (or nothing) to pass; false or nil and a
-- message to fail; or raise a typed error.
function Builder:with(fn, name)
  if type(fn) ~= "function" then
    errors.raise("UsageError", "with: expected a verifier function", nil, 2)
  end
  self.custom[#self.custom + 1] = {fn = fn, name = name or ("custom verifier " .. (#self.custom + 1))}
  return self
end

local Chain = {}
Chain.__index = Chain
Chain.__name = "truthound.VerificationChain"
M.VerificationChain = Chain

function Builder:build()
  local steps = {}
  for k, v in pairs(self.steps) do steps[k] = v end
  return setmetatable({steps = steps, store = self.store, threshold = self.threshold,
                       rollback = self.rollback, custom = {table.unpack(self.custom)}}, Chain)
end

---------------------------------------------------------------------------
-- Verifying

-- signatures_of(plugin_path, signature) -> list of Signatures, or nil and
-- an error object.
local function signatures_of(plugin_path, signature)
  local ok, r = pcall(function()
    if signature == nil then return envelope.read(plugin_path).signatures end
    if envelope.is_signature(signature) then return {signature} end
    if getmetatable(signature) == envelope.Envelope then return signature.signatures end
    if type(signature) == "string" then
      if signature:match("^%s*{") then return envelope.parse(signature, "(signature)").signatures end
      return envelope.read(signature).signatures
    end
    if type(signature) == "table" and envelope.is_signature(signature[1]) then return signature end
    errors.raise("UsageError", "verify: expected a Signature, an Envelope, envelope text or a plugin.sig path, got "
                 .. type(signature))
  end)
  if ok then return r end
  if errors.is(r, "UsageError") or not errors.kind(r) then error(r, 0) end
  return nil, r
end

local function tree_digest(plugin_path)
  local ok, hex = pcall(function()
    return (require("truthound.security.signing.treehash").digest(plugin_path))
  end)
  if ok then return hex end
  return nil, hex
end

local function count_distinct(states, ok_level)
  local signers, keys, ns, nk = {}, {}, 0, 0
  for _, st in ipairs(states) do
    if #st.errors == 0 and ok_level(st) then
      if not signers[st.sig.signer] then signers[st.sig.signer] = true; ns = ns + 1 end
      if not keys[st.sig.key_id] then keys[st.sig.key_id] = true; nk = nk + 1 end
    end
  end
  return math.min(ns, nk), ns, nk
end

-- One envelope, one plugin: every signature names the same id, version
-- and tree. Returns an error object, or nil.
local function mixed(sigs)
  local first = sigs[1]
  for i = 2, #sigs do
    local s = sigs[i]
    if s.plugin_id ~= first.plugin_id or s.plugin_version ~= first.plugin_version or
       s.tree_digest ~= first.tree_digest then
      return errors.new("InvalidSignatureError",
        ("signatures 1 and %d are for different plugins or trees (%s %s, %s %s)"):format(i,
          first.plugin_id, first.plugin_version, s.plugin_id, s.plugin_version),
        {reason = "mixed envelope", plugin_id = first.plugin_id})
    end
  end
end

local function warn(result, msg) result.warnings[#result.warnings + 1] = msg end

-- The tree digest, once for all signatures (or what stops it).
local function hash_tree(steps, ctx, result)
  if not steps.integrity then
    warn(result, "no integrity check: the plugin's files were not compared with the signature")
    return
  end
  if ctx.tree_digest then
    ctx.tree_digest = ctx.tree_digest:gsub("^sha256:", "")
  else
    ctx.tree_digest, ctx.tree_error = tree_digest(ctx.plugin_path)
  end
  result.tree_digest = ctx.tree_digest and ("sha256:" .. ctx.tree_digest)
end

-- Each signature through the configured checks, in ORDER.
local function check_signatures(self, sigs, ctx, result)
  local steps, states = self.steps, {}
  for i, sig in ipairs(sigs) do
    local st = {sig = sig, errors = {}, warnings = {}, seen = {}, purpose = steps.chain and steps.chain.purpose}
    for _, name in ipairs(ORDER) do
      if steps[name] then checks[name](st, ctx, steps[name], self.store) end
    end
    -- Without a trust check a signature is as trusted as nothing says.
    st.level = st.level or (steps.trust and "UNKNOWN" or nil)
    states[i] = st
    result.signatures[i] = {signer = sig.signer, key_id = sig.key_id, algorithm = sig.algorithm,
                            level = st.level or "UNKNOWN", valid = #st.errors == 0, errors = st.errors,
                            key_source = st.key_source, chain = st.chain}
  end
  return states
end

-- Which signatures count (every check passed, trusted enough), whether
-- they are enough, and the errors or warnings that follow. -> ok, accepted
local function threshold(self, states, ctx, result)
  local th = self.threshold
  local required = ctx.required_signatures or (th and th.n) or 1
  local require_trusted = th and th.require_trusted
  local function counts(st)
    if require_trusted then return st.level == "TRUSTED" end
    return st.level ~= "REVOKED"
  end
  local n = count_distinct(states, counts)
  local accepted = {}
  for _, st in ipairs(states) do
    if #st.errors == 0 and counts(st) then accepted[#accepted + 1] = st end
  end
  local ok = n >= required
  for _, st in ipairs(states) do
    for _, e in ipairs(st.errors) do
      -- Beyond the threshold a broken signature neither blocks nor counts.
      if ok then warn(result, "ignored: " .. tostring(e)) else result.errors[#result.errors + 1] = e end
    end
  end
  if not ok and (#result.errors == 0 or n > 0 or required > 1) then
    local names = {}
    for _, st in ipairs(accepted) do names[#names + 1] = envelope.show(st.sig.signer) end
    result.errors[#result.errors + 1] = errors.new(kind_or("SignatureThresholdError", "SignatureError"),
      ("%d of %d required signatures from distinct %ssigners (counted: %s)"):format(n, required,
        require_trusted and "trusted " or "", #names > 0 and table.concat(names, ", ") or "none"),
      {reason = "threshold", required = required, found = n, plugin_id = states[1].sig.plugin_id})
  end
  for _, st in ipairs(states) do
    for _, w in ipairs(st.warnings) do warn(result, w) end
  end
  return ok, accepted
end

-- A version below the highest one accepted for the id. -> ok
local function rollback(store, sig, result)
  local have = store:accepted_version(sig.plugin_id)
  if have and require("truthound.versioning").compare(sig.plugin_version, have) < 0 then
    table.insert(result.errors, 1, errors.new(kind_or("SignatureRollbackError", "SignatureError"),
      ("%s %s is older than %s, already accepted for this plugin (rollback)")
      :format(sig.plugin_id, sig.plugin_version, have),
      {reason = "rollback", plugin_id = sig.plugin_id, version = sig.plugin_version, accepted_version = have}))
    return false
  end
  return true
end

-- The custom verifiers, each once for the plugin. -> ok
local function run_custom(self, accepted, ctx, context, result)
  local first = ctx.first
  local list = {}
  for i, st in ipairs(accepted) do list[i] = st.sig end
  local info = {plugin_path = ctx.plugin_path, plugin_id = first.plugin_id, plugin_version = first.plugin_version,
                tree_digest = result.tree_digest, signatures = list, context = context or {},
                warn = function(msg) warn(result, tostring(msg)) end}
  local ok = true
  for _, v in ipairs(self.custom) do
    local pok, r, msg = pcall(v.fn, info)
    local fields = {reason = "custom", verifier = v.name, plugin_id = first.plugin_id}
    if not pok then
      ok = false
      result.errors[#result.errors + 1] = errors.kind(r) and r or
        errors.new("SignatureError", ("%s failed: %s"):format(v.name, tostring(r)), fields)
    elseif r == false or (r == nil and msg ~= nil) then
      ok = false
      result.errors[#result.errors + 1] = errors.new("SignatureError",
        ("%s: %s"):format(v.name, tostring(msg or "refused")), fields)
    end
  end
  return ok
end

-- Level and signer of the result: the best signature that counted; when
-- invalid, REVOKED if any signature was revoked.
local function summarize(result, accepted, states)
  local best
  for _, st in ipairs(accepted) do
    if not best or RANK[st.level or "UNKNOWN"] > RANK[best.level or "UNKNOWN"] then best = st end
    result.signers[#result.signers + 1] = st.sig.signer
  end
  if result.is_valid then
    result.trust_level = best and best.level or "UNKNOWN"
    result.signer_id = best and best.sig.signer or result.signer_id
    return
  end
  result.trust_level = "UNKNOWN"
  for _, st in ipairs(states) do
    if st.level == "REVOKED" then result.trust_level = "REVOKED" end
  end
end

-- verify(plugin_path [, signature [, context]]) -> Result. signature: a
-- Signature, an Envelope, envelope text, a plugin.sig path, or nil for
-- <plugin_path>/plugin.sig. context: now (Unix seconds), plugin_id (the id
-- the caller expects), required_signatures, max_age_days, public_key,
-- hmac_key, tree_digest (hex, when already computed); custom verifiers see
-- it whole.
function Chain:verify(plugin_path, signature, context)
  if type(plugin_path) ~= "string" then
    errors.raise("UsageError", "verify: expected a plugin directory (a string), got " .. type(plugin_path), nil, 2)
  end
  local ctx = {}
  for k, v in pairs(context or {}) do ctx[k] = v end
  ctx.now, ctx.plugin_path = ctx.now or os.time(), plugin_path
  ctx.has_trust = self.steps.trust ~= nil or self.steps.chain ~= nil
  local result = setmetatable({is_valid = false, trust_level = "UNKNOWN", errors = {}, warnings = {},
                               signatures = {}, signers = {}}, Result)
  local sigs, err = signatures_of(plugin_path, signature)
  err = err or mixed(sigs)
  if err then
    result.errors[1] = err
    return result
  end
  local first = sigs[1]
  ctx.first = first
  result.plugin_id, result.plugin_version, result.signer_id = first.plugin_id, first.plugin_version, first.signer
  hash_tree(self.steps, ctx, result)
  if not self.steps.signature then warn(result, "no signature check: the signature bytes were not verified") end
  local states = check_signatures(self, sigs, ctx, result)
  local ok, accepted = threshold(self, states, ctx, result)
  if self.rollback then ok = rollback(self.store, first, result) and ok end
  if #self.custom > 0 then ok = run_custom(self, accepted, ctx, context, result) and ok end
  result.is_valid = ok and #result.errors == 0
  summarize(result, accepted, states)
  return result
end

-- check(...) -> the Result when valid; else raises its first error.
function Chain:check(plugin_path, signature, context)
  return self:verify(plugin_path, signature, context):raise_if_invalid(2)
end

---------------------------------------------------------------------------
-- verify_plugin: what the plugin manager calls before interpreting any
-- byte of a plugin.

local function basename(path)
  return path:gsub("/+$", ""):match("([^/]+)$")
end

-- verify_plugin(dir, policy, store [, opts]) -> Result, or raises the first
-- error (typed, with .result). policy: a SecurityPolicy or a preset name;
-- store: a TrustStore or its path. opts: now, plugin_id (default: the
-- directory's name), raise (default true), record (default true: raise
-- the store's accepted version on success), check_manifest (default true:
-- after the checks pass, plugin.lua, now authenticated, must carry the
-- signed id and version), verifiers (list of custom functions).
function M.verify_plugin(dir, policy, store, opts)
  opts = opts or {}
  if type(dir) ~= "string" then
    errors.raise("UsageError", "verify_plugin: expected a plugin directory (a string), got " .. type(dir), nil, 2)
  end
  local policies = require("truthound.security.policies")
  policy = policies.get(policy or "standard")
  local required = policy.required_signatures
  if required == 0 then
    local r = setmetatable({is_valid = true, trust_level = "UNKNOWN", errors = {}, signers = {}, signatures = {},
                            warnings = {("policy %s requires no signature: %s was not verified")
                                        :format(tostring(policy.name), dir)}}, Result)
    return r
  end
  if store == nil then
    errors.raise("UsageError", ("verify_plugin: policy %s requires %d signature%s; give a trust store")
                 :format(tostring(policy.name), required, required == 1 and "" or "s"), nil, 2)
  end
  store = need_store(store, "verify_plugin")
  local b = Builder.new()
    :with_integrity_check()
    :with_expiration_check{max_age_days = policy.signature_max_age_days}
    :with_signature_check()
    :with_trust_check(store, {min_level = policy.require_trusted_signer and "TRUSTED" or "UNKNOWN"})
    :with_chain_check(store)
    :with_threshold(required, {require_trusted = policy.require_trusted_signer})
    :with_rollback_check(store)
  for _, fn in ipairs(opts.verifiers or {}) do b:with(fn) end
  local result = b:build():verify(dir, nil, {now = opts.now, plugin_id = opts.plugin_id or basename(dir)})
  if result.is_valid and opts.check_manifest ~= false then
    local ok, m = pcall(require("truthound.manifest").load, dir)
    if not ok then
      result.is_valid = false
      result.errors[#result.errors + 1] = errors.kind(m) and m or errors.new("SignatureError", tostring(m))
    elseif m.id ~= result.plugin_id or m.version ~= result.plugin_version then
      result.is_valid = false
      result.errors[#result.errors + 1] = errors.new("InvalidSignatureError",
        ("%s/plugin.lua says %s %s, but the signature is for %s %s"):format(dir, m.id, m.version,
          result.plugin_id, result.plugin_version),
        {reason = "manifest mismatch", plugin_id = result.plugin_id})
    end
  end
  if result.is_valid and opts.record ~= false then
    store:accept_version(result.plugin_id, result.plugin_version)
  end
  if opts.raise == false then return result end
  return result:raise_if_invalid(2)
end

return M
