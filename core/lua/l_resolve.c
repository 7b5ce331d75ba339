/*
** l_resolve.c: Lua binding of core/resolve.c (core.resolve).
**
**   local p = core.resolve.new()              -- a Problem (closes on __gc/__close)
**   p:add_version(name, version)              --> handle (0, 1, ...)
**   p:add_dep(name, constraint|nil, optional, tag)
**   p:add_version_deps(name, version, deps, codes)  --> handle | false
**   p:add_requirement(name, constraint|nil)
**   p:prefer(name, version)
**   p:solve(max_steps, ignore_missing, require_found)  --> "solved" | "conflict"
**   p:selection(), p:proof(), p:candidates(name), p:count(name),
**   p:duplicates(n), p:stats()
**
** Bad input is returned, not raised: nil, what ("name", "version",
** "constraint"), position (1-based), expected. The Lua layer knows which
** plugin and dependency it was adding and raises with that context. A
** step budget that runs out gives nil, "steps", steps.
*/
#include <string.h>

#include "resolve.h"
#include "lua/l_core.h"

#define PROBLEM_MT "truthound.ResolveProblem"
#define PROBLEM_UP lua_upvalueindex(1)

typedef struct l_problem {
  tp_resolve *r;
} l_problem;

/* The problem at index 1, checked against the metatable upvalue (no
** registry lookup on the calls made once per dependency). */
static l_problem *check_problem(lua_State *L) {
  l_problem *lp = lua_touserdata(L, 1);
  int same = 0;
  if (lp && lua_getmetatable(L, 1)) {
    same = lua_rawequal(L, -1, PROBLEM_UP);
    lua_pop(L, 1);
  }
  if (!same) luaL_typeerror(L, 1, PROBLEM_MT);
  if (!lp->r) luaL_error(L, "resolve problem is closed");
  return lp;
}

static int problem_new(lua_State *L) {
  l_problem *lp = lua_newuserdatauv(L, sizeof *lp, 0);
  lp->r = NULL;
  lua_pushvalue(L, PROBLEM_UP);
  lua_setmetatable(L, -2);
  if (!(lp->r = tp_resolve_new())) return luaL_error(L, "not enough memory");
  return 1;
}

/* __gc and __close: free once. */
static int problem_close(lua_State *L) {
  l_problem *lp = luaL_checkudata(L, 1, PROBLEM_MT);
  tp_resolve_free(lp->r);
  lp->r = NULL;
  return 0;
}

/* Push the result of an input call: true, or nil and what went wrong. */
static int input_result(lua_State *L, int rc, const tp_semver_error *e) {
  switch (rc) {
  case TP_RESOLVE_EVERSION:
  case TP_RESOLVE_ECONSTRAINT:
    lua_pushnil(L);
    lua_pushstring(L, rc == TP_RESOLVE_EVERSION ? "version" : "constraint");
    lua_pushinteger(L, (lua_Integer)e->pos + 1);
    lua_pushstring(L, e->expected ? e->expected : "");
    return 4;
  case TP_RESOLVE_ENAME:
    lua_pushnil(L);
    lua_pushliteral(L, "name");
    lua_pushinteger(L, 1);
    lua_pushliteral(L, "a name of 1 to 4096 bytes");
    return 4;
  case TP_RESOLVE_ESTATE:
    return luaL_error(L, "resolve problem: input after solve, or a dependency before any version");
  case TP_RESOLVE_ENOMEM:
    return luaL_error(L, "not enough memory");
  default:
    if (rc < 0) return luaL_error(L, "resolve problem: error %d", rc);
    lua_pushboolean(L, 1);
    return 1;
  }
}

/* p:add_version(name, version) -> handle | nil, what, position, expected */
static int problem_add_version(lua_State *L) {
  l_problem *lp = check_problem(L);
  size_t nlen, vlen;
  const char *name = luaL_checklstring(L, 2, &nlen);
  const char *ver = luaL_checklstring(L, 3, &vlen);
  tp_semver_error e = {0, 0, NULL};
  int h = tp_resolve_add_version(lp->r, name, nlen, ver, vlen, &e);
  if (h < 0) return input_result(L, h, &e);
  lua_pushinteger(L, h);
  return 1;
}

/* p:add_dep(name, constraint|nil, optional, tag) -> true | nil, ... */
static int problem_add_dep(lua_State *L) {
  l_problem *lp = check_problem(L);
  size_t nlen, clen = 0;
  const char *name = luaL_checklstring(L, 2, &nlen);
  const char *c = luaL_optlstring(L, 3, NULL, &clen);
  int kind = lua_toboolean(L, 4) ? TP_RESOLVE_OPTIONAL : TP_RESOLVE_REQUIRED;
  int tag = (int)luaL_optinteger(L, 5, 0);
  tp_semver_error e = {0, 0, NULL};
  return input_result(L, tp_resolve_add_dep(lp->r, name, nlen, c, clen, kind, tag, &e), &e);
}

/* What a dependency value means, as the Lua layer decided it: codes maps
** each string value to one of these (the codes table is Lua's; this file
** only applies it). */
enum { DEP_SKIP, DEP_CONSTRAINT, DEP_REQUIRED, DEP_OPTIONAL, DEP_OPTIONAL_REQUIRED, DEP_DEV };

static int add_coded(lua_State *L, tp_resolve *r, int code, int value, int key, tp_semver_error *e) {
  size_t nlen, clen;
  const char *name = lua_tolstring(L, key, &nlen), *c = NULL;
  int kind = TP_RESOLVE_REQUIRED, tag = 1;
  switch (code) {
  case DEP_SKIP: return 0;
  case DEP_CONSTRAINT: c = lua_tolstring(L, value, &clen); break;
  case DEP_REQUIRED: break;
  case DEP_OPTIONAL: kind = TP_RESOLVE_OPTIONAL; tag = 2; break;
  case DEP_OPTIONAL_REQUIRED: tag = 2; break;
  case DEP_DEV: tag = 3; break;
  default: return luaL_error(L, "add_version_deps: bad code %d", code);
  }
  return tp_resolve_add_dep(r, name, nlen, c, c ? clen : 0, kind, tag, e);
}

/* p:add_version_deps(name, version, deps, codes) -> handle | false: a
** version and its dependencies in one call, for the common case where deps
** is a plain table of strings whose every value codes knows. Anything
** else (a table value, a key that is not a string, a value codes lacks, a
** metatable) returns false before anything is added: the caller takes the
** slow path. Refused input returns nil, what, position, expected. */
static int problem_add_version_deps(lua_State *L) {
  l_problem *lp = check_problem(L);
  size_t nlen, vlen;
  const char *name = luaL_checklstring(L, 2, &nlen);
  const char *ver = luaL_checklstring(L, 3, &vlen);
  tp_semver_error e = {0, 0, NULL};
  int h, rc;
  luaL_checktype(L, 4, LUA_TTABLE);
  luaL_checktype(L, 5, LUA_TTABLE);
  lua_settop(L, 5);
  if (lua_getmetatable(L, 4)) { lua_pushboolean(L, 0); return 1; }
  lua_pushnil(L);                          /* first pass: may it go fast? */
  while (lua_next(L, 4)) {
    int known = lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING &&
                lua_rawget(L, 5) == LUA_TNUMBER;      /* codes[value] */
    lua_pop(L, 1);
    if (!known) { lua_pop(L, 1); lua_pushboolean(L, 0); return 1; }
  }
  if ((h = tp_resolve_add_version(lp->r, name, nlen, ver, vlen, &e)) < 0) return input_result(L, h, &e);
  lua_pushnil(L);
  while (lua_next(L, 4)) {                 /* key at 6, value at 7 */
    lua_pushvalue(L, -1);
    lua_rawget(L, 5);
    rc = add_coded(L, lp->r, (int)lua_tointeger(L, -1), 7, 6, &e);
    lua_pop(L, 2);
    if (rc < 0) { lua_pop(L, 1); return input_result(L, rc, &e); }
  }
  lua_pushinteger(L, h);
  return 1;
}

/* p:add_requirement(name, constraint|nil) -> true | nil, ... */
static int problem_add_requirement(lua_State *L) {
  l_problem *lp = check_problem(L);
  size_t nlen, clen = 0;
  const char *name = luaL_checklstring(L, 2, &nlen);
  const char *c = luaL_optlstring(L, 3, NULL, &clen);
  tp_semver_error e = {0, 0, NULL};
  return input_result(L, tp_resolve_add_requirement(lp->r, name, nlen, c, clen, &e), &e);
}

/* p:prefer(name, version) -> true | nil, ... */
static int problem_prefer(lua_State *L) {
  l_problem *lp = check_problem(L);
  size_t nlen, vlen;
  const char *name = luaL_checklstring(L, 2, &nlen);
  const char *ver = luaL_checklstring(L, 3, &vlen);
  tp_semver_error e = {0, 0, NULL};
  return input_result(L, tp_resolve_prefer(lp->r, name, nlen, ver, vlen, &e), &e);
}

/* p:solve(max_steps, ignore_missing, require_found) -> "solved" |
** "conflict" | nil, "steps", n */
static int problem_solve(lua_State *L) {
  l_problem *lp = check_problem(L);
  lua_Integer max = luaL_checkinteger(L, 2);
  int flags = (lua_toboolean(L, 3) ? TP_RESOLVE_IGNORE_MISSING : 0) |
              (lua_toboolean(L, 4) ? TP_RESOLVE_REQUIRE_FOUND : 0);
  int rc;
  luaL_argcheck(L, max >= 0, 2, "a step budget of at least 0");
  rc = tp_resolve_solve(lp->r, flags, (uint64_t)max);
  if (rc == TP_RESOLVE_SOLVED || rc == TP_RESOLVE_CONFLICT) {
    lua_pushstring(L, rc == TP_RESOLVE_SOLVED ? "solved" : "conflict");
    return 1;
  }
  if (rc == TP_RESOLVE_ESTEPS) {
    tp_resolve_stats st;
    tp_resolve_get_stats(lp->r, &st);
    lua_pushnil(L);
    lua_pushliteral(L, "steps");
    lua_pushinteger(L, (lua_Integer)st.steps);
    return 3;
  }
  if (rc == TP_RESOLVE_ENOMEM) return luaL_error(L, "not enough memory");
  if (rc == TP_RESOLVE_ESTATE) return luaL_error(L, "resolve problem: solved already");
  return luaL_error(L, "resolve problem: internal error %d (a bug in core/resolve.c)", rc);
}

static void push_name(lua_State *L, const tp_resolve *r, uint32_t pkg) {
  size_t len;
  const char *s = tp_resolve_name(r, pkg, &len);
  lua_pushlstring(L, s ? s : "", s ? len : 0);
}

static void push_version(lua_State *L, const tp_resolve *r, uint32_t pkg, uint32_t i) {
  size_t len;
  const char *s = tp_resolve_version(r, pkg, i, &len);
  lua_pushlstring(L, s ? s : "", s ? len : 0);
}

static void check_solved(lua_State *L, const tp_resolve *r) {
  if (tp_resolve_npackages(r) == 0) luaL_error(L, "resolve problem: not solved");
}

/* p:selection() -> {{name =, version =, handle =}, ...} in decision order */
static int problem_selection(lua_State *L) {
  l_problem *lp = check_problem(L);
  uint32_t i, n;
  check_solved(L, lp->r);
  n = tp_resolve_ndecided(lp->r);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    uint32_t pkg = tp_resolve_decided(lp->r, i);
    int32_t v = tp_resolve_selected(lp->r, pkg);
    lua_createtable(L, 0, 3);
    push_name(L, lp->r, pkg);
    lua_setfield(L, -2, "name");
    push_version(L, lp->r, pkg, (uint32_t)v);
    lua_setfield(L, -2, "version");
    lua_pushinteger(L, tp_resolve_handle(lp->r, pkg, (uint32_t)v));
    lua_setfield(L, -2, "handle");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* p:candidates(name) -> {version, ...} ascending, and the index of the
** preferred one (or nil); nil when the name is unknown. */
static int problem_candidates(lua_State *L) {
  l_problem *lp = check_problem(L);
  size_t len;
  const char *name = luaL_checklstring(L, 2, &len);
  int32_t pkg, pref;
  uint32_t i, n;
  check_solved(L, lp->r);
  if ((pkg = tp_resolve_find(lp->r, name, len)) <= 0) return 0;
  n = tp_resolve_ncandidates(lp->r, (uint32_t)pkg);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    push_version(L, lp->r, (uint32_t)pkg, i);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  pref = tp_resolve_preferred(lp->r, (uint32_t)pkg);
  if (pref >= 0) lua_pushinteger(L, pref + 1); else lua_pushnil(L);
  return 2;
}

/* p:count(name) -> how many candidates name has (0 when unknown) */
static int problem_count(lua_State *L) {
  l_problem *lp = check_problem(L);
  size_t len;
  const char *name = luaL_checklstring(L, 2, &len);
  int32_t pkg;
  check_solved(L, lp->r);
  pkg = tp_resolve_find(lp->r, name, len);
  lua_pushinteger(L, pkg > 0 ? (lua_Integer)tp_resolve_ncandidates(lp->r, (uint32_t)pkg) : 0);
  return 1;
}

/* p:duplicates(n) -> {{handle =, kept =}, ...} for handles 0 .. n-1 */
static int problem_duplicates(lua_State *L) {
  l_problem *lp = check_problem(L);
  lua_Integer n = luaL_checkinteger(L, 2), h;
  int k = 0;
  check_solved(L, lp->r);
  lua_newtable(L);
  for (h = 0; h < n; h++) {
    int32_t kept = tp_resolve_duplicate_of(lp->r, (int32_t)h);
    if (kept < 0) continue;
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, h);
    lua_setfield(L, -2, "handle");
    lua_pushinteger(L, kept);
    lua_setfield(L, -2, "kept");
    lua_rawseti(L, -2, ++k);
  }
  return 1;
}

static int problem_stats(lua_State *L) {
  l_problem *lp = check_problem(L);
  tp_resolve_stats st;
  tp_resolve_get_stats(lp->r, &st);
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, (lua_Integer)st.steps);
  lua_setfield(L, -2, "steps");
  lua_pushinteger(L, st.decisions);
  lua_setfield(L, -2, "decisions");
  lua_pushinteger(L, st.conflicts);
  lua_setfield(L, -2, "conflicts");
  lua_pushinteger(L, st.incompats);
  lua_setfield(L, -2, "incompatibilities");
  lua_pushinteger(L, st.learned);
  lua_setfield(L, -2, "learned");
  return 1;
}

static const char *const KINDS[] = {"requirement", "dependency", "no_versions", "missing", "derived"};

/* One term: {name =, positive =, label =, versions = {candidate index, ...}}
** where versions are the 1-based candidates the term names. */
static void push_term(lua_State *L, const tp_resolve *r, int32_t id, uint32_t k) {
  tp_resolve_term t;
  uint32_t i, n, m = 0;
  size_t len;
  tp_resolve_get_term(r, id, k, &t);
  lua_createtable(L, 0, 4);
  push_name(L, r, t.pkg);
  lua_setfield(L, -2, "name");
  lua_pushboolean(L, t.positive);
  lua_setfield(L, -2, "positive");
  if (t.label >= 0) {
    const char *s = tp_resolve_constraint(r, t.label, &len);
    lua_pushlstring(L, s, len);
    lua_setfield(L, -2, "label");
  }
  n = tp_resolve_ncandidates(r, t.pkg);
  lua_newtable(L);
  for (i = 0; i < n; i++) {
    if (!tp_resolve_term_names(r, id, k, i)) continue;
    lua_pushinteger(L, (lua_Integer)i + 1);
    lua_rawseti(L, -2, ++m);
  }
  lua_setfield(L, -2, "versions");
}

/* Fill the incompatibility table at the top of the stack. */
static void fill_incompat(lua_State *L, const tp_resolve *r, int32_t id, const tp_resolve_incompat *in) {
  uint32_t k;
  size_t len;
  lua_pushstring(L, KINDS[in->kind]);
  lua_setfield(L, -2, "kind");
  if (in->kind == TP_RESOLVE_DERIVED) {
    lua_pushinteger(L, in->cause1);
    lua_setfield(L, -2, "cause1");
    lua_pushinteger(L, in->cause2);
    lua_setfield(L, -2, "cause2");
  } else {
    push_name(L, r, (uint32_t)in->depender);
    lua_setfield(L, -2, "depender");
    push_name(L, r, (uint32_t)in->target);
    lua_setfield(L, -2, "target");
    if (in->constraint >= 0) {
      const char *s = tp_resolve_constraint(r, in->constraint, &len);
      lua_pushlstring(L, s, len);
      lua_setfield(L, -2, "constraint");
    }
    lua_pushboolean(L, in->dep_kind == TP_RESOLVE_OPTIONAL);
    lua_setfield(L, -2, "optional");
    lua_pushinteger(L, in->tag);
    lua_setfield(L, -2, "tag");
  }
  lua_createtable(L, (int)in->nterms, 0);
  for (k = 0; k < in->nterms; k++) {
    push_term(L, r, id, k);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  lua_setfield(L, -2, "terms");
}

/* packages[name] = {version, ...} (ascending), once per package. */
static void add_package(lua_State *L, const tp_resolve *r, int pkgs, uint32_t pkg) {
  uint32_t i, n;
  push_name(L, r, pkg);
  if (lua_rawget(L, pkgs) != LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  n = tp_resolve_ncandidates(r, pkg);
  push_name(L, r, pkg);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    push_version(L, r, pkg, i);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_rawset(L, pkgs);
}

/* p:proof() -> {root = id, incompatibilities = {[id] = {...}}, packages =
** {name = {version, ...}}} for every incompatibility the failure derives
** from (packages: every one their terms name, and the targets of the
** external ones); nil after a success. */
static int problem_proof(lua_State *L) {
  l_problem *lp = check_problem(L);
  int32_t root = tp_resolve_failure(lp->r), id;
  int incs, pkgs, todo, ntodo = 0;
  check_solved(L, lp->r);
  if (root < 0) return 0;
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, root);
  lua_setfield(L, -2, "root");
  lua_newtable(L);
  incs = lua_gettop(L);
  lua_newtable(L);
  pkgs = lua_gettop(L);
  lua_newtable(L);                         /* the ids still to visit */
  todo = lua_gettop(L);
  lua_pushinteger(L, root);
  lua_rawseti(L, todo, ++ntodo);
  while (ntodo > 0) {
    tp_resolve_incompat in;
    uint32_t k;
    lua_rawgeti(L, todo, ntodo);
    id = (int32_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawseti(L, todo, ntodo--);
    if (lua_rawgeti(L, incs, id) != LUA_TNIL) { lua_pop(L, 1); continue; }
    lua_pop(L, 1);
    if (tp_resolve_get_incompat(lp->r, id, &in)) return luaL_error(L, "resolve problem: bad proof");
    lua_newtable(L);
    fill_incompat(L, lp->r, id, &in);
    lua_rawseti(L, incs, id);
    for (k = 0; k < in.nterms; k++) {
      tp_resolve_term t;
      tp_resolve_get_term(lp->r, id, k, &t);
      add_package(L, lp->r, pkgs, t.pkg);
    }
    if (in.kind != TP_RESOLVE_DERIVED) add_package(L, lp->r, pkgs, (uint32_t)in.target);
    if (in.kind == TP_RESOLVE_DERIVED) {
      lua_pushinteger(L, in.cause1);
      lua_rawseti(L, todo, ++ntodo);
      lua_pushinteger(L, in.cause2);
      lua_rawseti(L, todo, ++ntodo);
    }
  }
  lua_pop(L, 1);
  lua_setfield(L, -3, "packages");
  lua_setfield(L, -2, "incompatibilities");
  return 1;
}

static const luaL_Reg problem_methods[] = {
  {"add_version", problem_add_version},
  {"add_dep", problem_add_dep},
  {"add_version_deps", problem_add_version_deps},
  {"add_requirement", problem_add_requirement},
  {"prefer", problem_prefer},
  {"solve", problem_solve},
  {"selection", problem_selection},
  {"candidates", problem_candidates},
  {"count", problem_count},
  {"duplicates", problem_duplicates},
  {"stats", problem_stats},
  {"proof", problem_proof},
  {"close", problem_close},
  {NULL, NULL}
};

void tpL_open_resolve(lua_State *L) {
  luaL_newmetatable(L, PROBLEM_MT);
  lua_pushcfunction(L, problem_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, problem_close);
  lua_setfield(L, -2, "__close");
  lua_newtable(L);                      /* methods, the metatable as upvalue */
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, problem_methods, 1);
  lua_setfield(L, -2, "__index");
  lua_newtable(L);                      /* core.resolve */
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, problem_new, 1);
  lua_setfield(L, -2, "new");
  lua_setfield(L, -3, "resolve");
  lua_pop(L, 1);
}
