-- tplua verify: verify a plugin's signatures against a trust store and a
-- security policy, exactly as the plugin manager does before it reads any
-- plugin byte.
--
--   tplua verify plugins/hello --trust trust.json                  (policy STANDARD)
--   tplua verify plugins/hello --trust trust.json --policy strict
--   tplua verify plugins/hello --trust trust.json --json
--
-- Exit 0 when valid; 1 when not, with each reason on its own line; 2 on a
-- usage error; 3 when the trust store or policy cannot be read.

local errors = require("truthound.errors")
local signing = require("truthound.security.signing")
local envelope = require("truthound.security.signing.envelope")
local fs = require("truthound.native").fs

local function usage_error(msg)
  errors.raise("UsageError", "verify: " .. msg, {command = "verify"})
end

local VALUE = {["--trust"] = "trust", ["--store"] = "trust", ["--policy"] = "policy", ["--now"] = "now"}

local function parse_args(args)
  local o = {dirs = {}}
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
    elseif a == "--record" then o.record = true
    elseif a == "--" then
      for j = i + 1, #args do o.dirs[#o.dirs + 1] = args[j] end
      break
    elseif a:sub(1, 1) == "-" then
      usage_error("unknown option '" .. a .. "'")
    else
      o.dirs[#o.dirs + 1] = a
    end
    i = i + 1
  end
  if #o.dirs == 0 then usage_error("expected a plugin directory") end
  o.trust = o.trust or os.getenv("TPLUA_TRUST_STORE")
  if not o.trust or o.trust == "" then
    usage_error("--trust STORE is required (or set TPLUA_TRUST_STORE)")
  end
  return o
end

local function load_policy(p)
  local policies = require("truthound.security.policies")
  if p == nil then return policies.get("standard") end
  if p:find("/") or p:find("%.lua$") or fs.kind(p) == "file" then
    return (policies.load(p))
  end
  return policies.get(p)
end

-- A reason on one line: control characters shown escaped.
local function line_of(e)
  local kind = errors.kind(e) or "error"
  local msg = type(e) == "table" and tostring(e.message) or tostring(e)
  msg = msg:gsub("[%c]", function(c) return ("\\x%02x"):format(c:byte()) end)
  return kind .. ": " .. msg
end

-- Text for JSON: bytes that are not UTF-8 (a hostile file name) escaped.
local function utf8_text(s)
  s = tostring(s)
  if utf8.len(s) then return s end
  return (s:gsub("[\128-\255]", function(c) return ("\\x%02x"):format(c:byte()) end))
end

local function as_json(dir, r)
  local json = require("truthound.security.signing.json")
  local list = json.array()
  for i, e in ipairs(r.errors) do
    list[i] = {kind = errors.kind(e) or "error", message = utf8_text(type(e) == "table" and e.message or e),
               reason = type(e) == "table" and e.reason or nil}
  end
  local sigs = json.array()
  for i, s in ipairs(r.signatures or {}) do
    sigs[i] = {signer = s.signer, key_id = s.key_id, algorithm = s.algorithm, level = s.level, valid = s.valid}
  end
  local warnings = json.array()
  for i, w in ipairs(r.warnings) do warnings[i] = utf8_text(w) end
  return {plugin = utf8_text(dir), valid = r.is_valid, trust_level = r.trust_level, signer = r.signer_id,
          plugin_id = r.plugin_id, plugin_version = r.plugin_version, tree_digest = r.tree_digest,
          errors = list, warnings = warnings, signatures = sigs}
end

local function run(args)
  local o = parse_args(args)
  local now
  if o.now then
    now = envelope.parse_time(o.now)
    if not now then usage_error("--now: expected an RFC 3339 UTC time such as 2026-11-25T03:00:00Z") end
  end
  local policy = load_policy(o.policy)
  local store = signing.TrustStore.load(o.trust)
  local all_ok, out = true, require("truthound.security.signing.json").array()
  for _, dir in ipairs(o.dirs) do
    local r = signing.verify_plugin(dir, policy, store, {raise = false, record = o.record == true, now = now})
    all_ok = all_ok and r.is_valid
    if o.json then
      out[#out + 1] = as_json(dir, r)
    elseif r.is_valid then
      local n = 0
      for _, s in ipairs(r.signatures or {}) do if s.valid then n = n + 1 end end
      io.write(("%s: ok: %s %s signed by %s (%s); %d valid signature%s, policy %s requires %d\n")
               :format(dir, tostring(r.plugin_id), tostring(r.plugin_version), tostring(r.signer_id),
                       r.trust_level, n, n == 1 and "" or "s", tostring(policy.name), policy.required_signatures))
      for _, w in ipairs(r.warnings) do io.write("  warning: ", (tostring(w):gsub("%c", " ")), "\n") end
    else
      io.write(("%s: verification failed\n"):format(dir))
      for _, e in ipairs(r.errors) do io.write(line_of(e), "\n") end
    end
  end
  if o.json then
    local json = require("truthound.security.signing.json")
    io.write(assert(json.encode(#out == 1 and out[1] or out)), "\n")
  end
  return all_ok and 0 or 1
end

return {
  name = "verify",
  summary = "verify a plugin's signatures against a trust store and a policy",
  usage = "tplua verify DIR... --trust STORE [--policy NAME_OR_FILE] [--json] [--record]",
  help = [[
Runs the verification chain the plugin manager runs before it reads any
plugin byte: tree digest, expiry and age, signature bytes, signer trust,
X.509 chain, revocations, the policy's required_signatures from distinct
signers, and rollback against the store's accepted versions.

  --trust STORE   the trust store (JSON; default $TPLUA_TRUST_STORE)
  --policy P      a preset (standard, strict, ...) or a policy.lua; default
                  standard: one signature from a trusted signer
  --json          the results as JSON
  --record        on success, record the version as accepted in the store
                  (rollback protection); verify alone changes nothing
  --now TIME      verify as of this RFC 3339 UTC time

Exit status: 0 valid, 1 not valid (each reason on its own line), 2 usage
error, 3 the trust store or policy could not be read.]],
  run = run,
}
