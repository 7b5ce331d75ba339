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

/* Raise a typed truthound error. fields is a stack index of a table of
** extra fields, or 0. Calls the raiser the Lua layer registered with
** core.set_raise (truthound.errors.raise); without one, raises the string
** "<kind>: <message>". Never returns. */
int tpL_raisef(lua_State *L, const char *kind, int fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
