#!/bin/sh
# `tplua doctor`: exit status, the sections of the report, one verdict per
# probe line, --json (parsed with lua-cjson), --no-runs, usage errors, and
# agreement with bwrap itself. (tests/lua/host_spec.lua checks the probe's
# answers against independent evidence.)
set -u
TPLUA=${TPLUA:-$PWD/build/tplua}
LUA=${LUA:-lua5.4}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
check() {  # check WHAT WANT GOT
  n=$((n + 1))
  if [ "$2" = "$3" ]; then echo "ok $n - $1"
  else echo "not ok $n - $1"; printf '%s\n' "wanted: $2" "got:    $3" | sed 's/^/# /'; fi
}

"$TPLUA" doctor >"$TMP/out" 2>"$TMP/err"
check "doctor exits 0" 0 "$?"
check "doctor writes nothing on stderr" "" "$(cat "$TMP/err")"

missing=""
for s in "Namespaces" "Seccomp" "Landlock" "no_new_privs" "Cgroups" "Resource limits" \
         "Container runtimes" "Mechanisms" "Presets at full strength"; do
  grep -q "^$s" "$TMP/out" || missing="$missing [$s]"
done
check "the report has every section" "" "$missing"

# Lines of the probe sections (not the rlimits, which are numbers): two
# blanks, a label, then a verdict.
lines=$(awk '/^Namespaces/ || /^Container runtimes/ {on = 1} /^Resource limits/ || /^Mechanisms/ {on = 0}
             on && /^  [^ ]/ && $0 !~ /^  (sysctls|LSMs|v[12] mount|note) / {print}' "$TMP/out")
bad=$(printf '%s\n' "$lines" | awk '$2 !~ /^(available|unavailable|not)$/ &&
                                    $3 !~ /^(available|unavailable|not)$/ {print}')
check "each probe line says available or unavailable" "" "$bad"
[ "$(printf '%s\n' "$lines" | wc -l)" -ge 25 ]
check "there are at least 25 probe lines" 0 "$?"
for ns in user mount pid net ipc uts cgroup; do
  grep -Eq "^  $ns +(available|unavailable) +[^ ]" "$TMP/out" || missing="$missing $ns"
done
check "each namespace has a line with its reason" "" "$missing"
check "each preset has a verdict" 6 \
  "$(grep -Ec '^  (development|testing|standard|enterprise|strict|airgapped) +(NONE|PROCESS|CONTAINER) +(yes|no)' "$TMP/out")"

# bwrap: the report agrees with running it.
if command -v bwrap >/dev/null 2>&1; then
  if bwrap --ro-bind / / --unshare-all /bin/true >/dev/null 2>&1; then want=available; else want=unavailable; fi
  check "bwrap's line agrees with running bwrap" "$want" \
    "$(awk '$1 == "bwrap" {print $2}' "$TMP/out" | head -n 1)"
else
  n=$((n + 1)); echo "ok $n - bwrap's line agrees with running bwrap # SKIP no bwrap"
fi

"$TPLUA" doctor --json >"$TMP/json" 2>"$TMP/err"
check "doctor --json exits 0" 0 "$?"
out=$($LUA -e '
  local cjson = require("cjson")
  local d = cjson.decode(io.read("a"))
  local h = d.host
  local ok = type(h.landlock.abi) == "number" and type(h.namespaces.net.available) == "boolean"
    and type(h.seccomp.actions.ALLOW.available) == "boolean"
    and type(h.cgroups.memory.v1.reason) == "string"
    and (h.rlimits.DATA.hard == "unlimited" or type(h.rlimits.DATA.hard) == "number")
    and type(h.runtimes.bwrap.command) == "string"
    and type(d.mechanisms["landlock.fs"].available) == "boolean"
  local presets = d.presets ~= cjson.null and #d.presets or -1
  io.write(tostring(ok), " ", presets, "\n")' <"$TMP/json" 2>&1)
check "--json parses with lua-cjson and has the probe, mechanisms and presets" "true 6" "$out"

"$TPLUA" doctor --no-runs >"$TMP/out" 2>&1
check "doctor --no-runs exits 0" 0 "$?"
if command -v bwrap >/dev/null 2>&1; then
  check "--no-runs finds bwrap but does not run it" "not tried" \
    "$(awk '$1 == "bwrap" {print $2, $3}' "$TMP/out" | head -n 1)"
fi

"$TPLUA" doctor --frobnicate >"$TMP/out" 2>"$TMP/err"
check "an unknown argument is a usage error (exit 2)" 2 "$?"
check "the usage error names the argument" \
  "tplua: UsageError: doctor: unknown argument '--frobnicate' (see 'tplua doctor --help')" \
  "$(head -n 1 "$TMP/err")"
check "doctor --help shows the usage" "usage: tplua doctor [--json] [--no-runs]" \
  "$("$TPLUA" doctor --help | head -n 1)"
check "tplua --help lists doctor" 1 "$("$TPLUA" --help | grep -c '^  doctor ')"
echo "1..$n"
