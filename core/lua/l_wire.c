/*
** l_wire.c: Lua values to and from the worker wire format (l_wire.h), and
** the binding core.wire (for tests and tools):
**
**   core.wire.encode(value [, limits]) -> bytes | nil, msg, path, code
**   core.wire.decode(bytes [, limits]) -> value | nil, msg, position, code
**   core.wire.validate(bytes [, limits]) -> true | nil, msg, position, code
**   core.wire.frame(type, value [, limits]) -> bytes | nil, msg, path, code
**   core.wire.unframe(bytes [, limits]) -> type, value, size | nil, msg, position, code
**   core.wire.types  {SETUP = 1, ...}     core.wire.defaults {max_bytes, ...}
**
** position is 1-based (the offending byte is bytes:sub(position,
** position)); code is a short name ("truncated", "order", ...). A payload
** that is nil decodes to nil: tell it from a refusal by the second value.
** path is where the encoder stopped ("args[2].f"; "" for the value).
**
** This file is also linked into the worker, which has none of the other
** bindings: it uses liblua and core/wire.c only.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

#include "l_wire.h"
#include "wire.h"
#include "lua/l_core.h"

/* ---- encoding -------------------------------------------------------- */

/* Where the encoder is, for the path in a message: per open table, the
** array index or the stack index of the key being written. */
typedef struct enc_level {
  int item;                 /* 1: index, 0: key at keyidx */
  lua_Integer index;
  int keyidx;
} enc_level;

typedef struct enc {
  lua_State *L;
  tp_wire_buf *b;
  tp_wire_limits lim;
  size_t start;             /* b->len at entry: max_bytes counts from here */
  size_t values;
  unsigned depth;
  int code;
  char *err;
  size_t errlen;
  char *path;
  size_t pathlen;
  const void *tables[TP_WIRE_DEPTH_CAP + 1];
  enc_level lv[TP_WIRE_DEPTH_CAP + 1];
} enc;

static int is_ident(const char *s, size_t n) {
  static const char *const reserved[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
    "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
    "true", "until", "while", NULL
  };
  if (n == 0 || n > 64 || (s[0] >= '0' && s[0] <= '9')) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9')))
      return 0;
  }
  for (int i = 0; reserved[i]; i++)
    if (strlen(reserved[i]) == n && memcmp(reserved[i], s, n) == 0) return 0;
  return 1;
}

/* Append printf output to p[*n..cap), truncating. */
static void cat(char *p, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#include <stdarg.h>
static void cat(char *p, size_t cap, size_t *n, const char *fmt, ...) {
  va_list ap;
  int w;
  if (*n + 1 >= cap) return;
  va_start(ap, fmt);
  w = vsnprintf(p + *n, cap - *n, fmt, ap);
  va_end(ap);
  if (w > 0) *n += (size_t)w < cap - *n ? (size_t)w : cap - *n - 1;
}

/* The path of the value being written: "args[2].f", "" for the top. Reads
** keys with lua_type/lua_to* on values that are already strings or numbers:
** nothing is converted, nothing allocated. */
static void format_path(enc *e, char *p, size_t cap) {
  size_t n = 0;
  p[0] = 0;
  for (unsigned d = 1; d <= e->depth; d++) {
    enc_level *l = &e->lv[d];
    if (l->item) { cat(p, cap, &n, "[%lld]", (long long)l->index); continue; }
    switch (lua_type(e->L, l->keyidx)) {
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(e->L, l->keyidx, &len);
      if (is_ident(s, len)) cat(p, cap, &n, "%s%.*s", n ? "." : "", (int)len, s);
      else cat(p, cap, &n, "[\"%.*s%s\"]", (int)(len > 40 ? 40 : len), s,
               len > 40 ? "..." : "");
      break;
    }
    case LUA_TNUMBER:
      if (lua_isinteger(e->L, l->keyidx))
        cat(p, cap, &n, "[%lld]", (long long)lua_tointeger(e->L, l->keyidx));
      else
        cat(p, cap, &n, "[%.17g]", (double)lua_tonumber(e->L, l->keyidx));
      break;
    case LUA_TBOOLEAN:
      cat(p, cap, &n, "[%s]", lua_toboolean(e->L, l->keyidx) ? "true" : "false");
      break;
    default:
      cat(p, cap, &n, "[?]");
    }
  }
}

static int enc_fail(enc *e, int code, const char *what) {
  char path[256];
  e->code = code;
  format_path(e, path, sizeof path);
  if (e->err && e->errlen)
    snprintf(e->err, e->errlen, "%s%s%s", what, path[0] ? " at " : "", path);
  if (e->path && e->pathlen) snprintf(e->path, e->pathlen, "%s", path);
  return code;
}

static int enc_count(enc *e) {
  if (++e->values > e->lim.max_values)
    return enc_fail(e, TP_WIRE_EVALUES, "too many values");
  return 0;
}

static int enc_room(enc *e, int rc) {
  if (rc == TP_WIRE_ENOMEM) return enc_fail(e, rc, "out of memory");
  if (rc) return enc_fail(e, rc, tp_wire_strerror(rc));
  if (e->b->len - e->start > e->lim.max_bytes)
    return enc_fail(e, TP_WIRE_EBYTES, "encoding longer than max_bytes");
  return 0;
}

static int enc_value(enc *e, int idx);

/* A scalar key or value (anything but a table). */
static int enc_scalar(enc *e, int idx, int t) {
  lua_State *L = e->L;
  switch (t) {
  case LUA_TNIL: return enc_room(e, tp_wire_put_nil(e->b));
  case LUA_TBOOLEAN: return enc_room(e, tp_wire_put_bool(e->b, lua_toboolean(L, idx)));
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) return enc_room(e, tp_wire_put_int(e->b, lua_tointeger(L, idx)));
    return enc_room(e, tp_wire_put_float(e->b, lua_tonumber(L, idx)));
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (len > e->lim.max_bytes)
      return enc_fail(e, TP_WIRE_EBYTES, "string longer than max_bytes");
    return enc_room(e, tp_wire_put_string(e->b, s, len));
  }
  default: {
    char what[64];
    snprintf(what, sizeof what, "cannot encode a %s", lua_typename(L, t));
    return enc_fail(e, TP_WIRE_EVALUE, what);
  }
  }
}

static int span_push(enc *e, size_t off, size_t klen, size_t plen) {
  tp_wire_buf *b = e->b;
  if (b->nspans == b->capspans) {
    size_t cap = b->capspans ? b->capspans * 2 : 32;
    tp_wire_span *s = realloc(b->spans, cap * sizeof *s);
    if (!s) return enc_fail(e, TP_WIRE_ENOMEM, "out of memory");
    b->spans = s;
    b->capspans = cap;
  }
  b->spans[b->nspans].off = off;
  b->spans[b->nspans].klen = klen;
  b->spans[b->nspans].plen = plen;
  b->nspans++;
  return 0;
}

static int span_cmp(const void *x, const void *y, void *data) {
  const tp_wire_span *a = x, *b = y;
  const uint8_t *d = data;
  return tp_wire_key_cmp(d + a->off, a->klen, d + b->off, b->klen);
}

/* Put the pairs written at spans[base..nspans) in canonical key order.
** They were written one after the other from spans[base].off to b->len. */
static int sort_pairs(enc *e, size_t base) {
  tp_wire_buf *b = e->b;
  tp_wire_span *s = b->spans + base;
  size_t n = b->nspans - base, from, size, at;
  int sorted = 1;
  for (size_t i = 1; i < n && sorted; i++)
    if (tp_wire_key_cmp(b->data + s[i - 1].off, s[i - 1].klen,
                        b->data + s[i].off, s[i].klen) > 0)
      sorted = 0;
  if (sorted) return 0;
  qsort_r(s, n, sizeof *s, span_cmp, b->data);
  from = s[0].off;
  for (size_t i = 1; i < n; i++) if (s[i].off < from) from = s[i].off;
  size = b->len - from;
  /* Assemble the sorted pairs past the end, then move them into place. */
  if (tp_wire_buf_reserve(b, size)) return enc_fail(e, TP_WIRE_ENOMEM, "out of memory");
  at = b->len;
  for (size_t i = 0; i < n; i++) {
    memcpy(b->data + at, b->data + s[i].off, s[i].plen);
    at += s[i].plen;
  }
  memcpy(b->data + from, b->data + b->len, size);
  return 0;
}

static void patch_counts(tp_wire_buf *b, size_t hdr, uint32_t narr, uint32_t npairs) {
  uint8_t *p = b->data + hdr + 1;
  p[0] = (uint8_t)narr; p[1] = (uint8_t)(narr >> 8);
  p[2] = (uint8_t)(narr >> 16); p[3] = (uint8_t)(narr >> 24);
  p[4] = (uint8_t)npairs; p[5] = (uint8_t)(npairs >> 8);
  p[6] = (uint8_t)(npairs >> 16); p[7] = (uint8_t)(npairs >> 24);
}

static int enc_table(enc *e, int idx) {
  lua_State *L = e->L;
  const void *self = lua_topointer(L, idx);
  size_t hdr, base;
  lua_Integer narr = 0;
  uint64_t npairs = 0;
  enc_level *lv;
  int rc;
  if (e->depth + 1 > e->lim.max_depth) return enc_fail(e, TP_WIRE_EDEPTH, "tables nested too deep");
  for (unsigned d = 0; d < e->depth; d++)
    if (e->tables[d] == self) return enc_fail(e, TP_WIRE_ECYCLE, "a table that contains itself");
  /* A key, a value and a metatable at most per level; checkstack never
  ** raises, even in a state whose allocator is capped. */
  if (!lua_checkstack(L, 4)) return enc_fail(e, TP_WIRE_ENOMEM, "out of memory (Lua stack)");
  if (lua_getmetatable(L, idx)) {
    lua_pop(L, 1);
    return enc_fail(e, TP_WIRE_EMETA, "cannot encode a table with a metatable");
  }
  hdr = e->b->len;
  if ((rc = enc_room(e, tp_wire_put_table(e->b, 0, 0)))) return rc;
  e->tables[e->depth] = self;
  lv = &e->lv[++e->depth];
  /* The array part: exactly the keys 1..n that are all present. */
  lv->item = 1;
  for (;;) {
    if (lua_rawgeti(L, idx, narr + 1) == LUA_TNIL) { lua_pop(L, 1); break; }
    if (narr == 0xFFFFFFFF) { lua_pop(L, 1); break; }   /* the rest go as pairs */
    lv->index = ++narr;
    if ((rc = enc_count(e)) || (rc = enc_value(e, lua_gettop(L)))) return rc;
    lua_pop(L, 1);
  }
  /* The other pairs, written as they come, then sorted. */
  base = e->b->nspans;
  lv->item = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int kt = lua_type(L, -2);
    size_t off = e->b->len, klen;
    lv->keyidx = lua_gettop(L) - 1;
    if (kt == LUA_TNUMBER && lua_isinteger(L, -2)) {
      lua_Integer k = lua_tointeger(L, -2);
      if (k >= 1 && k <= narr) { lua_pop(L, 1); continue; }
    }
    if (kt != LUA_TSTRING && kt != LUA_TNUMBER && kt != LUA_TBOOLEAN) {
      char what[64];
      snprintf(what, sizeof what, "cannot encode a %s key", lua_typename(L, kt));
      return enc_fail(e, TP_WIRE_EKEY, what);
    }
    if ((rc = enc_count(e)) || (rc = enc_scalar(e, lv->keyidx, kt))) return rc;
    klen = e->b->len - off;
    if ((rc = enc_count(e)) || (rc = enc_value(e, lua_gettop(L)))) return rc;
    if ((rc = span_push(e, off, klen, e->b->len - off))) return rc;
    npairs++;
    lua_pop(L, 1);
  }
  if (npairs > 0xFFFFFFFFu) return enc_fail(e, TP_WIRE_EVALUES, "too many pairs");
  if (npairs > 1 && (rc = sort_pairs(e, base))) return rc;
  e->b->nspans = base;
  patch_counts(e->b, hdr, (uint32_t)narr, (uint32_t)npairs);
  e->depth--;
  return 0;
}

static int enc_value(enc *e, int idx) {
  int t = lua_type(e->L, idx);
  if (t == LUA_TTABLE) return enc_table(e, idx);
  return enc_scalar(e, idx, t);
}

int tpL_wire_encode_path(lua_State *L, int idx, tp_wire_buf *out, const tp_wire_limits *lim,
                         char *err, size_t errlen, char *path, size_t pathlen) {
  enc es, *e = &es;     /* about 7 KiB: the path stacks for the deepest value */
  int top = lua_gettop(L), rc;
  size_t nspans = out->nspans;
  idx = lua_absindex(L, idx);
  e->L = L;
  e->b = out;
  if (lim) e->lim = *lim; else tp_wire_limits_default(&e->lim);
  e->start = out->len;
  e->values = 0;
  e->depth = 0;
  e->code = 0;
  e->err = err;
  e->errlen = errlen;
  e->path = path;
  e->pathlen = pathlen;
  if (err && errlen) err[0] = 0;
  if (path && pathlen) path[0] = 0;
  if (tp_wire_limits_check(&e->lim)) rc = enc_fail(e, TP_WIRE_EINVAL, "invalid limits");
  else if ((rc = enc_count(e)) == 0) rc = enc_value(e, idx);
  if (rc) {
    out->len = e->start;
    out->nspans = nspans;
  }
  lua_settop(L, top);
  return rc;
}

int tpL_wire_encode(lua_State *L, int idx, tp_wire_buf *out, const tp_wire_limits *lim,
                    char *err, size_t errlen) {
  return tpL_wire_encode_path(L, idx, out, lim, err, errlen, NULL, 0);
}

/* ---- decoding -------------------------------------------------------- */

typedef struct dec {
  tp_wire_reader r;
  int code;
} dec;

/* Put the value on top where its role says: into the table below it (an
** array item, or a pair whose key is below it), or leave it (the top value,
** or a key waiting for its value). */
static void place(lua_State *L, const tp_wire_token *t) {
  if (t->role == TP_WIRE_ROLE_ITEM) lua_rawseti(L, -2, t->index);
  else if (t->role == TP_WIRE_ROLE_VALUE) lua_rawset(L, -3);
}

/* Runs under lua_pcall: a refused allocation unwinds to it. */
static int dec_body(lua_State *L) {
  dec *d = lua_touserdata(L, 1);
  tp_wire_token t;
  int rc;
  while ((rc = tp_wire_next(&d->r, &t)) == 1) {
    switch (t.kind) {
    case TP_WIRE_NIL: lua_pushnil(L); break;
    case TP_WIRE_FALSE: lua_pushboolean(L, 0); break;
    case TP_WIRE_TRUE: lua_pushboolean(L, 1); break;
    case TP_WIRE_INT: lua_pushinteger(L, (lua_Integer)t.u.i); break;
    case TP_WIRE_FLOAT: lua_pushnumber(L, (lua_Number)t.u.d); break;
    case TP_WIRE_STRING: lua_pushlstring(L, t.u.s.p, t.u.s.len); break;
    case TP_WIRE_TABLE:
      /* A table, a pending key and the table's own slot per level. */
      luaL_checkstack(L, 4, "wire value nested too deep");
      lua_createtable(L, t.u.t.narr > 1u << 20 ? 1 << 20 : (int)t.u.t.narr,
                      t.u.t.npairs > 1u << 20 ? 1 << 20 : (int)t.u.t.npairs);
      continue;
    case TP_WIRE_END: break;
    }
    place(L, &t);
  }
  d->code = rc;
  return rc == 0 ? 1 : 0;
}

int tpL_wire_decode_pos(lua_State *L, const char *data, size_t len, const tp_wire_limits *lim,
                        char *err, size_t errlen, size_t *pos) {
  dec ds, *d = &ds;     /* about 10 KiB: the reader's level stack */
  int top = lua_gettop(L), st, rc;
  if (!lua_checkstack(L, 3)) {
    if (err && errlen) snprintf(err, errlen, "out of memory at byte 0");
    if (pos) *pos = 0;
    return TP_WIRE_ENOMEM;
  }
  tp_wire_reader_init(&d->r, data, len, lim);
  d->code = 0;
  lua_pushcfunction(L, dec_body);
  lua_pushlightuserdata(L, d);
  st = lua_pcall(L, 1, 1, 0);
  if (st == LUA_OK && d->code == 0) return 0;
  if (st != LUA_OK) {
    rc = TP_WIRE_ENOMEM;
    if (pos) *pos = d->r.pos;
    if (err && errlen)
      snprintf(err, errlen, "%s at byte %zu",
               st == LUA_ERRMEM ? "out of memory" : "Lua stack overflow", d->r.pos);
  } else {
    rc = d->code;
    if (pos) *pos = d->r.err_pos;
    if (err && errlen) snprintf(err, errlen, "%s", d->r.err);
  }
  lua_settop(L, top);
  return rc;
}

int tpL_wire_decode(lua_State *L, const char *data, size_t len, const tp_wire_limits *lim,
                    char *err, size_t errlen) {
  return tpL_wire_decode_pos(L, data, len, lim, err, errlen, NULL);
}

/* ---- limits from Lua -------------------------------------------------- */

void tpL_wire_check_limits(lua_State *L, int idx, tp_wire_limits *lim) {
  tp_wire_limits_default(lim);
  if (idx == 0 || lua_isnoneornil(L, idx)) return;
  idx = lua_absindex(L, idx);
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    lua_Integer v;
    int isnum;
    v = lua_tointegerx(L, -1, &isnum);
    if (!isnum || v < 0) luaL_error(L, "wire limits: %s must be a non-negative integer", k);
    if (strcmp(k, "max_bytes") == 0) {
      if ((unsigned long long)v > TP_WIRE_BYTES_CAP)
        luaL_error(L, "wire limits: max_bytes is at most %u", TP_WIRE_BYTES_CAP);
      lim->max_bytes = (size_t)v;
    } else if (strcmp(k, "max_depth") == 0) {
      if (v > TP_WIRE_DEPTH_CAP)
        luaL_error(L, "wire limits: max_depth is at most %d", TP_WIRE_DEPTH_CAP);
      lim->max_depth = (unsigned)v;
    } else if (strcmp(k, "max_values") == 0) {
      lim->max_values = (size_t)v;
    } else {
      luaL_error(L, "wire limits: unknown key '%s' (max_bytes, max_depth, max_values)", k);
    }
    lua_pop(L, 1);
  }
}

/* ---- the binding ---------------------------------------------------- */

static const char *code_name(int code) {
  switch (code) {
  case TP_WIRE_ETRUNC: return "truncated";
  case TP_WIRE_ETAG: return "tag";
  case TP_WIRE_ETRAIL: return "trailing";
  case TP_WIRE_ECOUNT: return "count";
  case TP_WIRE_EDEPTH: return "depth";
  case TP_WIRE_EVALUES: return "values";
  case TP_WIRE_EBYTES: return "bytes";
  case TP_WIRE_EKEY: return "key";
  case TP_WIRE_EDUP: return "duplicate";
  case TP_WIRE_EORDER: return "order";
  case TP_WIRE_ENIL: return "nil";
  case TP_WIRE_EMAGIC: return "magic";
  case TP_WIRE_ETYPE: return "type";
  case TP_WIRE_EHEADER: return "header";
  case TP_WIRE_EVALUE: return "value";
  case TP_WIRE_ECYCLE: return "cycle";
  case TP_WIRE_EMETA: return "metatable";
  case TP_WIRE_ENOMEM: return "memory";
  case TP_WIRE_EINVAL: return "invalid";
  case TP_WIRE_EIO: return "io";
  case TP_WIRE_EEOF: return "eof";
  case TP_WIRE_ENAN: return "nan";
  default: return "unknown";
  }
}

static int push_fail(lua_State *L, int code, const char *msg, int has_pos, size_t pos,
                     const char *path) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  if (has_pos) lua_pushinteger(L, (lua_Integer)pos + 1);
  else lua_pushstring(L, path ? path : "");
  lua_pushstring(L, code_name(code));
  return 4;
}

static int encode_into(lua_State *L, tp_wire_buf *b, int idx, const tp_wire_limits *lim,
                       char *err, size_t errlen, char *path, size_t pathlen) {
  return tpL_wire_encode_path(L, idx, b, lim, err, errlen, path, pathlen);
}

static int w_encode(lua_State *L) {
  tp_wire_limits lim;
  tp_wire_buf b;
  char err[320], path[256];
  int rc;
  luaL_checkany(L, 1);
  tpL_wire_check_limits(L, 2, &lim);
  tp_wire_buf_init(&b);
  rc = encode_into(L, &b, 1, &lim, err, sizeof err, path, sizeof path);
  if (rc) {
    tp_wire_buf_free(&b);
    return push_fail(L, rc, err, 0, 0, path);
  }
  lua_pushlstring(L, (const char *)b.data, b.len);
  tp_wire_buf_free(&b);
  return 1;
}

static int w_decode(lua_State *L) {
  size_t len, pos = 0;
  const char *s = luaL_checklstring(L, 1, &len);
  tp_wire_limits lim;
  char err[200];
  int rc;
  tpL_wire_check_limits(L, 2, &lim);
  rc = tpL_wire_decode_pos(L, s, len, &lim, err, sizeof err, &pos);
  if (rc) return push_fail(L, rc, err, 1, pos, NULL);
  return 1;
}

static int w_validate(lua_State *L) {
  size_t len, pos = 0;
  const char *s = luaL_checklstring(L, 1, &len);
  tp_wire_limits lim;
  char err[200];
  int rc;
  tpL_wire_check_limits(L, 2, &lim);
  rc = tp_wire_validate(s, len, &lim, &pos, err, sizeof err);
  if (rc) return push_fail(L, rc, err, 1, pos, NULL);
  lua_pushboolean(L, 1);
  return 1;
}

static int check_type(lua_State *L, int idx) {
  int t;
  if (lua_type(L, idx) == LUA_TSTRING) {
    t = tp_wire_type_of(lua_tostring(L, idx));
    if (!t) luaL_argerror(L, idx, "unknown frame type name");
    return t;
  }
  t = (int)luaL_checkinteger(L, idx);
  if (!tp_wire_type_name(t)) luaL_argerror(L, idx, "unknown frame type");
  return t;
}

static int w_frame(lua_State *L) {
  int type = check_type(L, 1), rc;
  tp_wire_limits lim;
  tp_wire_buf b;
  size_t start;
  char err[320] = "", path[256] = "";
  tpL_wire_check_limits(L, 3, &lim);
  tp_wire_buf_init(&b);
  if ((rc = tp_wire_frame_begin(&b, (uint8_t)type, &start)) ||
      (rc = encode_into(L, &b, 2, &lim, err, sizeof err, path, sizeof path)) ||
      (rc = tp_wire_frame_end(&b, start, &lim))) {
    if (rc == TP_WIRE_ENOMEM || rc == TP_WIRE_EBYTES) {
      if (!err[0] || rc == TP_WIRE_EBYTES) snprintf(err, sizeof err, "%s", tp_wire_strerror(rc));
    }
    tp_wire_buf_free(&b);
    return push_fail(L, rc, err, 0, 0, path);
  }
  lua_pushlstring(L, (const char *)b.data, b.len);
  tp_wire_buf_free(&b);
  return 1;
}

/* The first frame of bytes: type name, value, frame size. A header error
** or a cut frame is reported at its offset; so is a payload error (the
** offset in bytes, not in the payload). */
static int w_unframe(lua_State *L) {
  size_t len, pos = 0;
  const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &len);
  tp_wire_limits lim;
  tp_wire_header h;
  char err[200];
  long long size;
  int rc;
  tpL_wire_check_limits(L, 2, &lim);
  size = tp_wire_frame_split(s, len, &lim, &h);
  if (size < 0) {
    rc = (int)size;
    snprintf(err, sizeof err, "%s at byte 0 (frame header)", tp_wire_strerror(rc));
    return push_fail(L, rc, err, 1, 0, NULL);
  }
  if (size == 0) {
    pos = len;
    snprintf(err, sizeof err, "truncated at byte %zu (frame of %zu bytes)", len,
             len >= TP_WIRE_HEADER_SIZE ? (size_t)h.length + TP_WIRE_HEADER_SIZE
                                        : (size_t)TP_WIRE_HEADER_SIZE);
    return push_fail(L, TP_WIRE_ETRUNC, err, 1, pos, NULL);
  }
  rc = tpL_wire_decode_pos(L, (const char *)s + TP_WIRE_HEADER_SIZE, h.length, &lim,
                           err, sizeof err, &pos);
  if (rc) {
    char msg[240];
    snprintf(msg, sizeof msg, "%s (payload)", err);
    return push_fail(L, rc, msg, 1, pos + TP_WIRE_HEADER_SIZE, NULL);
  }
  lua_pushstring(L, tp_wire_type_name(h.type));
  lua_insert(L, -2);
  lua_pushinteger(L, size);
  return 3;
}

static const luaL_Reg wire_funcs[] = {
  {"encode", w_encode},
  {"decode", w_decode},
  {"validate", w_validate},
  {"frame", w_frame},
  {"unframe", w_unframe},
  {NULL, NULL}
};

void tpL_open_wire(lua_State *L) {
  tp_wire_limits lim;
  luaL_newlib(L, wire_funcs);
  lua_createtable(L, 0, TP_WIRE_TYPE_MAX);
  for (int t = 1; t <= TP_WIRE_TYPE_MAX; t++) {
    lua_pushinteger(L, t);
    lua_setfield(L, -2, tp_wire_type_name(t));
  }
  lua_setfield(L, -2, "types");
  tp_wire_limits_default(&lim);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)lim.max_bytes);
  lua_setfield(L, -2, "max_bytes");
  lua_pushinteger(L, lim.max_depth);
  lua_setfield(L, -2, "max_depth");
  lua_pushinteger(L, (lua_Integer)lim.max_values);
  lua_setfield(L, -2, "max_values");
  lua_setfield(L, -2, "defaults");
  lua_pushinteger(L, TP_WIRE_HEADER_SIZE);
  lua_setfield(L, -2, "header_size");
  lua_setfield(L, -2, "wire");
}
