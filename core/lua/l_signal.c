/*
** l_signal.c: Lua binding of core/loopsig.c (core.signal).
**
** Signal numbers cross this binding; the names and their checking live in
** truthound.loop (tp.signal). Operations follow docs/loop.md: a pending
** wait or next is anchored, and core.loop.step hands it back when it
** completes. A watch itself never completes, so it is not anchored: its
** Lua object holds it, and stopping or collecting it stops the watch.
**
**   core.signal.numbers            {INT = 2, TERM = 15, ...}: the accepted ones
**   core.signal.wait(nums [, ms])  -> wait op: status(), cancel(), result()
**                                     (the name, or nil after the timeout)
**   core.signal.watch(nums)        -> watch: next() -> op (status(), cancel()),
**                                     take() -> {names...}, stop() -> boolean,
**                                     status(), dropped()
**   core.signal.disposition(num)   -> "default" | "ignored" | "loop" | "other"
*/
#include "loopsig.h"
#include "lua/l_core.h"

#define WAIT_MT  "truthound.SignalWait"
#define WATCH_MT "truthound.SignalWatch"
#define NEXT_MT  "truthound.SignalNext"

typedef tpL_op l_op;     /* boxes, release, cancel, state: l_loop.c */

/* The list of signal numbers at idx, checked. */
static int check_signums(lua_State *L, int idx, int *out) {
  lua_Integer n;
  luaL_checktype(L, idx, LUA_TTABLE);
  n = luaL_len(L, idx);
  luaL_argcheck(L, n >= 1 && n <= TP_LOOPSIG_MAX, idx, "1 to 6 signal numbers expected");
  for (lua_Integer i = 1; i <= n; i++) {
    int isnum;
    lua_Integer v;
    lua_geti(L, idx, i);
    v = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    luaL_argcheck(L, isnum && v > 0 && v < NSIG && tp_loopsig_name((int)v) != NULL, idx,
                  "accepted signal numbers expected (see core.signal.numbers)");
    out[i - 1] = (int)v;
  }
  return (int)n;
}

static void push_signame(lua_State *L, int signum) {
  const char *name = tp_loopsig_name(signum);
  if (name) lua_pushstring(L, name);
  else lua_pushnil(L);
}

/* ---- wait ----------------------------------------------------------- */

static l_op *check_wait(lua_State *L) {
  return luaL_checkudata(L, 1, WAIT_MT);
}

static int wait_release(lua_State *L) {
  tpL_op_release(L, check_wait(L));
  return 0;
}

static int wait_cancel(lua_State *L) {
  return tpL_op_cancel(L, check_wait(L));
}

static int wait_status(lua_State *L) {
  lua_pushstring(L, tpL_op_state(check_wait(L)));
  return 1;
}

/* The signal's name, or nil when the timeout expired. */
static int wait_result(lua_State *L) {
  l_op *o = check_wait(L);
  if (o->op == NULL || o->op->state != TP_LOOP_OP_DONE)
    return luaL_error(L, "the signal wait is %s, not done", tpL_op_state(o));
  push_signame(L, ((tp_loopsig_wait_t *)o->op)->signum);
  return 1;
}

static int sig_wait(lua_State *L) {
  int signums[TP_LOOPSIG_MAX];
  int n = check_signums(L, 1, signums);
  double ms = -1;
  tp_loopsig_wait_t *w;
  l_op *o;
  int r;
  if (!lua_isnoneornil(L, 2)) {
    lua_Number v = luaL_checknumber(L, 2);
    luaL_argcheck(L, v >= 0 && v <= 9007199254740992.0, 2,
                  "expected a non-negative, finite number of milliseconds");
    ms = (double)v;
  }
  o = tpL_op_new(L, WAIT_MT);
  r = tp_loopsig_wait_start(tpL_loop(L), signums, n, ms, &w);
  if (r < 0)
    return tpL_raisef(L, "LoopError", 0, "cannot wait for a signal: %s", uv_strerror(r));
  o->op = &w->op;
  tpL_loop_anchor(L, -1, o->op);
  return 1;
}

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

static tp_loopsig_watch_t *watch_of(l_op *o) {
  return (tp_loopsig_watch_t *)o->op;
}

static tp_loop_notice_t *armed(l_op *o) {
  return o->op ? watch_of(o)->armed : NULL;
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
  tp_loopsig_next_t *nx = NULL;
  l_op *n = tpL_op_new(L, NEXT_MT);
  int r = o->op ? tp_loopsig_watch_next(watch_of(o), &nx) : UV_EINVAL;
  return tpL_watch_next(L, n, r, nx, "signal");
}

/* take() -> {names...}: the deliveries nobody took yet, oldest first. */
static int watch_take(lua_State *L) {
  l_op *o = check_watch(L);
  int buf[64];
  lua_Integer k = 0;
  size_t n;
  lua_newtable(L);
  if (o->op == NULL) return 1;
  while ((n = tp_loopsig_watch_take(watch_of(o), buf, 64)) > 0) {
    for (size_t i = 0; i < n; i++) {
      push_signame(L, buf[i]);
      lua_rawseti(L, -2, ++k);
    }
  }
  return 1;
}

static int watch_dropped(lua_State *L) {
  l_op *o = check_watch(L);
  lua_pushinteger(L, o->op ? (lua_Integer)watch_of(o)->dropped : 0);
  return 1;
}

static int sig_watch(lua_State *L) {
  int signums[TP_LOOPSIG_MAX];
  int n = check_signums(L, 1, signums);
  tp_loopsig_watch_t *w;
  l_op *o = tpL_op_new(L, WATCH_MT);
  int r = tp_loopsig_watch_start(tpL_loop(L), signums, n, &w);
  if (r < 0)
    return tpL_raisef(L, "LoopError", 0, "cannot watch signals: %s", uv_strerror(r));
  o->op = &w->op;
  return 1;
}

/* ---- core.signal ---------------------------------------------------- */

static int sig_disposition(lua_State *L) {
  static const char *const names[] = {"default", "ignored", "loop", "other"};
  lua_Integer v = luaL_checkinteger(L, 1);
  int d;
  luaL_argcheck(L, v > 0 && v < NSIG, 1, "signal number expected");
  d = tp_loopsig_disposition((int)v);
  lua_pushstring(L, d >= 0 && d <= 3 ? names[d] : "other");
  return 1;
}

static const luaL_Reg sig_funcs[] = {
  {"wait", sig_wait},
  {"watch", sig_watch},
  {"disposition", sig_disposition},
  {NULL, NULL}
};

static const luaL_Reg wait_methods[] = {
  {"status", wait_status}, {"cancel", wait_cancel}, {"result", wait_result},
  {"__gc", wait_release}, {"__close", wait_release}, {NULL, NULL}
};

static const luaL_Reg next_methods[] = {
  {"status", next_status}, {"cancel", next_cancel},
  {"__gc", next_release}, {"__close", next_release}, {NULL, NULL}
};

static const luaL_Reg watch_methods[] = {
  {"next", watch_next}, {"take", watch_take}, {"stop", watch_stop},
  {"status", watch_status}, {"dropped", watch_dropped},
  {"__gc", watch_release}, {"__close", watch_release}, {NULL, NULL}
};

/* A metatable that is its own __index (methods and metamethods together,
** as in liolib.c). */
static void new_class(lua_State *L, const char *name, const luaL_Reg *methods) {
  luaL_newmetatable(L, name);
  luaL_setfuncs(L, methods, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

void tpL_open_signal(lua_State *L) {
  new_class(L, WAIT_MT, wait_methods);
  new_class(L, NEXT_MT, next_methods);
  new_class(L, WATCH_MT, watch_methods);
  luaL_newlib(L, sig_funcs);
  lua_newtable(L);
  for (int i = 0, s; (s = tp_loopsig_nth(i)) != 0; i++) {
    lua_pushinteger(L, s);
    lua_setfield(L, -2, tp_loopsig_name(s));
  }
  lua_setfield(L, -2, "numbers");
  lua_setfield(L, -2, "signal");
}
