-- truthound.security.signing.envelope: plugin.sig, the signed payload, the
-- algorithms.
--
--   local envelope = require("truthound.security.signing.envelope")
--   local env = envelope.read("plugins/hello")          -- parses plugins/hello/plugin.sig
--   env.signatures[1].signer, env.signatures[1].algorithm
--   env.signatures[1]:payload()                         -- the exact bytes that were signed
--   envelope.parse(text, "plugin.sig")                  -- the same from text
--   envelope.encode(env)                                -- the file's text
--
-- A plugin.sig is JSON holding one or more signatures of one plugin tree.
-- Each signature binds the format, the plugin's id and version, its tree
-- digest, the signer, the key id, the algorithm, the creation and expiry
-- times and free metadata, through a canonical byte string (the payload)
-- that a third party can rebuild with jq and check with openssl from
-- docs/formats.md alone. Parsing reads bytes only and refuses anything it
-- does not define: unknown fields, wrong types, two signatures by one key,
-- oversized files, a timestamp, digest or id that is not spelled exactly
-- one way. Every refusal is an InvalidSignatureError naming the source and
-- the field (reason = "malformed envelope").

local errors = require("truthound.errors")
local json = require("truthound.security.signing.json")
local native = require("truthound.native")

local envelope = {}

envelope.FORMAT = "truthound-signature/1"   -- the file's format and the payload's first line
envelope.FILE = "plugin.sig"
envelope.LIMITS = {
  max_size = 256 * 1024,      -- bytes of plugin.sig
  max_signatures = 16,        -- SecurityPolicy allows at most 16 required signatures
  max_certificates = 4,       -- leaf and intermediates per signature
  max_certificate = 16384,    -- bytes of one DER certificate
  max_metadata = 4096,        -- bytes of the canonical metadata JSON
  max_signer = 256,           -- bytes of a signer id
}

---------------------------------------------------------------------------
-- Enums: tables of string constants; every function that takes one takes
-- the string in any case.

local function enum(name, values)
  local t, order = {}, {}
  for i, v in ipairs(values) do t[v] = v; order[i] = v end
  local methods = {}
  function methods.parse(s)
    if type(s) == "string" then
      local v = t[s:upper()]
      if v then return v end
    end
    return nil, ("unknown %s %s; expected one of %s"):format(name,
      type(s) == "string" and ("%q"):format(s) or "(a " .. type(s) .. ")", table.concat(order, ", "))
  end
  function methods.list()
    return {table.unpack(order)}
  end
  return setmetatable(t, {
    __index = methods,
    __newindex = function() error(name .. " is read-only", 2) end,
  })
end
envelope.enum = enum

-- SHA256/SHA512 are integrity only: the "signature" is the digest of the
-- payload, which anyone can compute, so it never makes a signer trusted.
envelope.SignatureAlgorithm = enum("signature algorithm",
  {"SHA256", "SHA512", "HMAC_SHA256", "HMAC_SHA512", "RSA_SHA256", "RSA_PSS_SHA256", "ED25519"})

-- What each algorithm is: kind digest | hmac | public; the hash; the key
-- type of public ones; the exact signature length where it is fixed.
envelope.ALGORITHMS = {
  SHA256 = {kind = "digest", hash = "sha256", length = 32},
  SHA512 = {kind = "digest", hash = "sha512", length = 64},
  HMAC_SHA256 = {kind = "hmac", hash = "sha256", length = 32},
  HMAC_SHA512 = {kind = "hmac", hash = "sha512", length = 64},
  RSA_SHA256 = {kind = "public", key_type = "rsa", min_length = 256, max_length = 1024},
  RSA_PSS_SHA256 = {kind = "public", key_type = "rsa", min_length = 256, max_length = 1024},
  ED25519 = {kind = "public", key_type = "ed25519", length = 64},
}
envelope.HMAC_MIN_KEY = 32          -- bytes of an HMAC secret
envelope.NO_KEY = "none"            -- key_id of a digest-only signature

---------------------------------------------------------------------------
-- Time: RFC 3339 UTC, one spelling ("2026-11-25T03:00:00Z")

local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m > 2 and m - 3 or m + 9) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

local MONTH_DAYS = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

-- parse_time(s) -> Unix seconds | nil
function envelope.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, se = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)Z$")
  if not y then return nil end
  y, mo, d, h, mi, se = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(se)
  if y < 1970 or mo < 1 or mo > 12 or d < 1 or h > 23 or mi > 59 or se > 59 then return nil end
  local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
  local dim = MONTH_DAYS[mo] + ((mo == 2 and leap) and 1 or 0)
  if d > dim then return nil end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se
end

-- format_time(t) -> "YYYY-MM-DDTHH:MM:SSZ" (whole seconds, UTC)
function envelope.format_time(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

---------------------------------------------------------------------------
-- Field grammars. Each returns nil when v is fine, else what was expected.

local function show(v)
  if type(v) ~= "string" then return "a " .. (math.type(v) or type(v)) end
  local cut = #v > 60
  local s = (cut and v:sub(1, 57) or v):gsub('[%c"\\\128-\255]', function(c)
    if c == '"' or c == "\\" then return "\\" .. c end
    return ("\\x%02x"):format(c:byte())
  end)
  return '"' .. s .. (cut and '..."' or '"')
end
envelope.show = show

local function text_problem(v, max, what)
  if type(v) ~= "string" then return ("expected %s (a string), got %s"):format(what, show(v)) end
  if #v == 0 or #v > max then return ("expected %s of 1 to %d bytes, got %d"):format(what, max, #v) end
  if not utf8.len(v) then return ("expected %s in UTF-8"):format(what) end
  if v:find("%c") then return ("expected %s without control characters, got %s"):format(what, show(v)) end
  if v:find("^%s") or v:find("%s$") then
    return ("expected %s without leading or trailing blanks, got %s"):format(what, show(v))
  end
end

local function id_problem(v)
  if type(v) ~= "string" then return "expected a plugin id (a string), got " .. show(v) end
  local why = require("truthound.manifest").id_problem(v)
  return why and ("expected a plugin id: %s"):format(why)
end

-- One spelling per version: SemVer 2.0.0 as written, no 'v', no blanks.
local function version_problem(v)
  if type(v) ~= "string" then return "expected a version such as \"1.2.3\" (a string), got " .. show(v) end
  local ok, parsed = pcall(require("truthound.versioning").parse_version, v)
  if not ok then return "expected a SemVer 2.0.0 version, got " .. show(v) end
  local canonical = tostring(parsed)
  if #parsed.build > 0 then canonical = canonical .. "+" .. table.concat(parsed.build, ".") end
  if canonical ~= v then
    return ("expected the version as SemVer 2.0.0 writes it (%s), got %s"):format(show(canonical), show(v))
  end
end

local function digest_problem(v)
  if type(v) ~= "string" or not v:match("^sha256:" .. ("%x"):rep(64) .. "$") or v:find("%u") then
    return "expected \"sha256:\" and 64 lowercase hex digits, got " .. show(v)
  end
end

local function key_id_problem(v, alg)
  local info = envelope.ALGORITHMS[alg]
  if not info then return nil end   -- the algorithm's own problem is reported
  if info.kind == "digest" then
    if v ~= envelope.NO_KEY then
      return ("expected \"%s\" for the digest-only algorithm %s, got %s"):format(envelope.NO_KEY, alg, show(v))
    end
  elseif info.kind == "hmac" then
    if type(v) ~= "string" or not v:match("^hmac:" .. ("%x"):rep(32) .. "$") or v:find("%u") then
      return "expected an HMAC key id: \"hmac:\" and 32 lowercase hex digits, got " .. show(v)
    end
  else
    if type(v) ~= "string" or not v:match("^sha256:" .. ("%x"):rep(64) .. "$") or v:find("%u") then
      return "expected a key id: \"sha256:\" and 64 lowercase hex digits, got " .. show(v)
    end
  end
end

local function time_problem(v)
  if envelope.parse_time(v) == nil then
    return "expected an RFC 3339 UTC time such as \"2026-11-25T03:00:00Z\", got " .. show(v)
  end
end

local function metadata_problem(v)
  if type(v) ~= "table" or json.is_array(v) then
    return "expected an object (a table with string keys), got " .. (json.is_array(v) and "an array" or show(v))
  end
  local text, err = json.encode(v)
  if not text then return "cannot be written as canonical JSON: " .. err end
  if text:sub(1, 1) ~= "{" then return "expected an object (a table with string keys), got a list" end
  if #text > envelope.LIMITS.max_metadata then
    return ("expected at most %d bytes of canonical JSON, got %d"):format(envelope.LIMITS.max_metadata, #text)
  end
end

-- The payload's fields in order, each with its check.
local FIELDS = {
  {"plugin_id", id_problem},
  {"plugin_version", version_problem},
  {"tree_digest", digest_problem},
  {"signer", function(v) return text_problem(v, envelope.LIMITS.max_signer, "a signer id") end},
  {"key_id", function(v, t) return key_id_problem(v, t.algorithm) end},
  {"algorithm", function(v)
    if type(v) ~= "string" or not envelope.ALGORITHMS[v] then
      return ("expected one of %s (upper case), got %s")
             :format(table.concat(envelope.SignatureAlgorithm.list(), ", "), show(v))
    end
  end},
  {"created", time_problem},
  {"expires", time_problem},
  {"metadata", metadata_problem},
}
envelope.PAYLOAD_FIELDS = {}
for i, f in ipairs(FIELDS) do envelope.PAYLOAD_FIELDS[i] = f[1] end

-- check_fields(t) -> nil | field, message: the first problem of the
-- payload fields of t (strings as in the file; metadata a table).
function envelope.check_fields(t)
  for _, f in ipairs(FIELDS) do
    local name, check = f[1], f[2]
    if t[name] == nil then return name, "missing" end
    local why = check(t[name], t)
    if why then return name, why end
  end
  if envelope.parse_time(t.expires) <= envelope.parse_time(t.created) then
    return "expires", ("expected a time after created (%s), got %s"):format(t.created, t.expires)
  end
end

-- payload(t) -> the canonical bytes a signature covers:
--   truthound-signature/1\n
--   plugin_id=<id>\n ... metadata=<canonical JSON>\n
-- One line per field in the order of PAYLOAD_FIELDS. Raises
-- InvalidSignatureError if a field is missing or malformed (a value with a
-- newline cannot pass: every check refuses control characters).
function envelope.payload(t)
  local field, why = envelope.check_fields(t)
  if field then
    errors.raise("InvalidSignatureError", ("cannot build the signed payload: %s: %s"):format(field, why),
                 {reason = "malformed payload", field = field}, 2)
  end
  local out = {envelope.FORMAT}
  for _, name in ipairs(envelope.PAYLOAD_FIELDS) do
    local v = t[name]
    if name == "metadata" then v = json.encode(v) end
    out[#out + 1] = name .. "=" .. v
  end
  out[#out + 1] = ""
  return table.concat(out, "\n")
end

---------------------------------------------------------------------------
-- Signature records

local Signature = {}
Signature.__index = Signature
Signature.__name = "truthound.Signature"
envelope.Signature = Signature

function Signature:payload() return envelope.payload(self) end

-- is_signature(v): a record made by this module.
function envelope.is_signature(v)
  return getmetatable(v) == Signature
end

-- to_table(): the signature as its JSON object (signature and certificates
-- in base64).
function Signature:to_table()
  local c = native.crypto
  local t = {}
  for _, name in ipairs(envelope.PAYLOAD_FIELDS) do t[name] = self[name] end
  t.signature = c.base64(self.signature)
  if self.certificates and #self.certificates > 0 then
    local certs = json.array({})
    for i, der in ipairs(self.certificates) do certs[i] = c.base64(der) end
    t.certificates = certs
  end
  return t
end

-- new_signature(fields) -> Signature: fields are the payload fields,
-- signature (raw bytes) and certificates (list of DER strings). Checked
-- like a parsed one.
function envelope.new_signature(fields)
  local s = {}
  for _, name in ipairs(envelope.PAYLOAD_FIELDS) do s[name] = fields[name] end
  s.signature = fields.signature
  s.certificates = fields.certificates or {}
  local field, why = envelope.check_fields(s)
  if field then
    errors.raise("InvalidSignatureError", ("%s: %s"):format(field, why),
                 {reason = "malformed payload", field = field}, 2)
  end
  s.created_at = envelope.parse_time(s.created)
  s.expires_at = envelope.parse_time(s.expires)
  return setmetatable(s, Signature)
end

---------------------------------------------------------------------------
-- Parsing

local SIG_KEYS = {signature = true, certificates = true}
for _, name in ipairs(envelope.PAYLOAD_FIELDS) do SIG_KEYS[name] = true end

local function bad(source, field, msg)
  errors.raise("InvalidSignatureError",
               ("%s: %s%s"):format(source, field and (field .. ": ") or "", msg),
               {reason = "malformed envelope", source = source, field = field}, 3)
end

-- Strict base64: what core.crypto.base64 writes and nothing else, so that
-- one signature has one spelling.
local function unbase64(s)
  if type(s) ~= "string" or s == "" or not s:match("^[A-Za-z0-9+/]+=?=?$") or #s % 4 ~= 0 then
    return nil
  end
  local c = native.crypto
  local raw = c.unbase64(s)
  if raw == nil or c.base64(raw) ~= s then return nil end
  return raw
end

local function sorted_extra_keys(t, allowed)
  local extra = {}
  for k in pairs(t) do
    if not allowed[k] then extra[#extra + 1] = k end
  end
  table.sort(extra, json.bytewise)
  return extra
end

local function parse_signature(t, source, at)
  if type(t) ~= "table" or json.is_array(t) then bad(source, at, "expected an object") end
  local extra = sorted_extra_keys(t, SIG_KEYS)
  if #extra > 0 then
    bad(source, at .. "." .. extra[1], "unknown field; expected " ..
        table.concat(envelope.PAYLOAD_FIELDS, ", ") .. ", signature, certificates")
  end
  local field, why = envelope.check_fields(t)
  if field then bad(source, at .. "." .. field, why) end
  local info = envelope.ALGORITHMS[t.algorithm]
  local raw = unbase64(t.signature)
  if raw == nil then
    bad(source, at .. ".signature", "expected the signature bytes in base64 (RFC 4648, padded), got " ..
        show(t.signature))
  end
  if (info.length and #raw ~= info.length) or
     (info.min_length and (#raw < info.min_length or #raw > info.max_length)) then
    bad(source, at .. ".signature", ("a %s signature of %d bytes; expected %s"):format(t.algorithm, #raw,
        info.length and tostring(info.length) or (info.min_length .. " to " .. info.max_length)))
  end
  local certs = {}
  if t.certificates ~= nil then
    if not json.is_array(t.certificates) then bad(source, at .. ".certificates", "expected an array") end
    if info.kind ~= "public" then
      bad(source, at .. ".certificates", "certificates go only with RSA and Ed25519 signatures")
    end
    if #t.certificates == 0 or #t.certificates > envelope.LIMITS.max_certificates then
      bad(source, at .. ".certificates", ("expected 1 to %d certificates, got %d")
                                         :format(envelope.LIMITS.max_certificates, #t.certificates))
    end
    for i, b64 in ipairs(t.certificates) do
      local der = unbase64(b64)
      if der == nil or #der > envelope.LIMITS.max_certificate then
        bad(source, ("%s.certificates[%d]"):format(at, i),
            ("expected a DER certificate of at most %d bytes in base64"):format(envelope.LIMITS.max_certificate))
      end
      certs[i] = der
    end
  end
  local s = {}
  for _, name in ipairs(envelope.PAYLOAD_FIELDS) do s[name] = t[name] end
  s.signature, s.certificates = raw, certs
  s.created_at = envelope.parse_time(s.created)
  s.expires_at = envelope.parse_time(s.expires)
  return setmetatable(s, Signature)
end

local Envelope = {}
Envelope.__index = Envelope
Envelope.__name = "truthound.Envelope"
envelope.Envelope = Envelope

-- new([signatures]) -> an Envelope.
function envelope.new(signatures)
  return setmetatable({format = envelope.FORMAT, signatures = signatures or {}}, Envelope)
end

-- parse(text [, source]) -> Envelope; raises InvalidSignatureError.
function envelope.parse(text, source)
  source = source or envelope.FILE
  if type(text) ~= "string" then bad(source, nil, "expected the text of a signature envelope") end
  if #text > envelope.LIMITS.max_size then
    bad(source, nil, ("is %d bytes; a signature envelope has at most %d"):format(#text, envelope.LIMITS.max_size))
  end
  local doc, err = json.decode(text, {max_depth = 16})
  if doc == nil then bad(source, nil, "not valid JSON: " .. err) end
  if type(doc) ~= "table" or json.is_array(doc) then bad(source, nil, "expected a JSON object") end
  local extra = sorted_extra_keys(doc, {format = true, signatures = true})
  if #extra > 0 then bad(source, extra[1], "unknown field; expected format, signatures") end
  if doc.format ~= envelope.FORMAT then
    bad(source, "format", ("expected %q, got %s"):format(envelope.FORMAT, show(doc.format)))
  end
  local list = doc.signatures
  if not json.is_array(list) then bad(source, "signatures", "expected an array of signatures") end
  if #list == 0 or #list > envelope.LIMITS.max_signatures then
    bad(source, "signatures", ("expected 1 to %d signatures, got %d"):format(envelope.LIMITS.max_signatures, #list))
  end
  local env, by_key = envelope.new(), {}
  for i, t in ipairs(list) do
    local at = ("signatures[%d]"):format(i)
    local s = parse_signature(t, source, at)
    if by_key[s.key_id] then
      bad(source, at .. ".key_id", ("signatures[%d] is by the same key (%s); one signature per key")
                                   :format(by_key[s.key_id], s.key_id))
    end
    by_key[s.key_id] = i
    env.signatures[i] = s
  end
  return env
end

-- encode() -> the text of plugin.sig: sorted keys, two-space indent, LF.
function Envelope:encode()
  local list = json.array({})
  for i, s in ipairs(self.signatures) do list[i] = s:to_table() end
  local text = assert(json.encode({format = envelope.FORMAT, signatures = list}, {indent = "  "}))
  return text .. "\n"
end
envelope.encode = Envelope.encode

-- add(sig) -> self: a signature by a key already present replaces it.
function Envelope:add(sig)
  for i, s in ipairs(self.signatures) do
    if s.key_id == sig.key_id then
      self.signatures[i] = sig
      return self
    end
  end
  if #self.signatures >= envelope.LIMITS.max_signatures then
    errors.raise("InvalidSignatureError", ("a signature envelope holds at most %d signatures")
                                          :format(envelope.LIMITS.max_signatures), {reason = "too many signatures"}, 2)
  end
  self.signatures[#self.signatures + 1] = sig
  return self
end

---------------------------------------------------------------------------
-- Files

-- read_bytes(path, max, what) -> bytes | nil, message: a regular file (not
-- a link, FIFO or device) of at most max bytes, read as bytes.
function envelope.read_bytes(path, max, what)
  local kind, err = native.fs.kind(path)
  if kind == nil then return nil, ("%s: cannot read %s: %s"):format(path, what, err), "missing" end
  if kind ~= "file" then
    return nil, ("%s: %s is %s, not a regular file"):format(path, what,
      kind == "link" and "a symbolic link" or kind == "directory" and "a directory" or "a device, FIFO or socket")
  end
  local f, ferr = io.open(path, "rb")
  if not f then return nil, ("%s: cannot read %s: %s"):format(path, what, ferr) end
  local data = f:read(max + 1) or ""
  f:close()
  if #data > max then
    return nil, ("%s: %s is larger than %d bytes"):format(path, what, max)
  end
  return data
end

local function sig_path(path)
  if native.fs.kind(path) == "directory" then
    return path:gsub("/+$", "") .. "/" .. envelope.FILE
  end
  return path
end
envelope.path = sig_path

-- read(path) -> Envelope. path is a plugin directory or a plugin.sig file.
-- A missing file raises SignatureError (reason = "unsigned"); a malformed
-- one InvalidSignatureError.
function envelope.read(path)
  local file = sig_path(path)
  local text, err, why = envelope.read_bytes(file, envelope.LIMITS.max_size, "the signature envelope")
  if text == nil then
    errors.raise(why == "missing" and "SignatureError" or "InvalidSignatureError",
                 why == "missing" and ("%s: the plugin is not signed (no %s)"):format(file, envelope.FILE) or err,
                 {reason = why == "missing" and "unsigned" or "malformed envelope", source = file}, 2)
  end
  return envelope.parse(text, file)
end

-- write(path, env): plugin.sig written atomically (mode 0644: it holds no
-- secret). path is a plugin directory or the file.
function envelope.write(path, env)
  local file = sig_path(path)
  local ok, err = native.fs.write_atomic(file, env:encode(), tonumber("644", 8))
  if not ok then
    errors.raise("SignatureError", ("%s: cannot write: %s"):format(file, err), {source = file}, 2)
  end
  return file
end

return envelope
