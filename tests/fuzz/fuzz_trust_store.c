/*
** fuzz_trust_store.c: libFuzzer harness for the trust store parser
** (lua/truthound/security/signing/trust_store.lua; docs/formats.md,
** "Trust store"): strict JSON, then every field checked, certificates and
** keys parsed by core.crypto and their ids recomputed.
**
** The input, as one Lua string, goes to trust_store.parse. It may only
** return a document or raise SecurityError naming the source (a corrupt
** store is refused, never emptied). An accepted document must make a
** working TrustStore: its encoding parses back to the same encoding, list()
** and get_trust_level() run, every key entry loads. Any violated invariant
** aborts with the reason. A line hook feeds the Lua lines run to libFuzzer
** as extra counters (as fuzz_units.c).
**
**   make fuzz-build && build/fuzz/fuzz_trust_store -runs=0 tests/fuzz/seeds/fuzz_trust_store
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua/l_core.h"

#ifndef TP_SOURCE_DIR
#define TP_SOURCE_DIR "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char DRIVER[] =
  "local ts = require('truthound.security.signing.trust_store')\n"
  "local errors = require('truthound.errors')\n"
  "return function(s)\n"
  "  local ok, doc = pcall(ts.parse, s, 'fuzz.json')\n"
  "  if not ok then\n"
  "    if errors.kind(doc) ~= 'SecurityError' then\n"
  "      return 'parse raised something else: ' .. tostring(doc)\n"
  "    end\n"
  "    if doc.source ~= 'fuzz.json' or not tostring(doc.message):find('fuzz.json', 1, true) then\n"
  "      return 'a refusal that does not name the file'\n"
  "    end\n"
  "    return\n"
  "  end\n"
  "  local store = ts.TrustStore.new()\n"
  "  store.doc = doc\n"
  "  local text = store:encode()\n"
  "  local ok2, doc2 = pcall(ts.parse, text, 'again')\n"
  "  if not ok2 then return 'the encoding of an accepted store is refused: ' .. tostring(doc2) end\n"
  "  local again = ts.TrustStore.new()\n"
  "  again.doc = doc2\n"
  "  if again:encode() ~= text then return 'the encoding is not a fixed point' end\n"
  "  for _, e in ipairs(store:list()) do\n"
  "    if e.kind == 'key' or e.kind == 'hmac_key' then\n"
  "      if not store:key_entry(e.id) then return 'a listed key does not load: ' .. e.id end\n"
  "    end\n"
  "    if e.kind ~= 'version' and not ts.RANK[store:get_trust_level(e.signer or e.id)] then\n"
  "      return 'a trust level outside the four'\n"
  "    end\n"
  "  end\n"
  "  store:anchors()\n"
  "end\n";

static lua_State *L;
static int check_ref;

/* libFuzzer reads this section as extra coverage counters. */
#define NCOUNTERS (1u << 16)
__attribute__((section("__libfuzzer_extra_counters"), used))
uint8_t fuzz_trust_store_lua_counters[NCOUNTERS];
static uintptr_t prev_loc;

/* A chunk's source string lives as long as its function, so its address
** names the file; with the line it names a location. */
static void line_hook(lua_State *L_, lua_Debug *ar) {
  uintptr_t loc;
  if (!lua_getinfo(L_, "S", ar)) return;
  loc = ((uintptr_t)ar->source >> 4) * 0x9E3779B1u ^ (uintptr_t)ar->currentline * 0x85EBCA77u;
  fuzz_trust_store_lua_counters[(loc ^ prev_loc) % NCOUNTERS]++;
  prev_loc = loc >> 1;
}

static void setup(void) {
  L = luaL_newstate();
  if (!L) abort();
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_truthound_core);
  lua_setfield(L, -2, "truthound.core");
  lua_pop(L, 1);
  lua_getglobal(L, "package");
  lua_pushstring(L, TP_SOURCE_DIR "/lua/?.lua;" TP_SOURCE_DIR "/lua/?/init.lua;");
  lua_getfield(L, -2, "path");
  lua_concat(L, 2);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  if (luaL_loadbuffer(L, DRIVER, sizeof DRIVER - 1, "=fuzz_trust_store") != LUA_OK ||
      lua_pcall(L, 0, 1, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_trust_store: setup failed: %s\n", lua_tostring(L, -1));
    abort();
  }
  check_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_sethook(L, line_hook, LUA_MASKLINE, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static unsigned runs;
  if (L == NULL) setup();
  prev_loc = 0;
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, check_ref);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isnil(L, -1)) {
    fprintf(stderr, "fuzz_trust_store: invariant violated: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_settop(L, 0);
  if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
