#!/bin/sh
# core.crypto and `tplua keygen` against the openssl CLI, both directions:
# keys made by `openssl genpkey` sign through core.crypto and openssl
# verifies those signatures (pkeyutl -rawin for Ed25519, dgst -sha256 for
# RSA PKCS#1 v1.5 and PSS with salt 32); openssl's signatures verify through
# core.crypto; key ids and certificate ids are the SHA-256 of the DER that
# openssl prints; a chain openssl builds verifies with verify_chain; keygen's
# files are what openssl expects. Every positive check has a tampered twin
# that must fail. Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
TPLUA=${TPLUA:-$PWD/build/tplua}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/crypto-interop.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
n=0
check() {  # check WHAT WANT GOT
  n=$((n + 1))
  if [ "$2" = "$3" ]; then echo "ok $n - $1"
  else echo "not ok $n - $1"; printf '%s\n' "wanted: $2" "got:    $3" | sed 's/^/# /'; fi
}

if ! command -v openssl >/dev/null 2>&1; then
  echo "1..1"; echo "ok 1 # SKIP the openssl CLI is not installed"; exit 0
fi

# A Lua helper run by tplua: sign, verify, ids, chains through core.crypto.
cat >"$TMP/c.lua" <<'EOF'
local crypto = require("truthound.native").crypto
local function read(p) local f = assert(io.open(p, "rb")) local s = f:read("a") f:close() return s end
local cmd = arg[1]
if cmd == "sign" then            -- sign KEY ALG MSG OUT
  local key = assert(crypto.load_key(read(arg[2])))
  local f = assert(io.open(arg[5], "wb")) f:write(key:sign(arg[3], read(arg[4]))) f:close()
elseif cmd == "verify" then      -- verify PUB ALG MSG SIG -> true|false
  local key = assert(crypto.load_key(read(arg[2]), {public = true}))
  print(key:verify(arg[3], read(arg[4]), read(arg[5])))
elseif cmd == "key_id" then      -- key_id PEM
  print((assert(crypto.load_key(read(arg[2]))):key_id():gsub("^sha256:", "")))
elseif cmd == "cert_id" then     -- cert_id PEM_OR_DER
  print((assert(crypto.load_certificate(read(arg[2]))):id():gsub("^sha256:", "")))
elseif cmd == "hmac" then        -- hmac HEXKEYFILE MSG -> hex
  local key = assert(crypto.unhex((read(arg[2]):gsub("%s+$", ""))))
  print(crypto.hex(crypto.hmac("sha256", key, read(arg[3]))))
elseif cmd == "chain" then       -- chain LEAF ROOT [INTERMEDIATE] -> ok | reason
  local leaf = assert(crypto.load_certificate(read(arg[2])))
  local root = assert(crypto.load_certificate(read(arg[3])))
  local int = arg[4] and assert(crypto.load_certificate(read(arg[4])))
  local ok, r = crypto.verify_chain(leaf, {trusted = {root}, untrusted = {int}, purpose = "code_signing"})
  print(ok and #r or r)
end
EOF
c() { "$TPLUA" "$TMP/c.lua" "$@" 2>&1; }
printf 'a message to sign\n' >"$TMP/msg"
printf 'a message to sigN\n' >"$TMP/bad"
sha() { sha256sum | cut -d' ' -f1; }

# --- Ed25519 -----------------------------------------------------------------
openssl genpkey -algorithm ed25519 -out "$TMP/ed.pem" 2>/dev/null
openssl pkey -in "$TMP/ed.pem" -pubout -out "$TMP/ed.pub" 2>/dev/null
c sign "$TMP/ed.pem" ED25519 "$TMP/msg" "$TMP/ed.sig"
check "Ed25519: an openssl genpkey key signs through core.crypto (64 bytes)" 64 "$(wc -c <"$TMP/ed.sig" | tr -d ' ')"
got=$(openssl pkeyutl -verify -pubin -inkey "$TMP/ed.pub" -rawin -in "$TMP/msg" -sigfile "$TMP/ed.sig" 2>&1)
check "Ed25519: openssl pkeyutl -verify -rawin accepts it" "Signature Verified Successfully" "$got"
got=$(openssl pkeyutl -verify -pubin -inkey "$TMP/ed.pub" -rawin -in "$TMP/bad" -sigfile "$TMP/ed.sig" 2>/dev/null)
check "Ed25519: ... and refuses it for another message" "Signature Verification Failure" "$got"
openssl pkeyutl -sign -inkey "$TMP/ed.pem" -rawin -in "$TMP/msg" -out "$TMP/ed.osig" 2>/dev/null
check "Ed25519: openssl's signature verifies through core.crypto" true "$(c verify "$TMP/ed.pub" ED25519 "$TMP/msg" "$TMP/ed.osig")"
check "Ed25519: ... not for another message" false "$(c verify "$TMP/ed.pub" ED25519 "$TMP/bad" "$TMP/ed.osig")"
check "Ed25519 is deterministic: both sides make the same signature" "$(sha <"$TMP/ed.osig")" "$(sha <"$TMP/ed.sig")"

# --- RSA ---------------------------------------------------------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/rsa.pem" 2>/dev/null
openssl pkey -in "$TMP/rsa.pem" -pubout -out "$TMP/rsa.pub" 2>/dev/null
PSS="-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32"
c sign "$TMP/rsa.pem" RSA_SHA256 "$TMP/msg" "$TMP/p1.sig"
got=$(openssl dgst -sha256 -verify "$TMP/rsa.pub" -signature "$TMP/p1.sig" "$TMP/msg" 2>&1)
check "RSA_SHA256: openssl dgst -sha256 -verify accepts core.crypto's signature" "Verified OK" "$got"
got=$(openssl dgst -sha256 -verify "$TMP/rsa.pub" -signature "$TMP/p1.sig" "$TMP/bad" 2>/dev/null)
check "RSA_SHA256: ... and refuses it for another message" "Verification failure" "$got"
c sign "$TMP/rsa.pem" RSA_PSS_SHA256 "$TMP/msg" "$TMP/pss.sig"
# shellcheck disable=SC2086
got=$(openssl dgst -sha256 -verify "$TMP/rsa.pub" $PSS -signature "$TMP/pss.sig" "$TMP/msg" 2>&1)
check "RSA_PSS_SHA256: openssl dgst with PSS, salt 32 accepts it" "Verified OK" "$got"
got=$(openssl dgst -sha256 -verify "$TMP/rsa.pub" -signature "$TMP/pss.sig" "$TMP/msg" 2>/dev/null)
check "RSA_PSS_SHA256: ... and it is no PKCS#1 v1.5 signature" "Verification failure" "$got"
openssl dgst -sha256 -sign "$TMP/rsa.pem" -out "$TMP/p1.osig" "$TMP/msg" 2>/dev/null
# shellcheck disable=SC2086
openssl dgst -sha256 -sign "$TMP/rsa.pem" $PSS -out "$TMP/pss.osig" "$TMP/msg" 2>/dev/null
check "RSA_SHA256: openssl's signature verifies through core.crypto" true "$(c verify "$TMP/rsa.pub" RSA_SHA256 "$TMP/msg" "$TMP/p1.osig")"
check "RSA_SHA256 is deterministic: both sides make the same signature" "$(sha <"$TMP/p1.osig")" "$(sha <"$TMP/p1.sig")"
check "RSA_PSS_SHA256: openssl's PSS signature verifies through core.crypto" true "$(c verify "$TMP/rsa.pub" RSA_PSS_SHA256 "$TMP/msg" "$TMP/pss.osig")"
check "RSA_PSS_SHA256: ... not for another message" false "$(c verify "$TMP/rsa.pub" RSA_PSS_SHA256 "$TMP/bad" "$TMP/pss.osig")"
# shellcheck disable=SC2086
openssl dgst -sha256 -sign "$TMP/rsa.pem" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:20 -out "$TMP/pss20.osig" "$TMP/msg" 2>/dev/null
check "RSA_PSS_SHA256: a PSS signature with salt 20 is refused (salt is exactly 32)" false "$(c verify "$TMP/rsa.pub" RSA_PSS_SHA256 "$TMP/msg" "$TMP/pss20.osig")"

# --- ids -------------------------------------------------------------------
for k in ed rsa; do
  want=$(openssl pkey -pubin -in "$TMP/$k.pub" -outform DER 2>/dev/null | sha)
  check "$k: key_id is sha256 of 'openssl pkey -pubin -outform DER' (public PEM)" "$want" "$(c key_id "$TMP/$k.pub")"
  check "$k: ... the same from the private key" "$want" "$(c key_id "$TMP/$k.pem")"
done
openssl req -x509 -new -key "$TMP/rsa.pem" -subj "/CN=openssl made" -days 30 -out "$TMP/o.crt" 2>/dev/null
openssl x509 -in "$TMP/o.crt" -outform DER -out "$TMP/o.der" 2>/dev/null
want=$(openssl x509 -in "$TMP/o.crt" -outform DER 2>/dev/null | sha)
check "cert:id of an openssl certificate is sha256 of 'openssl x509 -outform DER' (PEM input)" "$want" "$(c cert_id "$TMP/o.crt")"
check "cert:id ... the same from DER input" "$want" "$(c cert_id "$TMP/o.der")"

# --- keygen ------------------------------------------------------------------
(cd "$TMP" && "$TPLUA" keygen --algorithm ed25519 --out kg --self-signed "CN=Keygen Test,O=truthound" --days 10 >out 2>err)
check "keygen ed25519 --self-signed: exit 0, three files" "0|kg.crt kg.key kg.pub" "$?|$(cd "$TMP" && echo kg.*)"
check "keygen: NAME.key is mode 0600, NAME.pub and NAME.crt 0644" "600 644 644" \
  "$(stat -c %a "$TMP/kg.key" "$TMP/kg.pub" "$TMP/kg.crt" | tr '\n' ' ' | sed 's/ $//')"
check "keygen: NAME.key is PKCS#8 that openssl reads" "-----BEGIN PRIVATE KEY-----|ED25519" \
  "$(head -n 1 "$TMP/kg.key")|$(openssl pkey -in "$TMP/kg.key" -noout -text 2>&1 | head -n 1 | cut -d' ' -f1)"
check "keygen: NAME.pub is the SPKI of NAME.key" "$(openssl pkey -in "$TMP/kg.key" -pubout 2>/dev/null)" "$(cat "$TMP/kg.pub")"
check "keygen: the printed key id is openssl's" \
  "kg.pub: public key sha256:$(openssl pkey -pubin -in "$TMP/kg.pub" -outform DER 2>/dev/null | sha)" "$(sed -n 2p "$TMP/out")"
got=$(openssl verify -CAfile "$TMP/kg.crt" "$TMP/kg.crt" 2>&1)
check "keygen: NAME.crt is a self-signed certificate openssl verifies" "$TMP/kg.crt: OK" "$got"
check "keygen: NAME.crt certifies NAME.pub" "$(cat "$TMP/kg.pub")" "$(openssl x509 -in "$TMP/kg.crt" -noout -pubkey 2>/dev/null)"
cp "$TMP/kg.key" "$TMP/kg.key.before"
(cd "$TMP" && "$TPLUA" keygen --algorithm ed25519 --out kg >out 2>err)
check "keygen refuses to overwrite: exit 1, the key unchanged" \
  "1|tplua keygen: kg.key exists; refusing to overwrite it|same" \
  "$?|$(cat "$TMP/err")|$(cmp -s "$TMP/kg.key" "$TMP/kg.key.before" && echo same)"
ln -s "$TMP/elsewhere" "$TMP/dl.pub"
(cd "$TMP" && "$TPLUA" keygen --algorithm ed25519 --out dl >out 2>err)
check "keygen refuses a dangling link in the way, and writes nothing" "1|dl.pub|no" \
  "$?|$(cd "$TMP" && echo dl.*)|$([ -e "$TMP/elsewhere" ] && echo yes || echo no)"
(cd "$TMP" && "$TPLUA" keygen --algorithm rsa --bits 2048 --out kr >out 2>err)
check "keygen rsa --bits 2048: openssl sees a 2048-bit RSA key" "0|Private-Key: (2048 bit, 2 primes)" \
  "$?|$(openssl pkey -in "$TMP/kr.key" -noout -text 2>&1 | head -n 1)"
(cd "$TMP" && "$TPLUA" keygen --algorithm rsa --bits 1024 --out ks >out 2>err)
check "keygen rsa --bits 1024 is a usage error, nothing written" "2|ks.*" "$?|$(cd "$TMP" && echo ks.*)"
(cd "$TMP" && "$TPLUA" keygen --algorithm hmac --out hk >out 2>err)
check "keygen hmac: NAME.key holds 64 hex digits and a newline, mode 0600" "0|65|600|1" \
  "$?|$(wc -c <"$TMP/hk.key" | tr -d ' ')|$(stat -c %a "$TMP/hk.key")|$(grep -c '^[0-9a-f]\{64\}$' "$TMP/hk.key")"
want=$(openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(cat "$TMP/hk.key")" "$TMP/msg" 2>/dev/null | sed 's/.*= //')
check "keygen hmac: openssl dgst -mac HMAC with the key gives core.crypto's tag" "$want" "$(c hmac "$TMP/hk.key" "$TMP/msg")"

# --- chains made by openssl ---------------------------------------------------
cat >"$TMP/ext.cnf" <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[tls]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
openssl req -x509 -new -key "$TMP/rsa.pem" -subj "/CN=Interop Root" -days 30 -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$TMP/root.crt" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$TMP/int.pem" 2>/dev/null
openssl req -new -key "$TMP/int.pem" -subj "/CN=Interop Intermediate" -out "$TMP/int.csr" 2>/dev/null
openssl x509 -req -in "$TMP/int.csr" -CA "$TMP/root.crt" -CAkey "$TMP/rsa.pem" -CAcreateserial -days 20 \
  -sha256 -extfile "$TMP/ext.cnf" -extensions ca -out "$TMP/int.crt" 2>/dev/null
for kind in leaf tls; do
  openssl req -new -key "$TMP/ed.pem" -subj "/CN=Interop $kind" -out "$TMP/$kind.csr" 2>/dev/null
  openssl x509 -req -in "$TMP/$kind.csr" -CA "$TMP/int.crt" -CAkey "$TMP/int.pem" -CAcreateserial -days 10 \
    -extfile "$TMP/ext.cnf" -extensions "$kind" -out "$TMP/$kind.crt" 2>/dev/null
done
check "openssl verify accepts its own chain (sanity)" "$TMP/leaf.crt: OK" \
  "$(openssl verify -CAfile "$TMP/root.crt" -untrusted "$TMP/int.crt" "$TMP/leaf.crt" 2>&1)"
check "verify_chain accepts the openssl-made chain for code signing (3 certificates)" 3 \
  "$(c chain "$TMP/leaf.crt" "$TMP/root.crt" "$TMP/int.crt")"
check "verify_chain refuses the serverAuth leaf for code signing" \
  'certificate "CN=Interop tls" (leaf, depth 0) has an extended key usage without codeSigning' \
  "$(c chain "$TMP/tls.crt" "$TMP/root.crt" "$TMP/int.crt")"
check "verify_chain refuses the chain without its intermediate" \
  'certificate "CN=Interop leaf" (leaf, depth 0) was issued by "CN=Interop Intermediate", which is neither trusted nor given: untrusted root' \
  "$(c chain "$TMP/leaf.crt" "$TMP/root.crt")"

echo "1..$n"
