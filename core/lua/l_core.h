/*
** l_core.h: shared helpers for the Lua bindings (core/lua/l_*.c).
** Bindings are thin: they convert Lua values to core calls and back.
*/
#ifndef TP_L_CORE_H
#define TP_L_CORE_H

#include <lua.h>
#include <lauxlib.h>

#define TP_EXPORT __attribute__((visibility("default")))

TP_EXPORT int luaopen_truthound_core(lua_State *L);

/* Each binding file adds its subtable to the core table on top of the
** stack: core.semver, core.loop, ... */
void tpL_open_semver(lua_State *L);
void tpL_open_loop(lua_State *L);
void tpL_open_signal(lua_State *L);
void tpL_open_fswatch(lua_State *L);
void tpL_open_datafile(lua_State *L);
void tpL_open_fs(lua_State *L);
void tpL_open_probe(lua_State *L);
void tpL_open_graph(lua_State *L);
void tpL_open_resolve(lua_State *L);
void tpL_open_crypto(lua_State *L);
void tpL_open_treehash(lua_State *L);
void tpL_open_wire(lua_State *L);
void tpL_open_sandbox(lua_State *L);
void tpL_open_cgroup(lua_State *L);

/* The state's loop and the anchoring of its operations (l_loop.c): a
** binding that starts a waiting operation anchors its Lua object while it
** is pending. See docs/loop.md. */
struct tp_loop_s;
struct tp_loop_op_s;
struct tp_loop_s *tpL_loop(lua_State *L);
void tpL_loop_anchor(lua_State *L, int idx, struct tp_loop_op_s *op);
void tpL_loop_unanchor(lua_State *L, struct tp_loop_op_s *op);

/* An operation's Lua object (l_loop.c): a full userdata holding the
** operation, NULL once released. Every binding of a waiting operation
** (core.loop, core.signal, core.fswatch) boxes its operations this way. */
typedef struct tpL_op {
  struct tp_loop_op_s *op;
} tpL_op;
/* A new empty box with metatable mt, pushed. */
tpL_op *tpL_op_new(lua_State *L, const char *mt);
/* "pending", "done", "cancelled", "new"; "closed" once released. */
const char *tpL_op_state(const tpL_op *o);
/* Let go of the operation (cancelled if pending): __gc and __close. */
void tpL_op_release(lua_State *L, tpL_op *o);
/* Cancel it if pending; pushes whether it was. Returns 1. */
int tpL_op_cancel(lua_State *L, tpL_op *o);

/* Watches (a signal watch, a file watch): the notice armed in the watch's
** slot (core/loop.h) is anchored by its own Lua object, and stopping or
** releasing the watch cancels it, so its anchor goes first. */
struct tp_loop_notice_s;
/* __gc and __close of a watch box. */
void tpL_watch_release(lua_State *L, tpL_op *o, struct tp_loop_notice_s *armed);
/* watch:stop(): pushes whether it was active. Returns 1. */
int tpL_watch_stop(lua_State *L, tpL_op *o, struct tp_loop_notice_s *armed);
/* watch:status(): pushes "active" or "stopped". Returns 1. */
int tpL_watch_status(lua_State *L, const tpL_op *o);
/* watch:next(): n is the new notice box on the stack top, r and nx what
** the core's next function returned; raises LoopError naming what the
** notice waits for ("signal", "batch") on failure. Returns 1. */
int tpL_watch_next(lua_State *L, tpL_op *n, int r, struct tp_loop_notice_s *nx,
                   const char *what);

/* Raise a typed truthound error. fields is a stack index of a table of
** extra fields, or 0. Calls the raiser the Lua layer registered with
** core.set_raise (truthound.errors.raise); without one, raises the string
** "<kind>: <message>". Never returns. */
int tpL_raisef(lua_State *L, const char *kind, int fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
