#!/bin/sh
# Interop: a tplua signature checked by someone who has only the public
# key (or the HMAC secret), openssl, jq, coreutils and docs/formats.md.
# Every command below is the one the "Signature envelope" section of
# docs/formats.md gives; keys come from openssl genpkey. Prints TAP.
set -u
TPLUA=${TPLUA:-$PWD/build/tplua}
if ! command -v jq >/dev/null 2>&1; then
  echo "ok 1 # SKIP jq not found (scripts/deps.sh installs it)"
  echo "1..1"
  exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
check() {  # check WHAT WANT GOT
  n=$((n + 1))
  if [ "$2" = "$3" ]; then echo "ok $n - $1"
  else echo "not ok $n - $1"; printf '%s\n' "wanted: $2" "got:    $3" | sed 's/^/# /'; fi
}

# --- docs/formats.md, "Checking a signature with openssl" -----------------
# payload SIG_FILE INDEX > payload.bin: the signed bytes of one signature.
payload() {
  printf 'truthound-signature/1\n'
  jq -j --argjson i "$2" '.signatures[$i] |
    "plugin_id=\(.plugin_id)\nplugin_version=\(.plugin_version)\ntree_digest=\(.tree_digest)\n" +
    "signer=\(.signer)\nkey_id=\(.key_id)\nalgorithm=\(.algorithm)\n" +
    "created=\(.created)\nexpires=\(.expires)\nmetadata="' "$1"
  jq -cS --argjson i "$2" '.signatures[$i].metadata' "$1"
}
# sigbytes SIG_FILE INDEX > sig.bin
sigbytes() { jq -r --argjson i "$2" '.signatures[$i].signature' "$1" | base64 -d; }
# tree_digest DIR: "sha256:" and the tree digest, by the pipeline of
# docs/formats.md, "Tree digest", "Reproducing it" (DIR is $DIR there).
tree_digest() {
  DIR=$1
  printf 'sha256:%s\n' "$(
(cd "$DIR" && find . -type f ! -path ./plugin.sig -printf '%P\n' | LC_ALL=C sort |
  while IFS= read -r p; do
    case $(stat -c %A -- "$p") in ???[xs]*) x=x ;; *) x=- ;; esac
    printf '%s %s %s\n' "$(sha256sum < "$p" | cut -c1-64)" "$x" "$p"
  done) | sha256sum | cut -c1-64
)"
}
# ---------------------------------------------------------------------------

make_plugin() {
  mkdir -p "$1/lib" "$1/bin"
  printf 'return {id = "hello", version = "1.2.0-rc.1+build.5", entry = "main"}\n' >"$1/plugin.lua"
  printf 'return {}\n' >"$1/main.lua"
  printf 'return "caf\303\251"\n' >"$1/lib/util.lua"
  printf '#!/bin/sh\n' >"$1/bin/run.sh"
  chmod 755 "$1/bin/run.sh"
  printf 'x' >"$1/lib/B.lua"
}

openssl genpkey -algorithm ed25519 -out "$TMP/ed.key" 2>/dev/null
openssl pkey -in "$TMP/ed.key" -pubout -out "$TMP/ed.pub"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/rsa.key" 2>/dev/null
openssl pkey -in "$TMP/rsa.key" -pubout -out "$TMP/rsa.pub"
openssl rand -hex 32 >"$TMP/hmac.key"
openssl rand -hex 64 >"$TMP/hmac64.key"

# sign NAME ARGS...: a fresh plugin signed by tplua; echoes its directory.
sign() {
  d=$TMP/$1/hello
  shift
  make_plugin "$d"
  "$TPLUA" sign "$d" --metadata "note=\"quoted\" \\ é" --metadata "a=1" "$@" >"$TMP/sign.out" 2>&1 ||
    { sed 's/^/# /' "$TMP/sign.out"; }
  echo "$d"
}

D=$(sign ed --key "$TMP/ed.key" --signer acme)
payload "$D/plugin.sig" 0 >"$TMP/payload"
sigbytes "$D/plugin.sig" 0 >"$TMP/sig"
check "the payload starts with the format line and has ten lines" "10" "$(wc -l <"$TMP/payload" | tr -d ' ')"
check "metadata is canonical JSON (sorted keys, minimal escapes)" \
  'metadata={"a":"1","note":"\"quoted\" \\ é"}' "$(tail -n 1 "$TMP/payload")"
check "Ed25519: openssl pkeyutl -verify -rawin accepts the signature" "Signature Verified Successfully" \
  "$(openssl pkeyutl -verify -pubin -inkey "$TMP/ed.pub" -rawin -in "$TMP/payload" -sigfile "$TMP/sig" 2>&1)"
check "key_id is the SHA-256 of the DER SubjectPublicKeyInfo" \
  "sha256:$(openssl pkey -pubin -in "$TMP/ed.pub" -outform DER | sha256sum | cut -c1-64)" \
  "$(jq -r '.signatures[0].key_id' "$D/plugin.sig")"
check "tree_digest is what the documented shell pipeline computes" \
  "$(tree_digest "$D")" "$(jq -r '.signatures[0].tree_digest' "$D/plugin.sig")"
printf 'X' | dd of="$TMP/payload" bs=1 seek=40 conv=notrunc 2>/dev/null
check "Ed25519: a changed payload byte fails openssl too" "1" \
  "$(openssl pkeyutl -verify -pubin -inkey "$TMP/ed.pub" -rawin -in "$TMP/payload" -sigfile "$TMP/sig" >/dev/null 2>&1; echo $?)"

D=$(sign rsa1 --key "$TMP/rsa.key" --signer acme --algorithm RSA_SHA256)
payload "$D/plugin.sig" 0 >"$TMP/payload"
sigbytes "$D/plugin.sig" 0 >"$TMP/sig"
check "RSA_SHA256 (PKCS#1 v1.5): openssl dgst -sha256 -verify" "Verified OK" \
  "$(openssl dgst -sha256 -verify "$TMP/rsa.pub" -signature "$TMP/sig" "$TMP/payload" 2>&1)"

D=$(sign pss --key "$TMP/rsa.key" --signer acme --algorithm RSA_PSS_SHA256)
payload "$D/plugin.sig" 0 >"$TMP/payload"
sigbytes "$D/plugin.sig" 0 >"$TMP/sig"
check "RSA_PSS_SHA256: openssl dgst -sha256 -verify -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32" \
  "Verified OK" "$(openssl dgst -sha256 -verify "$TMP/rsa.pub" -sigopt rsa_padding_mode:pss \
                   -sigopt rsa_pss_saltlen:32 -signature "$TMP/sig" "$TMP/payload" 2>&1)"
check "RSA_PSS_SHA256 is not PKCS#1 v1.5 (openssl refuses it without the PSS options)" 1 \
  "$(openssl dgst -sha256 -verify "$TMP/rsa.pub" -signature "$TMP/sig" "$TMP/payload" >/dev/null 2>&1; echo $?)"

for bits in 256 512; do
  key=$TMP/hmac.key
  [ "$bits" = 512 ] && key=$TMP/hmac64.key
  D=$(sign "hmac$bits" --key "$key" --signer ci --algorithm "HMAC_SHA$bits")
  payload "$D/plugin.sig" 0 >"$TMP/payload"
  check "HMAC_SHA$bits: openssl dgst -sha$bits -mac HMAC -macopt hexkey:... gives the tag" \
    "$(sigbytes "$D/plugin.sig" 0 | od -An -v -tx1 | tr -d ' \n')" \
    "$(openssl dgst -sha$bits -mac HMAC -macopt "hexkey:$(cat "$key")" -r "$TMP/payload" | cut -d' ' -f1)"
  check "HMAC_SHA$bits: the key id is HMAC-SHA256(key, \"truthound-hmac-key-id/1\"), first 16 bytes" \
    "hmac:$(printf 'truthound-hmac-key-id/1' | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(cat "$key")" -r | cut -c1-32)" \
    "$(jq -r '.signatures[0].key_id' "$D/plugin.sig")"
done

for bits in 256 512; do
  D=$(sign "sha$bits" --signer builder --algorithm "SHA$bits")
  payload "$D/plugin.sig" 0 >"$TMP/payload"
  check "SHA$bits (integrity only): the signature is sha${bits}sum of the payload" \
    "$(sha${bits}sum "$TMP/payload" | cut -d' ' -f1)" \
    "$(sigbytes "$D/plugin.sig" 0 | od -An -v -tx1 | tr -d ' \n')"
done

# Two signatures in one envelope: each checks on its own.
D=$(sign two --key "$TMP/ed.key" --signer acme)
"$TPLUA" sign "$D" --key "$TMP/rsa.key" --signer bob >/dev/null 2>&1
payload "$D/plugin.sig" 1 >"$TMP/payload"
sigbytes "$D/plugin.sig" 1 >"$TMP/sig"
check "the second signature of an envelope verifies with openssl" "Verified OK" \
  "$(openssl dgst -sha256 -verify "$TMP/rsa.pub" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
     -signature "$TMP/sig" "$TMP/payload" 2>&1)"

# And the other way: a signature made by openssl alone verifies in tplua.
D=$TMP/byhand/hello
make_plugin "$D"
KEYID="sha256:$(openssl pkey -pubin -in "$TMP/ed.pub" -outform DER | sha256sum | cut -c1-64)"
printf 'truthound-signature/1\nplugin_id=hello\nplugin_version=1.2.0-rc.1+build.5\ntree_digest=%s\nsigner=acme\nkey_id=%s\nalgorithm=ED25519\ncreated=2026-01-01T00:00:00Z\nexpires=2099-01-01T00:00:00Z\nmetadata={}\n' \
  "$(tree_digest "$D")" "$KEYID" >"$TMP/payload"
openssl pkeyutl -sign -inkey "$TMP/ed.key" -rawin -in "$TMP/payload" -out "$TMP/sig"
jq -n --arg td "$(tree_digest "$D")" --arg kid "$KEYID" --arg sig "$(base64 -w0 "$TMP/sig")" \
  '{format: "truthound-signature/1", signatures: [{plugin_id: "hello", plugin_version: "1.2.0-rc.1+build.5",
    tree_digest: $td, signer: "acme", key_id: $kid, algorithm: "ED25519", created: "2026-01-01T00:00:00Z",
    expires: "2099-01-01T00:00:00Z", metadata: {}, signature: $sig}]}' >"$D/plugin.sig"
"$TPLUA" trust add "$TMP/ed.pub" --signer acme --store "$TMP/trust.json" >/dev/null
"$TPLUA" verify "$D" --trust "$TMP/trust.json" >"$TMP/out" 2>&1
check "an envelope written with openssl and jq from the docs verifies in tplua" 0 "$?"

echo "1..$n"
