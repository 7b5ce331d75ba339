-- truthound.security.signing: the strict JSON, the envelope and its
-- canonical payload, the algorithms, SigningService. The trust store and
-- the verification chain have their own specs (trust_store_spec.lua,
-- chain_spec.lua); tests/hostile/tamper.sh attacks a signed tree.

local signing = require("truthound.security.signing")
local json = require("truthound.security.signing.json")
local envelope = require("truthound.security.signing.envelope")
local errors = require("truthound.errors")
local crypto = require("truthound.native").crypto

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

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local d = f:read("a")
  f:close()
  return d
end

-- A plugin directory <tmp>/<id> with a manifest and one module.
local function plugin(id, version)
  local root = tmpdir()
  local dir = root .. "/" .. (id or "hello")
  assert(os.execute("mkdir -p '" .. dir .. "/lib'"))
  write(dir .. "/plugin.lua", ('return {id = "%s", version = "%s", entry = "main"}\n'):format(id or "hello",
                                                                                            version or "1.0.0"))
  write(dir .. "/main.lua", "return {greet = function() return 'hi' end}\n")
  write(dir .. "/lib/util.lua", "return 42\n")
  return dir, root
end

local function rm(root) os.execute("rm -rf '" .. root .. "'") end

---------------------------------------------------------------------------

describe("signing.json", function()
  it("decodes RFC 8259 values, arrays marked apart from objects", function()
    local v = assert(json.decode(' {"a": [1, -2, true, false, "x"], "b": {}, "c": [], "d": "\\u00e9\\ud83d\\ude00\\n"} '))
    assert.are.equal(5, #v.a)
    assert.are.equal("integer", math.type(v.a[2]))
    assert.is_true(json.is_array(v.a))
    assert.is_true(json.is_array(v.c))
    assert.is_false(json.is_array(v.b))
    assert.are.equal("é😀\n", v.d)
  end)

  it("refuses what would give one text two meanings", function()
    for _, t in ipairs{
      '{"a":1,"a":2}',            -- repeated key
      '[1.0]', '[1e3]', '[1E3]',  -- not integers
      '[01]', '[-0]', '[+1]',
      '[9007199254740992]', '[-9007199254740992]', '[123456789012345678901]',
      '[null]',
      '"\\ud800"', '"\\udc00x"', '"\\ud800\\u0041"',
      '"\1"', '"a\nb"',           -- raw control characters
      '"\255"', '"\192\128"',     -- not UTF-8 (an overlong NUL)
      '"\\x41"', '"\\u12"',       -- bad escapes
      '[1,]', '{"a":1,}', '{,}', '[', '{"a"}', '{"a":}', '{1:2}',
      '[] []', '', ' ', 'tru', 'nul', '"abc',
    } do
      local v, err = json.decode(t)
      assert.is_nil(v, t)
      assert.matches("^at byte %d+: ", err, 1, false)
    end
  end)

  it("bounds nesting", function()
    assert.is_nil((json.decode(("["):rep(40) .. ("]"):rep(40))))
    assert.is_truthy(json.decode(("["):rep(10) .. ("]"):rep(10)))
    assert.is_nil((json.decode(("["):rep(5) .. ("]"):rep(5), {max_depth = 4})))
  end)

  it("never raises on arbitrary bytes", function()
    math.randomseed(7)
    local alphabet = '{}[]":,0123456789-+.eE\\u tfnrl"a\0\255 '
    for _ = 1, 3000 do
      local n = math.random(0, 24)
      local b = {}
      for i = 1, n do
        local k = math.random(#alphabet)
        b[i] = alphabet:sub(k, k)
      end
      local ok = pcall(json.decode, table.concat(b))
      assert.is_true(ok)
    end
  end)

  it("encodes canonically: sorted keys, no blanks, minimal escapes (as jq -cS)", function()
    assert.are.equal('{"A":9007199254740991,"a":"x\\u007f\\u0001\\n/é\\"\\\\","b":[1,2,{"c":true}],"e":{},"f":[]}',
      json.encode({b = {1, 2, {c = true}}, a = 'x\127\1\n/é"\\', A = 9007199254740991, e = {}, f = json.array()}))
    assert.are.equal('{"\\t":1,"Z":2,"a":3,"é":4}', json.encode({a = 3, ["é"] = 4, Z = 2, ["\t"] = 1}))
    assert.are.equal("2", json.encode(2.0))
  end)

  it("sorts keys bytewise, whatever the locale", function()
    local keys = json.sorted_keys({["b"] = 1, ["ab"] = 1, ["a"] = 1, ["\200"] = 1, ["B"] = 1, ["a\0"] = 1})
    assert.are.same({"B", "a", "a\0", "ab", "b", "\200"}, keys)
  end)

  it("refuses values JSON cannot say exactly", function()
    for _, v in ipairs{{1.5}, {math.huge}, {[1] = 1, [3] = 3}, {[true] = 1}, {f = print}, {s = "\255"},
                       {n = 9007199254740992}} do
      local text, err = json.encode(v)
      assert.is_nil(text)
      assert.is_string(err)
    end
    local t = {}
    t.self = t
    assert.is_nil((json.encode(t)))
  end)

  it("round-trips what it decodes", function()
    local text = '{"a":[1,2,{"b":"é"}],"c":{},"d":[],"e":-5,"f":"\\u001f"}'
    assert.are.equal(text, json.encode(json.decode(text)))
  end)
end)

---------------------------------------------------------------------------

describe("signing enums", function()
  it("SignatureAlgorithm and TrustLevel are string constants, parsed in any case", function()
    assert.are.equal("ED25519", signing.SignatureAlgorithm.ED25519)
    assert.are.equal("HMAC_SHA512", signing.SignatureAlgorithm.parse("hmac_sha512"))
    assert.are.same({"SHA256", "SHA512", "HMAC_SHA256", "HMAC_SHA512", "RSA_SHA256", "RSA_PSS_SHA256", "ED25519"},
                    signing.SignatureAlgorithm.list())
    assert.are.equal("VERIFIED", signing.TrustLevel.parse("Verified"))
    assert.are.same({"TRUSTED", "VERIFIED", "UNKNOWN", "REVOKED"}, signing.TrustLevel.list())
    local v, why = signing.TrustLevel.parse("trustd")
    assert.is_nil(v)
    assert.matches("expected one of TRUSTED", why)
    assert.has_error(function() signing.TrustLevel.X = "X" end)
  end)
end)

---------------------------------------------------------------------------

-- The worked example of docs/formats.md, byte for byte: the plugin
-- hello 1.0.0 signed on 2026-11-25T03:00:00Z with the Ed25519 key of
-- RFC 8032 section 7.1, test 1 (a published test key: never use it).
local EXAMPLE = {
  plugin_id = "hello", plugin_version = "1.0.0",
  tree_digest = "sha256:97ff6e7b73b7405f4239940d451be5e5cf330a5ebdc023972cfb6b75500c842a",
  signer = "acme", key_id = "sha256:06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9",
  algorithm = "ED25519", created = "2026-11-25T03:00:00Z", expires = "2027-11-25T03:00:00Z",
  metadata = {ticket = "REL-42", build = 7},
}
local EXAMPLE_PUBLIC = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n" ..
                       "-----END PUBLIC KEY-----\n"
local EXAMPLE_PRIVATE = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n" ..
                        "-----END PRIVATE KEY-----\n"
local EXAMPLE_SIG = [[
{
  "format": "truthound-signature/1",
  "signatures": [
    {
      "algorithm": "ED25519",
      "created": "2026-11-25T03:00:00Z",
      "expires": "2027-11-25T03:00:00Z",
      "key_id": "sha256:06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9",
      "metadata": {
        "build": 7,
        "ticket": "REL-42"
      },
      "plugin_id": "hello",
      "plugin_version": "1.0.0",
      "signature": "mJV6+tJwr/bwY1af7l1OtM7jtY21dRop7ZgPuiTjDWVzrzMzxwRXVmDpnbWz4ACcEs2WPTHD3Hp+6oMq9Ad/Cw==",
      "signer": "acme",
      "tree_digest": "sha256:97ff6e7b73b7405f4239940d451be5e5cf330a5ebdc023972cfb6b75500c842a"
    }
  ]
}
]]

describe("the worked example of docs/formats.md", function()
  it("is what tplua writes for that plugin, key and time, and it verifies", function()
    local dir, root = plugin("hello", "1.0.0")
    os.remove(dir .. "/lib/util.lua")
    os.execute("rmdir '" .. dir .. "/lib'")
    write(dir .. "/main.lua", "return {}\n")
    local key = assert(crypto.load_key(EXAMPLE_PRIVATE))
    assert.are.equal(EXAMPLE.key_id, key:key_id())
    local svc = signing.SigningService.new{algorithm = "ED25519", signer_id = "acme", validity_days = 365}
    svc:sign{plugin_path = dir, private_key = key, created = envelope.parse_time(EXAMPLE.created),
             metadata = {ticket = "REL-42", build = 7}, write = true}
    assert.are.equal(EXAMPLE_SIG, read(dir .. "/plugin.sig"))
    local sig = envelope.parse(EXAMPLE_SIG).signatures[1]
    assert.are.equal(349, #sig:payload())
    assert.are.equal("5085cd61c5fb207ee79d1eb3576e7ebeaab2b10965906a07ef5b67749b4d74c7",
                     crypto.hex(crypto.digest("sha256", sig:payload())))
    assert.is_true(crypto.load_key(EXAMPLE_PUBLIC, {public = true}):verify("ED25519", sig:payload(), sig.signature))
    rm(root)
  end)
end)

describe("signing.envelope payload", function()
  it("is one name=value line per field after the format line", function()
    assert.are.equal(table.concat({
      "truthound-signature/1",
      "plugin_id=hello",
      "plugin_version=1.0.0",
      "tree_digest=sha256:97ff6e7b73b7405f4239940d451be5e5cf330a5ebdc023972cfb6b75500c842a",
      "signer=acme",
      "key_id=sha256:06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9",
      "algorithm=ED25519",
      "created=2026-11-25T03:00:00Z",
      "expires=2027-11-25T03:00:00Z",
      'metadata={"build":7,"ticket":"REL-42"}',
      "",
    }, "\n"), envelope.payload(EXAMPLE))
  end)

  local function with(k, v)
    local t = {}
    for a, b in pairs(EXAMPLE) do t[a] = b end
    t[k] = v
    return t
  end

  it("refuses a field that could be spelled two ways or break a line", function()
    local cases = {
      {"signer", "ac\nme"}, {"signer", "acme\r"}, {"signer", ""}, {"signer", " acme"}, {"signer", ("x"):rep(257)},
      {"signer", "\255"},
      {"plugin_id", "Hello"}, {"plugin_id", "hel lo"}, {"plugin_id", "a\nplugin_version=9.9.9"},
      {"plugin_version", "v1.2.0"}, {"plugin_version", "1.2"}, {"plugin_version", " 1.2.0"},
      {"plugin_version", "01.2.0"},
      {"tree_digest", "sha256:ABC"}, {"tree_digest", EXAMPLE.tree_digest:upper()},
      {"tree_digest", EXAMPLE.tree_digest:sub(8)},
      {"key_id", "none"}, {"key_id", "hmac:0123456789abcdef0123456789abcdef"},
      {"algorithm", "ed25519"}, {"algorithm", "DSA"},
      {"created", "2026-11-25T03:00:00+00:00"}, {"created", "2026-11-25T03:00:00.5Z"},
      {"created", "2026-11-25t03:00:00z"}, {"created", "2026-02-30T00:00:00Z"}, {"created", "2026-11-25T24:00:00Z"},
      {"created", "2026-11-25T03:00:60Z"}, {"created", "1969-12-31T23:59:59Z"},
      {"expires", "2026-11-25T03:00:00Z"},            -- not after created
      {"metadata", {1, 2}}, {"metadata", "x"}, {"metadata", {x = 1.5}}, {"metadata", {x = ("y"):rep(5000)}},
      {"metadata", nil},
    }
    for _, c in ipairs(cases) do
      local e = raised(envelope.payload, with(c[1], c[2]))
      assert.is_true(errors.is(e, "InvalidSignatureError"), c[1])
      assert.are.equal(c[1], e.field)
    end
  end)

  it("reads RFC 3339 UTC times, leap days included", function()
    assert.are.equal(0, envelope.parse_time("1970-01-01T00:00:00Z"))
    assert.are.equal(1795575600, envelope.parse_time("2026-11-25T03:00:00Z"))
    assert.are.equal(951782400, envelope.parse_time("2000-02-29T00:00:00Z"))
    assert.is_nil(envelope.parse_time("1900-02-29T00:00:00Z"))
    assert.is_nil(envelope.parse_time("2100-02-29T00:00:00Z"))
    assert.are.equal("2026-11-25T03:00:00Z", envelope.format_time(1795575600))
  end)
end)

---------------------------------------------------------------------------

describe("signing.envelope parse", function()
  local key = crypto.generate("ed25519")
  local good_sig = crypto.base64(key:sign("ED25519", envelope.payload(EXAMPLE)))

  local function entry(over)
    local t = {}
    for k, v in pairs(EXAMPLE) do t[k] = v end
    t.signature = good_sig
    for k, v in pairs(over or {}) do t[k] = v end
    return t
  end

  local function doc(entries, extra)
    local d = {format = "truthound-signature/1", signatures = json.array(entries)}
    for k, v in pairs(extra or {}) do d[k] = v end
    return assert(json.encode(d))
  end

  local function refused(text, field_pattern)
    local e = raised(envelope.parse, text, "x/plugin.sig")
    assert.is_true(errors.is(e, "InvalidSignatureError"), tostring(e))
    assert.are.equal("malformed envelope", e.reason)
    assert.are.equal("x/plugin.sig", e.source)
    if field_pattern then assert.matches(field_pattern, tostring(e.field)) end
    return e
  end

  it("reads a well-formed envelope and writes it back the same", function()
    local text = doc({entry()})
    local env = envelope.parse(text)
    local s = env.signatures[1]
    assert.are.equal("acme", s.signer)
    assert.are.equal(64, #s.signature)
    assert.are.equal(envelope.payload(EXAMPLE), s:payload())
    assert.are.equal(1795575600, s.created_at)
    local again = envelope.parse(env:encode())
    assert.are.equal(env:encode(), again:encode())
    assert.is_true(key:verify("ED25519", again.signatures[1]:payload(), again.signatures[1].signature))
  end)

  it("refuses unknown fields, at the top and in a signature", function()
    refused(doc({entry()}, {extra = 1}), "^extra$")
    refused(doc({entry({comment = "hi"})}), "comment")
  end)

  it("refuses wrong types and missing fields", function()
    refused(doc({entry({signer = 5})}), "signer")
    refused(doc({entry({metadata = json.array({1})})}), "metadata")
    refused(doc({entry({signature = 5})}), "signature")
    local t = entry()
    t.expires = nil
    refused(doc({t}), "expires")
    refused('{"format":"truthound-signature/1","signatures":{}}', "signatures")
    refused('{"format":"truthound-signature/2","signatures":[]}', "format")
    refused('{"format":"truthound-signature/1","signatures":[]}', "signatures")
    refused('[]')
    refused('{"format":"truthound-signature/1","signatures":[5]}', "signatures%[1%]")
  end)

  it("refuses two signatures by one key", function()
    local e = refused(doc({entry(), entry({signer = "acme2"})}), "signatures%[2%]%.key_id")
    assert.matches("same key", e.message)
  end)

  it("refuses signature bytes that are not canonical base64 or the wrong length", function()
    refused(doc({entry({signature = good_sig:gsub("==$", "")})}), "signature")       -- unpadded
    refused(doc({entry({signature = good_sig:sub(1, -4) .. "R=="})}), "signature")   -- trailing bits set
    refused(doc({entry({signature = good_sig .. "\n"})}), "signature")
    refused(doc({entry({signature = crypto.base64(("x"):rep(63))})}), "signature")
    refused(doc({entry({signature = ""})}), "signature")
  end)

  it("refuses certificates on HMAC and digest signatures, and bad ones anywhere", function()
    local hmac = entry({algorithm = "HMAC_SHA256", key_id = "hmac:0123456789abcdef0123456789abcdef",
                        signature = crypto.base64(("x"):rep(32)), certificates = json.array({crypto.base64("x")})})
    refused(doc({hmac}), "certificates")
    refused(doc({entry({certificates = json.array()})}), "certificates")
    refused(doc({entry({certificates = json.array({"!!"})})}), "certificates%[1%]")
    refused(doc({entry({certificates = json.array({"a", "b", "c", "d", "e"})})}), "certificates")
  end)

  it("refuses oversized envelopes and too many signatures", function()
    refused(doc({entry({metadata = {pad = ("x"):rep(300000)}})}))
    local many = {}
    for i = 1, 17 do
      many[i] = entry({key_id = ("sha256:%064x"):format(i)})
    end
    refused(doc(many), "signatures")
  end)

  it("never raises anything but InvalidSignatureError on mangled envelopes", function()
    local text = doc({entry(), entry({key_id = ("sha256:%064x"):format(9), signer = "other"})})
    math.randomseed(11)
    for _ = 1, 1500 do
      local b = {text:byte(1, -1)}
      for _ = 1, math.random(1, 4) do
        local i = math.random(#b)
        local op = math.random(3)
        if op == 1 then b[i] = math.random(0, 255)
        elseif op == 2 then table.remove(b, i)
        else table.insert(b, i, b[math.random(#b)]) end
      end
      local ok, e = pcall(envelope.parse, string.char(table.unpack(b)))
      if not ok then assert.is_true(errors.is(e, "InvalidSignatureError"), tostring(e)) end
    end
  end)

  it("reads plugin.sig as a regular file only", function()
    local dir, root = plugin()
    local e = raised(envelope.read, dir)
    assert.is_true(errors.is(e, "SignatureError"))
    assert.are.equal("unsigned", e.reason)
    os.execute("ln -s /dev/zero '" .. dir .. "/plugin.sig'")
    e = raised(envelope.read, dir)
    assert.is_true(errors.is(e, "InvalidSignatureError"))
    assert.matches("symbolic link", e.message)
    rm(root)
  end)
end)

---------------------------------------------------------------------------

describe("SigningService", function()
  local ed = crypto.generate("ed25519")
  local rsa = crypto.generate("rsa", 2048)
  local secret = crypto.random(32)

  local KEYS = {
    ED25519 = {ed, ed:public_pem()},
    RSA_SHA256 = {rsa, rsa:public_pem()},
    RSA_PSS_SHA256 = {rsa:private_pem(), rsa},
    HMAC_SHA256 = {secret},
    HMAC_SHA512 = {crypto.random(64)},
    SHA256 = {},
    SHA512 = {},
  }

  for _, alg in ipairs(signing.SignatureAlgorithm.list()) do
    it("signs and verifies with " .. alg, function()
      local dir, root = plugin()
      local k = KEYS[alg]
      local svc = signing.SigningService.new{algorithm = alg:lower(), signer_id = "acme", validity_days = 30}
      local sig = svc:sign{plugin_path = dir, private_key = k[1], metadata = {build = 3}}
      assert.are.equal(alg, sig.algorithm)
      assert.are.equal("hello", sig.plugin_id)
      assert.are.equal("1.0.0", sig.plugin_version)
      assert.are.equal(30 * 86400, sig.expires_at - sig.created_at)
      local info = envelope.ALGORITHMS[alg]
      local r = svc:verify{plugin_path = dir, signature = sig,
                           public_key = info.kind == "public" and k[2] or nil,
                           hmac_key = info.kind == "hmac" and k[1] or nil}
      assert.is_true(r.is_valid, tostring(r))
      assert.are.equal("UNKNOWN", r.trust_level)
      assert.are.equal("acme", r.signer_id)
      if info.kind == "digest" then
        assert.matches("integrity only", table.concat(r.warnings, "\n"))
      end
      -- One changed byte anywhere in the tree fails it.
      write(dir .. "/lib/util.lua", "return 43\n")
      r = svc:verify{plugin_path = dir, signature = sig, public_key = k[2], hmac_key = k[1]}
      assert.is_false(r.is_valid)
      assert.is_true(errors.is(r.errors[1], "SignatureTamperError"))
      rm(root)
    end)
  end

  it("follows the key when no algorithm is given", function()
    local dir, root = plugin()
    local svc = signing.SigningService.new{signer_id = "acme"}
    assert.are.equal("ED25519", svc:sign{plugin_path = dir, private_key = ed}.algorithm)
    assert.are.equal("RSA_PSS_SHA256", svc:sign{plugin_path = dir, private_key = rsa}.algorithm)
    assert.are.equal("HMAC_SHA256", svc:sign{plugin_path = dir, private_key = secret}.algorithm)
    assert.are.equal(365 * 86400, svc:sign{plugin_path = dir, private_key = ed}.expires_at -
                                  svc:sign{plugin_path = dir, private_key = ed}.created_at)
    rm(root)
  end)

  it("refuses a key that does not fit the algorithm, with a typed error", function()
    local dir, root = plugin()
    local svc = signing.SigningService.new{algorithm = "RSA_SHA256", signer_id = "acme"}
    local e = raised(svc.sign, svc, {plugin_path = dir, private_key = ed})
    assert.is_true(errors.is(e, "InvalidSignatureError"))
    assert.matches("wrong algorithm for an ed25519 key", e.message)
    svc = signing.SigningService.new{algorithm = "HMAC_SHA256", signer_id = "acme"}
    e = raised(svc.sign, svc, {plugin_path = dir, private_key = ("k"):rep(31)})
    assert.is_true(errors.is(e, "UsageError"))
    svc = signing.SigningService.new{algorithm = "ED25519", signer_id = "acme"}
    e = raised(svc.sign, svc, {plugin_path = dir, private_key = ed:public_pem()})
    assert.is_true(errors.is(e, "UsageError"))
    assert.matches("public key", e.message)
    rm(root)
  end)

  it("verifies a signature whose algorithm does not fit the key as invalid, without crashing", function()
    local dir, root = plugin()
    local svc = signing.SigningService.new{algorithm = "ED25519", signer_id = "acme"}
    local sig = svc:sign{plugin_path = dir, private_key = ed}
    -- An attacker relabels it: same key id, an RSA algorithm and RSA-sized bytes.
    local forged = envelope.new_signature{plugin_id = sig.plugin_id, plugin_version = sig.plugin_version,
      tree_digest = sig.tree_digest, signer = sig.signer, key_id = sig.key_id, algorithm = "RSA_SHA256",
      created = sig.created, expires = sig.expires, metadata = {}, signature = ("\1"):rep(256)}
    local r = svc:verify{plugin_path = dir, signature = forged, public_key = ed}
    assert.is_false(r.is_valid)
    assert.is_true(errors.is(r.errors[1], "InvalidSignatureError"))
    assert.matches("wrong algorithm for an ed25519 key", r.errors[1].message)
    rm(root)
  end)

  it("rejects signatures by another key, or with any payload field edited", function()
    local dir, root = plugin()
    local svc = signing.SigningService.new{algorithm = "ED25519", signer_id = "acme"}
    local sig = svc:sign{plugin_path = dir, private_key = ed}
    local other = crypto.generate("ed25519")
    local r = svc:verify{plugin_path = dir, signature = sig, public_key = other}
    assert.is_false(r.is_valid)
    assert.is_true(errors.is(r.errors[1], "UntrustedSignerError"))
    for field, value in pairs{plugin_version = "1.0.1", signer = "mallory", expires = "2099-01-01T00:00:00Z",
                              metadata = {build = 4}} do
      local t = sig:to_table()
      t[field] = value
      t.signature = crypto.unbase64(t.signature)
      local edited = envelope.new_signature(t)
      r = svc:verify{plugin_path = dir, signature = edited, public_key = ed}
      assert.is_false(r.is_valid, field)
      assert.is_true(errors.is(r.errors[1], "InvalidSignatureError"), field)
    end
    rm(root)
  end)

  it("writes plugin.sig: adds signers, replaces by key, drops signatures of an older tree", function()
    local dir, root = plugin()
    local a = signing.SigningService.new{algorithm = "ED25519", signer_id = "alice"}
    local b = signing.SigningService.new{algorithm = "HMAC_SHA256", signer_id = "bob"}
    a:sign{plugin_path = dir, private_key = ed, write = true}
    b:sign{plugin_path = dir, private_key = secret, write = true}
    assert.are.equal(2, #envelope.read(dir).signatures)
    a:sign{plugin_path = dir, private_key = ed, write = true, metadata = {again = true}}
    local env = envelope.read(dir)
    assert.are.equal(2, #env.signatures)
    assert.are.same({again = true}, env.signatures[1].metadata)
    write(dir .. "/main.lua", "return {}\n")
    local _, count, dropped = signing.service.write(dir, a:sign{plugin_path = dir, private_key = ed})
    assert.are.equal(1, count)
    assert.are.equal(2, dropped)
    -- The file is deterministic text ending in LF.
    local text = read(dir .. "/plugin.sig")
    assert.are.equal("\n", text:sub(-1))
    assert.are.equal(text, envelope.parse(text):encode())
    rm(root)
  end)

  it("carries a certificate whose key must be the signing key", function()
    local dir, root = plugin()
    local cert = crypto.make_certificate{subject = "CN=acme", key = ed, days = 10}
    local svc = signing.SigningService.new{algorithm = "ED25519", signer_id = "acme"}
    local sig = svc:sign{plugin_path = dir, private_key = ed, certificate = cert:pem(), write = true}
    assert.are.equal(cert:der(), sig.certificates[1])
    assert.are.equal(cert:der(), envelope.read(dir).signatures[1].certificates[1])
    local other = crypto.make_certificate{subject = "CN=x", key = crypto.generate("ed25519"), days = 10}
    local e = raised(svc.sign, svc, {plugin_path = dir, private_key = ed, certificate = other})
    assert.is_true(errors.is(e, "UsageError"))
    -- Without a trust store, the certificate's key verifies but vouches for nothing.
    local r = svc:verify{plugin_path = dir}
    assert.is_true(r.is_valid)
    assert.are.equal("UNKNOWN", r.trust_level)
    assert.matches("nothing vouches", table.concat(r.warnings, "\n"))
    rm(root)
  end)

  it("refuses to sign a tree that cannot be hashed, naming the path", function()
    local dir, root = plugin()
    os.execute("ln -s /etc/passwd '" .. dir .. "/evil.lua'")
    local svc = signing.SigningService.new{algorithm = "SHA256", signer_id = "acme"}
    local e = raised(svc.sign, svc, {plugin_path = dir})
    assert.is_true(errors.is(e, "SignatureError"))
    assert.matches("evil.lua", e.message)
    rm(root)
  end)

  it("checks its options", function()
    assert.has_error(function() signing.SigningService.new{algorithm = "MD5", signer_id = "x"} end)
    assert.has_error(function() signing.SigningService.new{algorithm = "ED25519"} end)
    assert.has_error(function() signing.SigningService.new{signer_id = "x", validity_days = 0} end)
    assert.has_error(function() signing.SigningService.new{signer_id = "x", validity_days = 0 / 0} end)
  end)
end)
