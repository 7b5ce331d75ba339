# make bench rows for the sandbox engines (sourced by scripts/bench.sh).
#
# Each row is a rate (calls/s, or 1/latency) next to its physical floor
# measured in the same run, so "ratio" is ours/floor and the target is the
# issue's bound turned into a rate ratio (<= 4x the time is >= 0.25x the
# rate). Floors come from scripts/bench/sandbox_rt.c (built here, static):
# a 64-byte socketpair round trip between two processes on one CPU, on two
# CPUs and unpinned; fork + exec + wait of a static binary; and
# `bwrap --unshare-all ... /bin/true`. p50 and p99 go to the notes.

sb_rate() { awk -v us="$1" 'BEGIN { if (us > 0) printf "%.0f", 1e6 / us }'; }

bench_sandbox() {
  rt=$work/sandbox_rt
  if ! cc -O2 -static -o "$rt" scripts/bench/sandbox_rt.c 2>"$work/sandbox.err" &&
     ! cc -O2 -o "$rt" scripts/bench/sandbox_rt.c 2>>"$work/sandbox.err"; then
    note "sandbox: cannot build the floor program: $(tail -n 2 "$work/sandbox.err")"
    return
  fi
  sbl() { "$LUA" scripts/bench/sandbox.lua "$@" 2>>"$work/sandbox.err"; }

  say "sandbox: NONE call vs pcall"
  set -- $(sbl none 200000 | awk -F'\t' '$1 == "none" {print $2, $3}')
  if [ $# -eq 2 ]; then
    row "sandbox: NONE call (a + b) vs plain pcall" "$(sb_rate "$1")" "pcall" "$(sb_rate "$2")" "calls/s" 0.25
    note "sandbox: NONE call $1 us, pcall $2 us (mean, best of 3)"
  else
    note "sandbox: NONE run failed: $(tail -n 2 "$work/sandbox.err")"
  fi

  say "sandbox: socketpair floors"
  same=$("$rt" rt 20000 same) cross=$("$rt" rt 20000 cross) free=$("$rt" rt 20000 free)
  note "sandbox: socketpair round trip p50/p99 us: one CPU $same, two CPUs $cross, unpinned $free"
  floor=$(printf '%s\n%s\n%s\n' "$same" "$cross" "$free" | awk 'NR == 1 || $1 < m {m = $1} END {print m}')

  say "sandbox: PROCESS warm calls"
  set -- $(sbl warm PROCESS 5000 | awk -F'\t' '$1 == "warm" {print $2, $3}')
  set -- "$@" $(taskset -c 0 "$LUA" scripts/bench/sandbox.lua warm PROCESS 5000 0 2>>"$work/sandbox.err" |
                awk -F'\t' '$1 == "warm" {print $2, $3}')
  if [ $# -ge 2 ]; then
    best=$1 best99=$2
    if [ $# -eq 4 ] && awk -v a="$3" -v b="$1" 'BEGIN {exit !(a < b)}'; then best=$3 best99=$4; fi
    row "sandbox: PROCESS warm call p50 vs socketpair floor" "$(sb_rate "$best")" \
        "socketpair round trip (best)" "$(sb_rate "$floor")" "calls/s" 0.333
    row "sandbox: PROCESS warm call p99 vs socketpair floor" "$(sb_rate "$best99")" \
        "socketpair round trip p50 (best)" "$(sb_rate "$floor")" "calls/s" 0.05
    note "sandbox: PROCESS warm p50/p99 us: unpinned $1/$2${3:+, host and worker on CPU 0 $3/$4}"
  else
    note "sandbox: PROCESS warm run failed: $(tail -n 2 "$work/sandbox.err")"
  fi

  say "sandbox: PROCESS fresh worker per call"
  ex=$("$rt" exec 300 "$rt")
  set -- $(sbl fresh PROCESS 200 | awk -F'\t' '$1 == "fresh" {print $2, $3}')
  if [ $# -eq 2 ]; then
    row "sandbox: PROCESS fresh worker per call (p50)" "$(sb_rate "$1")" \
        "1.5 ms target" "$(sb_rate 1500)" "calls/s" 1
    note "sandbox: PROCESS fresh p50/p99 us $1/$2; fork+exec of a static binary p50/p99 us $ex"
  fi

  if command -v bwrap >/dev/null 2>&1; then
    say "sandbox: CONTAINER"
    t0=$(date +%s%N)
    i=0
    while [ $i -lt 100 ]; do
      bwrap --unshare-all --die-with-parent --ro-bind /usr /usr --symlink usr/lib /lib \
            --symlink usr/lib64 /lib64 --symlink usr/bin /bin /bin/true || break
      i=$((i + 1))
    done
    bw=$(awk -v a="$t0" -v b="$(date +%s%N)" -v n="$i" 'BEGIN {if (n) printf "%.1f", (b - a) / 1e3 / n}')
    set -- $(sbl warm CONTAINER 3000 | awk -F'\t' '$1 == "warm" {print $2, $3}')
    [ $# -eq 2 ] && row "sandbox: CONTAINER warm call p50 vs socketpair floor" "$(sb_rate "$1")" \
        "socketpair round trip (best)" "$(sb_rate "$floor")" "calls/s" 0.333 &&
      note "sandbox: CONTAINER warm p50/p99 us $1/$2"
    set -- $(sbl fresh CONTAINER 60 | awk -F'\t' '$1 == "fresh" {print $2, $3}')
    [ $# -eq 2 ] && row "sandbox: CONTAINER fresh worker per call (p50)" "$(sb_rate "$1")" \
        "bwrap --unshare-all /bin/true" "$(sb_rate "$bw")" "calls/s" 0.833 &&
      note "sandbox: CONTAINER fresh p50/p99 us $1/$2; bwrap /bin/true mean $bw us"
  fi

  set -- $(sbl rss PROCESS 4 | awk -F'\t' '$1 == "rss" {print $2, $3}')
  [ $# -eq 2 ] && row "sandbox: idle PROCESS worker RSS (KiB, lower is better)" "$1" \
      "3 MB target" "3072" "KiB" "" &&
    note "sandbox: idle worker RSS $1 KiB (mean of $2)"
  while IFS= read -r l; do note "sandbox: $l"; done <"$work/sandbox.err"
}
