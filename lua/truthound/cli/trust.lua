-- tplua trust: manage a trust store.
--
--   tplua trust add acme.pub --signer acme --level trusted --store trust.json
--   tplua trust add root.crt --level trusted --store trust.json
--   tplua trust add ci.key --signer ci --store trust.json       (an HMAC secret)
--   tplua trust revoke sha256:... --reason "key compromised" --store trust.json
--   tplua trust level acme verified --store trust.json
--   tplua trust list --store trust.json
--   tplua trust show [ID] --store trust.json
--
-- --store defaults to $TPLUA_TRUST_STORE. Exit 0 on success; 1 when show
-- finds no such entry; 2 on a usage error; 3 when the store cannot be read
-- or written.

local errors = require("truthound.errors")
local signing = require("truthound.security.signing")
local envelope = require("truthound.security.signing.envelope")

local function usage_error(msg)
  errors.raise("UsageError", "trust: " .. msg, {command = "trust"})
end

local VALUE = {["--store"] = "store", ["--signer"] = "signer", ["--level"] = "level", ["--reason"] = "reason"}

local function parse_args(args)
  local o = {words = {}}
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
      if o[field] ~= nil then usage_error((name or a) .. " given twice") end
      o[field] = v
    elseif a == "--json" then o.json = true
    elseif a == "--" then
      for j = i + 1, #args do o.words[#o.words + 1] = args[j] end
      break
    elseif a:sub(1, 1) == "-" then
      usage_error("unknown option '" .. a .. "'")
    else
      o.words[#o.words + 1] = a
    end
    i = i + 1
  end
  o.store = o.store or os.getenv("TPLUA_TRUST_STORE")
  if not o.store or o.store == "" then usage_error("--store FILE is required (or set TPLUA_TRUST_STORE)") end
  return o
end

local function clean(s)
  return (tostring(s):gsub("%c", function(c) return ("\\x%02x"):format(c:byte()) end))
end

local function expect_words(o, n, what)
  if #o.words ~= n then usage_error(what) end
end

local function level_of(o, default)
  if o.level == nil then return default end
  local lv, why = signing.TrustLevel.parse(o.level)
  if not lv then usage_error("--level: " .. why) end
  return lv
end

local sub = {}

-- add FILE: a certificate (PEM or DER), a public or private key (PEM; only
-- the public half is kept), or an HMAC secret in hex.
function sub.add(o)
  expect_words(o, 2, "add: expected one key or certificate file")
  local path = o.words[2]
  local data, err = envelope.read_bytes(path, 1024 * 1024, "the key or certificate file")
  if not data then usage_error(err) end
  local crypto = require("truthound.native").crypto
  local level = level_of(o, "TRUSTED")
  if level == "REVOKED" then usage_error("add: to revoke, use 'tplua trust revoke ID'") end
  local store = signing.TrustStore.new{persist_path = o.store}
  local kind, id
  local cert = (data:find("BEGIN CERTIFICATE", 1, true) or not data:find("-----BEGIN", 1, true))
               and crypto.load_certificate(data)
  if cert then
    kind = "certificate"
    id = store:add_trusted_certificate(cert, level, o.signer and {signer = o.signer} or nil)
  elseif data:find("-----BEGIN", 1, true) then
    local key, kerr = crypto.load_key(data, {public = true})
    if not key then key, kerr = crypto.load_key(data) end
    if not key then usage_error(path .. ": neither a certificate nor a key: " .. tostring(kerr)) end
    if not o.signer then usage_error("add: --signer ID is required for a key") end
    kind = "key"
    id = store:add_trusted_key(key, o.signer, level)
  else
    local hex = data:gsub("%s+", "")
    if not (hex:match("^%x+$") and #hex % 2 == 0 and #hex >= 2 * envelope.HMAC_MIN_KEY) then
      usage_error(("%s: expected a certificate, a PEM key or an HMAC secret of at least %d bytes in hex")
                  :format(path, envelope.HMAC_MIN_KEY))
    end
    if not o.signer then usage_error("add: --signer ID is required for an HMAC key") end
    kind = "HMAC key"
    id = store:add_hmac_key(crypto.unhex(hex), o.signer, level)
  end
  local e = store:get(id)
  io.write(("added %s %s%s as %s to %s\n"):format(kind, id, e.signer and (" for signer " .. clean(e.signer)) or
           (e.subject and (" (" .. clean(e.subject) .. ")") or ""), level, o.store))
  return 0
end

function sub.revoke(o)
  expect_words(o, 2, "revoke: expected one id (a certificate or key id, or a signer)")
  if not o.reason then usage_error("revoke: --reason TEXT is required") end
  local store = signing.TrustStore.new{persist_path = o.store}
  local id = o.words[2]
  store:revoke_certificate(id, o.reason)
  io.write(("revoked %s (%s) in %s\n"):format(clean(id), clean(o.reason), o.store))
  return 0
end

function sub.level(o)
  expect_words(o, 3, "level: expected SIGNER LEVEL")
  local lv, why = signing.TrustLevel.parse(o.words[3])
  if not lv then usage_error("level: " .. why) end
  local store = signing.TrustStore.new{persist_path = o.store}
  store:set_signer_level(o.words[2], lv)
  io.write(("signer %s is %s in %s\n"):format(clean(o.words[2]), lv, o.store))
  return 0
end

local function summary(e)
  if e.kind == "version" then
    return ("version\t%s\t%s"):format(clean(e.id), e.version)
  end
  local parts = {e.kind, clean(e.id), e.level}
  if e.signer then parts[#parts + 1] = "signer=" .. clean(e.signer) end
  if e.subject then parts[#parts + 1] = "subject=" .. clean(e.subject) end
  if e.key_type then parts[#parts + 1] = "type=" .. e.key_type end
  if e.revoked then parts[#parts + 1] = ("revoked=%s (%s)"):format(e.revoked.time, clean(e.revoked.reason)) end
  return table.concat(parts, "\t")
end

function sub.list(o)
  expect_words(o, 1, "list: takes no argument")
  local store = signing.TrustStore.load(o.store)
  for _, e in ipairs(store:list()) do io.write(summary(e), "\n") end
  return 0
end

local FIELDS = {"kind", "id", "level", "signer", "subject", "key_type", "added", "version"}

local function detail(e)
  local out = {}
  for _, f in ipairs(FIELDS) do
    if e[f] ~= nil then out[#out + 1] = ("%s: %s"):format(f, clean(e[f])) end
  end
  if e.revoked then out[#out + 1] = ("revoked: %s (%s)"):format(e.revoked.time, clean(e.revoked.reason)) end
  if e.metadata then
    out[#out + 1] = "metadata: " .. clean(require("truthound.security.signing.json").encode(e.metadata))
  end
  if e.pem then out[#out + 1] = e.pem:gsub("\n$", "") end
  return table.concat(out, "\n") .. "\n"
end

function sub.show(o)
  if #o.words > 2 then usage_error("show: expected at most one id") end
  local store = signing.TrustStore.load(o.store)
  if o.words[2] then
    local e = store:get(o.words[2])
    if not e then
      io.stderr:write(("tplua trust: %s: no such entry in %s\n"):format(clean(o.words[2]), o.store))
      return 1
    end
    io.write(detail(e))
    return 0
  end
  for i, e in ipairs(store:list()) do
    if i > 1 then io.write("\n") end
    io.write(detail(e))
  end
  return 0
end

local function run(args)
  local o = parse_args(args)
  local verb = o.words[1]
  if not verb then usage_error("expected add, revoke, level, list or show") end
  local fn = sub[verb]
  if not fn then usage_error(("unknown subcommand '%s'; expected add, revoke, level, list or show"):format(clean(verb))) end
  return fn(o)
end

return {
  name = "trust",
  summary = "manage a trust store: add keys and certificates, revoke, list",
  usage = "tplua trust add KEY_OR_CERT [--signer ID] [--level trusted|verified|unknown] --store FILE\n" ..
          "       tplua trust revoke ID --reason TEXT --store FILE\n" ..
          "       tplua trust level SIGNER LEVEL --store FILE\n" ..
          "       tplua trust list --store FILE\n" ..
          "       tplua trust show [ID] --store FILE",
  help = [[
add     a certificate (PEM or DER: a trust anchor; --signer optional), a
        public key (PEM SPKI; a private key's public half; --signer
        required) or an HMAC secret in hex (--signer required). --level
        defaults to trusted. The store is created when missing (mode 0600).
revoke  a certificate id, key id (sha256:..., hmac:...) or signer; a
        revoked certificate or key can never be added again.
level   set a signer's own level; it caps every key of the signer.
list    one line per entry: kind, id, level, then details, tab-separated.
show    every field of one entry (with its PEM), or of all.

--store defaults to $TPLUA_TRUST_STORE. Exit status: 0 ok, 1 show found no
such entry, 2 usage error, 3 the store could not be read or written.]],
  run = run,
}
