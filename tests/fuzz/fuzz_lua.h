/*
** fuzz_lua.h: the part of a libFuzzer harness that drives a Lua checker,
** shared by fuzz_units, fuzz_datafile, fuzz_resolve, fuzz_envelope and
** fuzz_trust_store. Include it once, in the harness's only file.
**
** The checker is a chunk returning check(bytes) -> nil when every invariant
** holds, else a message naming the one that broke. The Lua side's line
** transitions go to libFuzzer as extra coverage counters, so the fuzzer
** steers by the branches of the Lua code under test too.
*/
#ifndef TP_FUZZ_LUA_H
#define TP_FUZZ_LUA_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lua/l_core.h"

/* libFuzzer reads this section as extra coverage counters. */
#define FUZZ_LUA_NCOUNTERS (1u << 16)
__attribute__((section("__libfuzzer_extra_counters"), used))
uint8_t fuzz_lua_counters[FUZZ_LUA_NCOUNTERS];
static uintptr_t fuzz_lua_prev;

/* A chunk's source string lives as long as its function, so its address
** names the file; with the line it names a location. */
static void fuzz_lua_line_hook(lua_State *L, lua_Debug *ar) {
  uintptr_t loc;
  if (!lua_getinfo(L, "S", ar)) return;
  loc = ((uintptr_t)ar->source >> 4) * 0x9E3779B1u ^ (uintptr_t)ar->currentline * 0x85EBCA77u;
  fuzz_lua_counters[(loc ^ fuzz_lua_prev) % FUZZ_LUA_NCOUNTERS]++;
  fuzz_lua_prev = loc >> 1;
}

/* A state with the standard libraries, truthound.core preloaded and this
** checkout's lua/ first on package.path (lpeg and cjson come from the
** default cpath), the checker's function in the registry at *ref, and the
** line hook set. Aborts, naming the harness, when the checker does not load. */
static lua_State *fuzz_lua_open(const char *name, const char *chunk, size_t len, int *ref) {
  lua_State *L = luaL_newstate();
  if (L == NULL) abort();
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
  lua_pushfstring(L, "=%s", name);
  if (luaL_loadbuffer(L, chunk, len, lua_tostring(L, -1)) != LUA_OK ||
      lua_pcall(L, 0, 1, 0) != LUA_OK) {
    fprintf(stderr, "%s: cannot set up: %s\n", name, lua_tostring(L, -1));
    abort();
  }
  *ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, 0);
  lua_sethook(L, fuzz_lua_line_hook, LUA_MASKLINE, 0);
  return L;
}

enum { FUZZ_LUA_HOLDS, FUZZ_LUA_BROKEN, FUZZ_LUA_RAISED };

/* Run the checker on data. FUZZ_LUA_HOLDS, or BROKEN (it returned a
** message) or RAISED (it raised one), with *msg valid until the next call. */
static int fuzz_lua_check(lua_State *L, int ref, const uint8_t *data, size_t size,
                          const char **msg) {
  int st;
  fuzz_lua_prev = 0;
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_pushlstring(L, (const char *)data, size);
  st = lua_pcall(L, 1, 1, 0);
  if (st == LUA_OK && lua_isnil(L, -1)) {
    lua_settop(L, 0);
    return FUZZ_LUA_HOLDS;
  }
  *msg = lua_tostring(L, -1);
  if (*msg == NULL) *msg = "(a message that is not a string)";
  return st == LUA_OK ? FUZZ_LUA_BROKEN : FUZZ_LUA_RAISED;
}

#endif
