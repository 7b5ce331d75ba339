#!/bin/sh
# `make install PREFIX=...` and the luarocks rockspec both give a tree from
# which plain lua5.4 can require("truthound") and tplua runs. Prints TAP.
set -u
B=${B:-build}
ROOT=$PWD
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

PROBE='local tp = require("truthound")
assert(tp.versioning.parse_constraint("^1.2"):is_satisfied_by("1.9.0"))
assert(package.searchpath("truthound.core", package.cpath))
assert(tp.security.policies.STRICT.required_signatures == 2)   -- presets installed
assert(tp.security.policies.AIRGAPPED.resource_limits.max_memory_mb == 256)
print(tp.VERSION)'

# lua5.4 with only the given tree on its paths (plus Debian's own modules).
lua_in() {
  LUA_PATH="$1/share/lua/5.4/?.lua;$1/share/lua/5.4/?/init.lua;;" \
  LUA_CPATH="$1/lib/lua/5.4/?.so;;" lua5.4 -e "$PROBE"
}

# 1. make install
if out=$(make -s -C "$ROOT" install PREFIX="$TMP/prefix" 2>&1); then
  ok "make install PREFIX=... succeeds"
else
  not_ok "make install PREFIX=... succeeds" "$out"
fi
missing=""
for f in bin/tplua lib/lua/5.4/truthound/core.so share/lua/5.4/truthound/init.lua \
         share/lua/5.4/truthound/versioning.lua share/lua/5.4/truthound/cli/semver.lua; do
  [ -f "$TMP/prefix/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then
  ok "installed tree has tplua, core.so and the Lua modules"
else
  not_ok "installed tree has tplua, core.so and the Lua modules" "missing:$missing"
fi
if out=$(cd / && lua_in "$TMP/prefix" 2>&1); then
  ok "lua5.4 requires truthound from the installed prefix ($out)"
else
  not_ok "lua5.4 requires truthound from the installed prefix" "$out"
fi
# The installed tplua must find the installed modules, not this checkout's.
if out=$(cd / && "$TMP/prefix/bin/tplua" -e 'print(package.searchpath("truthound", package.path))' 2>&1) &&
   [ "$out" = "$TMP/prefix/share/lua/5.4/truthound/init.lua" ]; then
  ok "installed tplua loads the installed modules"
else
  not_ok "installed tplua loads the installed modules" "$out"
fi

# 2. luarocks, building from a copy of the sources (as a user's checkout)
mkdir -p "$TMP/src"
tar -C "$ROOT" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$TMP/src" -xf -
if out=$(cd "$TMP/src" && luarocks --lua-version 5.4 --tree "$TMP/tree" \
           make rocks/truthound-scm-1.rockspec 2>&1); then
  ok "luarocks --tree DIR make rocks/truthound-scm-1.rockspec"
else
  not_ok "luarocks --tree DIR make rocks/truthound-scm-1.rockspec" "$(echo "$out" | tail -n 15)"
fi
if out=$(cd / && eval "$(luarocks --lua-version 5.4 --tree "$TMP/tree" path)" &&
         lua5.4 -e "$PROBE" 2>&1); then
  ok "lua5.4 requires truthound with the luarocks tree's paths ($out)"
else
  not_ok "lua5.4 requires truthound with the luarocks tree's paths" "$out"
fi
if out=$(cd / && "$TMP/tree/bin/tplua" -e 'print(tp.versioning.satisfies("1.2.3", "~1.2"))' 2>&1) &&
   [ "$out" = "true" ]; then
  ok "tplua from the luarocks tree runs"
else
  not_ok "tplua from the luarocks tree runs" "$out"
fi
echo "1..$n"
