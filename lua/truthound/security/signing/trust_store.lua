-- truthound.security.signing.trust_store: who is trusted to sign, kept in
-- one JSON file that survives restarts.
--
--   local TrustStore = require("truthound.security.signing.trust_store").TrustStore
--   local store = TrustStore.new{persist_path = "/etc/truthound/trust.json"}
--   local id = store:add_trusted_certificate(cert, "trusted", {org = "acme"})  --> "sha256:..."
--   store:add_trusted_key(public_key, "acme", "verified")                      --> "sha256:..."
--   store:add_hmac_key(secret, "ci", "trusted")                                --> "hmac:..."
--   store:is_trusted(cert)                     --> true, "TRUSTED"
--   store:revoke_certificate(id, "key compromised")
--   store:get_trust_level("acme")              --> "VERIFIED"
--   store:accept_version("hello", "1.2.0")     -- rollback protection
--
-- Every change is written at once with core.fs.write_atomic (temp file,
-- fsync, rename, fsync of the directory; mode 0600, since the store may
-- hold HMAC secrets): a crash leaves the old store or the new one. A store
-- that cannot be read, is truncated, or holds anything this module does not
-- define (an unknown field, an id that does not match its certificate or
-- key, a bad level) is refused with a SecurityError naming the file; it is
-- never silently emptied. The format is in docs/formats.md ("Trust store").
--
-- Trust levels, strongest first: TRUSTED, VERIFIED, UNKNOWN, REVOKED. The
-- level of a signature is the level of its key (a stored public key or
-- HMAC key, or the stored certificate its X.509 chain reaches), capped by
-- the signer's own level when one was set, and REVOKED when the key, a
-- certificate of its chain, or the signer was revoked.

local errors = require("truthound.errors")
local envelope = require("truthound.security.signing.envelope")
local json = require("truthound.security.signing.json")
local native = require("truthound.native")

local M = {}

M.FORMAT = "truthound-trust-store/1"
M.MAX_SIZE = 16 * 1024 * 1024
M.HMAC_ID_LABEL = "truthound-hmac-key-id/1"

M.TrustLevel = envelope.enum("trust level", {"TRUSTED", "VERIFIED", "UNKNOWN", "REVOKED"})
local RANK = {REVOKED = 0, UNKNOWN = 1, VERIFIED = 2, TRUSTED = 3}
M.RANK = RANK

-- weaker(a, b) -> the weaker of two levels.
function M.weaker(a, b)
  return RANK[a] <= RANK[b] and a or b
end

local function crypto() return native.crypto end

local function usage(msg, level)
  errors.raise("UsageError", msg, nil, (level or 1) + 1)
end

local function parse_level(level, default, what)
  if level == nil then return default end
  local v, why = M.TrustLevel.parse(level)
  if not v then usage(("%s: %s"):format(what, why), 3) end
  return v
end

-- hmac_key_id(secret) -> "hmac:" .. 32 hex digits: the first 16 bytes of
-- HMAC-SHA256(secret, "truthound-hmac-key-id/1"). It names the key without
-- revealing it (a keyed PRF of a constant).
function M.hmac_key_id(secret)
  return "hmac:" .. crypto().hex(crypto().hmac("sha256", secret, M.HMAC_ID_LABEL):sub(1, 16))
end

---------------------------------------------------------------------------
-- Loading inputs: Cert or Key objects, PEM or DER text

local function as_cert(cert)
  if type(cert) == "string" then
    local c, err = crypto().load_certificate(cert)
    if not c then usage("not a certificate: " .. tostring(err), 3) end
    return c
  end
  if type(cert) == "userdata" and cert.id then return cert end
  usage("expected a certificate (a Cert, or PEM or DER text), got " .. type(cert), 3)
end
M.as_cert = as_cert

local function as_public_key(key)
  if type(key) == "string" then
    local k, err = crypto().load_key(key, {public = true})
    if not k then
      k, err = crypto().load_key(key)
      if not k then usage("not a public key: " .. tostring(err), 3) end
    end
    return k
  end
  if type(key) == "userdata" and key.key_id then return key end
  usage("expected a public key (a Key, or PEM text), got " .. type(key), 3)
end

---------------------------------------------------------------------------
-- The document: parsing and validation

local SECTIONS = {"certificates", "keys", "hmac_keys", "signers", "revocations", "versions"}
local ENTRY_FIELDS = {
  certificates = {pem = true, level = true, subject = true, signer = true, metadata = true, added = true},
  keys = {pem = true, type = true, signer = true, level = true, added = true},
  hmac_keys = {secret = true, signer = true, level = true, added = true},
  revocations = {reason = true, time = true},
}

local function empty_doc()
  local d = {format = M.FORMAT}
  for _, s in ipairs(SECTIONS) do d[s] = {} end
  return d
end

local function fail(source, where, msg)
  errors.raise("SecurityError", ("%s: corrupt trust store%s: %s")
               :format(source, where and (" at " .. where) or "", msg),
               {reason = "corrupt trust store", source = source, field = where}, 4)
end

local function check_keys(t, allowed, source, where)
  local extra = {}
  for k in pairs(t) do if not allowed[k] then extra[#extra + 1] = k end end
  if #extra > 0 then
    table.sort(extra, json.bytewise)
    fail(source, where .. "." .. extra[1], "unknown field")
  end
end

local function want(cond, source, where, msg)
  if not cond then fail(source, where, msg) end
end

local function is_object(v) return type(v) == "table" and not json.is_array(v) end

local function check_common(e, source, where, need_signer)
  want(is_object(e), source, where, "expected an object")
  want(type(e.level) == "string" and RANK[e.level] ~= nil and e.level ~= "REVOKED", source,
       where .. ".level", "expected TRUSTED, VERIFIED or UNKNOWN")
  want(e.added == nil or envelope.parse_time(e.added), source, where .. ".added", "expected an RFC 3339 UTC time")
  if need_signer or e.signer ~= nil then
    want(type(e.signer) == "string" and e.signer ~= "" and #e.signer <= envelope.LIMITS.max_signer,
         source, where .. ".signer", "expected a signer id")
  end
end

-- validate(doc, source) -> doc, or raises SecurityError naming source.
-- Certificates and keys are parsed, and their ids recomputed.
function M.validate(doc, source)
  want(is_object(doc), source, nil, "expected a JSON object")
  local allowed = {format = true}
  for _, s in ipairs(SECTIONS) do allowed[s] = true end
  check_keys(doc, allowed, source, "")
  want(doc.format == M.FORMAT, source, "format", ("expected %q"):format(M.FORMAT))
  for _, s in ipairs(SECTIONS) do
    want(is_object(doc[s]), source, s, "expected an object")
  end
  local c = crypto()
  for _, id in ipairs(json.sorted_keys(doc.certificates)) do
    local e, where = doc.certificates[id], "certificates." .. id
    check_common(e, source, where, false)
    check_keys(e, ENTRY_FIELDS.certificates, source, where)
    want(type(e.pem) == "string", source, where .. ".pem", "expected PEM text")
    local cert = c.load_certificate(e.pem)
    want(cert ~= nil, source, where .. ".pem", "not a certificate")
    want(cert:id() == id, source, where, "the id is not the certificate's fingerprint")
    want(cert:pem() == e.pem, source, where .. ".pem", "expected the certificate's PEM as written by truthound")
    want(e.subject == nil or e.subject == cert:subject(), source, where .. ".subject",
         "expected the certificate's subject")
    want(e.metadata == nil or is_object(e.metadata), source, where .. ".metadata", "expected an object")
  end
  for _, id in ipairs(json.sorted_keys(doc.keys)) do
    local e, where = doc.keys[id], "keys." .. id
    check_common(e, source, where, true)
    check_keys(e, ENTRY_FIELDS.keys, source, where)
    want(type(e.pem) == "string", source, where .. ".pem", "expected PEM text")
    local key = c.load_key(e.pem, {public = true})
    want(key ~= nil and not key:is_private(), source, where .. ".pem", "not a public key")
    want(key:key_id() == id, source, where, "the id is not the key's fingerprint")
    want(key:public_pem() == e.pem, source, where .. ".pem", "expected the key's SPKI PEM as written by truthound")
    want(e.type == key:type(), source, where .. ".type", "expected the key's type, " .. key:type())
  end
  for _, id in ipairs(json.sorted_keys(doc.hmac_keys)) do
    local e, where = doc.hmac_keys[id], "hmac_keys." .. id
    check_common(e, source, where, true)
    check_keys(e, ENTRY_FIELDS.hmac_keys, source, where)
    local hex = e.secret
    want(type(hex) == "string" and #hex >= 2 * envelope.HMAC_MIN_KEY and #hex <= 1024 and
         hex:match("^%x+$") and #hex % 2 == 0, source, where .. ".secret",
         ("expected at least %d bytes in hex"):format(envelope.HMAC_MIN_KEY))
    want(M.hmac_key_id(c.unhex(hex)) == id, source, where, "the id does not match the secret")
  end
  for _, name in ipairs(json.sorted_keys(doc.signers)) do
    local v, where = doc.signers[name], "signers." .. name
    want(type(v) == "string" and RANK[v] ~= nil, source, where, "expected a trust level")
  end
  for _, id in ipairs(json.sorted_keys(doc.revocations)) do
    local e, where = doc.revocations[id], "revocations." .. id
    want(is_object(e), source, where, "expected an object")
    check_keys(e, ENTRY_FIELDS.revocations, source, where)
    want(type(e.reason) == "string", source, where .. ".reason", "expected a string")
    want(envelope.parse_time(e.time), source, where .. ".time", "expected an RFC 3339 UTC time")
  end
  local versioning = require("truthound.versioning")
  for _, id in ipairs(json.sorted_keys(doc.versions)) do
    local v, where = doc.versions[id], "versions." .. id
    want(type(v) == "string" and pcall(versioning.parse_version, v), source, where, "expected a version")
  end
  return doc
end

-- parse(text, source) -> doc: JSON, then validate.
function M.parse(text, source)
  source = source or "(trust store)"
  if type(text) ~= "string" then fail(source, nil, "expected text") end
  if #text == 0 then fail(source, nil, "the file is empty (truncated?)") end
  if #text > M.MAX_SIZE then fail(source, nil, ("larger than %d bytes"):format(M.MAX_SIZE)) end
  local doc, err = json.decode(text, {max_depth = 16})
  if doc == nil then fail(source, nil, "not valid JSON (truncated or edited?): " .. err) end
  return M.validate(doc, source)
end

---------------------------------------------------------------------------
-- TrustStore

local TrustStore = {}
TrustStore.__index = TrustStore
TrustStore.__name = "truthound.TrustStore"
M.TrustStore = TrustStore

local function now_text(self)
  return envelope.format_time(self.clock and self.clock() or os.time())
end

-- new{persist_path = path} -> TrustStore: loaded from path when the file
-- exists, else empty (the file is created on the first change). Without
-- persist_path the store lives in memory only.
function TrustStore.new(opts)
  opts = opts or {}
  if type(opts) == "string" then opts = {persist_path = opts} end
  local self = setmetatable({path = opts.persist_path, clock = opts.clock, cache = {}}, TrustStore)
  self.doc = empty_doc()
  if self.path then
    local kind = native.fs.kind(self.path)
    if kind ~= nil then
      local text, err = envelope.read_bytes(self.path, M.MAX_SIZE, "the trust store")
      if text == nil then
        errors.raise("SecurityError", err, {reason = "unreadable trust store", source = self.path}, 2)
      end
      self.doc = M.parse(text, self.path)
    end
  end
  return self
end

-- load(path) -> TrustStore, which must exist.
function TrustStore.load(path)
  if native.fs.kind(path) == nil then
    errors.raise("SecurityError", ("%s: no trust store here"):format(path),
                 {reason = "missing trust store", source = path}, 2)
  end
  return TrustStore.new{persist_path = path}
end

function TrustStore.is(v) return getmetatable(v) == TrustStore end

-- encode() -> the store's text (sorted keys, two-space indent, LF).
function TrustStore:encode()
  return assert(json.encode(self.doc, {indent = "  "})) .. "\n"
end

-- save(): write the store now (every change does it already).
function TrustStore:save()
  if not self.path then return true end
  local ok, err = native.fs.write_atomic(self.path, self:encode(), tonumber("600", 8))
  if not ok then
    errors.raise("SecurityError", ("%s: cannot write the trust store: %s"):format(self.path, err),
                 {reason = "unwritable trust store", source = self.path}, 2)
  end
  return true
end

-- change(fn): apply fn to the document and save; if saving fails, the
-- store in memory is what it was.
local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local t = setmetatable({}, getmetatable(v))
  for k, x in pairs(v) do t[k] = deep_copy(x) end
  return t
end

function TrustStore:_change(fn)
  local before = deep_copy(self.doc)
  local ok, r = pcall(fn, self.doc)
  if ok then ok, r = pcall(self.save, self) end
  if not ok then
    self.doc = before
    error(r, 0)
  end
  self.cache = {}
  return r
end

local function check_signer(signer_id, what)
  local why = type(signer_id) ~= "string" and "expected a signer id (a string)"
              or #signer_id == 0 and "expected a signer id, got an empty string"
              or #signer_id > envelope.LIMITS.max_signer and "a signer id is at most 256 bytes"
              or signer_id:find("%c") and "a signer id has no control characters"
  if why then usage(what .. ": " .. why, 3) end
end

local function check_add_level(level, what)
  local v = parse_level(level, "TRUSTED", what)
  if v == "REVOKED" then usage(what .. ": to revoke, use revoke_certificate", 3) end
  return v
end

-- add_trusted_certificate(cert [, level [, metadata]]) -> cert id. A stored
-- certificate is a trust anchor: a signature whose X.509 chain reaches it
-- gets its level. metadata.signer, when given, also names its signer.
function TrustStore:add_trusted_certificate(cert, level, metadata)
  cert = as_cert(cert)
  level = check_add_level(level, "add_trusted_certificate")
  if metadata ~= nil then
    if type(metadata) ~= "table" then usage("add_trusted_certificate: metadata must be a table", 2) end
    local _, err = json.encode(metadata)
    if err then usage("add_trusted_certificate: metadata: " .. err, 2) end
  end
  local id = cert:id()
  if self:is_revoked(id) then
    errors.raise("CertificateRevokedError", ("certificate %s was revoked (%s); it cannot be trusted again")
                 :format(id, self.doc.revocations[id].reason), {subject = cert:subject(), revoked_at =
                 self.doc.revocations[id].time}, 2)
  end
  local signer = metadata and metadata.signer
  if signer ~= nil then check_signer(signer, "add_trusted_certificate") end
  self:_change(function(doc)
    doc.certificates[id] = {pem = cert:pem(), level = level, subject = cert:subject(),
                            signer = signer, metadata = metadata and deep_copy(metadata) or nil,
                            added = now_text(self)}
  end)
  return id
end

-- add_trusted_key(public_key, signer_id [, level]) -> key id. A private
-- key is accepted; only its public half is stored.
function TrustStore:add_trusted_key(key, signer_id, level)
  key = as_public_key(key)
  check_signer(signer_id, "add_trusted_key")
  level = check_add_level(level, "add_trusted_key")
  local id = key:key_id()
  if self:is_revoked(id) then
    errors.raise("CertificateRevokedError", ("key %s was revoked (%s); it cannot be trusted again")
                 :format(id, self.doc.revocations[id].reason), {revoked_at = self.doc.revocations[id].time}, 2)
  end
  self:_change(function(doc)
    doc.keys[id] = {pem = key:public_pem(), type = key:type(), signer = signer_id, level = level,
                    added = now_text(self)}
  end)
  return id
end

-- add_hmac_key(secret, signer_id [, level]) -> key id ("hmac:..."). The
-- secret is raw bytes, at least 32 of them.
function TrustStore:add_hmac_key(secret, signer_id, level)
  if type(secret) ~= "string" or #secret < envelope.HMAC_MIN_KEY then
    usage(("add_hmac_key: expected a secret of at least %d bytes"):format(envelope.HMAC_MIN_KEY), 2)
  end
  if #secret > 512 then usage("add_hmac_key: a secret is at most 512 bytes", 2) end
  check_signer(signer_id, "add_hmac_key")
  level = check_add_level(level, "add_hmac_key")
  local id = M.hmac_key_id(secret)
  if self:is_revoked(id) then
    errors.raise("CertificateRevokedError", ("key %s was revoked; it cannot be trusted again"):format(id), nil, 2)
  end
  self:_change(function(doc)
    doc.hmac_keys[id] = {secret = crypto().hex(secret), signer = signer_id, level = level,
                         added = now_text(self)}
  end)
  return id
end

-- set_signer_level(signer_id, level): caps every key of the signer.
function TrustStore:set_signer_level(signer_id, level)
  check_signer(signer_id, "set_signer_level")
  level = parse_level(level, nil, "set_signer_level")
  if level == nil then usage("set_signer_level: expected a trust level", 2) end
  self:_change(function(doc) doc.signers[signer_id] = level end)
end

-- revoke_certificate(id, reason) -> true. id is a certificate id, a key
-- id, an HMAC key id or a signer id. Revocation is permanent: a revoked
-- certificate or key cannot be added again.
function TrustStore:revoke_certificate(id, reason)
  if type(id) == "userdata" and id.id then id = id:id() end
  if type(id) ~= "string" or id == "" then usage("revoke_certificate: expected an id", 2) end
  if reason ~= nil and type(reason) ~= "string" then usage("revoke_certificate: reason must be a string", 2) end
  local d = self.doc
  if not (d.certificates[id] or d.keys[id] or d.hmac_keys[id] or d.signers[id] or self:_signer_known(id)
          or id:match("^sha256:" .. ("%x"):rep(64) .. "$") or id:match("^hmac:" .. ("%x"):rep(32) .. "$")) then
    usage(("revoke_certificate: %s names no certificate, key or signer in the store; give a " ..
           "certificate or key id (sha256:..., hmac:...) or a known signer"):format(envelope.show(id)), 2)
  end
  self:_change(function(doc)
    doc.revocations[id] = {reason = reason or "revoked", time = now_text(self)}
    if doc.signers[id] or self:_signer_known(id) then doc.signers[id] = "REVOKED" end
  end)
  return true
end
TrustStore.revoke = TrustStore.revoke_certificate

function TrustStore:_signer_known(name)
  for _, section in ipairs{"keys", "hmac_keys", "certificates"} do
    for _, e in pairs(self.doc[section]) do
      if e.signer == name then return true end
    end
  end
  return false
end

-- is_revoked(id) -> the revocation {reason, time} | nil
function TrustStore:is_revoked(id)
  return self.doc.revocations[id]
end

-- revoked_ids() -> {[id] = true} for core.crypto.verify_chain.
function TrustStore:revoked_ids()
  local t = {}
  for id in pairs(self.doc.revocations) do
    -- Signer names and HMAC ids never name a certificate.
    if id:match("^sha256:" .. ("%x"):rep(64) .. "$") and not id:find("%u") then t[id] = true end
  end
  return t
end

-- signer_cap(signer_id) -> the signer's own level, or nil when none was set.
function TrustStore:signer_cap(signer_id)
  if self.doc.revocations[signer_id] then return "REVOKED" end
  return self.doc.signers[signer_id]
end

-- get_trust_level(signer_id) -> level: the signer's own level when set (or
-- REVOKED), else the best level among the signer's keys and certificates,
-- else UNKNOWN.
function TrustStore:get_trust_level(signer_id)
  local cap = self:signer_cap(signer_id)
  if cap then return cap end
  local best = "UNKNOWN"
  for _, section in ipairs{"keys", "hmac_keys", "certificates"} do
    for id, e in pairs(self.doc[section]) do
      if e.signer == signer_id and not self.doc.revocations[id] and RANK[e.level] > RANK[best] then
        best = e.level
      end
    end
  end
  return best
end

-- key_entry(key_id) -> {kind = "public"|"hmac", key = Key | secret,
-- signer, level} | nil
function TrustStore:key_entry(key_id)
  local cached = self.cache[key_id]
  if cached then return cached end
  local e = self.doc.keys[key_id]
  local r
  if e then
    r = {kind = "public", key = assert(crypto().load_key(e.pem, {public = true})), signer = e.signer,
         level = e.level, key_type = e.type}
  else
    e = self.doc.hmac_keys[key_id]
    if e then
      r = {kind = "hmac", key = crypto().unhex(e.secret), signer = e.signer, level = e.level}
    end
  end
  self.cache[key_id] = r
  return r
end

-- certificate_entry(cert_id) -> the stored entry (level, signer,
-- metadata, subject) | nil
function TrustStore:certificate_entry(cert_id)
  return self.doc.certificates[cert_id]
end

-- anchors() -> the stored certificates that are not revoked, as Cert
-- objects: the trust anchors of chain building.
function TrustStore:anchors()
  if self.cache["\0anchors"] then return self.cache["\0anchors"] end
  local list = {}
  for _, id in ipairs(json.sorted_keys(self.doc.certificates)) do
    if not self.doc.revocations[id] then
      list[#list + 1] = assert(crypto().load_certificate(self.doc.certificates[id].pem))
    end
  end
  self.cache["\0anchors"] = list
  return list
end

-- is_trusted(cert) -> trusted, level. A stored certificate has its level; a
-- certificate whose chain reaches a stored one has that one's level;
-- revoked ones are false, "REVOKED"; others false, "UNKNOWN".
function TrustStore:is_trusted(cert, opts)
  cert = as_cert(cert)
  local id = cert:id()
  if self.doc.revocations[id] then return false, "REVOKED" end
  local level
  local e = self.doc.certificates[id]
  if e then
    level = e.level
  else
    local anchors = self:anchors()
    if #anchors == 0 then return false, "UNKNOWN" end
    local ok, chain = crypto().verify_chain(cert, {trusted = anchors, untrusted = opts and opts.untrusted or {},
                                                    revoked = self:revoked_ids(), at = opts and opts.at or os.time()})
    if not ok then
      return false, (type(chain) == "string" and chain:lower():find("revoked")) and "REVOKED" or "UNKNOWN"
    end
    local root = self.doc.certificates[chain[#chain]]
    level = root and root.level or "UNKNOWN"
  end
  return RANK[level] >= RANK.VERIFIED, level
end

-- accepted_version(plugin_id) -> the highest version accepted, or nil.
function TrustStore:accepted_version(plugin_id)
  return self.doc.versions[plugin_id]
end

-- accept_version(plugin_id, version) -> true when it raised the record.
-- A lower version never lowers it.
function TrustStore:accept_version(plugin_id, version)
  local versioning = require("truthound.versioning")
  local have = self.doc.versions[plugin_id]
  if have and versioning.compare(version, have) <= 0 then return false end
  self:_change(function(doc) doc.versions[plugin_id] = version end)
  return true
end

-- get(id) -> a description of one entry (a certificate, key, HMAC key or
-- signer), without secrets, or nil.
function TrustStore:get(id)
  local d = self.doc
  local rev = d.revocations[id]
  local e = d.certificates[id]
  if e then
    return {kind = "certificate", id = id, level = rev and "REVOKED" or e.level, subject = e.subject,
            signer = e.signer, metadata = e.metadata, added = e.added, pem = e.pem, revoked = rev}
  end
  e = d.keys[id]
  if e then
    return {kind = "key", id = id, level = rev and "REVOKED" or e.level, signer = e.signer,
            key_type = e.type, added = e.added, pem = e.pem, revoked = rev}
  end
  e = d.hmac_keys[id]
  if e then
    return {kind = "hmac_key", id = id, level = rev and "REVOKED" or e.level, signer = e.signer,
            added = e.added, revoked = rev}
  end
  if d.signers[id] or self:_signer_known(id) then
    return {kind = "signer", id = id, level = self:get_trust_level(id), revoked = rev}
  end
  if rev then return {kind = "revocation", id = id, level = "REVOKED", revoked = rev} end
  return nil
end

-- list() -> every entry, as get() describes them, in a stable order:
-- certificates, keys, HMAC keys, signers, other revocations, then plugin
-- versions ({kind = "version", id = plugin id, version = ...}).
function TrustStore:list()
  local out, seen = {}, {}
  local d = self.doc
  for _, section in ipairs{"certificates", "keys", "hmac_keys"} do
    for _, id in ipairs(json.sorted_keys(d[section])) do
      out[#out + 1] = self:get(id)
      seen[id] = true
    end
  end
  local signers = {}
  for name in pairs(d.signers) do signers[name] = true end
  for _, section in ipairs{"certificates", "keys", "hmac_keys"} do
    for _, e in pairs(d[section]) do if e.signer then signers[e.signer] = true end end
  end
  for _, name in ipairs(json.sorted_keys(signers)) do
    if not seen[name] then
      out[#out + 1] = {kind = "signer", id = name, level = self:get_trust_level(name),
                       revoked = d.revocations[name]}
      seen[name] = true
    end
  end
  for _, id in ipairs(json.sorted_keys(d.revocations)) do
    if not seen[id] then out[#out + 1] = {kind = "revocation", id = id, level = "REVOKED", revoked = d.revocations[id]} end
  end
  for _, id in ipairs(json.sorted_keys(d.versions)) do
    out[#out + 1] = {kind = "version", id = id, version = d.versions[id]}
  end
  return out
end

return M
