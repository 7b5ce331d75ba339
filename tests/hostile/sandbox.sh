#!/bin/sh
# The sandbox hostile suite: one attack plugin per case
# (tests/hostile/sandbox/<case>/), each run at the isolation levels that
# promise to stop it, each asserting the exact typed error, that the host
# and its other plugins keep working, and (where it applies) that the same
# action works when the sandbox allows it. Then the host talks to fake
# workers that send garbage. docs/hostile.md lists every case. Prints TAP.
#
#   TPLUA=build/tplua sh tests/hostile/sandbox.sh
#   TPHOSTILE_LEVELS="NONE" TPHOSTILE_CASES="loop_ mem_" sh tests/hostile/sandbox.sh
set -u
TPLUA=${TPLUA:-$PWD/build/tplua}
SRC=$(cd "$(dirname "$0")/sandbox" && pwd)
TMP=$(mktemp -d)
OUT=$TMP/tap
trap 'rm -rf "$TMP"' EXIT
chmod 0755 "$TMP"
: >"$OUT"

# A secret in the host's environment: no worker may see it.
TPHOSTILE_SECRET="tphostile-env-secret-$$"
# The marker of this run's attack processes (see run.lua).
TPHOSTILE_RUN=$$
export TPHOSTILE_SECRET TPHOSTILE_RUN

# run NAME LIMIT CMD...: one tplua run, bounded in time; its TAP goes to
# $OUT. A run that hangs or dies without reporting is a failure.
run() {
  name=$1 limit=$2; shift 2
  timeout -k 5 "$limit" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null
  rc=$?
  grep -E '^(ok|not ok|#)' "$TMP/$name.out" | grep -v '^# running' >>"$OUT"
  if [ $rc -ne 0 ] && ! grep -q '^not ok' "$TMP/$name.out"; then
    echo "not ok - $name: exited with status $rc without a failing test" >>"$OUT"
    [ $rc -eq 124 ] && echo "# the host hung: killed after ${limit}s while $(grep '^# running' "$TMP/$name.out" | tail -n 1 | sed 's/^# //')" >>"$OUT"
    tail -n 5 "$TMP/$name.err" | sed 's/^/#   /' >>"$OUT"
  fi
}

# Each case at each level in a host process of its own, bounded in time:
# a host that hangs (a hole) costs that case only.
"$TPLUA" "$SRC/run.lua" "$TMP/list.d" "$SRC" list >"$TMP/list" 2>"$TMP/list.err" ||
  { echo "not ok - listing the cases failed"; sed 's/^/# /' "$TMP/list.err"; exit 1; }
while read -r plugin level; do
  run "$plugin-$level" 60 "$TPLUA" "$SRC/run.lua" "$TMP/$plugin-$level.d" "$SRC" case "$plugin" "$level"
done <"$TMP/list"
echo "# $(cut -d' ' -f1 "$TMP/list" | sort -u | wc -l) attack cases, $(wc -l <"$TMP/list") runs" >>"$OUT"

# Fake workers: perl programs that speak (or mangle) the wire on fd 3.
mkdir -p "$TMP/fake"
fake() {
  f="$TMP/fake/$1"
  cat >"$f" <<'EOF'
#!/usr/bin/perl
# A fake truthound-worker for the hostile suite.
use strict; use warnings;
open(my $ch, "+<&=", 3) or exit 1;
binmode $ch;
sub frame { my ($type, $payload) = @_;
  syswrite($ch, "TPW1" . pack("CCvV", $type, 0, 0, length $payload) . $payload); }
sub str { my ($s) = @_; return "\x05" . pack("V", length $s) . $s; }
sub int64 { my ($n) = @_; return "\x03" . pack("q<", $n); }
# READY claims seccomp and Landlock (a lie: these fakes test the host's
# decoding, not its trust); keys in canonical order (by encoded bytes:
# length first).
sub ready { frame(2, "\x06" . pack("VV", 0, 4) . str("pid") . int64($$) . str("rss") . int64(0) .
                  str("seccomp") . "\x02" . str("landlock_abi") . int64(7)); }
sub read_frame { my $h = ""; while (length $h < 12) { my $n = sysread($ch, $h, 12 - length $h, length $h);
  exit 0 unless $n; } my $len = unpack("V", substr($h, 8, 4)); my $p = "";
  while (length $p < $len) { my $n = sysread($ch, $p, $len - length $p, length $p); exit 0 unless $n; }
  return (ord(substr($h, 4, 1)), $p); }
EOF
  cat >>"$f"
  chmod 0755 "$f"
  run "fake-$1" 90 env TRUTHOUND_WORKER="$f" "$TPLUA" "$SRC/run.lua" "$TMP/fake-$1.d" "$SRC" fake "$1"
}

fake garbage <<'EOF'
open(my $r, "<", "/dev/urandom"); my $junk; read($r, $junk, 65536); syswrite($ch, $junk); sleep 30;
EOF
fake bad_magic <<'EOF'
syswrite($ch, "XPW1" . pack("CCvV", 2, 0, 0, 1) . "\x00"); sleep 30;
EOF
fake huge_length <<'EOF'
syswrite($ch, "TPW1" . pack("CCvV", 2, 0, 0, 0xFFFFFFFF) . "\x06" x 64); sleep 30;
EOF
fake bad_type <<'EOF'
frame(200, "\x00"); sleep 30;
EOF
fake exits_at_once <<'EOF'
exit 0;
EOF
fake silent <<'EOF'
sleep 600;
EOF
fake bad_tag <<'EOF'
frame(2, "\xFF"); sleep 30;
EOF
fake trailing <<'EOF'
frame(2, "\x00\x00\x00"); sleep 30;
EOF
fake string_claim <<'EOF'
frame(2, "\x05" . pack("V", 0xFFFFFFF0) . "abc"); sleep 30;
EOF
fake deep_nesting <<'EOF'
frame(2, ("\x06" . pack("VV", 1, 0)) x 200000 . "\x00"); sleep 30;
EOF
fake count_bomb <<'EOF'
frame(2, "\x06" . pack("VV", 0xFFFFFFFF, 0xFFFFFFFF)); sleep 30;
EOF
fake bad_result <<'EOF'
ready(); read_frame(); frame(4, "\x06" . pack("VV", 0, 5)); sleep 30;
EOF
fake wrong_id <<'EOF'
ready(); read_frame();
frame(4, "\x06" . pack("VV", 0, 2) . str("id") . int64(999999) . str("results") .
         "\x06" . pack("VV", 0, 1) . str("n") . int64(0));
sleep 30;
EOF
fake violation_spoof <<'EOF'
ready(); read_frame();
frame(6, "\x06" . pack("VV", 0, 2) . str("kind") . str("subprocess") . str("syscall") . str("execve"));
sleep 30;
EOF
fake dies_mid_call <<'EOF'
ready(); read_frame(); kill("KILL", $$);
EOF
fake flood <<'EOF'
ready(); read_frame(); my $big = "\x05" . pack("V", 15 << 20) . ("A" x (15 << 20));
for (1 .. 64) { frame(8, $big) or last; } sleep 30;
EOF

# Renumber the runs' TAP into one stream.
awk '/^ok / || /^not ok / { n++; sub(/^(not )?ok( [0-9]+)?/, ($1 == "not" ? "not ok " : "ok ") n) }
     { print } END { print "1.." n }' "$OUT" | grep -v '^1\.\.[0-9]*$' >"$TMP/final"
total=$(grep -cE '^(ok|not ok)' "$TMP/final")
cat "$TMP/final"
echo "1..$total"
! grep -q '^not ok' "$TMP/final"
