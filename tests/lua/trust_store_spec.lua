-- truthound.security.signing TrustStore: what it keeps, what survives a
-- restart, and what it refuses to load. The crash-safety test (a writer
-- killed at random points) is tests/hostile/store_crash.sh.

local signing = require("truthound.security.signing")
local trust_store = require("truthound.security.signing.trust_store")
local errors = require("truthound.errors")
local crypto = require("truthound.native").crypto

local TrustStore = signing.TrustStore

local function raised(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return e
end

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p '" .. p .. "'"))
  return p
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local d = f:read("a")
  f:close()
  return d
end

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function mode_of(path)
  local p = io.popen("stat -c %a '" .. path .. "'")
  local m = p:read("l")
  p:close()
  return m
end

describe("TrustStore", function()
  local root, path
  local ed = crypto.generate("ed25519")
  local ed2 = crypto.generate("ed25519")
  local ca_key = crypto.generate("ed25519")
  local ca = crypto.make_certificate{subject = "CN=Acme Root", key = ca_key, ca = true,
                                     key_usage = {"keyCertSign", "cRLSign"}, days = 3650}
  local leaf_key = crypto.generate("ed25519")
  local leaf = crypto.make_certificate{subject = "CN=acme", key = leaf_key, issuer_cert = ca, issuer_key = ca_key,
                                       key_usage = {"digitalSignature"}, days = 30}
  local secret = crypto.random(32)

  before_each(function()
    root = tmpdir()
    path = root .. "/trust.json"
  end)
  after_each(function() os.execute("rm -rf '" .. root .. "'") end)

  it("starts empty, creates its file on the first change, mode 0600", function()
    local s = TrustStore.new{persist_path = path}
    assert.are.same({}, s:list())
    assert.is_nil(io.open(path))
    s:add_trusted_key(ed:public_pem(), "acme", "trusted")
    assert.are.equal("600", mode_of(path))
  end)

  it("keeps certificates, keys, HMAC keys, levels, revocations and versions across a restart", function()
    local s = TrustStore.new{persist_path = path}
    local cid = s:add_trusted_certificate(ca, "trusted", {org = "acme", tags = {"a", "b"}})
    local kid = s:add_trusted_key(ed, "alice", signing.TrustLevel.VERIFIED)   -- a private key: public half kept
    local hid = s:add_hmac_key(secret, "ci", "trusted")
    s:add_trusted_key(ed2:public_pem(), "bob")
    s:set_signer_level("bob", "verified")
    s:revoke_certificate(ed2:key_id(), "lost laptop")
    s:accept_version("hello", "1.2.0")
    assert.are.equal(ca:id(), cid)
    assert.are.equal(ed:key_id(), kid)
    assert.matches("^hmac:%x+$", hid)

    local again = TrustStore.new{persist_path = path}
    assert.are.same(s:list(), again:list())
    assert.are.equal("VERIFIED", again:get_trust_level("alice"))
    assert.are.equal("TRUSTED", again:get_trust_level("ci"))
    assert.are.equal("VERIFIED", again:get_trust_level("bob"))
    assert.are.equal("UNKNOWN", again:get_trust_level("nobody"))
    assert.are.equal("lost laptop", again:is_revoked(ed2:key_id()).reason)
    assert.are.equal("1.2.0", again:accepted_version("hello"))
    assert.are.same({org = "acme", tags = {"a", "b"}}, again:get(cid).metadata)
    assert.are.equal("CN=Acme Root", again:get(cid).subject)
    local e = again:key_entry(kid)
    assert.are.equal("public", e.kind)
    assert.is_false(e.key:is_private())
    assert.are.equal(secret, again:key_entry(hid).key)
    -- The file is the encoding of what is in memory.
    assert.are.equal(read(path), again:encode())
  end)

  it("never shows an HMAC secret, and its id does not reveal it", function()
    local s = TrustStore.new()
    local hid = s:add_hmac_key(secret, "ci")
    assert.is_nil(hid:find(crypto.hex(secret):sub(1, 16), 1, true))
    assert.are.equal(hid, trust_store.hmac_key_id(secret))
    assert.are_not.equal(hid, trust_store.hmac_key_id(crypto.random(32)))
    for _, e in ipairs(s:list()) do
      for _, v in pairs(e) do
        if type(v) == "string" then assert.is_nil(v:find(crypto.hex(secret), 1, true)) end
      end
    end
    assert.is_nil(s:get(hid).secret)
  end)

  it("gives a signer the best level of its keys, capped by its own level", function()
    local s = TrustStore.new()
    s:add_trusted_key(ed, "acme", "verified")
    assert.are.equal("VERIFIED", s:get_trust_level("acme"))
    s:add_trusted_key(ed2, "acme", "trusted")
    assert.are.equal("TRUSTED", s:get_trust_level("acme"))
    s:set_signer_level("acme", "unknown")
    assert.are.equal("UNKNOWN", s:get_trust_level("acme"))
    assert.are.equal("UNKNOWN", s:signer_cap("acme"))
  end)

  it("revokes certificates, keys and signers, for good", function()
    local s = TrustStore.new{persist_path = path}
    local cid = s:add_trusted_certificate(leaf:pem())
    s:add_trusted_key(ed, "acme")
    assert.is_true(s:revoke_certificate(cid, "compromised"))
    assert.are.same({false, "REVOKED"}, {s:is_trusted(leaf)})
    local e = raised(s.add_trusted_certificate, s, leaf)
    assert.is_true(errors.is(e, "CertificateRevokedError"))
    s:revoke_certificate("acme", "left the company")
    assert.are.equal("REVOKED", s:get_trust_level("acme"))
    assert.are.equal("REVOKED", s:signer_cap("acme"))
    s:revoke_certificate(ed:key_id(), "rotated")
    e = raised(s.add_trusted_key, s, ed, "acme")
    assert.is_true(errors.is(e, "CertificateRevokedError"))
    local again = TrustStore.new{persist_path = path}
    assert.are.equal("REVOKED", again:get(cid).level)
    assert.are.equal("REVOKED", again:get_trust_level("acme"))
    -- An id that names nothing is a mistake, not a silent no-op.
    e = raised(s.revoke_certificate, s, "nobody-at-all", "x")
    assert.is_true(errors.is(e, "UsageError"))
  end)

  it("says whether a certificate is trusted: stored, chained to a stored root, or neither", function()
    local s = TrustStore.new()
    assert.are.same({false, "UNKNOWN"}, {s:is_trusted(leaf)})
    s:add_trusted_certificate(ca, "verified")
    assert.are.same({true, "VERIFIED"}, {s:is_trusted(leaf)})
    assert.are.same({true, "VERIFIED"}, {s:is_trusted(ca:der())})
    local stranger = crypto.make_certificate{subject = "CN=x", key = crypto.generate("ed25519"), days = 1}
    assert.are.same({false, "UNKNOWN"}, {s:is_trusted(stranger)})
    s:revoke_certificate(ca:id(), "root compromised")
    assert.are.same({false, "UNKNOWN"}, {s:is_trusted(leaf)})
  end)

  it("only raises the accepted version of a plugin", function()
    local s = TrustStore.new{persist_path = path}
    assert.is_true(s:accept_version("hello", "1.2.0"))
    assert.is_false(s:accept_version("hello", "1.1.9"))
    assert.is_false(s:accept_version("hello", "1.2.0"))
    assert.is_true(s:accept_version("hello", "1.10.0"))
    assert.is_false(s:accept_version("hello", "1.10.0-rc.1"))
    assert.are.equal("1.10.0", TrustStore.new{persist_path = path}:accepted_version("hello"))
  end)

  it("checks what it is given", function()
    local s = TrustStore.new()
    for _, call in ipairs{
      function() s:add_trusted_key("not a key", "x") end,
      function() s:add_trusted_key(ed, "") end,
      function() s:add_trusted_key(ed, "a\nb") end,
      function() s:add_trusted_key(ed, "x", "revoked") end,
      function() s:add_trusted_key(ed, "x", "sorta") end,
      function() s:add_hmac_key(("k"):rep(31), "x") end,
      function() s:add_trusted_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") end,
      function() s:add_trusted_certificate(ca, "trusted", {x = 1.5}) end,
      function() s:set_signer_level("x", "nope") end,
    } do
      local e = raised(call)
      assert.is_true(errors.is(e, "UsageError"), tostring(e))
    end
  end)

  describe("a store that cannot be trusted is refused, naming the file", function()
    local good
    before_each(function()
      local s = TrustStore.new{persist_path = path}
      s:add_trusted_certificate(ca, "trusted")
      s:add_trusted_key(ed, "acme", "verified")
      s:add_hmac_key(secret, "ci")
      s:revoke_certificate(ed2:key_id(), "old")
      s:accept_version("hello", "2.0.0")
      good = read(path)
    end)

    local function refused(text)
      write(path, text)
      local e = raised(TrustStore.new, {persist_path = path})
      assert.is_true(errors.is(e, "SecurityError"), tostring(e))
      assert.are.equal(path, e.source)
      assert.matches(path, e.message, 1, true)
      -- Refusing never rewrites it.
      assert.are.equal(text, read(path))
      return e
    end

    it("truncated at any point", function()
      for cut = 0, #good - 1, math.max(1, #good // 97) do
        refused(good:sub(1, cut))
      end
      refused(good:sub(1, #good - 2))     -- the last brace gone
    end)

    it("edited: unknown fields, bad levels, ids that do not match, another format", function()
      local doc = require("truthound.security.signing.json").decode(good)
      local json = require("truthound.security.signing.json")
      local function edited(fn)
        local d = json.decode(good)
        fn(d)
        return assert(json.encode(d))
      end
      assert.is_truthy(doc)
      refused(edited(function(d) d.extra = true end))
      refused(edited(function(d) d.format = "truthound-trust-store/2" end))
      refused(edited(function(d) d.keys[ed:key_id()].level = "SUPREME" end))
      refused(edited(function(d) d.keys[ed:key_id()].level = "REVOKED" end))
      refused(edited(function(d) d.keys[ed:key_id()].note = "x" end))
      refused(edited(function(d) d.keys[ed2:key_id()] = d.keys[ed:key_id()] end))   -- id of another key
      refused(edited(function(d) d.keys[ed:key_id()].type = "rsa" end))
      refused(edited(function(d) d.keys[ed:key_id()].pem = ca:pem() end))
      refused(edited(function(d) d.keys[ed:key_id()].pem = d.keys[ed:key_id()].pem:gsub("\n", "\r\n") end))
      refused(edited(function(d) d.certificates[ca:id()].subject = "CN=Someone Else" end))
      refused(edited(function(d) d.certificates[ca:id()].pem = leaf:pem() end))
      refused(edited(function(d) d.hmac_keys[trust_store.hmac_key_id(secret)].secret = crypto.hex(crypto.random(32)) end))
      refused(edited(function(d) d.hmac_keys[trust_store.hmac_key_id(secret)].secret = "abcd" end))
      refused(edited(function(d) d.revocations[ed2:key_id()].time = "yesterday" end))
      refused(edited(function(d) d.versions.hello = "two" end))
      refused(edited(function(d) d.signers = json.array() end))
      refused(edited(function(d) d.versions = nil end))
    end)

    it("garbage, an empty file, a duplicated key, a directory", function()
      refused("")
      refused("\0\1\2")
      refused("[]")
      refused(good:gsub('"versions": {', '"versions": {"hello": "1.0.0", ', 1))
      os.remove(path)
      assert(os.execute("mkdir '" .. path .. "'"))
      local e = raised(TrustStore.new, {persist_path = path})
      assert.is_true(errors.is(e, "SecurityError"))
      assert.matches("directory", e.message)
    end)

    it("load() also refuses a missing store", function()
      local e = raised(TrustStore.load, root .. "/none.json")
      assert.is_true(errors.is(e, "SecurityError"))
      assert.is_truthy(TrustStore.load(path))
    end)
  end)

  it("keeps its old state when a write fails", function()
    local s = TrustStore.new{persist_path = root .. "/missing-dir/trust.json"}
    local e = raised(s.add_trusted_key, s, ed, "acme")
    assert.is_true(errors.is(e, "SecurityError"))
    assert.matches("missing%-dir/trust.json", e.message)
    assert.are.same({}, s:list())
  end)

  it("lists entries in a stable order, without secrets", function()
    local s = TrustStore.new()
    s:add_hmac_key(secret, "ci")
    s:add_trusted_key(ed, "acme")
    s:add_trusted_certificate(ca)
    s:revoke_certificate(ed2:key_id(), "gone")
    s:accept_version("b", "1.0.0")
    s:accept_version("a", "1.0.0")
    local kinds = {}
    for i, e in ipairs(s:list()) do kinds[i] = e.kind .. ":" .. e.id:sub(1, 5) end
    assert.are.same({"certificate:sha25", "key:sha25", "hmac_key:hmac:", "signer:acme", "signer:ci",
                     "revocation:sha25", "version:a", "version:b"}, kinds)
  end)
end)
