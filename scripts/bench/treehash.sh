# make bench rows for the tree digest (sourced by scripts/bench.sh).
#
# Input: TREEHASH_FILES files (2,000) holding TREEHASH_MB megabytes (200)
# in 20 directories, sizes from about half to one and a half times the
# mean, contents from Lua's generator with a fixed seed; written once into
# the bench's temporary directory. Both sides read the same files from a
# warm page cache (each side runs once before it is timed).
#
# Ours: truthound.security.signing.treehash.digest(dir), the loop driving
# the libuv thread pool, timed inside lua5.4 (runs/s, best of 3, each
# running until BENCH_MIN_SECONDS); once with the default threads (one per
# CPU) and once with jobs = 1. Peer: coreutils sha256sum over the same
# files, `find DIR -type f -print0 | xargs -0 sha256sum`, timed from the
# shell the same way. Both are reported in MB/s of file content (10^6
# bytes); the check that both hashed the same bytes compares the sets of
# file hashes.

treehash_now() { date +%s.%N; }

# treehash_rate CMD...: runs/s of a command, as graph.sh measures.
treehash_rate() {
  best=0
  for _ in 1 2 3; do
    runs=0 t0=$(treehash_now)
    while :; do
      "$@" >/dev/null 2>&1 || return 1
      runs=$((runs + 1))
      el=$(awk -v a="$t0" -v b="$(treehash_now)" 'BEGIN {print b - a}')
      awk -v e="$el" -v m="${BENCH_MIN_SECONDS:-1}" 'BEGIN {exit !(e >= m)}' && break
    done
    best=$(awk -v r="$runs" -v e="$el" -v b="$best" 'BEGIN {x = r / e; print (x > b ? x : b)}')
  done
  echo "$best"
}

treehash_peer() { find "$1" -type f -print0 | xargs -0 sha256sum; }

bench_treehash() {
  files=${TREEHASH_FILES:-2000} mb=${TREEHASH_MB:-200}
  dir=$work/treehash
  say "treehash: writing $files files, $mb MB"
  if ! "$LUA" - "$dir" "$files" "$mb" >"$work/treehash.bytes" 2>"$work/treehash.err" <<'EOF'
local dir, nfiles, mb = arg[1], tonumber(arg[2]), tonumber(arg[3])
local mean = mb * 1000000 // nfiles
math.randomseed(20260105)
local words = {}
for i = 1, 8192 do words[i] = string.pack("<i8", math.random(math.mininteger, math.maxinteger)) end
local block = table.concat(words)                  -- 64 KiB
local pool = block:rep(2 + (2 * mean) // #block)   -- longer than any file
local total = 0
for d = 0, 19 do assert(os.execute(("mkdir -p '%s/d%02d'"):format(dir, d))) end
for i = 0, nfiles - 1 do
  local size = mean // 2 + (i * 7919) % (mean + 1)   -- mean/2 .. 3*mean/2
  local head = ("file %d\n"):format(i)
  local off = (i * 4099) % #block
  local f = assert(io.open(("%s/d%02d/f%05d.bin"):format(dir, i % 20, i), "wb"))
  f:write(head, pool:sub(off + 1, off + size - #head))
  f:close()
  total = total + size
end
print(total)
EOF
  then
    note "treehash: input generation failed: $(tail -n 3 "$work/treehash.err")"
    return
  fi
  bytes=$(cat "$work/treehash.bytes")
  say "treehash: measuring sha256sum"
  peer="sha256sum $(sha256sum --version | sed -n '1s/.* //p'), find | xargs"
  treehash_peer "$dir" >"$work/treehash.peer"          # warms the cache too
  peer_rate=$(treehash_rate treehash_peer "$dir") || peer_rate=""
  say "treehash: measuring treehash.digest"
  if ! "$LUA" - "$dir" >"$work/treehash.ours" 2>>"$work/treehash.err" <<'EOF'
local treehash = require("truthound.security.signing.treehash")
local now = require("truthound.loop").now
local dir = arg[1]
local min = tonumber(os.getenv("BENCH_MIN_SECONDS") or "1") * 1000
local function rate(opts)
  local best = 0
  treehash.digest(dir, opts)                      -- warm
  for _ = 1, 3 do
    local runs, t0, el = 0, now(), 0
    repeat
      treehash.digest(dir, opts)
      runs = runs + 1
      el = now() - t0
    until el >= min
    best = math.max(best, runs / (el / 1000))
  end
  return best
end
local _, listing = treehash.digest(dir)
io.write("parallel\t", rate(), "\n", "single\t", rate{jobs = 1}, "\n")
for hash in listing:gmatch("(%x+) [x-] [^\n]*\n") do io.write("hash\t", hash, "\n") end
EOF
  then
    note "treehash: our side failed: $(tail -n 3 "$work/treehash.err")"
    return
  fi
  # Both sides hashed the same contents: the same multiset of hashes.
  if [ "$(awk -F'\t' '$1 == "hash" {print $2}' "$work/treehash.ours" | sort | md5sum)" != \
       "$(cut -c1-64 "$work/treehash.peer" | sort | md5sum)" ]; then
    note "treehash: our file hashes differ from sha256sum's: the figures mean nothing"
  fi
  mbs() { [ -n "$1" ] && awk -v r="$1" -v b="$bytes" 'BEGIN {printf "%.0f", r * b / 1e6}'; }
  ours_par=$(awk -F'\t' '$1 == "parallel" {print $2}' "$work/treehash.ours")
  ours_one=$(awk -F'\t' '$1 == "single" {print $2}' "$work/treehash.ours")
  cpus=$(nproc 2>/dev/null || echo "?")
  row "treehash: digest, $files files / $mb MB, $cpus CPUs" "$(mbs "$ours_par")" \
      "$peer" "$(mbs "$peer_rate")" "MB/s" 4
  row "treehash: digest, one hashing thread" "$(mbs "$ours_one")" \
      "$peer" "$(mbs "$peer_rate")" "MB/s" ""
  note "treehash: $files files, $bytes bytes; ours in-process (lua5.4, the loop driving the thread pool), sha256sum from the shell"
  while IFS= read -r l; do note "treehash: $l"; done <"$work/treehash.err"
  rm -rf "$dir"
}
