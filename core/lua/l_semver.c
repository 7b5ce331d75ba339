/*
** l_semver.c: Lua binding of core/semver.c (core.semver).
**
** Version and VersionConstraint are userdata. A parsed version or range
** points into its source string, which the userdata keeps alive as its
** first user value. A constraint compiles lazily for the other value of
** include_prerelease (second user value), so the common case parses once.
*/
#include <stdio.h>
#include <string.h>

#include "semver.h"
#include "lua/l_core.h"

#define VERSION_MT "truthound.Version"
#define RANGE_MT "truthound.VersionConstraint"
#define STACK_CMP 64   /* ranges up to ~60 bytes parse without allocating */

typedef struct l_version {
  tp_semver v;
} l_version;

typedef struct l_range {
  tp_semver_range r;
  int flags;           /* the include_prerelease value it was compiled for */
  /* comparators, then set ends, follow */
} l_range;

/* Every function of this file has two upvalues, the metatables of
** constraints and versions: checking a userdata's type against an upvalue
** spares the registry lookup of luaL_checkudata on the hot paths. */
#define RANGE_UP lua_upvalueindex(1)
#define VERSION_UP lua_upvalueindex(2)

static void *test_udata(lua_State *L, int idx, int up) {
  void *p = lua_touserdata(L, idx);
  int same;
  if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
  same = lua_rawequal(L, -1, up);
  lua_pop(L, 1);
  return same ? p : NULL;
}

static l_range *check_range(lua_State *L, int idx) {
  l_range *lr = test_udata(L, idx, RANGE_UP);
  if (lr == NULL) luaL_typeerror(L, idx, RANGE_MT);
  return lr;
}

static l_version *check_version_ud(lua_State *L, int idx) {
  l_version *lv = test_udata(L, idx, VERSION_UP);
  if (lv == NULL) luaL_typeerror(L, idx, VERSION_MT);
  return lv;
}

/* ---------------------------------------------------------------------- */
/* Errors                                                                  */
/* ---------------------------------------------------------------------- */

/* Raise kind ("VersionError", "ConstraintSyntaxError") for input s with
** the fields input, position (1-based column), expected and found. */
static int raise_syntax(lua_State *L, const char *kind, const char *what,
                        const char *s, size_t len, const tp_semver_error *e) {
  char found[32];
  int shown = len > 80 ? 77 : (int)len;
  if (e->pos >= len)
    snprintf(found, sizeof found, "end of input");
  else if ((unsigned char)s[e->pos] >= 0x20 && (unsigned char)s[e->pos] < 0x7f)
    snprintf(found, sizeof found, "'%c'", s[e->pos]);
  else
    snprintf(found, sizeof found, "byte 0x%02x", (unsigned char)s[e->pos]);
  lua_createtable(L, 0, 4);
  lua_pushlstring(L, s, len);
  lua_setfield(L, -2, "input");
  lua_pushinteger(L, (lua_Integer)e->pos + 1);
  lua_setfield(L, -2, "position");
  lua_pushstring(L, e->expected);
  lua_setfield(L, -2, "expected");
  lua_pushstring(L, found);
  lua_setfield(L, -2, "found");
  lua_pushlstring(L, s, (size_t)shown);
  return tpL_raisef(L, kind, -2, "invalid %s \"%s%s\" at column %d: expected %s, found %s",
                    what, lua_tostring(L, -1), len > 80 ? "..." : "",
                    (int)e->pos + 1, e->expected, found);
}

/* include_prerelease from an options table at idx (absent: dflt). */
static int opt_flags(lua_State *L, int idx, int dflt) {
  int flags;
  if (lua_gettop(L) < idx || lua_isnil(L, idx)) return dflt;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "include_prerelease");
  flags = lua_isnil(L, -1) ? dflt : (lua_toboolean(L, -1) ? TP_SEMVER_INCLUDE_PRERELEASE : 0);
  lua_pop(L, 1);
  return flags;
}

/* ---------------------------------------------------------------------- */
/* Versions                                                                */
/* ---------------------------------------------------------------------- */

/* The version at idx, a Version or a string parsed into *tmp. */
static const tp_semver *check_version(lua_State *L, int idx, tp_semver *tmp) {
  size_t len;
  const char *s;
  tp_semver_error e;
  if (lua_type(L, idx) != LUA_TSTRING) {  /* strings first: the hot path */
    l_version *lv = test_udata(L, idx, VERSION_UP);
    if (!lv) luaL_typeerror(L, idx, "version string or Version");
    return &lv->v;
  }
  s = lua_tolstring(L, idx, &len);
  if (tp_semver_parse(tmp, s, len, &e)) raise_syntax(L, "VersionError", "version", s, len, &e);
  return tmp;
}

static int version_parse(lua_State *L) {
  tp_semver tmp;
  const tp_semver *v;
  l_version *lv;
  luaL_checktype(L, 1, LUA_TSTRING);
  v = check_version(L, 1, &tmp);
  lv = lua_newuserdatauv(L, sizeof *lv, 1);
  lv->v = *v;
  lua_pushvalue(L, 1);          /* keep the text the pointers refer to */
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, VERSION_UP);
  lua_setmetatable(L, -2);
  return 1;
}

static int version_tostring(lua_State *L) {
  l_version *lv = check_version_ud(L, 1);
  luaL_Buffer b;
  size_t n = tp_semver_format(&lv->v, NULL, 0);
  tp_semver_format(&lv->v, luaL_buffinitsize(L, &b, n + 1), n + 1);
  luaL_pushresultsize(&b, n);
  return 1;
}

static int version_compare(lua_State *L) {
  tp_semver a, b;
  lua_pushinteger(L, tp_semver_compare(check_version(L, 1, &a), check_version(L, 2, &b)));
  return 1;
}

static int version_compare_build(lua_State *L) {
  tp_semver a, b;
  lua_pushinteger(L, tp_semver_compare_build(check_version(L, 1, &a), check_version(L, 2, &b)));
  return 1;
}

static int version_eq(lua_State *L) {
  tp_semver a, b;
  lua_pushboolean(L, tp_semver_compare(check_version(L, 1, &a), check_version(L, 2, &b)) == 0);
  return 1;
}

static int version_lt(lua_State *L) {
  tp_semver a, b;
  lua_pushboolean(L, tp_semver_compare(check_version(L, 1, &a), check_version(L, 2, &b)) < 0);
  return 1;
}

static int version_le(lua_State *L) {
  tp_semver a, b;
  lua_pushboolean(L, tp_semver_compare(check_version(L, 1, &a), check_version(L, 2, &b)) <= 0);
  return 1;
}

/* Identifiers "a.1.b" as an array; numeric ones below 2^53 become
** integers, as node-semver gives numbers. */
static void push_idents(lua_State *L, const char *p, uint32_t n, int numbers) {
  uint32_t i = 0, k = 1;
  lua_newtable(L);
  if (!p) return;
  while (i <= n) {
    uint32_t j = i;
    lua_Integer value = 0;
    int digits = 1;
    for (; j < n && p[j] != '.'; j++) {
      if (p[j] < '0' || p[j] > '9') digits = 0;
      else value = value * 10 + (p[j] - '0');
    }
    if (numbers && digits && j - i <= 15)  /* 15 digits stay below 2^53 */
      lua_pushinteger(L, value);
    else
      lua_pushlstring(L, p + i, j - i);
    lua_rawseti(L, -2, k++);
    i = j + 1;
  }
}

static int version_index(lua_State *L) {
  l_version *lv = check_version_ud(L, 1);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "major") == 0) lua_pushinteger(L, (lua_Integer)lv->v.major);
  else if (strcmp(k, "minor") == 0) lua_pushinteger(L, (lua_Integer)lv->v.minor);
  else if (strcmp(k, "patch") == 0) lua_pushinteger(L, (lua_Integer)lv->v.patch);
  else if (strcmp(k, "prerelease") == 0) push_idents(L, lv->v.pre, lv->v.prelen, 1);
  else if (strcmp(k, "build") == 0) push_idents(L, lv->v.build, lv->v.buildlen, 0);
  else if (strcmp(k, "compare") == 0) {
    lua_pushvalue(L, RANGE_UP);
    lua_pushvalue(L, VERSION_UP);
    lua_pushcclosure(L, version_compare, 2);
  }
  else lua_pushnil(L);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* Constraints                                                             */
/* ---------------------------------------------------------------------- */

/* Parse s into the caller's arrays (sized by tp_semver_range_bound);
** raise ConstraintSyntaxError on bad input. */
static void parse_into(lua_State *L, tp_semver_range *r, const char *s, size_t len, int flags) {
  tp_semver_error e;
  if (tp_semver_range_parse(r, s, len, flags, &e))
    raise_syntax(L, "ConstraintSyntaxError", "version constraint", s, len, &e);
}

/* Compile the string at idx into a new VersionConstraint on the stack. */
static l_range *range_new(lua_State *L, int idx, int flags) {
  tp_semver_cmp stack_cmp[STACK_CMP];
  uint32_t stack_end[STACK_CMP];
  tp_semver_range tmp;
  size_t len, cmpsize, endsize;
  const char *s = lua_tolstring(L, idx, &len);
  l_range *lr;
  idx = lua_absindex(L, idx);
  tp_semver_range_bound(len, &tmp.capcmp, &tmp.capset);
  if (tmp.capcmp <= STACK_CMP && tmp.capset <= STACK_CMP) {
    tmp.cmp = stack_cmp;
    tmp.end = stack_end;
  } else {  /* scratch space for long inputs, collected with the stack */
    tmp.cmp = lua_newuserdatauv(L, tmp.capcmp * sizeof *tmp.cmp + tmp.capset * sizeof *tmp.end, 0);
    tmp.end = (uint32_t *)(tmp.cmp + tmp.capcmp);
  }
  parse_into(L, &tmp, s, len, flags);
  cmpsize = tmp.ncmp * sizeof *tmp.cmp;
  endsize = tmp.nset * sizeof *tmp.end;
  lr = lua_newuserdatauv(L, sizeof *lr + cmpsize + endsize, 2);
  lr->flags = flags;
  lr->r = tmp;
  lr->r.cmp = (tp_semver_cmp *)(lr + 1);
  lr->r.end = (uint32_t *)((char *)lr->r.cmp + cmpsize);
  lr->r.capcmp = tmp.ncmp;
  lr->r.capset = tmp.nset;
  memcpy(lr->r.cmp, tmp.cmp, cmpsize);
  memcpy(lr->r.end, tmp.end, endsize);
  lua_pushvalue(L, idx);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, RANGE_UP);
  lua_setmetatable(L, -2);
  if (tmp.cmp != stack_cmp) lua_remove(L, -2);  /* the scratch userdata */
  return lr;
}

static int range_parse(lua_State *L) {
  luaL_checktype(L, 1, LUA_TSTRING);
  range_new(L, 1, opt_flags(L, 2, 0));
  return 1;
}

/* The constraint at idx compiled for flags: itself, or its lazily built
** twin for the other include_prerelease value. */
static const tp_semver_range *range_for(lua_State *L, int idx, int flags) {
  l_range *lr = check_range(L, idx);
  l_range *twin;
  if (lr->flags == flags) return &lr->r;
  if (lua_getiuservalue(L, idx, 2) == LUA_TUSERDATA) {
    twin = lua_touserdata(L, -1);
  } else {
    lua_pop(L, 1);
    lua_getiuservalue(L, idx, 1);
    twin = range_new(L, -1, flags);
    lua_remove(L, -2);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, idx, 2);
  }
  lua_pop(L, 1);  /* still referenced by the constraint */
  return &twin->r;
}

/* c:is_satisfied_by(version [, {include_prerelease = bool}]) */
static int range_test(lua_State *L) {
  l_range *lr = check_range(L, 1);
  int flags = opt_flags(L, 3, lr->flags);
  const tp_semver_range *r = flags == lr->flags ? &lr->r : range_for(L, 1, flags);
  tp_semver tmp;
  lua_pushboolean(L, tp_semver_range_test(r, check_version(L, 2, &tmp), flags));
  return 1;
}

/* satisfies(version, range [, opts]): the range a string (parsed on the
** stack: nothing is allocated for ranges up to ~60 bytes) or a constraint. */
static int range_satisfies(lua_State *L) {
  tp_semver_cmp cmp[STACK_CMP];
  uint32_t end[STACK_CMP];
  tp_semver_range r;
  const tp_semver_range *rp = &r;
  tp_semver tmp;
  size_t len;
  const char *s;
  l_range *lr = test_udata(L, 2, RANGE_UP);
  int flags = opt_flags(L, 3, lr ? lr->flags : 0);
  if (lr) {
    rp = range_for(L, 2, flags);
  } else {
    s = luaL_checklstring(L, 2, &len);
    tp_semver_range_bound(len, &r.capcmp, &r.capset);
    if (r.capcmp <= STACK_CMP && r.capset <= STACK_CMP) {
      r.cmp = cmp;
      r.end = end;
      parse_into(L, &r, s, len, flags);
    } else {
      rp = &range_new(L, 2, flags)->r;
    }
  }
  lua_pushboolean(L, tp_semver_range_test(rp, check_version(L, 1, &tmp), flags));
  return 1;
}

static int range_tostring(lua_State *L) {
  l_range *lr = check_range(L, 1);
  luaL_Buffer b;
  size_t n = tp_semver_range_format(&lr->r, NULL, 0);
  tp_semver_range_format(&lr->r, luaL_buffinitsize(L, &b, n + 1), n + 1);
  luaL_pushresultsize(&b, n);
  return 1;
}

/* c:intersects(other [, opts]): some version could satisfy both (node's
** Range.intersects). other may be a constraint or a string. */
static int range_intersects(lua_State *L) {
  l_range *lr = check_range(L, 1);
  int flags = opt_flags(L, 3, lr->flags);
  const tp_semver_range *a, *b;
  if (lua_type(L, 2) == LUA_TSTRING) {
    range_new(L, 2, flags);
    lua_replace(L, 2);
  }
  a = range_for(L, 1, flags);
  b = range_for(L, 2, flags);
  lua_pushboolean(L, tp_semver_range_intersects(a, b, flags));
  return 1;
}

/* c:source(): the text it was parsed from. */
static int range_source(lua_State *L) {
  check_range(L, 1);
  lua_getiuservalue(L, 1, 1);
  return 1;
}

/* c:include_prerelease(): the option it was parsed with. */
static int range_incpr(lua_State *L) {
  l_range *lr = check_range(L, 1);
  lua_pushboolean(L, lr->flags & TP_SEMVER_INCLUDE_PRERELEASE);
  return 1;
}

static const luaL_Reg version_meta[] = {
  {"__index", version_index},
  {"__tostring", version_tostring},
  {"__eq", version_eq},
  {"__lt", version_lt},
  {"__le", version_le},
  {NULL, NULL}
};

static const luaL_Reg range_meta[] = {
  {"__tostring", range_tostring},
  {NULL, NULL}
};

static const luaL_Reg range_methods[] = {
  {"is_satisfied_by", range_test},
  {"intersects", range_intersects},
  {"source", range_source},
  {"include_prerelease", range_incpr},
  {NULL, NULL}
};

static const luaL_Reg semver_funcs[] = {
  {"parse_version", version_parse},
  {"parse_range", range_parse},
  {"compare", version_compare},
  {"compare_build", version_compare_build},
  {"satisfies", range_satisfies},
  {NULL, NULL}
};

/* Set the functions of l into the table at idx, with the two metatables
** as upvalues. */
static void set_funcs(lua_State *L, int idx, const luaL_Reg *l) {
  idx = lua_absindex(L, idx);
  lua_pushvalue(L, idx);
  luaL_getmetatable(L, RANGE_MT);
  luaL_getmetatable(L, VERSION_MT);
  luaL_setfuncs(L, l, 2);
  lua_pop(L, 1);
}

void tpL_open_semver(lua_State *L) {
  luaL_newmetatable(L, VERSION_MT);
  luaL_newmetatable(L, RANGE_MT);
  set_funcs(L, -2, version_meta);
  lua_newtable(L);                      /* the methods of constraints */
  set_funcs(L, -1, range_methods);
  lua_setfield(L, -2, "__index");
  set_funcs(L, -1, range_meta);
  lua_newtable(L);                      /* core.semver */
  set_funcs(L, -1, semver_funcs);
  lua_setfield(L, -4, "semver");
  lua_pop(L, 2);                        /* the two metatables */
}
