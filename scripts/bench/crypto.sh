# make bench rows for core.crypto (sourced by scripts/bench.sh).
#
# Signature verifications per second through the Lua API, key:verify(alg,
# msg, sig) on a 25-byte message with a public key, against `openssl speed`
# in the same run (OpenSSL's own loop over EVP_DigestVerify, no Lua). Both
# sides count CPU time, as openssl speed does by default (its -elapsed
# would use wall time), so a busy machine moves both alike. Our side: best
# of 3 runs, each looping until BENCH_MIN_SECONDS (1) of CPU time (os.clock)
# have passed. The peer: `openssl speed -seconds 2 ALG`, its verify/s.

crypto_lua() {
  cat >"$work/crypto_bench.lua" <<'EOF'
local core = require("truthound.native")
local crypto, clock = core.crypto, os.clock
local alg, min = arg[1], tonumber(arg[2]) or 1
local key = alg == "ED25519" and crypto.generate("ed25519") or crypto.generate("rsa", 2048)
local pub = assert(crypto.load_key(key:public_pem()))
local msg = "a short message to verify"
local sig = key:sign(alg, msg)
assert(pub:verify(alg, msg, sig) and not pub:verify(alg, msg .. "x", sig))
local best = 0
for _ = 1, 3 do
  local n, t0 = 0, clock()
  repeat
    for _ = 1, 100 do pub:verify(alg, msg, sig) end
    n = n + 100
  until clock() - t0 >= min
  local rate = n / (clock() - t0)
  if rate > best then best = rate end
end
print(("%.0f"):format(best))
EOF
}

# crypto_peer NAME: verify/s that `openssl speed` reports for NAME (the
# last column of its last line), or nothing.
crypto_peer() {
  openssl speed -seconds 2 "$1" 2>/dev/null | tail -n 1 | awk '{print $NF}'
}

bench_crypto() {
  crypto_lua
  if command -v openssl >/dev/null 2>&1; then
    peer_name="openssl speed ($(openssl version | cut -d' ' -f1-2))"
  else
    peer_name="openssl speed"
    note "crypto: the openssl CLI is missing: the peer columns are empty"
  fi
  for spec in "ED25519 ed25519 0.9" "RSA_SHA256 rsa2048 0.9"; do
    set -- $spec
    say "crypto: measuring key:verify(\"$1\") and openssl speed $2"
    ours=$("$LUA" "$work/crypto_bench.lua" "$1" "${BENCH_MIN_SECONDS:-1}" 2>>"$work/crypto.err") || ours=""
    peer=""
    command -v openssl >/dev/null 2>&1 && peer=$(crypto_peer "$2")
    row "crypto: key:verify $1, 25-byte message" "$ours" "$peer_name $2" "$peer" "verify/s" "$3"
  done
  [ -s "$work/crypto.err" ] && note "crypto: $(tail -n 3 "$work/crypto.err")"
  note "crypto: our side is Lua calling key:verify (hashing the message each time); openssl speed loops in C over EVP_DigestVerify (Ed25519) or EVP_PKEY_verify of a ready digest (RSA)"
}
