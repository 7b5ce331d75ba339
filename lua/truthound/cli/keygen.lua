-- tplua keygen: make a signing key (and optionally a self-signed
-- certificate) as files the openssl CLI reads too.
--
--   tplua keygen --algorithm ed25519|rsa|hmac --out NAME [--bits N]
--                [--self-signed SUBJECT [--days N] [--ca]]
--
-- ed25519 and rsa write NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub
-- (SubjectPublicKeyInfo PEM, mode 0644); with --self-signed also NAME.crt.
-- hmac writes NAME.key only: 32 random bytes as 64 lowercase hex digits and
-- a newline, mode 0600. Existing files are never overwritten: if any of the
-- names exists (even as a dangling link), nothing is written and the exit
-- status is 1. Files are created with O_EXCL and synced before the command
-- reports them.

local errors = require("truthound.errors")
local core = require("truthound.native")

local crypto = core.crypto
local PROGRAM = "tplua keygen"

local function usage_error(msg)
  errors.raise("UsageError", msg, {command = "keygen"})
end

local VALUE_OPTIONS = {["--algorithm"] = "algorithm", ["--out"] = "out", ["--bits"] = "bits",
                       ["--self-signed"] = "subject", ["--days"] = "days"}

-- Options as a table; "--opt value" and "--opt=value" both work.
local function parse(args)
  local o, i = {}, 1
  while i <= #args do
    local a = args[i]
    local name, value = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    if VALUE_OPTIONS[name] then
      if value == nil then
        i = i + 1
        value = args[i]
        if value == nil then usage_error(("option %s needs a value"):format(name)) end
      end
      if o[VALUE_OPTIONS[name]] ~= nil then usage_error(("option %s given twice"):format(name)) end
      o[VALUE_OPTIONS[name]] = value
    elseif name == "--ca" and value == nil then
      o.ca = true
    elseif a:sub(1, 1) == "-" then
      usage_error(("unknown option '%s'"):format(a))
    else
      usage_error(("unexpected argument '%s'"):format(a))
    end
    i = i + 1
  end
  return o
end

-- An integer option in [lo, hi].
local function integer(o, field, option, lo, hi)
  local v = o[field]
  if v == nil then return nil end
  local n = math.tointeger(tonumber(v))
  if not n or not v:match("^%d+$") or n < lo or n > hi then
    usage_error(("%s expects an integer from %d to %d, got '%s'"):format(option, lo, hi, v))
  end
  return n
end

local function check(o)
  if not o.algorithm then usage_error("--algorithm ed25519|rsa|hmac is required") end
  o.algorithm = o.algorithm:lower()
  if o.algorithm ~= "ed25519" and o.algorithm ~= "rsa" and o.algorithm ~= "hmac" then
    usage_error(("unknown algorithm '%s' (expected ed25519, rsa or hmac)"):format(o.algorithm))
  end
  if not o.out or o.out == "" then usage_error("--out NAME is required (writes NAME.key, ...)") end
  o.bits = integer(o, "bits", "--bits", 2048, 16384)
  if o.bits and o.algorithm ~= "rsa" then usage_error("--bits is for --algorithm rsa only") end
  o.days = integer(o, "days", "--days", 1, 36500)
  if o.subject and o.algorithm == "hmac" then
    usage_error("--self-signed needs a public key: use --algorithm ed25519 or rsa")
  end
  if o.days and not o.subject then usage_error("--days goes with --self-signed") end
  if o.ca and not o.subject then usage_error("--ca goes with --self-signed") end
end

-- The files to write, {path, data, mode, what} each, for a key made now.
local function outputs(o)
  if o.algorithm == "hmac" then
    return {{o.out .. ".key", crypto.hex(crypto.random(32)) .. "\n", tonumber("600", 8),
             "HMAC key, 32 random bytes as hex"}}
  end
  local key = crypto.generate(o.algorithm, o.bits)
  local files = {
    {o.out .. ".key", key:private_pem(), tonumber("600", 8),
     ("%s %d-bit private key, PKCS#8 PEM"):format(key:type(), key:bits())},
    {o.out .. ".pub", key:public_pem(), tonumber("644", 8), "public key " .. key:key_id()},
  }
  if o.subject then
    local ok, cert = pcall(crypto.make_certificate, {
      subject = o.subject, key = key, days = o.days or 365, ca = o.ca,
      key_usage = o.ca and {"digitalSignature", "keyCertSign", "cRLSign"} or {"digitalSignature"},
    })
    if not ok then usage_error(("--self-signed: %s"):format(tostring(cert):gsub("^make_certificate: ", ""))) end
    files[3] = {o.out .. ".crt", cert:pem(), tonumber("644", 8),
                ("self-signed certificate \"%s\" %s, valid until %s"):format(
                  cert:subject(), cert:id(), os.date("!%Y-%m-%dT%H:%M:%SZ", cert:not_after()))}
  end
  key:close()
  return files
end

local function run(args)
  local o = parse(args)
  check(o)
  -- Refuse before making anything: no name may exist, not even as a link.
  local names = {o.out .. ".key"}
  if o.algorithm ~= "hmac" then names[2] = o.out .. ".pub" end
  if o.subject then names[#names + 1] = o.out .. ".crt" end
  for _, path in ipairs(names) do
    if core.fs.kind(path) then
      io.stderr:write(("%s: %s exists; refusing to overwrite it\n"):format(PROGRAM, path))
      return 1
    end
  end
  local files = outputs(o)
  local written = {}
  for _, f in ipairs(files) do
    local ok, why = crypto.create_file(f[1], f[2], f[3])
    if not ok then
      for _, path in ipairs(written) do os.remove(path) end
      io.stderr:write(("%s: cannot create %s: %s\n"):format(PROGRAM, f[1], why))
      return 1
    end
    written[#written + 1] = f[1]
  end
  for _, f in ipairs(files) do io.stdout:write(("%s: %s\n"):format(f[1], f[4])) end
  return 0
end

return {
  name = "keygen",
  summary = "make a signing key (Ed25519, RSA or HMAC) and optionally a self-signed certificate",
  usage = "tplua keygen --algorithm ed25519|rsa|hmac --out NAME [--bits N] [--self-signed SUBJECT [--days N] [--ca]]",
  help = [[
--algorithm A       ed25519 (recommended), rsa, or hmac (a shared secret)
--out NAME          writes NAME.key (private, mode 0600) and NAME.pub; for hmac
                    only NAME.key, 32 random bytes as 64 hex digits
--bits N            RSA modulus size, 2048 to 16384 (default 3072)
--self-signed SUBJ  also write NAME.crt, an X.509 certificate of the key signed
                    by itself, e.g. --self-signed "CN=Release Signing,O=Example"
--days N            its validity from now (default 365)
--ca                make it a CA (keyCertSign) rather than a signer only

Keys are PEM (PKCS#8, SubjectPublicKeyInfo), as `openssl genpkey` writes them.
Nothing is overwritten: if a file exists, nothing is written and the exit
status is 1. See docs/crypto.md.]],
  run = run,
}
