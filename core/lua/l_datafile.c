/*
** l_datafile.c: evaluate a data file in a state of its own (core.datafile).
**
** policy.lua and plugin.lua files may come from someone you do not trust,
** yet they are Lua chunks. We run each one in a fresh lua_State that has no
** libraries at all (so no string metatable, no load, no pcall to swallow an
** error), whose allocator refuses to go past a byte cap and whose count hook
** raises once an instruction budget is spent. Only text chunks load. What
** the chunk returns is then copied into the caller's state as plain data:
** tables with string or integer keys, strings, numbers, booleans. Nothing of
** the data state survives the call, and no code from it ever runs in the
** caller's state (the copy uses raw access only).
**
**   core.datafile.eval(src, chunkname, instructions, memory_bytes)
**     -> value                              on success (nil if it returned nothing)
**     -> nil, what, message [, path]        on failure; what is one of
**        "syntax", "runtime", "budget", "memory", "value"
**   core.datafile.key_text(prefix, key) -> the path prefix.key, prefix[3],
**        prefix["odd key"], written the one way every message uses
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lua/l_core.h"

#define MAX_DEPTH 100      /* nesting of the returned data */
#define PATH_MAX_LEN 240   /* of a dotted path in a message */

/* ---------------------------------------------------------------------- */
/* The data state: a capped allocator and a budget hook                    */
/* ---------------------------------------------------------------------- */

typedef struct cap {
  size_t used, limit;
} cap;

static void *cap_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  cap *c = ud;
  void *p;
  if (ptr == NULL) osize = 0;  /* then osize only tells the object's type */
  if (nsize == 0) {
    free(ptr);
    c->used -= osize;
    return NULL;
  }
  if (nsize > osize && nsize - osize > c->limit - c->used) return NULL;
  p = realloc(ptr, nsize);
  if (p != NULL) c->used = c->used - osize + nsize;
  return p;
}

/* Raise where the chunk is ("name:line:"): the error leaves through the
** chunk's pcall, since the data state has no pcall of its own. */
static void budget_hook(lua_State *D, lua_Debug *ar) {
  lua_sethook(D, NULL, 0, 0);
  lua_getinfo(D, "Sl", ar);
  luaL_error(D, "%s:%d: instruction budget exhausted", ar->short_src, ar->currentline);
}

/* Load and run src in D: its value is left on D's stack. */
static int run_chunk(lua_State *D, const char *src, size_t len, const char *name,
                     int instructions) {
  int status = luaL_loadbufferx(D, src, len, name, "t");
  if (status != LUA_OK) return status;
  lua_newtable(D);                    /* an empty _ENV, whatever the registry holds */
  lua_setupvalue(D, -2, 1);
  lua_sethook(D, budget_hook, LUA_MASKCOUNT, instructions);
  status = lua_pcall(D, 0, 1, 0);
  lua_sethook(D, NULL, 0, 0);
  return status;
}

/* ---------------------------------------------------------------------- */
/* Copying plain data out of the data state                                */
/* ---------------------------------------------------------------------- */

typedef struct copier {
  lua_State *D, *L;
  int seen;                /* L index: D table pointer -> copy, or false while in progress */
  char path[PATH_MAX_LEN + 16];
  size_t pathlen;
  const char *why;         /* set on failure */
} copier;

static int is_alpha(char ch) { return ch == '_' || ((ch | 32) >= 'a' && (ch | 32) <= 'z'); }

/* A Lua name, so the path can say ".name" rather than ["name"]. */
static int is_name(const char *s, size_t n) {
  size_t i;
  if (n == 0 || n > PATH_MAX_LEN || !is_alpha(s[0])) return 0;  /* long: never shown whole */
  for (i = 1; i < n; i++)
    if (!is_alpha(s[i]) && !(s[i] >= '0' && s[i] <= '9')) return 0;
  return 1;
}

/* Append to out (room bytes left, always terminated) the path component
** of the key at idx of S: "name" (".name" after a prefix), ["any text"]
** with quotes, backslashes and control bytes escaped so that a path stays
** on one line, [3], [1.5], [true]. Returns the bytes written. */
static size_t key_text(char *out, size_t room, int root, lua_State *S, int idx) {
  size_t n = 0, len, i;
  const char *k;
  if (room == 0) return 0;
  switch (lua_type(S, idx)) {
  case LUA_TSTRING:
    k = lua_tolstring(S, idx, &len);
    if (is_name(k, len)) {
      n = (size_t)snprintf(out, room, "%s%s", root ? "" : ".", k);
      break;
    }
    n = (size_t)snprintf(out, room, "[\"");
    for (i = 0; i < len && n + 6 < room; i++) {   /* room for one escape */
      unsigned char ch = (unsigned char)k[i];
      if (ch == '"' || ch == '\\') n += (size_t)snprintf(out + n, room - n, "\\%c", ch);
      else if (ch == '\n') n += (size_t)snprintf(out + n, room - n, "\\n");
      else if (ch < 0x20 || ch >= 0x7f) n += (size_t)snprintf(out + n, room - n, "\\%03u", ch);
      else out[n++] = (char)ch;
    }
    n += (size_t)snprintf(out + n, room - n, "\"]");
    break;
  case LUA_TNUMBER:
    if (lua_isinteger(S, idx))
      n = (size_t)snprintf(out, room, "[%lld]", (long long)lua_tointeger(S, idx));
    else
      n = (size_t)snprintf(out, room, "[%.14g]", (double)lua_tonumber(S, idx));
    break;
  case LUA_TBOOLEAN:
    n = (size_t)snprintf(out, room, "[%s]", lua_toboolean(S, idx) ? "true" : "false");
    break;
  default:
    n = (size_t)snprintf(out, room, "[%s]", luaL_typename(S, idx));
  }
  return n < room ? n : room - 1;   /* snprintf truncated */
}

/* Append the key on top-but-one of D to the path; returns the old length. */
static size_t path_push(copier *c) {
  size_t old = c->pathlen;
  if (old < PATH_MAX_LEN)
    c->pathlen += key_text(c->path + old, PATH_MAX_LEN - old, old == 0, c->D, -2);
  return old;
}

static int copy_value(copier *c, int depth);

/* Push onto L a copy of the string at idx of D. A long string is copied
** once and shared afterwards, like a table (short ones L interns anyway):
** otherwise a file could refer to one 4 MiB string from a thousand places
** and make the caller allocate 4 GiB. */
static void push_string(copier *c, int idx) {
  lua_State *D = c->D, *L = c->L;
  size_t n;
  const char *s = lua_tolstring(D, idx, &n);
  const void *id;
  if (n <= 40) {
    lua_pushlstring(L, s, n);
    return;
  }
  id = lua_topointer(D, idx);
  lua_pushlightuserdata(L, (void *)id);
  if (lua_rawget(L, c->seen) == LUA_TSTRING) return;
  lua_pop(L, 1);
  lua_pushlstring(L, s, n);
  lua_pushlightuserdata(L, (void *)id);
  lua_pushvalue(L, -2);
  lua_rawset(L, c->seen);
}

/* The table on top of D, copied to a new table on top of L. */
static int copy_table(copier *c, int depth) {
  lua_State *D = c->D, *L = c->L;
  const void *id = lua_topointer(D, -1);
  if (depth > MAX_DEPTH) { c->why = "tables nested more than 100 deep"; return 0; }
  if (lua_getmetatable(D, -1)) { lua_pop(D, 1); c->why = "a table with a metatable"; return 0; }
  if (!lua_checkstack(L, 8) || !lua_checkstack(D, 4)) { c->why = "data nested too deep"; return 0; }
  lua_pushlightuserdata(L, (void *)id);
  if (lua_rawget(L, c->seen) != LUA_TNIL) {
    if (lua_toboolean(L, -1)) return 1;           /* shared: reuse the copy */
    c->why = "a table that contains itself (a cycle)";
    return 0;
  }
  lua_pop(L, 1);
  lua_pushlightuserdata(L, (void *)id);           /* in progress */
  lua_pushboolean(L, 0);
  lua_rawset(L, c->seen);
  lua_newtable(L);
  lua_pushnil(D);
  while (lua_next(D, -2)) {
    size_t saved = path_push(c);
    int kt = lua_type(D, -2);
    if (kt == LUA_TSTRING) {
      push_string(c, -2);
    } else if (kt == LUA_TNUMBER && lua_isinteger(D, -2)) {
      lua_pushinteger(L, lua_tointeger(D, -2));
    } else {
      c->why = kt == LUA_TNUMBER ? "a key that is a fractional number"
                                 : "a key that is neither a string nor an integer";
      return 0;
    }
    if (!copy_value(c, depth + 1)) return 0;
    lua_rawset(L, -3);
    lua_pop(D, 1);
    c->pathlen = saved;
    c->path[saved] = '\0';
  }
  lua_pushlightuserdata(L, (void *)id);           /* done: later references share it */
  lua_pushvalue(L, -2);
  lua_rawset(L, c->seen);
  return 1;
}

/* The value on top of D, copied to the top of L. */
static int copy_value(copier *c, int depth) {
  lua_State *D = c->D, *L = c->L;
  switch (lua_type(D, -1)) {
  case LUA_TNIL: lua_pushnil(L); return 1;
  case LUA_TBOOLEAN: lua_pushboolean(L, lua_toboolean(D, -1)); return 1;
  case LUA_TNUMBER:
    if (lua_isinteger(D, -1)) lua_pushinteger(L, lua_tointeger(D, -1));
    else lua_pushnumber(L, lua_tonumber(D, -1));
    return 1;
  case LUA_TSTRING: push_string(c, -1); return 1;
  case LUA_TTABLE: return copy_table(c, depth);
  case LUA_TFUNCTION: c->why = "a function"; return 0;
  default: c->why = "a value that is not data"; return 0;
  }
}

/* ---------------------------------------------------------------------- */
/* core.datafile.eval                                                      */
/* ---------------------------------------------------------------------- */

static int fail(lua_State *L, const char *what, const char *message, const char *path) {
  lua_settop(L, 0);
  lua_pushnil(L);
  lua_pushstring(L, what);
  lua_pushstring(L, message);
  if (path) lua_pushstring(L, path); else lua_pushnil(L);
  return 4;
}

static int datafile_eval(lua_State *L) {
  size_t len;
  const char *src = luaL_checklstring(L, 1, &len);
  const char *name = luaL_checkstring(L, 2);
  lua_Integer instructions = luaL_checkinteger(L, 3);
  lua_Integer memory = luaL_checkinteger(L, 4);
  cap c = {0, 0};
  copier cp;
  lua_State *D;
  int status, ok;
  luaL_argcheck(L, instructions > 0 && instructions <= INT_MAX, 3, "out of range");
  luaL_argcheck(L, memory > 0, 4, "out of range");
  c.limit = (size_t)memory;
  D = lua_newstate(cap_alloc, &c);
  if (D == NULL) return fail(L, "memory", "not enough memory to start a data state", NULL);
  status = run_chunk(D, src, len, name, (int)instructions);
  if (status != LUA_OK) {
    const char *msg = lua_tostring(D, -1);
    const char *what = status == LUA_ERRSYNTAX ? "syntax"
                     : status == LUA_ERRMEM ? "memory" : "runtime";
    if (status == LUA_ERRRUN && msg && strstr(msg, "instruction budget exhausted")) what = "budget";
    lua_settop(L, 0);
    lua_pushnil(L);
    lua_pushstring(L, what);
    lua_pushstring(L, msg ? msg : "(error object is not a string)");  /* copied before D goes */
    lua_pushnil(L);
    lua_close(D);
    return 4;
  }
  memset(&cp, 0, sizeof cp);
  cp.D = D;
  cp.L = L;
  lua_settop(L, 0);
  lua_newtable(L);
  cp.seen = lua_gettop(L);
  ok = copy_value(&cp, 0);
  if (!ok) {
    char why[96], path[sizeof cp.path];
    snprintf(why, sizeof why, "%s", cp.why);
    snprintf(path, sizeof path, "%s", cp.path);
    lua_close(D);
    return fail(L, "value", why, path);
  }
  lua_close(D);
  return 1;
}

/* key_text(prefix, key) -> prefix extended by key, as paths in messages
** and in truthound.datafile's line map are written. */
static int datafile_key_text(lua_State *L) {
  size_t plen;
  const char *prefix = luaL_checklstring(L, 1, &plen);
  char buf[PATH_MAX_LEN + 16];
  luaL_checkany(L, 2);
  key_text(buf, sizeof buf, plen == 0, L, 2);
  lua_pushfstring(L, "%s%s", prefix, buf);
  return 1;
}

static const luaL_Reg datafile_funcs[] = {
  {"eval", datafile_eval},
  {"key_text", datafile_key_text},
  {NULL, NULL}
};

void tpL_open_datafile(lua_State *L) {
  luaL_newlib(L, datafile_funcs);
  lua_setfield(L, -2, "datafile");
}
