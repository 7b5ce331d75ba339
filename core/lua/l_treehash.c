/*
** l_treehash.c: Lua binding of core/treehash.c (core.treehash).
**
** The tree hash is an operation of the state's loop (docs/loop.md): the
** walk and the hashing run on the libuv thread pool, and Lua waits with
** loop.await. truthound.security.signing.treehash wraps it and turns a
** failure into a SignatureError.
**
**   core.treehash.digest(dir [, opts]) -> op (pending; anchored)
**       opts: max_depth, max_files, max_bytes, max_path (the bounds of
**       core/treehash.h, defaults in core.treehash.defaults), jobs (threads
**       that hash at once; default one per available CPU)
**   op:status()  -> "pending" | "done" | "cancelled" | "closed"
**   op:cancel()  -> true if it was pending
**   op:result()  -> digest_hex, listing, files, bytes
**                 | nil, message, path, reason, errno
**       reason: "symlink", "special", "name", "duplicate", "depth",
**       "files", "bytes", "path", "changed", "system", "memory", "crypto",
**       "cancelled"; path: the offending relative path, raw bytes ("" for
**       the directory itself); errno: the system's, or nil.
**   core.treehash.defaults -> {max_depth, max_files, max_bytes, max_path}
*/
#include <string.h>

#include "treehash.h"
#include "lua/l_core.h"

#define OP_MT "truthound.TreeHash"

/* The operation's box (l_loop.c); op is the first member of
** tp_treehash_op_t, so the box's op is the hash operation. */
static tpL_op *check_th(lua_State *L) {
  return luaL_checkudata(L, 1, OP_MT);
}

static tp_treehash_op_t *hash_of(const tpL_op *o) {
  return (tp_treehash_op_t *)o->op;
}

static const char *reason_of(int code) {
  switch (code) {
  case TP_TREEHASH_ESYMLINK: return "symlink";
  case TP_TREEHASH_ESPECIAL: return "special";
  case TP_TREEHASH_ENAME: return "name";
  case TP_TREEHASH_EDUP: return "duplicate";
  case TP_TREEHASH_EDEPTH: return "depth";
  case TP_TREEHASH_EFILES: return "files";
  case TP_TREEHASH_EBYTES: return "bytes";
  case TP_TREEHASH_EPATH: return "path";
  case TP_TREEHASH_ECHANGED: return "changed";
  case TP_TREEHASH_ESYS: return "system";
  case TP_TREEHASH_ENOMEM: return "memory";
  case TP_TREEHASH_ECRYPTO: return "crypto";
  case TP_TREEHASH_ECANCELED: return "cancelled";
  default: return "invalid";
  }
}

/* opts[key] as an integer in [min, max], or def when absent. */
static lua_Integer opt_int(lua_State *L, int idx, const char *key, lua_Integer def,
                           lua_Integer min, lua_Integer max) {
  lua_Integer v = def;
  int isint;
  if (lua_getfield(L, idx, key) != LUA_TNIL) {
    v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < min || v > max)
      luaL_error(L, "bad option '%s' to 'digest' (an integer from %I to %I expected)", key,
                 min, max);
  }
  lua_pop(L, 1);
  return v;
}

static int th_digest(lua_State *L) {
  const char *dir = luaL_checkstring(L, 1);
  tp_treehash_limits lim;
  lua_Integer jobs = 0;
  tpL_op *o;
  tp_treehash_op_t *h;
  int r;
  tp_treehash_limits_default(&lim);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lim.max_depth = (unsigned)opt_int(L, 2, "max_depth", lim.max_depth, 0, TP_TREEHASH_DEPTH_CAP);
    lim.max_files = (uint64_t)opt_int(L, 2, "max_files", (lua_Integer)lim.max_files, 0, LUA_MAXINTEGER);
    lim.max_bytes = (uint64_t)opt_int(L, 2, "max_bytes", (lua_Integer)lim.max_bytes, 0, LUA_MAXINTEGER);
    lim.max_path = (size_t)opt_int(L, 2, "max_path", (lua_Integer)lim.max_path, 1, TP_TREEHASH_PATH_CAP);
    jobs = opt_int(L, 2, "jobs", 0, 0, 64);
  }
  o = tpL_op_new(L, OP_MT);
  r = tp_treehash_start(tpL_loop(L), dir, &lim, (unsigned)jobs, &h);
  if (r < 0)
    return tpL_raisef(L, "LoopError", 0, "cannot start a tree hash: %s",
                      r == TP_TREEHASH_ENOMEM ? "out of memory" :
                      r == TP_TREEHASH_ECRYPTO ? "OpenSSL has no SHA-256" : "the loop is closed");
  o->op = &h->op;
  tpL_loop_anchor(L, -1, o->op);
  return 1;
}

/* __gc and __close: let go, cancelling if pending. */
static int th_release(lua_State *L) {
  tpL_op_release(L, check_th(L));
  return 0;
}

static int th_cancel(lua_State *L) {
  return tpL_op_cancel(L, check_th(L));
}

static int th_status(lua_State *L) {
  lua_pushstring(L, tpL_op_state(check_th(L)));
  return 1;
}

static int th_result(lua_State *L) {
  tpL_op *o = check_th(L);
  const tp_treehash_result *res;
  if (o->op == NULL) return luaL_error(L, "the tree hash was closed");
  if (o->op->state == TP_LOOP_OP_PENDING)
    return luaL_error(L, "the tree hash is still pending (wait for it with loop.await)");
  res = tp_treehash_result_of(hash_of(o)->tree);
  if (o->op->state == TP_LOOP_OP_DONE && res->code == 0) {
    lua_pushstring(L, res->digest);
    lua_pushlstring(L, res->listing, res->listing_len);
    lua_pushinteger(L, (lua_Integer)res->files);
    lua_pushinteger(L, (lua_Integer)res->bytes);
    return 4;
  }
  lua_pushnil(L);
  /* Cancelled: threads may still be winding down and writing; read nothing. */
  if (o->op->state != TP_LOOP_OP_DONE) {
    lua_pushliteral(L, "the tree hash was cancelled");
    lua_pushliteral(L, "");
    lua_pushstring(L, reason_of(TP_TREEHASH_ECANCELED));
    lua_pushnil(L);
    return 5;
  }
  lua_pushstring(L, res->message);
  if (res->path) lua_pushlstring(L, res->path, res->pathlen); else lua_pushliteral(L, "");
  lua_pushstring(L, reason_of(res->code));
  if (res->sys_errno) lua_pushinteger(L, res->sys_errno); else lua_pushnil(L);
  return 5;
}

static int th_tostring(lua_State *L) {
  tpL_op *o = check_th(L);
  lua_pushfstring(L, "%s (%s): %p", OP_MT, tpL_op_state(o), (void *)o);
  return 1;
}

static const luaL_Reg th_methods[] = {
  {"status", th_status},
  {"cancel", th_cancel},
  {"result", th_result},
  {NULL, NULL}
};

static const luaL_Reg th_meta[] = {
  {"__gc", th_release},
  {"__close", th_release},
  {"__tostring", th_tostring},
  {NULL, NULL}
};

static const luaL_Reg th_funcs[] = {
  {"digest", th_digest},
  {NULL, NULL}
};

void tpL_open_treehash(lua_State *L) {
  tp_treehash_limits lim;
  luaL_newmetatable(L, OP_MT);
  luaL_setfuncs(L, th_meta, 0);
  luaL_newlib(L, th_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, th_funcs);
  tp_treehash_limits_default(&lim);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, lim.max_depth);
  lua_setfield(L, -2, "max_depth");
  lua_pushinteger(L, (lua_Integer)lim.max_files);
  lua_setfield(L, -2, "max_files");
  lua_pushinteger(L, (lua_Integer)lim.max_bytes);
  lua_setfield(L, -2, "max_bytes");
  lua_pushinteger(L, (lua_Integer)lim.max_path);
  lua_setfield(L, -2, "max_path");
  lua_setfield(L, -2, "defaults");
  lua_setfield(L, -2, "treehash");
}
