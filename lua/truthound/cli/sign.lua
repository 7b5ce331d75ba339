-- tplua sign: sign a plugin directory, adding the signature to its
-- plugin.sig.
--
--   tplua sign DIR --key acme.key --signer acme [--cert acme.crt] [--expires 365d]
--   tplua sign DIR --key ci.key --signer ci              (an HMAC key from tplua keygen)
--   tplua sign DIR --algorithm sha256 --signer build     (integrity only, no key)
--
-- Exit 0 when signed; 2 on a usage error; 3 when the plugin cannot be
-- signed (a tree that cannot be hashed, a bad manifest, an unwritable
-- plugin.sig).

local errors = require("truthound.errors")
local signing = require("truthound.security.signing")
local envelope = require("truthound.security.signing.envelope")

local function usage_error(msg)
  errors.raise("UsageError", "sign: " .. msg, {command = "sign"})
end

local VALUE = {["--key"] = "key", ["--cert"] = "certs", ["--signer"] = "signer", ["--expires"] = "expires",
               ["--algorithm"] = "algorithm", ["--metadata"] = "metadata", ["--created"] = "created"}
local MULTI = {certs = true, metadata = true}

local function parse_args(args)
  local o = {certs = {}, metadata = {}}
  local i = 1
  while i <= #args do
    local a = args[i]
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    local field = VALUE[name or a]
    if field then
      local v = inline
      if v == nil then
        v = args[i + 1]
        if v == nil then usage_error((name or a) .. " needs a value") end
        i = i + 1
      end
      if MULTI[field] then o[field][#o[field] + 1] = v
      elseif o[field] ~= nil then usage_error((name or a) .. " given twice")
      else o[field] = v end
    elseif a == "--" then
      for j = i + 1, #args do o.dir = o.dir and usage_error("expected one plugin directory") or args[j] end
      break
    elseif a:sub(1, 1) == "-" then
      usage_error("unknown option '" .. a .. "'")
    elseif o.dir then
      usage_error("expected one plugin directory, got '" .. o.dir .. "' and '" .. a .. "'")
    else
      o.dir = a
    end
    i = i + 1
  end
  if not o.dir then usage_error("expected a plugin directory") end
  if not o.signer then usage_error("--signer ID is required (who signs)") end
  return o
end

local function read_file(path, what)
  local data, err = envelope.read_bytes(path, 1024 * 1024, what)
  if not data then usage_error(err) end
  return data
end

-- A key file: PEM (PKCS#8, SPKI, RSA traditional), or an HMAC secret in
-- hex as tplua keygen --algorithm hmac writes it.
local function read_key(path)
  local text = read_file(path, "the key file")
  local crypto = require("truthound.native").crypto
  if text:find("-----BEGIN", 1, true) then
    if text:find("ENCRYPTED", 1, true) then
      usage_error(path .. ": encrypted private keys are not supported; decrypt it with openssl pkey")
    end
    local key, err = crypto.load_key(text)
    if not key then usage_error(path .. ": not a key: " .. tostring(err)) end
    if not key:is_private() then usage_error(path .. ": a public key; signing needs the private key") end
    return key, "pem"
  end
  local hex = text:gsub("%s+", "")
  if hex:match("^%x+$") and #hex % 2 == 0 and #hex >= 2 * envelope.HMAC_MIN_KEY then
    return crypto.unhex(hex), "hmac"
  end
  usage_error(("%s: expected a PEM private key or an HMAC secret of at least %d bytes in hex")
              :format(path, envelope.HMAC_MIN_KEY))
end

local function validity_days(text)
  if text == nil then return nil end
  local n = tonumber(text)
  local seconds
  if n then seconds = n * 86400
  else
    local ok, s = pcall(require("truthound.units").parse_duration, text)
    seconds = ok and s or nil
  end
  if not seconds or seconds <= 0 then
    usage_error("--expires: expected a duration such as 365d or 90d, got '" .. text .. "'")
  end
  return seconds / 86400
end

local function run(args)
  local o = parse_args(args)
  local key, kind
  if o.key then key, kind = read_key(o.key) end
  local alg = o.algorithm
  if alg then
    local why
    alg, why = envelope.SignatureAlgorithm.parse(alg)
    if not alg then usage_error("--algorithm: " .. why) end
  end
  local info = alg and envelope.ALGORITHMS[alg]
  if info and info.kind == "digest" then
    if key then usage_error(("--algorithm %s is integrity only and takes no key"):format(alg)) end
  elseif not key then
    usage_error("--key FILE is required (or --algorithm sha256|sha512 for an integrity-only digest)")
  elseif kind == "hmac" and alg and info.kind ~= "hmac" then
    usage_error(("--algorithm %s needs a PEM key, but %s holds an HMAC secret"):format(alg, o.key))
  end
  local metadata = {}
  for _, kv in ipairs(o.metadata) do
    local k, v = kv:match("^([^=]+)=(.*)$")
    if not k then usage_error("--metadata: expected KEY=VALUE, got '" .. kv .. "'") end
    metadata[k] = v
  end
  local certs = {}
  for _, path in ipairs(o.certs) do certs[#certs + 1] = read_file(path, "the certificate file") end
  local created
  if o.created then
    created = envelope.parse_time(o.created)
    if not created then usage_error("--created: expected an RFC 3339 UTC time such as 2026-11-25T03:00:00Z") end
  end
  local ok, svc = pcall(signing.SigningService.new, {algorithm = alg, signer_id = o.signer,
                                                     validity_days = validity_days(o.expires)})
  if not ok then
    if errors.is(svc, "UsageError") then usage_error(tostring(svc.message):gsub("^SigningService%.new: ", "")) end
    error(svc, 0)
  end
  local sig = svc:sign{plugin_path = o.dir, private_key = key, certificate = certs[1],
                       certificates = {table.unpack(certs, 2)}, metadata = metadata, created = created}
  local path, count, dropped = signing.service.write(o.dir, sig)
  io.write(("signed %s %s as %s with %s (key %s), expires %s\n"):format(sig.plugin_id, sig.plugin_version,
    sig.signer, sig.algorithm, sig.key_id, sig.expires))
  local note = ""
  if dropped > 0 then
    note = (" (dropped %d signature%s of an older tree)"):format(dropped, dropped == 1 and "" or "s")
  elseif dropped < 0 then
    note = " (replaced an unreadable plugin.sig)"
  end
  io.write(("%s holds %d signature%s%s\n"):format(path, count, count == 1 and "" or "s", note))
  return 0
end

return {
  name = "sign",
  summary = "sign a plugin directory (adds to its plugin.sig)",
  usage = "tplua sign DIR --key FILE --signer ID [--cert FILE]... [--expires 365d] [--algorithm ALG] " ..
          "[--metadata K=V]... [--created TIME]",
  help = [[
Hashes the plugin tree, builds the canonical payload (docs/formats.md) and
signs it; the signature goes into DIR/plugin.sig, replacing one by the same
key. Signatures of an older tree or version are dropped.

  --key FILE        a PEM private key (Ed25519 or RSA; PKCS#8 or traditional)
                    or an HMAC secret in hex (tplua keygen --algorithm hmac)
  --signer ID       who signs: the name the trust store knows the key by
  --cert FILE       the signer's certificate (PEM or DER), then intermediates;
                    it travels in plugin.sig for the chain check
  --expires D       validity: 365d (default), 90d, or a number of days
  --algorithm ALG   ED25519, RSA_PSS_SHA256 (default for RSA), RSA_SHA256
                    (PKCS#1 v1.5), HMAC_SHA256 (default for HMAC), HMAC_SHA512,
                    or SHA256 / SHA512 (integrity only, no key: never trusted)
  --metadata K=V    a string field of the signed metadata (may repeat)
  --created TIME    the creation time (RFC 3339 UTC); default now

Exit status: 0 signed, 2 usage error, 3 the plugin could not be signed.]],
  run = run,
}
