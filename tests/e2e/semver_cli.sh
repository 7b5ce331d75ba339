#!/bin/sh
# `tplua semver check|sort`: the formats of docs/formats.md and the error
# paths. (tests/e2e/semver_diff.sh checks the verdicts against node-semver.)
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

printf '^1.2\t1.9.0\n~1.2\t1.9.0\nno tab here\n>=1.0.0,,<2\t1.0.0\n*\tnot-a-version\n1.x\t1.0.0-rc.1\n\t1.0.0\n^1\t 1.2.3\r\n*\t1.0.0' >"$TMP/pairs"
out=$("$TPLUA" semver check <"$TMP/pairs"; echo "rc=$?")
check "check: one verdict per line, E for bad input, last line without LF" \
  "$(printf '1\n0\nE\nE\nE\n0\nE\n1\n1\nrc=0')" "$out"
out=$("$TPLUA" semver check --include-prerelease <"$TMP/pairs" | sed -n 6p)
check "check --include-prerelease lets 1.x match 1.0.0-rc.1" "1" "$out"

printf '1.10.0\n1.2.0\n\n1.2.0-rc.1\nv1.2.0\n1.2.0+b\n0.0.1\n' >"$TMP/versions"
out=$("$TPLUA" semver sort <"$TMP/versions"; echo "rc=$?")
check "sort: ascending, blank lines dropped, equal versions by build then input order" \
  "$(printf '0.0.1\n1.2.0-rc.1\n1.2.0\nv1.2.0\n1.2.0+b\n1.10.0\nrc=0')" "$out"

printf '1.0.0\n\n1.2\n2.0.0\n' >"$TMP/bad"
"$TPLUA" semver sort <"$TMP/bad" >"$TMP/out" 2>"$TMP/err"
rc=$?
check "sort: an invalid version exits 3" 3 "$rc"
check "sort: nothing on stdout when a line is invalid" "" "$(cat "$TMP/out")"
check "sort: the error names the line and the column" \
  "tplua: VersionError: <stdin>:3: invalid version \"1.2\" at column 4: expected '.' and a patch version number, found end of input" \
  "$(head -n 1 "$TMP/err")"

"$TPLUA" semver frobnicate </dev/null >"$TMP/out" 2>"$TMP/err"
check "an unknown subcommand is a usage error (exit 2)" 2 "$?"
check "the usage error names the subcommand" \
  "tplua: UsageError: semver: unknown subcommand 'frobnicate' (see 'tplua semver --help')" \
  "$(head -n 1 "$TMP/err")"
"$TPLUA" semver check --nope </dev/null >/dev/null 2>&1
check "an unknown option to check is a usage error (exit 2)" 2 "$?"
out=$("$TPLUA" semver --help | head -n 2)
check "semver --help shows both forms" \
  "$(printf 'usage: tplua semver check [--include-prerelease] < RANGE<TAB>VERSION lines\n       tplua semver sort < versions')" "$out"
echo "1..$n"
