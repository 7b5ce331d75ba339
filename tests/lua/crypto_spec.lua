-- core.crypto: primitives, keys, certificates and chains, attacked as well
-- as used. The standard vectors are in crypto_vectors_spec.lua.

local crypto = require("truthound.native").crypto
local errors = require("truthound.errors")

local KEYS = "tests/vectors/crypto/keys/"
local NOW = 1750000000          -- 2025-06-15T15:06:40Z: chains are checked at fixed times
local DAY = 86400

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function raised(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return e
end

-- A deterministic byte generator for the garbage tests (xorshift).
local function bytes_gen(seed)
  local x = seed
  return function(n)
    local t = {}
    for i = 1, n do
      x = x ~ (x << 13) & 0xffffffff
      x = x ~ (x >> 17)
      x = x ~ (x << 5) & 0xffffffff
      t[i] = string.char(x & 0xff)
    end
    return table.concat(t)
  end
end

-- s with the byte at i (1-based) replaced by b.
local function poke(s, i, b) return s:sub(1, i - 1) .. string.char(b) .. s:sub(i + 1) end

-- One RSA key for the whole file: generation is slow under the sanitizers.
local rsa = crypto.generate("rsa", 2048)
local ed = crypto.generate("ed25519")

describe("digest", function()
  it("gives SHA-256 and SHA-512 of FIPS 180-4's \"abc\" and of the empty string", function()
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                     crypto.hex(crypto.digest("sha256", "abc")))
    assert.are.equal("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                     .. "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
                     crypto.hex(crypto.digest("SHA512", "abc")))
    assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                     crypto.hex(crypto.digest("sha256", "")))
  end)

  it("hashes bytes, NUL included, and refuses unknown algorithms", function()
    assert.are_not.equal(crypto.digest("sha256", "a\0b"), crypto.digest("sha256", "a\0c"))
    assert.matches("unknown digest 'md5'", raised(crypto.digest, "md5", "x"), 1, true)
    assert.matches("string expected", raised(crypto.digest, "sha256", nil), 1, true)
  end)
end)

describe("hex and base64", function()
  local all = {}
  for i = 0, 255 do all[#all + 1] = string.char(i) end
  all = table.concat(all)

  it("round-trips every byte value", function()
    assert.are.equal(512, #crypto.hex(all))
    assert.are.equal(all, crypto.unhex(crypto.hex(all)))
    assert.are.equal(all, crypto.unbase64(crypto.base64(all)))
    assert.are.equal("00ff10", crypto.hex("\0\255\16"))
    assert.are.equal("\171\205", crypto.unhex("ABcd"))
  end)

  it("encodes RFC 4648 section 10's base64 examples", function()
    local cases = {[""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==",
                   fooba = "Zm9vYmE=", foobar = "Zm9vYmFy"}
    for plain, coded in pairs(cases) do
      assert.are.equal(coded, crypto.base64(plain))
      assert.are.equal(plain, crypto.unbase64(coded))
    end
  end)

  it("refuses hex that is not strictly hex, naming the position", function()
    local function bad(text, msg)
      local v, why = crypto.unhex(text)
      assert.is_nil(v, text)
      assert.are.equal(msg, why)
    end
    bad("abc", "invalid hex: odd length 3")
    bad("0g", "invalid hex: unexpected 'g' at position 2")
    bad("00 11", "invalid hex: unexpected ' ' at position 3")
    bad("0x00", "invalid hex: unexpected 'x' at position 2")
    bad("00\n", "invalid hex: unexpected 0x0a at position 3")
    bad("ab\0c", "invalid hex: unexpected 0x00 at position 3")
    assert.are.equal("", crypto.unhex(""))
  end)

  it("refuses base64 that is not in its one canonical form", function()
    local function bad(text, msg)
      local v, why = crypto.unbase64(text)
      assert.is_nil(v, text)
      if msg then assert.are.equal(msg, why) end
    end
    bad("Zg=", "invalid base64: length 3 is not a multiple of 4")
    bad("Zg", "invalid base64: length 2 is not a multiple of 4")
    bad("Zm9v\nYmFy")                                   -- line breaks
    bad("Zm9 vYmFy")
    bad("Zh==", "invalid base64: unexpected 'h' at position 2")   -- non-zero unused bits
    bad("Zm9=", "invalid base64: unexpected '9' at position 3")
    bad("Z===", "invalid base64: unexpected '=' at position 2")
    bad("====")
    bad("Zg==Zg==", "invalid base64: unexpected '=' at position 3")   -- padding inside
    bad("Zm-_", "invalid base64: unexpected '-' at position 3")       -- the URL alphabet
    bad("Zm9v\0\0\0\0")
  end)
end)

describe("equal", function()
  it("compares bytes, lengths first", function()
    assert.is_true(crypto.equal("", ""))
    assert.is_true(crypto.equal("abc\0", "abc\0"))
    assert.is_false(crypto.equal("abc\0", "abc\1"))
    assert.is_false(crypto.equal("abc", "abcd"))
    assert.is_false(crypto.equal("", "\0"))
    assert.matches("string expected", raised(crypto.equal, "a", nil), 1, true)
  end)
end)

describe("random", function()
  it("gives the bytes asked for, different every time", function()
    assert.are.equal("", crypto.random(0))
    assert.are.equal(32, #crypto.random(32))
    assert.are.equal(100000, #crypto.random(100000))
    assert.are_not.equal(crypto.random(32), crypto.random(32))
  end)

  it("refuses negative and huge counts", function()
    assert.matches("out of range", raised(crypto.random, -1), 1, true)
    assert.matches("out of range", raised(crypto.random, 1 << 40), 1, true)
  end)
end)

describe("hmac", function()
  local key = string.rep("k", 32)

  it("tags with a key of 32 bytes or more and verifies full tags only", function()
    local tag = crypto.hmac("sha256", key, "data")
    assert.are.equal(32, #tag)
    assert.are.equal(64, #crypto.hmac("sha512", key, "data"))
    assert.is_true(crypto.hmac_verify("sha256", key, "data", tag))
    assert.is_false(crypto.hmac_verify("sha256", key, "datA", tag))
    assert.is_false(crypto.hmac_verify("sha256", key, "data", tag:sub(1, 16)))     -- truncated
    assert.is_false(crypto.hmac_verify("sha256", key, "data", tag:sub(1, 31)))
    assert.is_false(crypto.hmac_verify("sha256", key, "data", tag .. "\0"))
    assert.is_false(crypto.hmac_verify("sha256", key, "data", ""))
    assert.is_false(crypto.hmac_verify("sha512", key, "data", tag))                 -- other digest
    assert.is_false(crypto.hmac_verify("sha256", key .. "x", "data", tag))
    local flipped = poke(tag, 32, tag:byte(32) ~ 0x80)
    assert.is_false(crypto.hmac_verify("sha256", key, "data", flipped))
  end)

  it("refuses keys below 32 bytes with InvalidSignatureError", function()
    for _, fn in ipairs{function() return crypto.hmac("sha256", string.rep("k", 31), "x") end,
                        function() return crypto.hmac_verify("sha512", "", "x", string.rep("\0", 64)) end} do
      local e = raised(fn)
      assert.is_true(errors.is(e, "InvalidSignatureError"))
      assert.matches("at least 32 bytes are required", e.message, 1, true)
      assert.are.equal("short HMAC key", e.reason)
    end
  end)

  it("lowers the minimum only when asked, for standard vectors", function()
    assert.are.equal(32, #crypto.hmac("sha256", "Jefe", "x", {min_key_bytes = 0}))
    assert.are.equal(32, #crypto.hmac("sha256", "", "", {min_key_bytes = 0}))
    assert.has_error(function() crypto.hmac("sha256", "Jefe", "x", {min_key_bytes = 5}) end)
    assert.matches("non-negative integer", raised(crypto.hmac, "sha256", key, "x", {min_key_bytes = -1}), 1, true)
  end)
end)

describe("keys", function()
  it("generates Ed25519 keys", function()
    assert.are.equal("ed25519", ed:type())
    assert.are.equal(256, ed:bits())
    assert.is_true(ed:is_private())
    assert.matches("^sha256:%x+$", ed:key_id())
    assert.are.equal(71, #ed:key_id())
    assert.are_not.equal(ed:key_id(), crypto.generate("ed25519"):key_id())
    assert.matches("^crypto.Key %(ed25519 256 bits, private%)", tostring(ed))
  end)

  it("generates RSA keys of 2048 bits and more, 3072 by default, and no smaller", function()
    assert.are.equal("rsa", rsa:type())
    assert.are.equal(2048, rsa:bits())
    assert.matches("2048 to 16384 bits, got 1024", raised(crypto.generate, "rsa", 1024), 1, true)
    assert.matches("2048 to 16384 bits, got 2047", raised(crypto.generate, "rsa", 2047), 1, true)
    assert.matches("unknown key kind 'dsa'", raised(crypto.generate, "dsa"), 1, true)
  end)

  it("signs and verifies with Ed25519", function()
    local sig = ed:sign("ED25519", "message")
    assert.are.equal(64, #sig)
    assert.are.equal(sig, ed:sign("ed25519", "message"))            -- deterministic; any case
    assert.is_true(ed:verify("ED25519", "message", sig))
    assert.is_true(ed:verify("ED25519", "", ed:sign("ED25519", "")))
    assert.is_false(ed:verify("ED25519", "messagE", sig))
    assert.is_false(ed:verify("ED25519", "message", poke(sig, 64, sig:byte(64) ~ 1)))
    assert.is_false(ed:verify("ED25519", "message", sig:sub(1, 63)))
    assert.is_false(ed:verify("ED25519", "message", sig .. "\0"))
    assert.is_false(ed:verify("ED25519", "message", ""))
    assert.is_false(ed:verify("ED25519", "message", string.rep("\0", 64)))
    assert.is_false(ed:verify("ED25519", "message", string.rep("\255", 64)))
    assert.is_false(crypto.generate("ed25519"):verify("ED25519", "message", sig))
  end)

  it("signs and verifies with RSA PKCS#1 v1.5 and PSS (salt 32, MGF1-SHA256)", function()
    local p1 = rsa:sign("RSA_SHA256", "message")
    local pss = rsa:sign("RSA_PSS_SHA256", "message")
    assert.are.equal(256, #p1)
    assert.are.equal(256, #pss)
    assert.are.equal(p1, rsa:sign("RSA_SHA256", "message"))          -- deterministic
    assert.are_not.equal(pss, rsa:sign("RSA_PSS_SHA256", "message"))  -- random salt
    assert.is_true(rsa:verify("RSA_SHA256", "message", p1))
    assert.is_true(rsa:verify("RSA_PSS_SHA256", "message", pss))
    assert.is_false(rsa:verify("RSA_SHA256", "message", pss))         -- padding modes do not mix
    assert.is_false(rsa:verify("RSA_PSS_SHA256", "message", p1))
    assert.is_false(rsa:verify("RSA_SHA256", "messagE", p1))
    assert.is_false(rsa:verify("RSA_PSS_SHA256", "messagE", pss))
    assert.is_false(rsa:verify("RSA_SHA256", "message", p1:sub(2)))
    assert.is_false(rsa:verify("RSA_SHA256", "message", "\0" .. p1))
    assert.is_false(rsa:verify("RSA_PSS_SHA256", "message", string.rep("\255", 256)))
    assert.is_false(rsa:verify("RSA_SHA256", "message", string.rep("\0", 256)))
  end)

  it("raises InvalidSignatureError for an algorithm that does not fit the key, never crashes", function()
    local cases = {{ed, "RSA_SHA256", "wrong algorithm for an ed25519 key: RSA_SHA256 (use ED25519)"},
                   {ed, "RSA_PSS_SHA256", "wrong algorithm for an ed25519 key: RSA_PSS_SHA256 (use ED25519)"},
                   {rsa, "ED25519", "wrong algorithm for an rsa key: ED25519 (use RSA_SHA256 or RSA_PSS_SHA256)"}}
    for _, c in ipairs(cases) do
      for _, call in ipairs{function() return c[1]:sign(c[2], "m") end,
                            function() return c[1]:verify(c[2], "m", string.rep("\0", 64)) end} do
        local e = raised(call)
        assert.is_true(errors.is(e, "InvalidSignatureError"))
        assert.is_true(errors.is(e, "SignatureError"))
        assert.are.equal(c[3], e.message)
        assert.are.equal("wrong algorithm", e.reason)
      end
    end
    for _, name in ipairs{"HMAC_SHA256", "SHA256", "", "ED25519 ", "RSA-SHA256"} do
      local e = raised(ed.verify, ed, name, "m", "s")
      assert.is_true(errors.is(e, "InvalidSignatureError"))
      assert.are.equal("unknown algorithm", e.reason)
    end
  end)

  it("exports PKCS#8 and SubjectPublicKeyInfo PEM that load back", function()
    for _, k in ipairs{ed, rsa} do
      local priv, pub = k:private_pem(), k:public_pem()
      assert.matches("^%-%-%-%-%-BEGIN PRIVATE KEY%-%-%-%-%-\n", priv)
      assert.matches("^%-%-%-%-%-BEGIN PUBLIC KEY%-%-%-%-%-\n", pub)
      local k2 = assert(crypto.load_key(priv))
      assert.is_true(k2:is_private())
      assert.are.equal(k:key_id(), k2:key_id())
      local p = assert(crypto.load_key(pub))
      assert.is_false(p:is_private())
      assert.are.equal(k:key_id(), p:key_id())
      assert.are.equal(pub, p:public_pem())
      -- {public = true} keeps only the public half of a private key.
      local half = assert(crypto.load_key(priv, {public = true}))
      assert.is_false(half:is_private())
      assert.are.equal(k:key_id(), half:key_id())
      assert.matches("this is a public key", raised(half.private_pem, half), 1, true)
      local e = raised(half.sign, half, k:type() == "rsa" and "RSA_SHA256" or "ED25519", "m")
      assert.is_true(errors.is(e, "SignatureError"))
      assert.are.equal("cannot sign with a public key: load the private key", e.message)
    end
  end)

  it("key_id is the SHA-256 of the DER SubjectPublicKeyInfo", function()
    local pub = ed:public_pem()
    local der = crypto.unbase64((pub:gsub("%-%-%-%-%-[^\n]*%-%-%-%-%-", ""):gsub("%s", "")))
    assert.are.equal(44, #der)
    assert.are.equal("sha256:" .. crypto.hex(crypto.digest("sha256", der)), ed:key_id())
  end)

  it("loads the openssl CLI's forms: PKCS#8, SPKI, RSA traditional and PKCS#1 public", function()
    local main = assert(crypto.load_key(read(KEYS .. "rsa2048.pem")))
    for _, f in ipairs{"rsa2048_traditional.pem", "rsa2048_public.pem", "rsa2048_pkcs1_public.pem"} do
      local k, why = crypto.load_key(read(KEYS .. f))
      assert.is_truthy(k, f .. ": " .. tostring(why))
      assert.are.equal(main:key_id(), k:key_id(), f)
      assert.are.equal(f == "rsa2048_traditional.pem", k:is_private(), f)
    end
    local k = assert(crypto.load_key(read(KEYS .. "ed25519.pem")))
    assert.are.equal("ed25519", k:type())
    assert.is_true(k:verify("ED25519", "x", k:sign("ED25519", "x")))
  end)

  it("refuses small RSA keys, other key types and encrypted keys, with a reason", function()
    local cases = {
      ["rsa1024.pem"] = "RSA key refused: 2048 to 16384 bits are accepted",
      ["ec_p256.pem"] = "unsupported key type (Ed25519 and RSA are supported)",
      ["ed448.pem"] = "unsupported key type (Ed25519 and RSA are supported)",
      ["rsa_pss2048.pem"] = "unsupported key type (Ed25519 and RSA are supported)",
      ["ed25519_encrypted.pem"] = "the private key is protected by a passphrase (not supported)",
      ["rsa2048_traditional_encrypted.pem"] = "the private key is protected by a passphrase (not supported)",
    }
    for file, msg in pairs(cases) do
      for _, opts in ipairs{{}, {public = true}} do
        local k, why = crypto.load_key(read(KEYS .. file), opts)
        assert.is_nil(k, file)
        assert.are.equal(msg, why, file)
      end
    end
  end)

  it("refuses what is not a PEM key, and never crashes on garbage", function()
    local NOT_PEM = "not a PEM key (expected PRIVATE KEY, PUBLIC KEY, RSA PRIVATE KEY or RSA PUBLIC KEY)"
    local pem = ed:private_pem()
    local der = crypto.unbase64((pem:gsub("%-%-%-%-%-[^\n]*%-%-%-%-%-", ""):gsub("%s", "")))
    local cert = crypto.make_certificate{subject = "CN=x", key = ed, not_before = NOW}
    for _, text in ipairs{"", "garbage", der, pem:sub(1, 40), pem:gsub("BEGIN PRIVATE", "BEGIN PUBLIC"),
                          cert:pem(), "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
                          string.rep("A", 100000)} do
      local k, why = crypto.load_key(text)
      assert.is_nil(k)
      assert.are.equal(NOT_PEM, why)
    end
    -- Every byte of the PEM flipped in turn, then random bytes: a key or
    -- nil and a message, nothing else.
    for i = 1, #pem do
      local k, why = crypto.load_key(poke(pem, i, pem:byte(i) ~ 0x55))
      assert.is_true(k ~= nil or type(why) == "string")
    end
    local gen = bytes_gen(42)
    for n = 1, 300 do
      local k, why = crypto.load_key(gen(n))
      assert.is_nil(k)
      assert.is_string(why)
      k, why = crypto.load_key("-----BEGIN PRIVATE KEY-----\n" .. crypto.base64(gen(n)) .. "\n-----END PRIVATE KEY-----\n")
      assert.is_nil(k)
      assert.is_string(why)
    end
  end)

  it("is closed by __close and close(), idempotently", function()
    local k2
    do
      local k <close> = crypto.generate("ed25519")
      k2 = k
      assert.is_true(k:is_private())
    end
    assert.matches("the key is closed", raised(k2.sign, k2, "ED25519", "x"), 1, true)
    assert.matches("closed", tostring(k2))
    k2:close()
    k2:close()
    assert.matches("crypto.Key expected", raised(ed.sign, {}, "ED25519", "x"), 1, true)
  end)
end)

describe("certificates", function()
  local root = crypto.make_certificate{subject = "CN=Test Root,O=truthound", key = rsa, ca = true,
                                       not_before = NOW - DAY, days = 3650, serial = 4096}

  it("makes a self-signed CA whose fields read back", function()
    assert.are.equal("CN=Test Root,O=truthound", root:subject())
    assert.are.equal("CN=Test Root,O=truthound", root:issuer())
    assert.are.equal(NOW - DAY, root:not_before())
    assert.are.equal(NOW - DAY + 3650 * DAY, root:not_after())
    assert.is_true(root:is_ca())
    local ku, present = root:key_usage()
    assert.are.same({"keyCertSign", "cRLSign"}, ku)
    assert.is_true(present)
    assert.are.equal("1000", root:serial())
    assert.are.equal(rsa:key_id(), root:public_key():key_id())
    assert.is_false(root:public_key():is_private())
  end)

  it("has one id for its PEM and DER forms: the SHA-256 of the DER", function()
    local from_pem = assert(crypto.load_certificate(root:pem()))
    local from_der = assert(crypto.load_certificate(root:der()))
    assert.are.equal(root:id(), from_pem:id())
    assert.are.equal(root:id(), from_der:id())
    assert.are.equal("sha256:" .. crypto.hex(crypto.digest("sha256", root:der())), root:id())
    assert.are.equal(root:der(), from_pem:der())
    assert.is_true(from_pem == from_der)
    assert.matches("^%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-\n", root:pem())
    -- Text around the PEM block, as `openssl x509 -text` writes, is ignored.
    assert.are.equal(root:id(), crypto.load_certificate("Certificate:\n  text\n" .. root:pem() .. "trailer\n"):id())
  end)

  it("makes leaves with the usages asked for, serials at random", function()
    local leaf = crypto.make_certificate{subject = "/CN=Leaf/O=Example", key = ed, issuer_cert = root,
                                         issuer_key = rsa, not_before = NOW, days = 30,
                                         key_usage = {"digitalSignature", "nonRepudiation"},
                                         extended_key_usage = {"codeSigning"}}
    assert.are.equal("CN=Leaf,O=Example", leaf:subject())
    assert.are.equal(root:subject(), leaf:issuer())
    assert.is_false(leaf:is_ca())
    assert.are.same({"digitalSignature", "nonRepudiation"}, leaf:key_usage())
    assert.matches("^%x+$", leaf:serial())
    local bare = crypto.make_certificate{subject = "CN=bare", key = ed, key_usage = false}
    local ku, present = bare:key_usage()
    assert.are.same({}, ku)
    assert.is_false(present)
    local escaped = crypto.make_certificate{subject = "CN=a\\,b,O=é", key = ed}
    assert.are.equal("CN=a\\,b,O=é", escaped:subject())
  end)

  it("refuses bad specifications with a message", function()
    assert.matches("bad subject: expected FIELD=value", raised(crypto.make_certificate, {subject = "nonsense", key = ed}), 1, true)
    assert.matches("bad subject: unknown name field", raised(crypto.make_certificate, {subject = "XX=1", key = ed}), 1, true)
    assert.matches("bad subject: the subject is empty", raised(crypto.make_certificate, {subject = "", key = ed}), 1, true)
    assert.matches("unknown key usage 'signing'", raised(crypto.make_certificate, {subject = "CN=x", key = ed, key_usage = {"signing"}}), 1, true)
    assert.matches("bad extended key usage", raised(crypto.make_certificate, {subject = "CN=x", key = ed, extended_key_usage = {"code,critical"}}), 1, true)
    assert.matches("issuer_cert needs issuer_key", raised(crypto.make_certificate, {subject = "CN=x", key = ed, issuer_cert = root}), 1, true)
    assert.matches("a public key cannot sign", raised(crypto.make_certificate,
      {subject = "CN=x", key = ed, issuer_cert = root, issuer_key = root:public_key()}), 1, true)
    assert.matches("crypto.Key expected", raised(crypto.make_certificate, {subject = "CN=x"}), 1, true)
  end)

  it("refuses what is not one certificate, and never crashes on garbage", function()
    local MSG = "not a certificate (expected PEM \"CERTIFICATE\" text or DER bytes)"
    local der = root:der()
    for _, data in ipairs{"", "x", der:sub(1, -2), der .. "\0", ed:public_pem(), "\48", "\48\130\255\255"} do
      local c, why = crypto.load_certificate(data)
      assert.is_nil(c)
      assert.are.equal(MSG, why)
    end
    -- Every byte of the DER changed in turn: nil and a message, or a
    -- certificate that no longer chains (the signature covers it all).
    for i = 1, #der, 3 do
      local c = crypto.load_certificate(poke(der, i, der:byte(i) ~ 0x01))
      if c then
        local ok = crypto.verify_chain(c, {trusted = {root}, at = NOW})
        if ok then assert.are.equal(root:id(), c:id()) end
      end
    end
    local gen = bytes_gen(7)
    for n = 1, 200 do
      assert.is_nil(crypto.load_certificate("\48" .. gen(n)))
      assert.is_nil(crypto.load_certificate("-----BEGIN CERTIFICATE-----\n" .. crypto.base64(gen(n)) .. "\n-----END CERTIFICATE-----\n"))
    end
  end)
end)

describe("verify_chain", function()
  -- root (RSA) -> intermediate (Ed25519) -> leaf (Ed25519), each valid
  -- around NOW, and one broken variant per case.
  local root_key, int_key, leaf_key = rsa, crypto.generate("ed25519"), ed
  local function cert(spec)
    spec.not_before = spec.not_before or NOW - DAY
    return crypto.make_certificate(spec)
  end
  local root = cert{subject = "CN=Root", key = root_key, ca = true, days = 3650}
  local int = cert{subject = "CN=Intermediate", key = int_key, issuer_cert = root, issuer_key = root_key,
                   ca = true, days = 1000}
  local leaf = cert{subject = "CN=Signer", key = leaf_key, issuer_cert = int, issuer_key = int_key, days = 100}

  local function check(leaf_cert, opts)
    opts.at = opts.at or NOW
    return crypto.verify_chain(leaf_cert, opts)
  end

  it("accepts a valid chain and returns its ids, leaf to root", function()
    local ok, ids = check(leaf, {trusted = {root}, untrusted = {int}})
    assert.is_true(ok)
    assert.are.same({leaf:id(), int:id(), root:id()}, ids)
    ok, ids = check(leaf, {trusted = {root}, untrusted = {int}, purpose = "code_signing"})
    assert.is_true(ok, ids)
    -- Without `at`, the check is at the current time.
    local fresh = crypto.make_certificate{subject = "CN=Now", key = leaf_key, issuer_cert = root,
                                          issuer_key = root_key, not_before = os.time() - 60, days = 1}
    local stale = crypto.make_certificate{subject = "CN=Then", key = leaf_key, issuer_cert = root,
                                          issuer_key = root_key, not_before = os.time() - 3 * DAY, days = 1}
    assert.is_true((crypto.verify_chain(fresh, {trusted = {root}})))
    local _, _, info = crypto.verify_chain(stale, {trusted = {root}})
    assert.are.equal("expired", info.code)
  end)

  it("fails an expired leaf", function()
    local ok, why, info = check(leaf, {trusted = {root}, untrusted = {int}, at = NOW + 100 * DAY})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=Signer" (leaf, depth 0) has expired: not valid after '
                     .. "2025-09-22T15:06:40Z (checked at 2025-09-23T15:06:40Z)", why)
    assert.are.same({code = "expired", depth = 0, subject = "CN=Signer", certificate = leaf:id()}, info)
  end)

  it("fails a leaf that is not yet valid", function()
    local early = cert{subject = "CN=Early", key = leaf_key, issuer_cert = int, issuer_key = int_key,
                       not_before = NOW + DAY, days = 10}
    local ok, why, info = check(early, {trusted = {root}, untrusted = {int}})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=Early" (leaf, depth 0) is not yet valid: not valid before '
                     .. "2025-06-16T15:06:40Z (checked at 2025-06-15T15:06:40Z)", why)
    assert.are.equal("not_yet_valid", info.code)
  end)

  it("fails a chain through a revoked intermediate, whichever way the ids are given", function()
    for _, revoked in ipairs{{[int:id()] = true}, {int:id()}, {[int:id()] = true, [root:id()] = false}} do
      local ok, why, info = check(leaf, {trusted = {root}, untrusted = {int}, revoked = revoked})
      assert.is_false(ok)
      assert.are.equal('certificate "CN=Intermediate" (intermediate, depth 1) is revoked (' .. int:id() .. ")", why)
      assert.are.same({code = "revoked", depth = 1, subject = "CN=Intermediate", certificate = int:id()}, info)
    end
    -- Revoking the leaf, or the root itself, fails too; revoking an
    -- unrelated certificate does not.
    assert.is_false((check(leaf, {trusted = {root}, untrusted = {int}, revoked = {[leaf:id()] = true}})))
    assert.is_false((check(leaf, {trusted = {root}, untrusted = {int}, revoked = {[root:id()] = true}})))
    local other = cert{subject = "CN=Other", key = leaf_key}
    assert.is_true((check(leaf, {trusted = {root}, untrusted = {int}, revoked = {[other:id()] = true}})))
  end)

  it("refuses revocation entries that are not certificate ids (fail closed)", function()
    for _, revoked in ipairs{{["sha256:00"] = true}, {"CN=Intermediate"}, {[int:id():upper()] = true}, {true}} do
      assert.matches("not a certificate id", raised(check, leaf, {trusted = {root}, untrusted = {int}, revoked = revoked}),
                     1, true)
    end
  end)

  it("fails a chain to a root that is not trusted", function()
    local ok, why, info = check(leaf, {trusted = {}, untrusted = {int, root}})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=Root" (root, depth 2) is self-signed but not trusted: untrusted root', why)
    assert.are.equal("untrusted", info.code)
    ok, why = check(leaf, {untrusted = {int}})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=Intermediate" (intermediate, depth 1) was issued by "CN=Root", '
                     .. "which is neither trusted nor given: untrusted root", why)
    -- A different root with the same name does not stand in for it.
    local impostor = cert{subject = "CN=Root", key = crypto.generate("ed25519"), ca = true, days = 3650}
    ok, why, info = check(leaf, {trusted = {impostor}, untrusted = {int}})
    assert.is_false(ok)
    assert.is_truthy(info.code == "untrusted" or info.code == "bad_signature", why)
  end)

  it("fails an intermediate without the CA bit", function()
    local not_ca = cert{subject = "CN=Not A CA", key = int_key, issuer_cert = root, issuer_key = root_key,
                        ca = false, key_usage = {"digitalSignature", "keyCertSign"}}
    local below = cert{subject = "CN=Signer", key = leaf_key, issuer_cert = not_ca, issuer_key = int_key}
    local ok, why, info = check(below, {trusted = {root}, untrusted = {not_ca}})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=Not A CA" (intermediate, depth 1) is not a CA (basicConstraints '
                     .. "CA:TRUE missing) but issued the certificate below it", why)
    assert.are.equal("not_ca", info.code)
  end)

  it("fails an intermediate CA whose key usage lacks keyCertSign", function()
    local no_sign = cert{subject = "CN=No CertSign", key = int_key, issuer_cert = root, issuer_key = root_key,
                         ca = true, key_usage = {"digitalSignature", "cRLSign"}}
    local below = cert{subject = "CN=Signer", key = leaf_key, issuer_cert = no_sign, issuer_key = int_key}
    local ok, why, info = check(below, {trusted = {root}, untrusted = {no_sign}})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=No CertSign" (intermediate, depth 1) issued the certificate below it, '
                     .. "but its key usage lacks keyCertSign", why)
    assert.are.equal("key_usage", info.code)
  end)

  it("fails a chain with a key below security level 2 (RSA 1024)", function()
    local weak = assert(crypto.load_certificate(read(KEYS .. "rsa1024_self_signed.crt")))
    assert.is_nil((weak:public_key()))
    local ok, why, info = crypto.verify_chain(weak, {trusted = {weak}, at = weak:not_before() + 60})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=Weak RSA 1024" (leaf, depth 0) is too weak: EE certificate key too weak', why)
    assert.are.equal("weak", info.code)
  end)

  it("fails a leaf whose key usage lacks digitalSignature", function()
    local enc = cert{subject = "CN=Encipher", key = leaf_key, issuer_cert = int, issuer_key = int_key,
                     key_usage = {"keyEncipherment"}}
    local ok, why, info = check(enc, {trusted = {root}, untrusted = {int}})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=Encipher" (leaf, depth 0) signs, but its key usage lacks digitalSignature', why)
    assert.are.same({code = "key_usage", depth = 0, subject = "CN=Encipher", certificate = enc:id()}, info)
  end)

  it("for code signing, requires key usage and an extended key usage allowing it", function()
    local none = cert{subject = "CN=No Usage", key = leaf_key, issuer_cert = int, issuer_key = int_key, key_usage = false}
    assert.is_true((check(none, {trusted = {root}, untrusted = {int}})))
    local ok, why = check(none, {trusted = {root}, untrusted = {int}, purpose = "code_signing"})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=No Usage" (leaf, depth 0) signs code, but has no key usage extension '
                     .. "(digitalSignature is required)", why)
    local server = cert{subject = "CN=Server", key = leaf_key, issuer_cert = int, issuer_key = int_key,
                        extended_key_usage = {"serverAuth"}}
    local info
    ok, why, info = check(server, {trusted = {root}, untrusted = {int}, purpose = "code_signing"})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=Server" (leaf, depth 0) has an extended key usage without codeSigning', why)
    assert.are.equal("purpose", info.code)
    local signer = cert{subject = "CN=Code", key = leaf_key, issuer_cert = int, issuer_key = int_key,
                        extended_key_usage = {"codeSigning"}}
    assert.is_true((check(signer, {trusted = {root}, untrusted = {int}, purpose = "code_signing"})))
    assert.matches("unknown purpose 'tls'", raised(check, leaf, {trusted = {root}, purpose = "tls"}), 1, true)
  end)

  it("accepts a self-signed leaf trusted directly, and only then", function()
    local self = cert{subject = "CN=Self Signed", key = leaf_key, days = 30}
    local ok, ids = check(self, {trusted = {self}})
    assert.is_true(ok)
    assert.are.same({self:id()}, ids)
    local why, info
    ok, why, info = check(self, {trusted = {root}})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=Self Signed" (leaf, depth 0) is self-signed but not trusted: untrusted root', why)
    assert.are.equal("untrusted", info.code)
    ok, why = check(self, {trusted = {self}, revoked = {[self:id()] = true}})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=Self Signed" (leaf, depth 0) is revoked (' .. self:id() .. ")", why)
  end)

  it("fails a certificate signed by a key that is not its issuer's", function()
    local forged = cert{subject = "CN=Forged", key = leaf_key, issuer_cert = int, issuer_key = leaf_key}
    local ok, why, info = check(forged, {trusted = {root}, untrusted = {int}})
    assert.is_false(ok)
    assert.are.equal('certificate "CN=Forged" (leaf, depth 0) has a signature that does not verify with its issuer\'s key', why)
    assert.are.equal("bad_signature", info.code)
  end)

  it("trusts a trusted intermediate as an anchor", function()
    local ok, ids = check(leaf, {trusted = {int}})
    assert.is_true(ok)
    assert.are.same({leaf:id(), int:id()}, ids)
  end)

  it("checks its arguments", function()
    assert.matches("trusted[1] is not a certificate", raised(check, leaf, {trusted = {"x"}}), 1, true)
    assert.matches("untrusted must be a list", raised(check, leaf, {untrusted = 5}), 1, true)
    assert.matches("at must be an integer", raised(crypto.verify_chain, leaf, {at = 1.5}), 1, true)
    assert.matches("table expected", raised(crypto.verify_chain, leaf), 1, true)
  end)
end)

describe("create_file", function()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -m 700 " .. dir))
  teardown(function() os.execute("rm -rf " .. dir) end)

  it("creates a new file with the mode asked for (0600 by default)", function()
    assert.is_true(crypto.create_file(dir .. "/a", "secret\n"))
    assert.are.equal("secret\n", read(dir .. "/a"))
    local p = io.popen("stat -c %a " .. dir .. "/a")
    assert.are.equal("600", p:read("l"))
    p:close()
    assert.is_true(crypto.create_file(dir .. "/b", "x", tonumber("644", 8)))
  end)

  it("never overwrites, and does not follow a symbolic link", function()
    local ok, msg, errno = crypto.create_file(dir .. "/a", "other")
    assert.is_nil(ok)
    assert.are.equal("File exists", msg)
    assert.are.equal(17, errno)
    assert.are.equal("secret\n", read(dir .. "/a"))
    assert(os.execute("ln -s " .. dir .. "/target " .. dir .. "/link"))
    ok, msg = crypto.create_file(dir .. "/link", "x")
    assert.is_nil(ok)
    assert.is_nil(io.open(dir .. "/target"))
    ok, msg = crypto.create_file(dir .. "/missing/dir/file", "x")
    assert.is_nil(ok)
    assert.are.equal("No such file or directory", msg)
  end)
end)
