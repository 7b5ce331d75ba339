/*
** l_fswatch.c: Lua binding of core/fswatch.c (core.fswatch).
**
** The checks of the arguments' meaning and the error kinds live in
** truthound.fswatch; this file converts. Like a signal watch, a watch never
** completes, so it is not anchored: its Lua object holds it, and stopping
** or collecting it stops the watch. Its "next" operations are anchored
** while pending and handed back by core.loop.step (docs/loop.md).
**
**   core.fswatch.watch(root, debounce_ms, max_wait_ms, recursive, max_dirs)
**       -> watch | nil, code ("ENOENT", "E2BIG", ...), message, relpath
**   watch:next()    -> op (status(), cancel()): completes when a batch is ready
**   watch:take()    -> {changes = {{path =, kind =}, ...}, overflow = bool} | nil
**   watch:stop()    -> boolean (was active); also __gc and __close
**   watch:status()  -> "active" | "stopped"
**   watch:dropped(), watch:dirs() -> integer
*/
#include <limits.h>

#include "fswatch.h"
#include "lua/l_core.h"

#define WATCH_MT "truthound.FsWatch"
#define NEXT_MT  "truthound.FsWatchNext"

typedef tpL_op l_op;     /* boxes, release, cancel, state: l_loop.c */

/* ---- next ----------------------------------------------------------- */

static l_op *check_next(lua_State *L) {
  return luaL_checkudata(L, 1, NEXT_MT);
}

static int next_release(lua_State *L) {
  tpL_op_release(L, check_next(L));
  return 0;
}

static int next_cancel(lua_State *L) {
  return tpL_op_cancel(L, check_next(L));
}

static int next_status(lua_State *L) {
  lua_pushstring(L, tpL_op_state(check_next(L)));
  return 1;
}

/* ---- watch ---------------------------------------------------------- */

static l_op *check_watch(lua_State *L) {
  return luaL_checkudata(L, 1, WATCH_MT);
}

static tp_fswatch_t *watch_of(l_op *o) {
  return (tp_fswatch_t *)o->op;
}

static tp_loop_notice_t *armed(l_op *o) {
  return o->op ? tp_fswatch_armed(watch_of(o)) : NULL;
}

static int watch_release(lua_State *L) {
  l_op *o = check_watch(L);
  tpL_watch_release(L, o, armed(o));
  return 0;
}

static int watch_stop(lua_State *L) {
  l_op *o = check_watch(L);
  return tpL_watch_stop(L, o, armed(o));
}

static int watch_status(lua_State *L) {
  return tpL_watch_status(L, check_watch(L));
}

static int watch_next(lua_State *L) {
  l_op *o = check_watch(L);
  tp_fswatch_next_t *nx = NULL;
  l_op *n = tpL_op_new(L, NEXT_MT);
  int r = o->op ? tp_fswatch_next(watch_of(o), &nx) : UV_EINVAL;
  return tpL_watch_next(L, n, r, nx, "batch");
}

static const char *kind_name(int kind) {
  switch (kind) {
  case TP_FSWATCH_CHANGE: return "change";
  case TP_FSWATCH_RENAME: return "rename";
  case TP_FSWATCH_CREATE: return "create";
  case TP_FSWATCH_DELETE: return "delete";
  default: return NULL;
  }
}

/* take() -> the ready batch as a table, emptied in the watch; nil if none.
** Paths that came and went within the batch are left out. The batch is
** cleared only once the table is built (a memory error leaves it). */
static int watch_take(lua_State *L) {
  l_op *o = check_watch(L);
  tp_fswatch_t *w;
  lua_Integer k = 0;
  size_t n;
  if (o->op == NULL || !tp_fswatch_ready(w = watch_of(o))) {
    lua_pushnil(L);
    return 1;
  }
  n = tp_fswatch_count(w);
  lua_createtable(L, 0, 2);
  lua_createtable(L, n > INT_MAX ? 0 : (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    const char *path;
    const char *kind = kind_name(tp_fswatch_entry(w, i, &path));
    if (kind == NULL) continue;
    lua_createtable(L, 0, 2);
    lua_pushstring(L, path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_rawseti(L, -2, ++k);
  }
  lua_setfield(L, -2, "changes");
  lua_pushboolean(L, tp_fswatch_overflowed(w));
  lua_setfield(L, -2, "overflow");
  tp_fswatch_clear(w);
  return 1;
}

static int watch_dropped(lua_State *L) {
  l_op *o = check_watch(L);
  lua_pushinteger(L, o->op ? (lua_Integer)tp_fswatch_dropped(watch_of(o)) : 0);
  return 1;
}

static int watch_dirs(lua_State *L) {
  l_op *o = check_watch(L);
  lua_pushinteger(L, o->op && o->op->state == TP_LOOP_OP_PENDING
                         ? (lua_Integer)tp_fswatch_dirs(watch_of(o)) : 0);
  return 1;
}

/* The name of a libuv error without its "UV_" decoration: "ENOENT". */
static const char *code_name(int r) {
  return uv_err_name(r);
}

static int fs_watch(lua_State *L) {
  tp_fswatch_opts_t opts;
  const char *root = luaL_checkstring(L, 1);
  lua_Integer max_dirs;
  tp_fswatch_t *w;
  char errpath[4096];
  l_op *o;
  int r;
  opts.debounce_ms = (double)luaL_checknumber(L, 2);
  opts.max_wait_ms = (double)luaL_checknumber(L, 3);
  opts.recursive = lua_toboolean(L, 4);
  max_dirs = luaL_checkinteger(L, 5);
  luaL_argcheck(L, max_dirs >= 1, 5, "positive integer expected");
  opts.max_dirs = (size_t)max_dirs;
  o = tpL_op_new(L, WATCH_MT);
  r = tp_fswatch_start(tpL_loop(L), root, &opts, &w, errpath, sizeof errpath);
  if (r < 0) {
    lua_pushnil(L);
    lua_pushstring(L, code_name(r));
    lua_pushstring(L, uv_strerror(r));
    lua_pushstring(L, errpath);
    return 4;
  }
  o->op = tp_fswatch_op(w);
  return 1;
}

static const luaL_Reg fs_funcs[] = {
  {"watch", fs_watch},
  {NULL, NULL}
};

static const luaL_Reg next_methods[] = {
  {"status", next_status}, {"cancel", next_cancel},
  {"__gc", next_release}, {"__close", next_release}, {NULL, NULL}
};

static const luaL_Reg watch_methods[] = {
  {"next", watch_next}, {"take", watch_take}, {"stop", watch_stop},
  {"status", watch_status}, {"dropped", watch_dropped}, {"dirs", watch_dirs},
  {"__gc", watch_release}, {"__close", watch_release}, {NULL, NULL}
};

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods) {
  luaL_newmetatable(L, name);
  luaL_setfuncs(L, methods, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

void tpL_open_fswatch(lua_State *L) {
  new_class(L, NEXT_MT, next_methods);
  new_class(L, WATCH_MT, watch_methods);
  luaL_newlib(L, fs_funcs);
  lua_setfield(L, -2, "fswatch");
}
