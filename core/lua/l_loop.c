/*
** l_loop.c: Lua binding of core/loop.c (core.loop).
**
** Each lua_State has one loop: a full userdata kept in the registry under
** "truthound.loop" and shared as upvalue 1 by the functions of core.loop.
** Its __gc (run by lua_close) cancels what is pending, closes every handle
** and closes the uv loop.
**
** An operation reaches Lua as a userdata that points to its tp_loop_op_t.
** While the operation is pending, a registry reference (op->owner) keeps
** that userdata, and with it whatever waits on it, alive. core.loop.step
** runs one turn of the loop and hands back the userdata of every operation
** that completed, dropping the reference; truthound.loop then wakes the
** waiters. No Lua runs inside a libuv callback.
**
**   core.loop.now()              -> milliseconds, CLOCK_MONOTONIC, float
**   core.loop.wallclock()        -> seconds since the epoch, CLOCK_REALTIME,
**                                   float (for timestamps people read)
**   core.loop.timer(ms)          -> op (a pending timer)
**   core.loop.step(block, out)   -> n; out[1..n] = the ops that completed
**   core.loop.alive()            -> boolean: would step have work to do?
**   op:status()                  -> "pending" | "done" | "cancelled" | "closed"
**   op:cancel()                  -> true if it was pending
*/
#include <time.h>

#include "loop.h"
#include "lua/l_core.h"

#define LOOP_MT "truthound.Loop"      /* not LOOP_KEY: both live in the registry */
#define OP_MT "truthound.LoopOp"
#define LOOP_KEY "truthound.loop"

typedef struct l_loop {
  tp_loop_t loop;
} l_loop;

typedef tpL_op l_op;

/* ---- the loop object ------------------------------------------------ */

/* __gc and __close. */
static int loop_close(lua_State *L) {
  l_loop *l = luaL_checkudata(L, 1, LOOP_MT);
  tp_loop_close(&l->loop);
  return 0;
}

/* Push this state's loop, creating it on first use. */
static l_loop *push_loop(lua_State *L) {
  l_loop *l;
  int r;
  if (lua_getfield(L, LUA_REGISTRYINDEX, LOOP_KEY) == LUA_TUSERDATA)
    return lua_touserdata(L, -1);
  lua_pop(L, 1);
  l = lua_newuserdatauv(L, sizeof *l, 0);
  r = tp_loop_init(&l->loop);
  if (r < 0)
    tpL_raisef(L, "LoopError", 0, "cannot create the event loop: %s", uv_strerror(r));
  /* Only an initialised loop gets the metatable whose __gc closes it. */
  if (luaL_newmetatable(L, LOOP_MT)) {
    lua_pushcfunction(L, loop_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, loop_close);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, LOOP_KEY);
  return l;
}

tp_loop_t *tpL_loop(lua_State *L) {
  l_loop *l = push_loop(L);
  lua_pop(L, 1);        /* the registry keeps it */
  return &l->loop;
}

static tp_loop_t *up_loop(lua_State *L) {
  return &((l_loop *)lua_touserdata(L, lua_upvalueindex(1)))->loop;
}

/* ---- operations ----------------------------------------------------- */

/* Keep the value at idx alive (and findable by step) while op is pending. */
void tpL_loop_anchor(lua_State *L, int idx, tp_loop_op_t *op) {
  lua_pushvalue(L, idx);
  op->owner = luaL_ref(L, LUA_REGISTRYINDEX);
}

void tpL_loop_unanchor(lua_State *L, tp_loop_op_t *op) {
  luaL_unref(L, LUA_REGISTRYINDEX, op->owner);   /* ignores -1 */
  op->owner = -1;
}

static l_op *check_op(lua_State *L) {
  return luaL_checkudata(L, 1, OP_MT);
}

/* ---- operation boxes, for every binding of a waiting operation ----- */

tpL_op *tpL_op_new(lua_State *L, const char *mt) {
  tpL_op *o = lua_newuserdatauv(L, sizeof *o, 0);
  o->op = NULL;
  luaL_setmetatable(L, mt);
  return o;
}

const char *tpL_op_state(const tpL_op *o) {
  if (o->op == NULL) return "closed";      /* released by __close */
  switch (o->op->state) {
  case TP_LOOP_OP_PENDING: return "pending";
  case TP_LOOP_OP_DONE: return "done";
  case TP_LOOP_OP_CANCELLED: return "cancelled";
  default: return "new";
  }
}

void tpL_op_release(lua_State *L, tpL_op *o) {
  if (o->op == NULL) return;
  tpL_loop_unanchor(L, o->op);
  tp_loop_op_release(o->op);
  o->op = NULL;
}

int tpL_op_cancel(lua_State *L, tpL_op *o) {
  int was_pending = o->op != NULL && tp_loop_op_cancel(o->op);
  if (was_pending) tpL_loop_unanchor(L, o->op);
  lua_pushboolean(L, was_pending);
  return 1;
}

/* The armed notice lets go of its anchor before the cancel detaches it. */
static void unarm(lua_State *L, tp_loop_notice_t *armed) {
  if (armed != NULL && tp_loop_op_cancel(&armed->op)) tpL_loop_unanchor(L, &armed->op);
}

void tpL_watch_release(lua_State *L, tpL_op *o, tp_loop_notice_t *armed) {
  if (o->op == NULL) return;
  unarm(L, armed);
  tp_loop_op_release(o->op);
  o->op = NULL;
}

int tpL_watch_stop(lua_State *L, tpL_op *o, tp_loop_notice_t *armed) {
  int was_active = 0;
  if (o->op != NULL) {
    unarm(L, armed);
    was_active = tp_loop_op_cancel(o->op);
  }
  lua_pushboolean(L, was_active);
  return 1;
}

int tpL_watch_status(lua_State *L, const tpL_op *o) {
  lua_pushstring(L, o->op && o->op->state == TP_LOOP_OP_PENDING ? "active" : "stopped");
  return 1;
}

int tpL_watch_next(lua_State *L, tpL_op *n, int r, tp_loop_notice_t *nx, const char *what) {
  if (r < 0)
    return tpL_raisef(L, "LoopError", 0, "cannot wait for the watch's next %s: %s", what,
                      r == UV_EINVAL ? "the watch is stopped" : uv_strerror(r));
  n->op = &nx->op;
  tpL_loop_anchor(L, -1, n->op);
  return 1;
}

/* __gc and __close: let go of the operation, cancelling it if pending. */
static int op_release(lua_State *L) {
  tpL_op_release(L, check_op(L));
  return 0;
}

static int op_cancel(lua_State *L) {
  return tpL_op_cancel(L, check_op(L));
}

static int op_status(lua_State *L) {
  lua_pushstring(L, tpL_op_state(check_op(L)));
  return 1;
}

static int op_tostring(lua_State *L) {
  l_op *o = check_op(L);
  lua_pushfstring(L, "%s (%s, %s): %p", OP_MT,
                  o->op ? o->op->type->name : "released", tpL_op_state(o), (void *)o);
  return 1;
}

/* ---- core.loop ------------------------------------------------------ */

static int loop_now(lua_State *L) {
  lua_pushnumber(L, (lua_Number)tp_loop_now());
  return 1;
}

static int loop_wallclock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

static int loop_timer(lua_State *L) {
  lua_Number ms = luaL_checknumber(L, 1);
  tp_loop_timer_t *t;
  l_op *o;
  int r;
  luaL_argcheck(L, ms >= 0 && ms <= 9007199254740992.0, 1,
                "expected a non-negative, finite number of milliseconds");
  o = tpL_op_new(L, OP_MT);
  r = tp_loop_timer_start(up_loop(L), (double)ms, &t);
  if (r < 0)
    return tpL_raisef(L, "LoopError", 0, "cannot start a timer: %s", uv_strerror(r));
  o->op = &t->op;
  tpL_loop_anchor(L, -1, o->op);
  return 1;
}

/* step(block, out): one turn of the loop (waiting for an event if block),
** then out[i] = the Lua value of each completed operation, oldest first. */
static int loop_step(lua_State *L) {
  tp_loop_t *lp = up_loop(L);
  int block = lua_toboolean(L, 1);
  lua_Integer n = 0;
  tp_loop_op_t *op;
  int r;
  luaL_checktype(L, 2, LUA_TTABLE);
  r = tp_loop_run(lp, block ? TP_LOOP_ONCE : TP_LOOP_NOWAIT);
  if (r < 0)
    return tpL_raisef(L, "LoopError", 0, "cannot run the event loop: %s", uv_strerror(r));
  /* An operation leaves the queue only once its value is safely in out,
  ** so a memory error half way loses nothing: the next step resumes. */
  while ((op = tp_loop_next_done(lp)) != NULL) {
    if (op->owner != -1) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, op->owner);
      lua_rawseti(L, 2, ++n);
      tpL_loop_unanchor(L, op);
    }
    tp_loop_op_collect(op);
  }
  lua_pushinteger(L, n);
  return 1;
}

static int loop_alive(lua_State *L) {
  lua_pushboolean(L, tp_loop_alive(up_loop(L)));
  return 1;
}

static const luaL_Reg loop_funcs[] = {
  {"now", loop_now},
  {"wallclock", loop_wallclock},
  {"timer", loop_timer},
  {"step", loop_step},
  {"alive", loop_alive},
  {NULL, NULL}
};

static const luaL_Reg op_methods[] = {
  {"status", op_status},
  {"cancel", op_cancel},
  {NULL, NULL}
};

static const luaL_Reg op_meta[] = {
  {"__gc", op_release},
  {"__close", op_release},
  {"__tostring", op_tostring},
  {NULL, NULL}
};

void tpL_open_loop(lua_State *L) {
  luaL_newmetatable(L, OP_MT);
  luaL_setfuncs(L, op_meta, 0);
  luaL_newlib(L, op_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlibtable(L, loop_funcs);
  push_loop(L);
  luaL_setfuncs(L, loop_funcs, 1);
  lua_setfield(L, -2, "loop");
}
