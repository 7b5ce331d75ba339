#!/bin/sh
# End-to-end tests of the tplua host (docs/tplua.md): options, scripts, the
# arg table, stdin, `run`, commands and their --help, exit codes with the
# exact "tplua: <kind>: <message>" form, and the REPL through a
# pseudo-terminal (script(1) from util-linux).
#
#   TPLUA=$PWD/build/tplua sh tests/e2e/tplua.sh      (from the repo root)
#
# Prints TAP. HOME and TPLUA_HISTORY point into a temporary directory, so
# the user's own history file is never touched.
set -u
cd "$(dirname "$0")/../.." || exit 1
TPLUA=${TPLUA:-$PWD/build/tplua}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tplua-e2e.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
export TPLUA HOME="$TMP/home" TPLUA_HISTORY="$TMP/history"
mkdir -p "$HOME"
unset LUA_INIT LUA_INIT_5_4

n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
# fail WHAT LINE...: a failing test and its diagnostics.
fail() {
  n=$((n + 1)); echo "not ok $n - $1"; shift
  for line in "$@"; do printf '%s\n' "$line" | sed 's/^/#   /'; done
}

# t ARGS...: run tplua with stdin from $IN (default /dev/null); keep rc,
# stdout in $TMP/out and stderr in $TMP/err.
t() {
  "$TPLUA" "$@" <"${IN:-/dev/null}" >"$TMP/out" 2>"$TMP/err"
  rc=$?
}

# expect WHAT RC STDOUT STDERR1: exact exit status, exact stdout (trailing
# newlines aside) and exact first line of stderr.
expect() {
  got_out=$(cat "$TMP/out"); got_err=$(head -n 1 "$TMP/err")
  if [ "$rc" = "$2" ] && [ "$got_out" = "$3" ] && [ "$got_err" = "$4" ]; then
    pass "$1"
  else
    fail "$1" "exit $rc, wanted $2" "stdout: $got_out" "wanted: $3" \
         "stderr: $(cat "$TMP/err")" "wanted: $4"
  fi
}

# has WHAT FILE LINE: FILE holds exactly this line.
has() {
  if grep -qxF -- "$3" "$2"; then pass "$1"
  else fail "$1" "no line '$3' in:" "$(cat "$2")"; fi
}

# lacks WHAT FILE PATTERN: no line of FILE matches PATTERN.
lacks() {
  if grep -q -- "$3" "$2"; then fail "$1" "unexpected '$3' in:" "$(cat "$2")"
  else pass "$1"; fi
}

TAB=$(printf '\t')
NL='
'

# --- version and help ----------------------------------------------------

t --version
if [ "$rc" = 0 ] && grep -qxE \
   'tplua [0-9]+\.[0-9]+\.[0-9]+ \(truthound [0-9]+\.[0-9]+\.[0-9]+, Lua 5\.4\.[0-9]+\)' "$TMP/out"; then
  pass "--version prints tplua, truthound and Lua versions"
else
  fail "--version prints tplua, truthound and Lua versions" "exit $rc" "$(cat "$TMP/out" "$TMP/err")"
fi
t -e 'io.write(require("truthound").VERSION)'
tpv=$(cat "$TMP/out")
t --version
case $(cat "$TMP/out") in
  "tplua "*" (truthound $tpv, Lua 5.4."*) pass "--version takes truthound's VERSION" ;;
  *) fail "--version takes truthound's VERSION" "$(cat "$TMP/out")" "VERSION is $tpv" ;;
esac

t --help
if [ "$rc" = 0 ] && [ "$(head -n 1 "$TMP/out")" = "usage: tplua [options] [script [args]]" ] &&
   grep -qE '^  run +' "$TMP/out" && grep -qE '^  semver +' "$TMP/out" &&
   grep -qF 'Exit status: 0 ok, 1 a verdict of failure, 2 usage error, 3 runtime error.' "$TMP/out" &&
   [ ! -s "$TMP/err" ]; then
  pass "--help: usage, commands, exit statuses"
else
  fail "--help: usage, commands, exit statuses" "exit $rc" "$(cat "$TMP/out" "$TMP/err")"
fi
cp "$TMP/out" "$TMP/help"
t -h
if [ "$rc" = 0 ] && cmp -s "$TMP/out" "$TMP/help"; then pass "-h is --help"
else fail "-h is --help" "exit $rc" "$(cat "$TMP/out")"; fi

t run --help
if [ "$rc" = 0 ] && [ "$(head -n 1 "$TMP/out")" = "usage: tplua run [--json] MANIFEST [args]" ] &&
   grep -q 'main' "$TMP/out" && [ ! -s "$TMP/err" ]; then
  pass "run --help: usage line and help text"
else
  fail "run --help: usage line and help text" "exit $rc" "$(cat "$TMP/out" "$TMP/err")"
fi
t semver -h
if [ "$rc" = 0 ] && [ "$(head -n 1 "$TMP/out" | cut -c1-19)" = "usage: tplua semver" ]; then
  pass "semver -h prints the command's usage"
else
  fail "semver -h prints the command's usage" "exit $rc" "$(cat "$TMP/out" "$TMP/err")"
fi

# --- -e, tp, exit statuses -------------------------------------------------

t -e 'print(1+1)'
expect "-e runs code" 0 "2" ""
t -e 'x = 20' -e 'print(x + 1)'
expect "-e repeats, in order" 0 "21" ""
t -e 'print(type(tp), tp == require("truthound"))'
expect "tp is preloaded as a global" 0 "table${TAB}true" ""
t -e 'print(package.loaded["truthound.core"] ~= nil or type(require("truthound.core")))'
expect "truthound.core is preloaded (statically linked)" 0 "true" ""

t -e 'error("boom")'
expect "a Lua error exits 3 as 'tplua: error: ...'" 3 "" "tplua: error: (command line):1: boom"
has "a Lua error shows a traceback" "$TMP/err" "stack traceback:"

t -e 'require("truthound.errors").raise("VersionError", "bad version")'
expect "a typed error exits 3 with its class as the kind" 3 "" "tplua: VersionError: bad version"

t -e 'require("truthound.errors").raise("UsageError", "wrong use")'
expect "a UsageError exits 2" 2 "" "tplua: UsageError: wrong use"

t -e 'error(setmetatable({}, {__tostring = function() return "custom" end}))'
expect "an error object with __tostring is shown by it" 3 "" "tplua: error: custom"

t -e 'error({})'
expect "another error object is named by its type" 3 "" "tplua: error: (error object is a table value)"

t -x
expect "an unknown option is a usage error (exit 2)" 2 "" "tplua: UsageError: unknown option '-x'"
has "a usage error points at --help" "$TMP/err" "Try 'tplua --help'."

t -e
expect "-e without its argument is a usage error" 2 "" "tplua: UsageError: option '-e' needs an argument"

# A command that returns a verdict of failure, registered from Lua.
t -e 'local cli = require("truthound.cli")
cli.register{name = "verify", summary = "always fails", usage = "verify FILE",
             help = "Says no.", run = function(args) print("checked", args[1]); return false end}
os.exit(cli.main({[0] = "tplua", "verify", "x.sig"}, require("tplua.host")))'
expect "a command returning false exits 1" 1 "checked${TAB}x.sig" ""
t -e 'local cli = require("truthound.cli")
cli.register{name = "verify", summary = "always fails", usage = "verify FILE",
             help = "Says no.", run = function() return false end}
os.exit(cli.main({[0] = "tplua", "verify", "--help"}, require("tplua.host")))'
expect "a registered command has --help" 0 "usage: tplua verify FILE${NL}${NL}always fails${NL}${NL}Says no." ""

# --- scripts and arg -------------------------------------------------------

cat >"$TMP/args.lua" <<'EOF'
print(arg[0], arg[1], arg[2], #arg, select("#", ...), ...)
print(arg[-1] == os.getenv("TPLUA"))
EOF
t "$TMP/args.lua" one two
expect "script with args: arg and ... as lua5.4 sets them" 0 \
  "$TMP/args.lua${TAB}one${TAB}two${TAB}2${TAB}2${TAB}one${TAB}two${NL}true" ""
t -e 'y = 1' -- "$TMP/args.lua" -z
expect "options before the script, -- ends them" 0 \
  "$TMP/args.lua${TAB}-z${TAB}nil${TAB}1${TAB}1${TAB}-z${NL}false" ""

printf 'x = = 1\n' >"$TMP/syntax.lua"
t "$TMP/syntax.lua"
expect "a syntax error exits 3, named by file and line" 3 "" \
  "tplua: error: $TMP/syntax.lua:1: unexpected symbol near '='"
lacks "a syntax error shows no traceback" "$TMP/err" "stack traceback"

printf 'local function f() error("deep") end\nf()\n' >"$TMP/deep.lua"
t "$TMP/deep.lua"
expect "a script error exits 3" 3 "" "tplua: error: $TMP/deep.lua:1: deep"
has "the traceback names the script's frames" "$TMP/err" "	$TMP/deep.lua:2: in main chunk"
lacks "the traceback stops at the script" "$TMP/err" "truthound/cli"

t "$TMP/nosuch.lua"
expect "a missing script is a usage error (exit 2)" 2 "" \
  "tplua: UsageError: cannot open script '$TMP/nosuch.lua': No such file or directory"
t nosuchcommand
case $(head -n 1 "$TMP/err") in
  "tplua: UsageError: 'nosuchcommand' is neither a command nor a script (No such file or directory); commands: "*run*semver*)
    [ "$rc" = 2 ] && pass "an unknown bare word names the commands" ||
      fail "an unknown bare word names the commands" "exit $rc" ;;
  *) fail "an unknown bare word names the commands" "exit $rc" "$(cat "$TMP/err")" ;;
esac

mkdir -p "$TMP/cmdname"
printf 'print("the script called run")\n' >"$TMP/cmdname/run"
(cd "$TMP/cmdname" && "$TPLUA" ./run >"$TMP/out" 2>"$TMP/err"); rc=$?
expect "./run runs a script that shares a command's name" 0 "the script called run" ""

# --- stdin -------------------------------------------------------------------

printf 'print("from stdin", ...)\n' >"$TMP/stdin.lua"
IN=$TMP/stdin.lua t
expect "no arguments, stdin not a terminal: runs stdin" 0 "from stdin" ""
IN=$TMP/stdin.lua t - a b
expect "'-' runs stdin with args" 0 "from stdin${TAB}a${TAB}b" ""
printf 'error("stdin failed")\n' >"$TMP/stdin-err.lua"
IN=$TMP/stdin-err.lua t
expect "an error in stdin exits 3" 3 "" "tplua: error: stdin:1: stdin failed"

# --- tasks spawned by the main chunk run after it ---------------------------

t -e 'tp.spawn(function() tp.sleep(1) print("task ran") end) print("chunk done")'
expect "tasks spawned by -e run once the chunk returns" 0 "chunk done${NL}task ran" ""
t -e 'tp.spawn(function() tp.sleep(1) tp.errors.raise("LoopError", "task broke") end)'
expect "a spawned task's typed error is reported, exit 3" 3 "" "tplua: LoopError: task broke"
printf 'tp.spawn(function() print("stdin task") end)\n' >"$TMP/stdin-task.lua"
IN=$TMP/stdin-task.lua t
expect "tasks spawned by a stdin chunk run" 0 "stdin task" ""

# --- run ---------------------------------------------------------------------

cat >"$TMP/app.lua" <<'EOF'
print("manifest loaded", type(tp))
return {
  name = "app", version = "1.0.0", description = "test app",
  main = function(manager, app)
    print("main", app.manifest.name, app.path == arg[0], #app.args, type(app), manager == app.manager)
    tp.spawn(function() tp.sleep(5); print("task ran after main") end)
    local word = app.args[1]
    if word == "fail" then return false end
    if word == "boom" then error("main failed") end
    if word == "bad" then return "yes" end
    return tonumber(word)
  end,
}
EOF
t run "$TMP/app.lua"
expect "run: loads the manifest, runs main, drains the loop" 0 \
  "manifest loaded${TAB}table${NL}main${TAB}app${TAB}true${TAB}0${TAB}table${TAB}true${NL}task ran after main" ""
t run "$TMP/app.lua" fail
expect "run: main returning false exits 1" 1 \
  "manifest loaded${TAB}table${NL}main${TAB}app${TAB}true${TAB}1${TAB}table${TAB}true${NL}task ran after main" ""
t run "$TMP/app.lua" 7
expect "run: main returning an integer exits with it" 7 \
  "manifest loaded${TAB}table${NL}main${TAB}app${TAB}true${TAB}1${TAB}table${TAB}true${NL}task ran after main" ""
t run "$TMP/app.lua" boom
expect "run: an error in main exits 3" 3 \
  "manifest loaded${TAB}table${NL}main${TAB}app${TAB}true${TAB}1${TAB}table${TAB}true${NL}task ran after main" \
  "tplua: error: $TMP/app.lua:9: main failed"
has "run: an error in main shows main's frames" "$TMP/err" "	$TMP/app.lua:9: in function <$TMP/app.lua:4>"
t run "$TMP/app.lua" bad
expect "run: main returning a non-status is a ManifestError" 3 \
  "manifest loaded${TAB}table${NL}main${TAB}app${TAB}true${TAB}1${TAB}table${TAB}true${NL}task ran after main" \
  "tplua: ManifestError: $TMP/app.lua: main returned a string; expected nil, a boolean or an exit code 0-255"

printf 'print("body")\nerror("in the body")\n' >"$TMP/body.lua"
t run "$TMP/body.lua"
expect "run: an error in the manifest body exits 3" 3 "body" \
  "tplua: error: $TMP/body.lua:2: in the body"
has "run: ... with the manifest's traceback" "$TMP/err" "	$TMP/body.lua:2: in main chunk"
printf 'return {name = "x",\n' >"$TMP/broken.lua"
t run "$TMP/broken.lua"
case $(head -n 1 "$TMP/err") in
  "tplua: ManifestError: $TMP/broken.lua:2: "*) [ "$rc" = 3 ] && pass "run: a manifest syntax error is a ManifestError" ||
      fail "run: a manifest syntax error is a ManifestError" "exit $rc" ;;
  *) fail "run: a manifest syntax error is a ManifestError" "exit $rc" "$(cat "$TMP/err")" ;;
esac
printf 'print("no main")\nreturn {name = "lib"}\n' >"$TMP/nomain.lua"
t run "$TMP/nomain.lua"
expect "run: a manifest without main just loads" 0 "no main" ""
printf 'return {name = "x", plugins = {}}\n' >"$TMP/badkey.lua"
t run "$TMP/badkey.lua"
expect "run: an unknown manifest key is a ManifestError" 3 "" \
  "tplua: ManifestError: $TMP/badkey.lua: unknown key 'plugins' (known: allow_missing_optional, audit_log, auto_activate, auto_load, default_security_policy, description, enable_hot_reload, handlers, main, name, plugin_dirs, policies, reload, require_signature, sandbox, scan_entrypoints, shutdown_grace_ms, stage_dir, strict_dependencies, strict_version_check, trust_store_path, version, watch_for_changes)"
printf 'return 42\n' >"$TMP/number.lua"
t run "$TMP/number.lua"
expect "run: a manifest must return a table" 3 "" \
  "tplua: ManifestError: $TMP/number.lua: a manifest must return a table, got number"
t run
expect "run without a manifest is a usage error" 2 "" "tplua: UsageError: missing the manifest path"
has "run's usage error points at run --help" "$TMP/err" "Try 'tplua run --help'."
t run "$TMP/nosuch.lua"
expect "run with a missing manifest is a usage error" 2 "" \
  "tplua: UsageError: cannot open manifest '$TMP/nosuch.lua': No such file or directory"

chmod 755 "$TMP"     # the plugins' workers run as nobody: they must reach the copy
DEMO=$TMP/demo sh scripts/demo.sh >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ "$rc" = 0 ] && [ -s "$TMP/out" ] && [ ! -s "$TMP/err" ]; then
  pass "the demo examples/manifest.lua runs (make run)"
else
  fail "the demo examples/manifest.lua runs (make run)" "exit $rc" "$(cat "$TMP/out" "$TMP/err")"
fi

# --- the REPL, through a pseudo-terminal -----------------------------------
# feed LINE...: type each line into a tplua REPL on a pty, then Ctrl-D. Each
# line waits for the prompt it answers (polling the transcript, so a loaded
# machine only makes the test slower); a line "^C" sends Ctrl-C a moment
# after the line before it, which is still running, was echoed. The
# transcript goes to $TMP/repl (CRs removed), the exit status to $rc.
# script(1) runs its command through $SHELL -c; "exec" makes tplua the
# pty's only process, else a shell that does not exec (dash, the CI's
# /bin/sh) would itself die of the Ctrl-C and script would report 130.
prompts() { grep -o 'tp>' "$TMP/repl.raw" 2>/dev/null | wc -l; }
await_prompts() {   # await_prompts N: until N prompts were shown (60 s at most)
  i=0
  while [ "$(prompts)" -lt "$1" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
}
feed() {
  : >"$TMP/repl.raw"        # before the pipeline: prompts() reads it
  {
    want=1
    for line in "$@"; do
      if [ "$line" = "^C" ]; then
        sleep 1; printf '\003'
      else
        await_prompts $want; printf '%s\r' "$line"; want=$((want + 1))
      fi
    done
    await_prompts $want
    printf '\004'
    sleep 3
  } | timeout 120 script -qfec "exec $TPLUA" /dev/null >"$TMP/repl.raw" 2>&1
  rc=$?
  tr -d '\r' <"$TMP/repl.raw" >"$TMP/repl"
}

# in_order WHAT LINE...: these lines appear in the transcript in this order
# (other lines may come between).
in_order() {
  what=$1; shift
  if awk -v want="$(printf '%s\n' "$@")" '
       BEGIN { n = split(want, w, "\n"); i = 1 }
       i <= n && $0 == w[i] { i++ }
       END { exit i <= n ? 1 : 0 }' "$TMP/repl"; then
    pass "$what"
  else
    fail "$what" "wanted, in order:" "$(printf '%s\n' "$@")" "transcript:" "$(cat "$TMP/repl")"
  fi
}

if ! command -v script >/dev/null 2>&1 || ! command -v timeout >/dev/null 2>&1; then
  echo "ok $((n + 1)) - # SKIP the REPL tests need script(1) and timeout(1)"
  n=$((n + 1))
else
  feed '1+1' '=1+1' 'function twice(x)' '  return x * 2' 'end' 'twice(21)' \
       'error("oops")' 'print("still " .. "here")' \
       'type(tp), tp == require("truthound")' \
       'require("truthound.errors").raise("VersionError", "typed oops")' \
       '{1,' '2}' 'while true do end' '^C' 'print("after " .. "ctrl-c")'
  if [ "$rc" = 0 ]; then pass "REPL: Ctrl-D exits 0"
  else fail "REPL: Ctrl-D exits 0" "exit $rc" "$(cat "$TMP/repl")"; fi
  in_order "REPL: 1+1 prints 2, =1+1 prints 2" "tp> 1+1" "2" "tp> =1+1" "2"
  in_order "REPL: a multi-line function definition" \
    "tp> function twice(x)" "tp>>   return x * 2" "tp>> end" "tp> twice(21)" "42"
  in_order "REPL: an error is shown and the session goes on" \
    "stdin:1: oops" "stack traceback:" "still here"
  in_order "REPL: tp is preloaded" "table${TAB}true"
  in_order "REPL: a typed error is shown by tostring" "VersionError: typed oops"
  in_order "REPL: an incomplete expression continues on the next line" "tp>> 2}"
  if grep -q 'interrupted!' "$TMP/repl" && grep -qx 'after ctrl-c' "$TMP/repl"; then
    pass "REPL: Ctrl-C interrupts a running chunk, the session goes on"
  else
    fail "REPL: Ctrl-C interrupts a running chunk, the session goes on" "$(cat "$TMP/repl")"
  fi
  has "REPL: the history file is TPLUA_HISTORY" "$TPLUA_HISTORY" "twice(21)"
  if [ -e "$HOME/.tplua_history" ]; then
    fail "REPL: with TPLUA_HISTORY set, ~/.tplua_history is untouched"
  else
    pass "REPL: with TPLUA_HISTORY set, ~/.tplua_history is untouched"
  fi

  # Without TPLUA_HISTORY, history goes to $HOME (a temporary one here).
  unset TPLUA_HISTORY
  feed 'print("second " .. "session")'
  in_order "REPL: a second session runs" "second session"
  has "REPL: history defaults to ~/.tplua_history" "$HOME/.tplua_history" \
    'print("second\040"\040..\040"session")'
fi

echo "1..$n"
