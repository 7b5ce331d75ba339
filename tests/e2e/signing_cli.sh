#!/bin/sh
# tplua sign, verify and trust, end to end, with keys and a certificate
# made by the openssl CLI: exit codes, one reason per line, the store file.
# The checks themselves are specified in tests/lua/chain_spec.lua and
# tests/hostile/tamper.sh; this checks the commands around them.
set -u
TPLUA=${TPLUA:-$PWD/build/tplua}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
check() {  # check WHAT WANT GOT
  n=$((n + 1))
  if [ "$2" = "$3" ]; then echo "ok $n - $1"
  else echo "not ok $n - $1"; printf '%s\n' "wanted: $2" "got:    $3" | sed 's/^/# /'; fi
}
run() { "$TPLUA" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; }
has() {  # has WHAT PATTERN FILE: grep -c as a check that it is there
  check "$1" yes "$(grep -q -- "$2" "$3" && echo yes || { echo no; sed 's/^/#   /' "$3" >&2; })"
}

P=$TMP/plugins/hello
mkdir -p "$P/lib"
printf 'return {id = "hello", version = "1.2.0", entry = "main"}\n' >"$P/plugin.lua"
printf 'return {}\n' >"$P/main.lua"
printf 'return 1\n' >"$P/lib/util.lua"
S=$TMP/trust.json

openssl genpkey -algorithm ed25519 -out "$TMP/alice.key" 2>/dev/null
openssl pkey -in "$TMP/alice.key" -pubout -out "$TMP/alice.pub"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/bob.key" 2>/dev/null
openssl pkey -in "$TMP/bob.key" -pubout -out "$TMP/bob.pub"
openssl genpkey -algorithm ed25519 -out "$TMP/mallory.key" 2>/dev/null
openssl rand -hex 32 >"$TMP/ci.key"

run trust add "$TMP/alice.pub" --signer alice --level trusted --store "$S"
check "trust add a public key: exit 0" 0 "$rc"
has "trust add names the key id and the signer" "^added key sha256:[0-9a-f]\{64\} for signer alice as TRUSTED" "$TMP/out"
check "the store is created with mode 0600" 600 "$(stat -c %a "$S")"

run sign "$P" --key "$TMP/alice.key" --signer alice --metadata ticket=REL-42
check "sign with an openssl-made Ed25519 key: exit 0" 0 "$rc"
has "sign reports what it signed" "^signed hello 1.2.0 as alice with ED25519 (key sha256:" "$TMP/out"
has "sign reports the envelope" "plugin.sig holds 1 signature$" "$TMP/out"

run verify "$P" --trust "$S"
check "verify: exit 0" 0 "$rc"
has "verify: ok line with signer and level" "^$P: ok: hello 1.2.0 signed by alice (TRUSTED)" "$TMP/out"

printf 'return 2\n' >"$P/lib/util.lua"
run verify "$P" --trust "$S"
check "verify a changed tree: exit 1" 1 "$rc"
has "verify: the reason on its own line, typed" "^SignatureTamperError: .*changed since it was signed" "$TMP/out"
printf 'return 1\n' >"$P/lib/util.lua"

run verify "$P" --trust "$S" --policy strict
check "verify --policy strict with one signer: exit 1" 1 "$rc"
has "strict: the threshold is a reason" "1 of 2 required signatures from distinct trusted signers" "$TMP/out"

run trust add "$TMP/bob.key" --signer bob --store "$S"
check "trust add a private key (its public half is kept): exit 0" 0 "$rc"
check "no private key material in the store" 0 "$(grep -c 'PRIVATE' "$S")"
run sign "$P" --key "$TMP/bob.key" --signer bob --algorithm rsa_sha256 --expires 90d
check "sign with an openssl-made RSA key, PKCS#1 v1.5: exit 0" 0 "$rc"
has "the envelope now holds two" "holds 2 signatures" "$TMP/out"
run verify "$P" --trust "$S" --policy strict
check "two trusted signers satisfy strict: exit 0" 0 "$rc"

BOB_ID=$(openssl pkey -pubin -in "$TMP/bob.pub" -outform DER | sha256sum | cut -d' ' -f1)
run trust revoke "sha256:$BOB_ID" --reason "laptop stolen" --store "$S"
check "trust revoke: exit 0" 0 "$rc"
run verify "$P" --trust "$S" --policy strict
check "strict after revoking bob: exit 1" 1 "$rc"
has "the revocation is a reason" "^CertificateRevokedError: .*laptop stolen" "$TMP/out"
run trust add "$TMP/bob.pub" --signer bob --store "$S"
check "a revoked key cannot be added again: exit 3" 3 "$rc"

run trust add "$TMP/ci.key" --signer ci --store "$S"
check "trust add an HMAC secret: exit 0" 0 "$rc"
check "the store keeps it, the output does not show it" 0 "$(grep -c "$(cat "$TMP/ci.key")" "$TMP/out")"
run sign "$P" --key "$TMP/ci.key" --signer ci
check "sign with the HMAC key: exit 0" 0 "$rc"
has "HMAC_SHA256 by default" "with HMAC_SHA256 (key hmac:[0-9a-f]\{32\})" "$TMP/out"

run trust list --store "$S"
check "trust list: exit 0" 0 "$rc"
check "trust list: one line per key, signer and revocation" \
  "key|key|hmac_key|signer|signer|signer" "$(cut -f1 "$TMP/out" | tr '\n' '|' | sed 's/|$//')"
has "trust list shows the revocation" "revoked=.*laptop stolen" "$TMP/out"
run trust show "sha256:$BOB_ID" --store "$S"
check "trust show ID: exit 0" 0 "$rc"
has "trust show prints the public key" "BEGIN PUBLIC KEY" "$TMP/out"
run trust show sha256:0000 --store "$S"
check "trust show of an unknown id: exit 1" 1 "$rc"

# An openssl-made self-signed certificate as a trust anchor.
openssl genpkey -algorithm ed25519 -out "$TMP/dave.key" 2>/dev/null
openssl req -new -x509 -key "$TMP/dave.key" -subj "/CN=dave" -days 30 \
  -addext keyUsage=critical,digitalSignature -out "$TMP/dave.crt" 2>/dev/null
run trust add "$TMP/dave.crt" --store "$S"
check "trust add an openssl certificate: exit 0" 0 "$rc"
has "trust add names the certificate" "^added certificate sha256:.* (CN=dave) as TRUSTED" "$TMP/out"
Q=$TMP/q/hello
mkdir -p "$Q" && cp "$P/plugin.lua" "$P/main.lua" "$Q/"
run sign "$Q" --key "$TMP/dave.key" --cert "$TMP/dave.crt" --signer dave
check "sign with a key and its certificate: exit 0" 0 "$rc"
run verify "$Q" --trust "$S" --json
check "verify --json: exit 0" 0 "$rc"
got=$(lua5.4 -e 'local r = require("cjson").decode(io.read("a"))
  print(r.valid, r.trust_level, r.signer, r.plugin_id, #r.errors, r.signatures[1].algorithm)' <"$TMP/out" 2>&1)
check "verify --json: a record per plugin" "$(printf 'true\tTRUSTED\tdave\thello\t0\tED25519')" "$got"

run sign "$Q" --key "$TMP/mallory.key" --signer mallory
run verify "$Q" --trust "$S" --policy strict
check "an unknown signer does not count: exit 1" 1 "$rc"
has "unknown signer reason" "^UntrustedSignerError: .*mallory" "$TMP/out"

# Rollback: --record remembers the version; an older one is refused.
run verify "$P" --trust "$S" --record
check "verify --record: exit 0" 0 "$rc"
R=$TMP/r/hello
mkdir -p "$R" && printf 'return {id = "hello", version = "1.1.0", entry = "main"}\n' >"$R/plugin.lua"
cp "$P/main.lua" "$R/"
"$TPLUA" sign "$R" --key "$TMP/alice.key" --signer alice >/dev/null 2>&1
run verify "$R" --trust "$S"
check "an older version than the recorded one: exit 1" 1 "$rc"
has "rollback reason" "older than 1.2.0, already accepted for this plugin (rollback)" "$TMP/out"

# Integrity-only digests are never trusted.
run sign "$R" --algorithm sha256 --signer builder
check "sign --algorithm sha256 needs no key: exit 0" 0 "$rc"
run verify "$R" --trust "$S" --policy "$TMP/lax.lua"
check "a missing policy file: exit 3" 3 "$rc"
printf 'return {extends = "standard", require_trusted_signer = false}\n' >"$TMP/lax.lua"
rm -f "$R/plugin.sig"
"$TPLUA" sign "$R" --algorithm sha256 --signer builder >/dev/null 2>&1
run verify "$R" --trust "$S"
check "a digest-only signature under standard: exit 1" 1 "$rc"
has "digest-only reason" "digest-only signature proves no signer" "$TMP/out"

# Usage errors and unreadable stores.
run sign "$P" --key "$TMP/alice.key"
check "sign without --signer: exit 2" "2" "$rc"
run sign "$P" --key "$TMP/alice.pub" --signer alice
check "sign with a public key: exit 2" "2" "$rc"
run verify "$P"
check "verify without --trust: exit 2" 2 "$rc"
run trust frobnicate --store "$S"
check "trust with an unknown subcommand: exit 2" 2 "$rc"
run trust add "$TMP/alice.pub" --store "$S"
check "trust add of a key without --signer: exit 2" 2 "$rc"
head -c 100 "$S" >"$TMP/cut.json"
run verify "$P" --trust "$TMP/cut.json"
check "a truncated store: exit 3" 3 "$rc"
has "the error names the store file" "$TMP/cut.json: corrupt trust store" "$TMP/err"
run verify "$P" --trust "$TMP/none.json"
check "a missing store: exit 3" 3 "$rc"

echo "1..$n"
