#!/bin/sh
# The tamper suite: a real plugin tree, signed with real keys, attacked in
# every way issue 5 lists (and a few more); each attack must be rejected by
# verify_plugin -- what the plugin manager calls before it reads any plugin
# byte -- with the right typed error. Prints TAP.
set -u
TPLUA=${TPLUA:-$PWD/build/tplua}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

cat >"$TMP/tamper.lua" <<'EOF'
local signing = require("truthound.security.signing")
local envelope = require("truthound.security.signing.envelope")
local json = require("truthound.security.signing.json")
local errors = require("truthound.errors")
local crypto = require("truthound.native").crypto

local TMP = arg[1]
local NOW = os.time()
local DAY = 86400

local function sh(cmd) assert(os.execute(cmd), cmd) end
local function write(path, data)
  local f = assert(io.open(path, "wb")) f:write(data) f:close()
end
local function read(path)
  local f = assert(io.open(path, "rb")) local d = f:read("a") f:close() return d
end

-- The plugin: a manifest, modules in a subdirectory, an executable file.
local function make_plugin(dir, id, version)
  sh(("mkdir -p '%s/lib' '%s/bin'"):format(dir, dir))
  write(dir .. "/plugin.lua", ('return {id = "%s", version = "%s", entry = "main"}\n'):format(id, version))
  write(dir .. "/main.lua", "local util = require('lib.util')\nreturn {run = util.run}\n")
  write(dir .. "/lib/util.lua", "return {run = function() return 'hello' end}\n")
  write(dir .. "/bin/tool.sh", "#!/bin/sh\necho tool\n")
  sh(("chmod 755 '%s/bin/tool.sh'"):format(dir))
end

local alice, alice2, bob = crypto.generate("ed25519"), crypto.generate("ed25519"), crypto.generate("ed25519")
local carol = crypto.generate("rsa", 2048)
local mallory = crypto.generate("ed25519")
local root_key, leaf_key = crypto.generate("ed25519"), crypto.generate("ed25519")
local root = crypto.make_certificate{subject = "CN=Acme Root", key = root_key, ca = true,
                                     key_usage = {"keyCertSign", "cRLSign"}, not_before = NOW - DAY, days = 3650}
local leaf = crypto.make_certificate{subject = "CN=dave", key = leaf_key, issuer_cert = root, issuer_key = root_key,
                                     key_usage = {"digitalSignature"}, not_before = NOW - DAY, days = 365}
local expired_leaf = crypto.make_certificate{subject = "CN=dave", key = leaf_key, issuer_cert = root,
                                             issuer_key = root_key, key_usage = {"digitalSignature"},
                                             not_before = NOW - 30 * DAY, days = 10}

local store_path = TMP .. "/trust.json"
local base_store = signing.TrustStore.new{persist_path = store_path}
base_store:add_trusted_key(alice, "alice", "trusted")
base_store:add_trusted_key(alice2, "alice", "trusted")
base_store:add_trusted_key(bob, "bob", "trusted")
base_store:add_trusted_key(carol, "carol", "trusted")
base_store:add_trusted_certificate(root, "trusted")

local function sign(dir, key, signer, opts)
  opts = opts or {}
  local alg = opts.algorithm or (key and (key:type() == "rsa" and "RSA_PSS_SHA256" or "ED25519")) or "SHA256"
  local svc = signing.SigningService.new{algorithm = alg, signer_id = signer, validity_days = opts.days or 365}
  return svc:sign{plugin_path = dir, private_key = key, certificate = opts.certificate,
                  created = opts.created or NOW, write = true}
end

-- Signed fixtures, made once; each case works on a fresh copy.
local SRC = TMP .. "/src"
local fixtures = {}
local function fixture(name, id, version, signers)
  local dir = ("%s/%s/%s"):format(SRC, name, id)
  make_plugin(dir, id, version)
  for _, s in ipairs(signers) do sign(dir, s[1], s[2], s[3]) end
  fixtures[name] = {dir = dir, id = id}
end
fixture("alice", "hello", "1.2.0", {{alice, "alice"}})
fixture("two", "hello", "1.2.0", {{alice, "alice"}, {bob, "bob"}})
fixture("alice-twice", "hello", "1.2.0", {{alice, "alice"}, {alice2, "alice"}})
fixture("old", "hello", "1.1.0", {{alice, "alice"}})
fixture("world", "world", "1.2.0", {{alice, "alice"}})
fixture("expired", "hello", "1.2.0", {{alice, "alice", {created = NOW - 400 * DAY, days = 365}}})
fixture("mallory", "hello", "1.2.0", {{mallory, "mallory"}})
fixture("mallory-as-alice", "hello", "1.2.0", {{mallory, "alice"}})
fixture("selfsigned", "hello", "1.2.0", {{mallory, "alice", {certificate = crypto.make_certificate{
  subject = "CN=alice", key = mallory, key_usage = {"digitalSignature"}, days = 10}}}})
fixture("cert", "hello", "1.2.0", {{leaf_key, "dave", {certificate = leaf}}})
fixture("cert-expired", "hello", "1.2.0", {{leaf_key, "dave", {certificate = expired_leaf}}})
fixture("rsa", "hello", "1.2.0", {{carol, "carol"}})
fixture("digest", "hello", "1.2.0", {{nil, "alice", {algorithm = "SHA256"}}})

local n, failed = 0, 0
local work = 0

-- case(name, fixture, attack, expect [, opts]): copy, attack, verify.
-- expect = {kind = class name (exact), reason = e.reason, match = text} or
-- {is = class name (or a subclass), reason = ...}.
local function case(name, fx, attack, expect, opts)
  opts = opts or {}
  work = work + 1
  local dir = ("%s/work/%d/%s"):format(TMP, work, fixtures[fx].id)
  sh(("mkdir -p '%s/work/%d' && cp -a '%s' '%s'"):format(TMP, work, fixtures[fx].dir, dir))
  sh(("cp '%s' '%s/work/%d/trust.json'"):format(store_path, TMP, work))
  local store = signing.TrustStore.new{persist_path = ("%s/work/%d/trust.json"):format(TMP, work)}
  if attack then attack(dir, store) end
  local ok, r = pcall(signing.verify_plugin, dir, opts.policy or "standard", store,
                      {raise = false, record = false, now = opts.now or NOW})
  n = n + 1
  local why
  if not ok then
    why = "verify_plugin raised: " .. tostring(r)
  elseif expect == nil then
    if not r.is_valid then why = "expected valid, got: " .. tostring(r) end
  elseif r.is_valid then
    why = "accepted"
  else
    local e = r.errors[1]
    local kind = errors.kind(e)
    if expect.kind and kind ~= expect.kind then
      why = ("expected %s, got %s"):format(expect.kind, tostring(e))
    elseif expect.is and not errors.is(e, expect.is) then
      why = ("expected a %s, got %s"):format(expect.is, tostring(e))
    elseif expect.reason and e.reason ~= expect.reason then
      why = ("expected reason %s, got %s (%s)"):format(expect.reason, tostring(e.reason), tostring(e))
    elseif expect.match and not tostring(e.message):find(expect.match, 1, true) then
      why = ("expected the message to say %q: %s"):format(expect.match, tostring(e))
    end
  end
  if why then
    failed = failed + 1
    print(("not ok %d - %s"):format(n, name))
    print("# " .. why:gsub("\n", "\n# "))
  else
    print(("ok %d - %s%s"):format(n, name, expect and (" -> " .. (errors.kind(r.errors[1]) or "?")) or ""))
  end
end

-- Edit the envelope as JSON (it stays well-formed).
local function edit_sig(fn)
  return function(dir)
    local path = dir .. "/plugin.sig"
    local doc = assert(json.decode(read(path)))
    fn(doc.signatures[1], doc)
    write(path, assert(json.encode(doc, {indent = "  "})) .. "\n")
  end
end

local TAMPER = {kind = "SignatureTamperError"}
local INVALID = {kind = "InvalidSignatureError"}

-- Control: the untouched copies verify.
case("untouched plugin verifies (control)", "alice", nil, nil)
case("untouched plugin with a certificate chain verifies (control)", "cert", nil, nil)
case("untouched RSA-PSS plugin verifies (control)", "rsa", nil, nil)
case("two trusted signers satisfy STRICT (control)", "two", nil, nil, {policy = "strict"})

-- The files.
case("one byte changed in a module", "alice", function(d)
  local s = read(d .. "/lib/util.lua")
  write(d .. "/lib/util.lua", s:sub(1, 10) .. string.char(s:byte(11) ~ 0x20) .. s:sub(12))
end, TAMPER)
case("one byte changed in plugin.lua", "alice", function(d)
  write(d .. "/plugin.lua", (read(d .. "/plugin.lua"):gsub("1%.2%.0", "1.2.1")))
end, TAMPER)
case("a file added", "alice", function(d) write(d .. "/lib/backdoor.lua", "os.execute('id')\n") end, TAMPER)
case("an empty file added", "alice", function(d) write(d .. "/.hidden", "") end, TAMPER)
case("a file removed", "alice", function(d) os.remove(d .. "/lib/util.lua") end, TAMPER)
case("a file renamed", "alice", function(d) sh(("mv '%s/main.lua' '%s/init.lua'"):format(d, d)) end, TAMPER)
case("a file moved between directories", "alice", function(d)
  sh(("mv '%s/lib/util.lua' '%s/bin/util.lua'"):format(d, d))
end, TAMPER)
case("the executable bit set", "alice", function(d) sh(("chmod +x '%s/main.lua'"):format(d)) end, TAMPER)
case("the executable bit cleared", "alice", function(d) sh(("chmod -x '%s/bin/tool.sh'"):format(d)) end, TAMPER)
case("a symlink swapped in (same content)", "alice", function(d)
  sh(("mv '%s/lib/util.lua' '%s/../util.lua' && ln -s ../../util.lua '%s/lib/util.lua'"):format(d, d, d))
end, {kind = "SignatureTamperError", match = "util.lua"})
case("a directory symlink swapped in", "alice", function(d)
  sh(("mv '%s/lib' '%s/../lib' && ln -s ../lib '%s/lib'"):format(d, d, d))
end, TAMPER)
case("a FIFO added", "alice", function(d) sh(("mkfifo '%s/lib/pipe'"):format(d)) end, TAMPER)

-- The signature and its payload.
case("signature bytes flipped", "alice", edit_sig(function(s)
  local raw = crypto.unbase64(s.signature)
  s.signature = crypto.base64(string.char(raw:byte(1) ~ 1) .. raw:sub(2))
end), INVALID)
case("RSA-PSS signature bytes flipped", "rsa", edit_sig(function(s)
  local raw = crypto.unbase64(s.signature)
  s.signature = crypto.base64(raw:sub(1, -2) .. string.char(raw:byte(-1) ~ 0x80))
end), INVALID)
case("payload edited: version", "alice", edit_sig(function(s) s.plugin_version = "1.3.0" end), INVALID)
case("payload edited: expiry pushed out", "expired", edit_sig(function(s) s.expires = "2099-01-01T00:00:00Z" end),
     INVALID)
case("payload edited: signer", "alice", edit_sig(function(s) s.signer = "bob" end), INVALID)
case("payload edited: metadata", "alice", edit_sig(function(s) s.metadata = {approved = true} end), INVALID)
case("payload edited: tree digest (to a tampered tree's)", "alice", function(d)
  write(d .. "/lib/util.lua", "return {run = function() os.execute('id') end}\n")
  local digest = require("truthound.security.signing.treehash").digest(d)
  edit_sig(function(s) s.tree_digest = "sha256:" .. digest end)(d)
end, INVALID)
case("envelope from another plugin", "alice", function(d)
  sh(("cp '%s/plugin.sig' '%s/plugin.sig'"):format(fixtures.world.dir, d))
end, {kind = "SignatureTamperError", match = 'for plugin "world"'})
case("replayed older version (rollback)", "old", function(_, store)
  store:accept_version("hello", "1.2.0")
end, {is = "SignatureError", reason = "rollback"})
case("expired signature", "expired", nil, {kind = "SignatureExpiredError", match = "expired on"})
case("signature older than STRICT's 90 days", "two", nil, {kind = "SignatureExpiredError", match = "days ago"},
     {policy = "strict", now = NOW + 100 * DAY})
case("revoked key", "alice", function(_, store) store:revoke_certificate(alice:key_id(), "compromised") end,
     {kind = "CertificateRevokedError"})
case("revoked signer", "alice", function(_, store) store:revoke_certificate("alice", "left") end,
     {kind = "CertificateRevokedError"})
case("revoked certificate", "cert", function(_, store) store:revoke_certificate(leaf:id(), "compromised") end,
     {kind = "CertificateRevokedError"})
case("expired certificate", "cert-expired", nil, {kind = "CertificateExpiredError"})
case("untrusted signer", "mallory", nil, {kind = "UntrustedSignerError"})
case("a verified (not trusted) signer under STANDARD", "alice", function(_, store)
  store:set_signer_level("alice", "verified")
end, {kind = "UntrustedSignerError"})
case("an untrusted key claiming a trusted signer's name", "mallory-as-alice", nil, {kind = "UntrustedSignerError"})
case("a self-signed certificate claiming a trusted signer", "selfsigned", nil, {kind = "UntrustedSignerError"})
case("a digest-only signature (integrity, no signer)", "digest", nil, {kind = "UntrustedSignerError"})
case("downgrade: the signature replaced by a digest of a tampered tree", "alice", function(d)
  write(d .. "/main.lua", "os.execute('id')\n")
  sh(("rm '%s/plugin.sig'"):format(d))
  sign(d, nil, "alice", {algorithm = "SHA256"})
end, {kind = "UntrustedSignerError"})
case("only 1 of 2 required signatures (STRICT)", "alice", nil, {is = "SignatureError", reason = "threshold"},
     {policy = "strict"})
case("the same signer counted twice (two keys, STRICT)", "alice-twice", nil,
     {is = "SignatureError", reason = "threshold"}, {policy = "strict"})
case("the same signature twice in the envelope", "alice", edit_sig(function(s, doc)
  doc.signatures[2] = s
end), {kind = "InvalidSignatureError", reason = "malformed envelope"})
case("wrong algorithm for the key (Ed25519 key, RSA label)", "alice", edit_sig(function(s)
  s.algorithm = "RSA_SHA256"
  s.signature = crypto.base64(crypto.random(256))
end), {kind = "InvalidSignatureError", match = "wrong algorithm for an ed25519 key"})
case("wrong algorithm for the key (RSA key, Ed25519 label)", "rsa", edit_sig(function(s)
  s.algorithm = "ED25519"
  s.signature = crypto.base64(crypto.random(64))
end), {kind = "InvalidSignatureError", match = "wrong algorithm for an rsa key"})
case("algorithm switched from PSS to PKCS#1 v1.5", "rsa", edit_sig(function(s) s.algorithm = "RSA_SHA256" end), INVALID)
case("HMAC label on a public key's id", "alice", edit_sig(function(s)
  s.algorithm = "HMAC_SHA256"
  s.signature = crypto.base64(crypto.random(32))
end), {kind = "InvalidSignatureError", reason = "malformed envelope"})
case("plugin.sig removed", "alice", function(d) os.remove(d .. "/plugin.sig") end,
     {is = "SignatureError", reason = "unsigned"})
case("plugin.sig truncated", "alice", function(d)
  local s = read(d .. "/plugin.sig")
  write(d .. "/plugin.sig", s:sub(1, #s // 2))
end, {kind = "InvalidSignatureError", reason = "malformed envelope"})
case("plugin.sig replaced by a symlink", "alice", function(d)
  sh(("mv '%s/plugin.sig' '%s/../sig' && ln -s ../sig '%s/plugin.sig'"):format(d, d, d))
end, {kind = "InvalidSignatureError", match = "symbolic link"})
case("an unknown field smuggled into the envelope", "alice", edit_sig(function(s) s.trusted = true end),
     {kind = "InvalidSignatureError", reason = "malformed envelope"})
case("a signature for a tampered tree added next to a good one", "alice", function(d)
  local good = read(d .. "/plugin.sig")
  write(d .. "/main.lua", "os.execute('id')\n")
  local bad = signing.SigningService.new{algorithm = "ED25519", signer_id = "mallory"}
    :sign{plugin_path = d, private_key = mallory}
  local env = envelope.parse(good)
  env.signatures[2] = bad
  write(d .. "/plugin.sig", env:encode())
end, {kind = "InvalidSignatureError", reason = "mixed envelope"})

print("1.." .. n)
os.exit(failed == 0 and 0 or 1)
EOF

"$TPLUA" "$TMP/tamper.lua" "$TMP"
