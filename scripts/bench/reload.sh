# make bench rows for hot reload (sourced by scripts/bench.sh).
#
# From the write of a plugin's module to the first call that the new
# version answers, p50 and p99 over 100 reloads, debounce included (10 ms),
# for NONE and PROCESS isolation (scripts/bench/reload.lua). The targets
# are the issue's: p50 <= 30 ms, p99 <= 100 ms; there is no peer, so the
# rows compare with them.

bench_reload() {
  for level in NONE PROCESS; do
    d=$work/reload-$level
    mkdir -p "$d" && chmod 755 "$work" "$d"
    say "reload: $level, 100 reloads"
    line=$(TRUTHOUND_WORKER="$PWD/$B/truthound/truthound-worker" \
           "$LUA" scripts/bench/reload.lua "$d" "$level" "${RELOADS:-100}" 10 2>>"$work/reload.err" |
           grep '^reload')
    if [ -z "$line" ]; then
      note "reload: $level run failed: $(tail -n 3 "$work/reload.err")"
      continue
    fi
    set -- $line
    row "reload: $level write to first new call (p50)" "$(awk -v m="$2" 'BEGIN {printf "%.3f", 1000 / m}')" \
        "30 ms target" "$(awk 'BEGIN {printf "%.3f", 1000 / 30}')" "reloads/s" 1
    row "reload: $level write to first new call (p99)" "$(awk -v m="$3" 'BEGIN {printf "%.3f", 1000 / m}')" \
        "100 ms target" 10 "reloads/s" 1
    note "reload: $level p50/p99 ms $2/$3 (debounce 10 ms included), failed calls meanwhile: $4"
  done
}
