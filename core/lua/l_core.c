/*
** l_core.c: luaopen_truthound_core, the module behind require
** "truthound.core", and the error-raising helper the bindings share.
*/
#include <stdarg.h>

#include "lua/l_core.h"

#define RAISE_KEY "truthound.raise"

int tpL_raisef(lua_State *L, const char *kind, int fields, const char *fmt, ...) {
  va_list ap;
  if (fields) fields = lua_absindex(L, fields);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  if (lua_getfield(L, LUA_REGISTRYINDEX, RAISE_KEY) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return luaL_error(L, "%s: %s", kind, lua_tostring(L, -1));
  }
  lua_pushstring(L, kind);
  lua_pushvalue(L, -3);                 /* message */
  if (fields) lua_pushvalue(L, fields); else lua_pushnil(L);
  lua_call(L, 3, 0);                    /* the raiser raises */
  return luaL_error(L, "%s: raiser returned", kind);
}

/* core.set_raise(fn): the Lua layer hands over its typed-error raiser. */
static int core_set_raise(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, RAISE_KEY);
  return 0;
}

int luaopen_truthound_core(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, core_set_raise);
  lua_setfield(L, -2, "set_raise");
  tpL_open_semver(L);
  tpL_open_loop(L);
  tpL_open_signal(L);
  tpL_open_fswatch(L);
  tpL_open_datafile(L);
  tpL_open_fs(L);
  tpL_open_probe(L);
  tpL_open_graph(L);
  tpL_open_resolve(L);
  tpL_open_crypto(L);
  tpL_open_treehash(L);
  tpL_open_wire(L);
  tpL_open_sandbox(L);
  tpL_open_cgroup(L);
  return 1;
}
