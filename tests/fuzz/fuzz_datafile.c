/*
** fuzz_datafile.c: libFuzzer harness for truthound.datafile: the data
** state (core/lua/l_datafile.c: capped allocator, budget hook, the copy out)
** and the key-lines lexer (lpeg). Any input may fail, but only with the
** PolicyError it was asked to raise; key_lines never raises.
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
  "end\n";

static lua_State *L;
static int check_ref;

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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (L == NULL) setup();
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
