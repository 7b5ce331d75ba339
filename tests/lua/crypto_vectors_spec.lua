-- Standard vectors through core.crypto: Wycheproof (Ed25519, RSA PKCS#1
-- v1.5 and PSS with SHA-256, HMAC-SHA-256/512), RFC 8032 section 7.1 and
-- RFC 4231. Every case must give its expected result; tests/vectors/crypto
-- says where each file comes from.
--
-- Wycheproof's "acceptable" results (cases a library may accept or reject)
-- are decided here, per flag, and documented in docs/crypto.md:
--   MissingNull (RSA PKCS#1: a DigestInfo without the NULL parameters)
--     -> rejected. There is one such case; OpenSSL 3 rejects it, and a
--        verifier that fails closed should.

local crypto = require("truthound.native").crypto
local cjson = require("cjson")

local DIR = "tests/vectors/crypto/"

local function read(path)
  local f = assert(io.open(DIR .. path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function unhex(s) return assert(crypto.unhex(s)) end

-- The decision for each Wycheproof result: must the case verify?
local ACCEPTABLE = {MissingNull = false}

local function expected(t)
  if t.result == "valid" then return true end
  if t.result == "invalid" then return false end
  assert(t.result == "acceptable", "unknown result " .. tostring(t.result))
  local want = true   -- accepted only if every flag's decision accepts it
  for _, flag in ipairs(t.flags) do
    local decided = ACCEPTABLE[flag]
    assert(decided ~= nil, ("acceptable case %d has flag %s, with no decision"):format(t.tcId, flag))
    if not decided then want = false end
  end
  return want
end

-- Run every signature case of a Wycheproof file; returns the number of
-- cases and the list of mismatches.
local function wycheproof_signatures(file, alg)
  local doc = cjson.decode(read("wycheproof/" .. file))
  local n, wrong = 0, {}
  for _, g in ipairs(doc.testGroups) do
    local key, why = crypto.load_key(g.publicKeyPem, {public = true})
    assert(key, why)
    assert(not key:is_private())
    for _, t in ipairs(g.tests) do
      n = n + 1
      local got = key:verify(alg, unhex(t.msg), unhex(t.sig))
      if got ~= expected(t) then
        wrong[#wrong + 1] = ("tcId %d (%s; %s): got %s"):format(math.tointeger(t.tcId), t.result,
                                                                  t.comment, tostring(got))
      end
    end
  end
  assert.are.equal(math.tointeger(doc.numberOfTests), n)
  return n, wrong
end

describe("Wycheproof", function()
  it("ed25519_test.json: all 151 EdDSA cases", function()
    local n, wrong = wycheproof_signatures("ed25519_test.json", "ED25519")
    assert.are.same({}, wrong)
    assert.are.equal(151, n)
  end)

  it("rsa_signature_2048_sha256_test.json: all 259 PKCS#1 v1.5 cases (MissingNull rejected)", function()
    local n, wrong = wycheproof_signatures("rsa_signature_2048_sha256_test.json", "RSA_SHA256")
    assert.are.same({}, wrong)
    assert.are.equal(259, n)
  end)

  it("rsa_pss_2048_sha256_mgf1_32_test.json: all 108 PSS cases", function()
    local n, wrong = wycheproof_signatures("rsa_pss_2048_sha256_mgf1_32_test.json", "RSA_PSS_SHA256")
    assert.are.same({}, wrong)
    assert.are.equal(108, n)
  end)

  -- HMAC vectors include truncated tags and 16-byte keys, both of which
  -- hmac_verify refuses by policy. So every case runs twice: through the
  -- primitive (hmac with the key minimum lowered to 0, the tag compared
  -- over its stated size with equal), which must give Wycheproof's result;
  -- and through hmac_verify, which must accept exactly the valid cases that
  -- have a full-length tag and a key of at least 32 bytes, and refuse the
  -- short keys with InvalidSignatureError.
  --   file, digest, tag size, accepted by hmac_verify, refused as short keys
  for _, spec in ipairs{{"hmac_sha256_test.json", "sha256", 32, 30, 6},
                        {"hmac_sha512_test.json", "sha512", 64, 33, 0}} do
    local file, alg, size, want_accepted, want_short = table.unpack(spec)
    it(file .. ": all 174 cases, and the policy of hmac_verify", function()
      local errors = require("truthound.errors")
      local doc = cjson.decode(read("wycheproof/" .. file))
      local n, wrong, accepted, short = 0, {}, 0, 0
      for _, g in ipairs(doc.testGroups) do
        local tagsize = math.tointeger(g.tagSize) // 8
        for _, t in ipairs(g.tests) do
          n = n + 1
          local key, msg, tag = unhex(t.key), unhex(t.msg), unhex(t.tag)
          local full = crypto.hmac(alg, key, msg, {min_key_bytes = 0})
          assert.are.equal(size, #full)
          local got = crypto.equal(full:sub(1, tagsize), tag)
          if got ~= expected(t) then
            wrong[#wrong + 1] = ("tcId %d (%s; %s)"):format(math.tointeger(t.tcId), t.result, t.comment)
          end
          local ok, verdict = pcall(crypto.hmac_verify, alg, key, msg, tag)
          if #key < 32 then
            assert.is_false(ok)
            assert.is_true(errors.is(verdict, "InvalidSignatureError"))
            short = short + 1
          else
            assert.is_true(ok, verdict)
            local want = t.result == "valid" and #tag == size
            if verdict ~= want then
              wrong[#wrong + 1] = ("hmac_verify tcId %d: got %s"):format(math.tointeger(t.tcId), tostring(verdict))
            end
            if verdict then accepted = accepted + 1 end
          end
        end
      end
      assert.are.same({}, wrong)
      assert.are.equal(174, n)
      -- Valid cases with a full tag and a key of 32 bytes or more; the
      -- SHA-256 file has six cases with 16-byte keys.
      assert.are.equal(want_accepted, accepted)
      assert.are.equal(want_short, short)
    end)
  end
end)

-- "Field = value" blocks separated by blank lines.
local function blocks(text)
  local list, cur = {}, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if line:match("^#") then
      -- comment
    elseif line:match("^%s*$") then
      cur = nil
    else
      local k, v = line:match("^([%w-]+) =%s?(.*)$")
      assert(k, "bad line: " .. line)
      if not cur then cur = {}; list[#list + 1] = cur end
      cur[k] = v
    end
  end
  return list
end

-- PEM from DER bytes.
local function pem(label, der)
  local b64 = crypto.base64(der)
  local lines = {}
  for i = 1, #b64, 64 do lines[#lines + 1] = b64:sub(i, i + 63) end
  return ("-----BEGIN %s-----\n%s\n-----END %s-----\n"):format(label, table.concat(lines, "\n"), label)
end

-- The fixed DER prefixes of an Ed25519 PKCS#8 private key and SPKI public
-- key (RFC 8410): the raw 32 bytes follow.
local PKCS8_ED25519 = unhex("302e020100300506032b657004220420")
local SPKI_ED25519 = unhex("302a300506032b6570032100")

describe("RFC 8032 section 7.1", function()
  local tests = blocks(read("rfc8032_ed25519.txt"))

  it("has the five Ed25519 tests", function()
    assert.are.equal(5, #tests)
  end)

  for _, t in ipairs(tests) do
    it(t.Test .. ": the key, the exact signature, and verification", function()
      local sk = crypto.load_key(pem("PRIVATE KEY", PKCS8_ED25519 .. unhex(t.SecretKey)))
      local pk = crypto.load_key(pem("PUBLIC KEY", SPKI_ED25519 .. unhex(t.PublicKey)))
      assert.is_truthy(sk)
      assert.is_truthy(pk)
      -- The public key derived from the seed is the RFC's.
      assert.are.equal(pk:key_id(), sk:key_id())
      assert.are.equal("sha256:" .. crypto.hex(crypto.digest("sha256", SPKI_ED25519 .. unhex(t.PublicKey))),
                       pk:key_id())
      local msg = unhex(t.Message)
      -- Ed25519 is deterministic: the signature is the RFC's, byte for byte.
      assert.are.equal(t.Signature, crypto.hex(sk:sign("ED25519", msg)))
      assert.is_true(pk:verify("ED25519", msg, unhex(t.Signature)))
      local bad = unhex(t.Signature)
      bad = string.char(bad:byte(1) ~ 1) .. bad:sub(2)
      assert.is_false(pk:verify("ED25519", msg, bad))
      assert.is_false(pk:verify("ED25519", msg .. "x", unhex(t.Signature)))
    end)
  end
end)

describe("RFC 4231 section 4", function()
  local cases = blocks(read("rfc4231_hmac.txt"))

  it("has test cases 1 to 7", function()
    assert.are.equal(7, #cases)
  end)

  for _, c in ipairs(cases) do
    it("test case " .. c.Case .. ": HMAC-SHA-256 and HMAC-SHA-512", function()
      local key, data = unhex(c.Key), unhex(c.Data)
      for alg, field in pairs{sha256 = "HMAC-SHA-256", sha512 = "HMAC-SHA-512"} do
        local tag = crypto.hmac(alg, key, data, {min_key_bytes = 0})
        local want = c[field]
        if c.Truncate then
          assert.are.equal(tonumber(c.Truncate) // 4, #want)
          assert.are.equal(want, crypto.hex(tag):sub(1, #want))
        else
          assert.are.equal(want, crypto.hex(tag))
        end
        -- Through the policy: keys below 32 bytes are refused, the
        -- 131-byte keys of cases 6 and 7 verify with the full tag only.
        if #key >= 32 then
          assert.is_true(crypto.hmac_verify(alg, key, data, tag))
          assert.is_false(crypto.hmac_verify(alg, key, data, tag:sub(1, 16)))
          assert.are.equal(tag, crypto.hmac(alg, key, data))
        else
          assert.has_error(function() crypto.hmac(alg, key, data) end)
        end
      end
    end)
  end
end)
