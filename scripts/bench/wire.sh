# make bench rows for the worker wire format (sourced by scripts/bench.sh).
#
# scripts/bench/wire.lua measures core.wire against lua-cjson (the C JSON
# codec for Lua, when installed) on the same values: a CALL and a RESULT of
# small values (the hot path of every sandboxed call) and a 1,000-row
# result. Both are C codecs called from Lua, so the ratio compares the
# codecs, not the call overhead.

bench_wire() {
  say "wire: measuring core.wire and lua-cjson"
  if ! "$LUA" scripts/bench/wire.lua >"$work/wire.out" 2>"$work/wire.err"; then
    note "wire: failed: $(tail -n 3 "$work/wire.err")"
    return
  fi
  w_ours() { awk -F'\t' -v k="$1" '$1 == k {print $2}' "$work/wire.out"; }
  w_peer() { awk -F'\t' -v k="$1" '$1 == k {print $3}' "$work/wire.out"; }
  peer="lua-cjson"
  [ -n "$(w_peer round)" ] || { peer="lua-cjson (absent)"; note "wire: lua-cjson not found: the peer columns are empty"; }
  row "wire: CALL+RESULT frame and unframe, small values" "$(w_ours round)" "$peer" "$(w_peer round)" "round trips/s" 1
  row "wire: encode a small CALL/RESULT payload" "$(w_ours encode_small)" "$peer" "$(w_peer encode_small)" "values/s" 1
  row "wire: decode a small CALL/RESULT payload" "$(w_ours decode_small)" "$peer" "$(w_peer decode_small)" "values/s" 1
  row "wire: encode a 1,000-row result" "$(w_ours encode_big)" "$peer" "$(w_peer encode_big)" "values/s" 1
  row "wire: decode a 1,000-row result" "$(w_ours decode_big)" "$peer" "$(w_peer decode_big)" "values/s" 1
  note "wire: the 1,000-row result is $(w_ours bytes) bytes in the wire format, $(w_peer bytes) in JSON"
}
