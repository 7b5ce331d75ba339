/*
** fuzz_datafile.c: libFuzzer harness for untrusted data files: the data
** state (core/lua/l_datafile.c: capped allocator, budget hook, the copy
** out), the key-lines lexer (lpeg), and the two validators built on them,
** policy files (truthound.security.policies) and manifests
** (truthound.manifest). Any input may fail, but only with the typed error
** it was asked to raise; key_lines never raises. A line hook feeds the Lua
** side's line transitions to libFuzzer as extra counters (as fuzz_units).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lua/l_core.h"

static const char DRIVER[] =
  "local datafile = require('truthound.datafile')\n"
  "local errors = require('truthound.errors')\n"
  "local policies = require('truthound.security').policies\n"
  "local manifest = require('truthound.manifest')\n"
  "local opts = {kind = 'PolicyError', instructions = 20000, memory = 1 << 20}\n"
  "return function(src)\n"
  "  local ok, e = pcall(datafile.eval, src, 'fuzz.lua', opts)\n"
  "  if not ok and errors.kind(e) ~= 'PolicyError' then\n"
  "    return 'eval raised something else: ' .. tostring(e)\n"
  "  end\n"
  "  local ok2, lines = pcall(datafile.key_lines, src)\n"
  "  if not ok2 then return 'key_lines raised: ' .. tostring(lines) end\n"
  "  for k, v in pairs(lines) do\n"
  "    if type(k) ~= 'string' or math.type(v) ~= 'integer' or v < 1 then\n"
  "      return 'key_lines gave a bad entry'\n"
  "    end\n"
  "  end\n"
  "  local okp, ep = pcall(policies.eval, src, 'fuzz.lua')\n"
  "  if not okp and errors.kind(ep) ~= 'PolicyError' then\n"
  "    return 'policies.eval raised something else: ' .. tostring(ep)\n"
  "  end\n"
  "  if ok then\n"
  "    local okm, em = pcall(manifest.validate, e, 'fuzz.lua')\n"
  "    if not okm and errors.kind(em) ~= 'ManifestError' then\n"
  "      return 'manifest.validate raised something else: ' .. tostring(em)\n"
  "    end\n"
  "  end\n"
  "end\n";

static lua_State *L;
static int check_ref;

/* libFuzzer reads this section as extra coverage counters. */
#define NCOUNTERS (1u << 16)
__attribute__((section("__libfuzzer_extra_counters"), used))
uint8_t fuzz_datafile_lua_counters[NCOUNTERS];
static uintptr_t prev_loc;

/* A chunk's source string lives as long as its function, so its address
** names the file; with the line it names a location. */
static void line_hook(lua_State *L_, lua_Debug *ar) {
  uintptr_t loc;
  if (!lua_getinfo(L_, "S", ar)) return;
  loc = ((uintptr_t)ar->source >> 4) * 0x9E3779B1u ^ (uintptr_t)ar->currentline * 0x85EBCA77u;
  fuzz_datafile_lua_counters[(loc ^ prev_loc) % NCOUNTERS]++;
  prev_loc = loc >> 1;
}

static void setup(void) {
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_truthound_core);
  lua_setfield(L, -2, "truthound.core");
  lua_pop(L, 1);
  lua_getglobal(L, "package");
  lua_pushstring(L, TP_SOURCE_DIR "/lua/?.lua;" TP_SOURCE_DIR "/lua/?/init.lua");
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  if (luaL_loadstring(L, DRIVER) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_datafile: setup failed: %s\n", lua_tostring(L, -1));
    abort();
  }
  check_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_sethook(L, line_hook, LUA_MASKLINE, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (L == NULL) setup();
  prev_loc = 0;
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, check_ref);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isnil(L, -1)) {
    fprintf(stderr, "fuzz_datafile: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
