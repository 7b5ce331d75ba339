/*
** l_wire.h: Lua values to and from the worker wire format (core/wire.h,
** docs/formats.md "Worker wire format"). Used by the host's sandbox
** binding (core/lua/l_sandbox.c), by the worker (core/worker/) and by the
** Lua binding core.wire (l_wire.c). Depends on core/wire.c and liblua only
** (the worker links it without the rest of the bindings).
**
** Encoding reads tables with raw access only (no metamethod ever runs) and
** never raises: it is safe in any state, including one whose allocator is
** capped. Decoding builds the value under lua_pcall, so running out of
** memory (a capped worker state) is an error code, not a longjmp.
*/
#ifndef TP_L_WIRE_H
#define TP_L_WIRE_H

#include <lua.h>

#include "wire.h"

/* Append the encoding of the value at idx to out (after whatever out
** holds: call it between tp_wire_frame_begin and tp_wire_frame_end for a
** frame). lim NULL: the defaults; max_bytes bounds what this call adds.
** Returns 0, or a TP_WIRE_E* code with out unchanged and err holding
** "<what> at <path>" (e.g. "cannot encode a function at args[2].f").
** If path is not NULL it receives the path alone ("" for the value
** itself). */
int tpL_wire_encode(lua_State *L, int idx, tp_wire_buf *out, const tp_wire_limits *lim,
                    char *err, size_t errlen);
int tpL_wire_encode_path(lua_State *L, int idx, tp_wire_buf *out, const tp_wire_limits *lim,
                         char *err, size_t errlen, char *path, size_t pathlen);

/* Decode the payload data[0..len) and push its value. Returns 0 (one
** value pushed), or a code with nothing pushed and err holding the reason
** and position; *pos (if not NULL) gets the offset of the offending byte.
** lim NULL: the defaults. */
int tpL_wire_decode(lua_State *L, const char *data, size_t len, const tp_wire_limits *lim,
                    char *err, size_t errlen);
int tpL_wire_decode_pos(lua_State *L, const char *data, size_t len, const tp_wire_limits *lim,
                        char *err, size_t errlen, size_t *pos);

/* Limits from a Lua table at idx {max_bytes, max_depth, max_values}
** (absent keys keep the defaults; idx 0 or nil: all defaults). Raises on
** an unknown key or a bad value: for bindings only. */
void tpL_wire_check_limits(lua_State *L, int idx, tp_wire_limits *lim);

#endif
