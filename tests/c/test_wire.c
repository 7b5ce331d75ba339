/*
** test_wire.c: core/wire.c and core/lua/l_wire.c. Headers and their
** refusals, the tokenizer against every kind of malformed payload (each
** truncation of valid ones, lying counts, bad tags, keys out of order,
** duplicates, keys that belong in the array part, non-canonical NaN,
** depth and value limits) with the offset it reports, Lua round trips in
** canonical form, encoder refusals with their paths, decoding under a
** capped allocator, a fixed buffer, and frame I/O on a socketpair.
*/
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "wire.h"
#include "lua/l_wire.h"
#include "tp_test.h"

/* ---- helpers -------------------------------------------------------- */

static int validate(const void *p, size_t n, size_t *pos) {
  char msg[200];
  *pos = (size_t)-1;
  return tp_wire_validate(p, n, NULL, pos, msg, sizeof msg);
}

/* A Lua state with the value of expr on top. */
static lua_State *eval(const char *expr) {
  lua_State *L = luaL_newstate();
  char chunk[4096];
  luaL_openlibs(L);
  snprintf(chunk, sizeof chunk, "return %s", expr);
  if (luaL_dostring(L, chunk) != LUA_OK) {
    printf("# eval failed: %s\n", lua_tostring(L, -1));
    lua_settop(L, 0);
    lua_pushnil(L);
  }
  return L;
}

/* Encode expr; returns the code; bytes in b. */
static int enc(const char *expr, tp_wire_buf *b, char *err, size_t errlen) {
  lua_State *L = eval(expr);
  int rc = tpL_wire_encode(L, -1, b, NULL, err, errlen);
  lua_close(L);
  return rc;
}

/* ---- header ---------------------------------------------------------- */

static void header_round_trip(void) {
  uint8_t h[12];
  tp_wire_header hd;
  tp_wire_header_encode(h, TP_WIRE_RESULT, 0x00a20304);
  TP_CHECK(memcmp(h, "TPW1\x04\0\0\0\x04\x03\xa2\x00", 12) == 0);
  TP_CHECK(tp_wire_header_decode(h, 12, NULL, &hd) == 0);
  TP_CHECK(hd.type == TP_WIRE_RESULT && hd.length == 0x00a20304);
  TP_CHECK(tp_wire_type_of("VIOLATION") == 6);
  TP_CHECK(tp_wire_type_of("violation") == 0);
  TP_CHECK(strcmp(tp_wire_type_name(8), "STATS") == 0);
  TP_CHECK(tp_wire_type_name(0) == NULL && tp_wire_type_name(9) == NULL);
}

static void header_refusals(void) {
  uint8_t h[12];
  tp_wire_header hd;
  tp_wire_limits lim;
  tp_wire_header_encode(h, TP_WIRE_CALL, 100);
  for (size_t n = 0; n < 12; n++)
    TP_CHECKF(tp_wire_header_decode(h, n, NULL, &hd) == TP_WIRE_ETRUNC, "n=%zu", n);
  /* A partial header is refused at its first wrong byte. */
  h[4] = 9;
  TP_CHECK(tp_wire_header_decode(h, 5, NULL, &hd) == TP_WIRE_ETYPE);
  TP_CHECK(tp_wire_frame_split(h, 5, NULL, &hd) == TP_WIRE_ETYPE);
  h[4] = 3; h[6] = 1;
  TP_CHECK(tp_wire_header_decode(h, 7, NULL, &hd) == TP_WIRE_EHEADER);
  TP_CHECK(tp_wire_header_decode(h, 6, NULL, &hd) == TP_WIRE_ETRUNC);
  h[6] = 0;
  h[0] = 'X';
  TP_CHECK(tp_wire_header_decode(h, 12, NULL, &hd) == TP_WIRE_EMAGIC);
  TP_CHECK(tp_wire_header_decode(h, 2, NULL, &hd) == TP_WIRE_EMAGIC);
  h[0] = 'T';
  for (int t = 0; t < 256; t++) {
    h[4] = (uint8_t)t;
    TP_CHECKF(tp_wire_header_decode(h, 12, NULL, &hd) == (t >= 1 && t <= 8 ? 0 : TP_WIRE_ETYPE),
              "type %d", t);
  }
  h[4] = 3;
  for (int i = 5; i < 8; i++) {
    h[i] = 1;
    TP_CHECK(tp_wire_header_decode(h, 12, NULL, &hd) == TP_WIRE_EHEADER);
    h[i] = 0;
  }
  tp_wire_limits_default(&lim);
  lim.max_bytes = 99;
  TP_CHECK(tp_wire_header_decode(h, 12, &lim, &hd) == TP_WIRE_EBYTES);
  tp_wire_header_encode(h, TP_WIRE_CALL, 0xFFFFFFFFu);
  TP_CHECK(tp_wire_header_decode(h, 12, NULL, &hd) == TP_WIRE_EBYTES);
  /* Split waits for the whole frame. */
  tp_wire_header_encode(h, TP_WIRE_CALL, 1);
  TP_CHECK(tp_wire_frame_split(h, 12, NULL, &hd) == 0);
}

/* ---- tokenizer ------------------------------------------------------ */

/* {1, "x", k = {true}, [2.5] = false} written by hand in canonical order. */
static size_t sample(tp_wire_buf *b) {
  tp_wire_buf_reset(b);
  tp_wire_put_table(b, 2, 2);
  tp_wire_put_int(b, 1);
  tp_wire_put_string(b, "x", 1);
  tp_wire_put_float(b, 2.5);       /* tag 04 sorts before 05 */
  tp_wire_put_bool(b, 0);
  tp_wire_put_string(b, "k", 1);
  tp_wire_put_table(b, 1, 0);
  tp_wire_put_bool(b, 1);
  return b->len;
}

static void tokens_in_order(void) {
  tp_wire_buf b;
  tp_wire_reader r;
  tp_wire_token t;
  int kinds[16], roles[16], n = 0, rc;
  static const int want_k[] = {6, 3, 5, 4, 1, 5, 6, 2, 7, 7};
  static const int want_r[] = {0, 1, 1, 2, 3, 2, 3, 1, 3, 0};
  tp_wire_buf_init(&b);
  sample(&b);
  tp_wire_reader_init(&r, b.data, b.len, NULL);
  while ((rc = tp_wire_next(&r, &t)) == 1 && n < 16) {
    kinds[n] = t.kind;
    roles[n++] = t.role;
  }
  TP_CHECKF(rc == 0, "rc %d %s", rc, r.err);
  TP_CHECK(n == 10);
  for (int i = 0; i < n && i < 10; i++)
    TP_CHECKF(kinds[i] == want_k[i] && roles[i] == want_r[i], "token %d: %d/%d", i, kinds[i],
              roles[i]);
  TP_CHECK(tp_wire_next(&r, &t) == 0);
  tp_wire_buf_free(&b);
}

static void every_truncation(void) {
  tp_wire_buf b;
  size_t n, pos;
  tp_wire_buf_init(&b);
  n = sample(&b);
  TP_CHECK(validate(b.data, n, &pos) == 0);
  for (size_t cut = 0; cut < n; cut++) {
    int rc = validate(b.data, cut, &pos);
    /* A cut payload either ends inside a value or leaves a table short of
    ** what its counts promise. */
    TP_CHECKF(rc == TP_WIRE_ETRUNC || rc == TP_WIRE_ECOUNT, "cut %zu: %d", cut, rc);
    TP_CHECKF(pos <= cut, "cut %zu: pos %zu", cut, pos);
  }
  /* One byte more is trailing, at its offset. */
  tp_wire_put_nil(&b);
  TP_CHECK(validate(b.data, n + 1, &pos) == TP_WIRE_ETRAIL && pos == n);
  tp_wire_buf_free(&b);
}

static void lying_counts(void) {
  static const uint8_t big_arr[] = {6, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
  static const uint8_t big_pairs[] = {6, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0};
  static const uint8_t one_short[] = {6, 2, 0, 0, 0, 0, 0, 0, 0, 0};   /* 2 items, 1 byte */
  /* {"abc"} whose string says 4 bytes; then the table owes nothing more */
  static const uint8_t str_long[] = {6, 1, 0, 0, 0, 0, 0, 0, 0, 5, 4, 0, 0, 0, 'a', 'b', 'c'};
  /* {{}, 1}: the inner table claims the byte its sibling needs */
  static const uint8_t steal[] = {6, 2, 0, 0, 0, 0, 0, 0, 0,
                                  6, 1, 0, 0, 0, 0, 0, 0, 0, 2};
  size_t pos;
  TP_CHECK(validate(big_arr, sizeof big_arr, &pos) == TP_WIRE_ECOUNT && pos == 0);
  TP_CHECK(validate(big_pairs, sizeof big_pairs, &pos) == TP_WIRE_ECOUNT && pos == 0);
  TP_CHECK(validate(one_short, sizeof one_short, &pos) == TP_WIRE_ECOUNT && pos == 0);
  TP_CHECK(validate(str_long, sizeof str_long, &pos) == TP_WIRE_ETRUNC && pos == 9);
  TP_CHECK(validate(steal, sizeof steal, &pos) == TP_WIRE_ECOUNT && pos == 9);
}

static void bad_tags_and_nils(void) {
  uint8_t p[10] = {0};
  size_t pos;
  for (int tag = 7; tag < 256; tag++) {
    p[0] = (uint8_t)tag;
    TP_CHECKF(validate(p, 1, &pos) == TP_WIRE_ETAG && pos == 0, "tag %d", tag);
  }
  {
    static const uint8_t nil_item[] = {6, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t nil_value[] = {6, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0};
    static const uint8_t nil_key[] = {6, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2};
    static const uint8_t table_key[] = {6, 0, 0, 0, 0, 1, 0, 0, 0,
                                        6, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    static const uint8_t nil_top[] = {0};
    TP_CHECK(validate(nil_item, sizeof nil_item, &pos) == TP_WIRE_ENIL && pos == 9);
    TP_CHECK(validate(nil_value, sizeof nil_value, &pos) == TP_WIRE_ENIL && pos == 10);
    TP_CHECK(validate(nil_key, sizeof nil_key, &pos) == TP_WIRE_EKEY && pos == 9);
    TP_CHECK(validate(table_key, sizeof table_key, &pos) == TP_WIRE_EKEY && pos == 9);
    TP_CHECK(validate(nil_top, 1, &pos) == 0);
    TP_CHECK(validate(nil_top, 0, &pos) == TP_WIRE_ETRUNC && pos == 0);
  }
}

/* A table with two pairs whose keys are written as given. */
static int two_keys(tp_wire_buf *b, int (*put)(tp_wire_buf *, int), int k1, int k2,
                    size_t *pos) {
  tp_wire_buf_reset(b);
  tp_wire_put_table(b, 0, 2);
  put(b, k1);
  tp_wire_put_bool(b, 1);
  put(b, k2);
  tp_wire_put_bool(b, 1);
  return validate(b->data, b->len, pos);
}

static int put_i(tp_wire_buf *b, int v) { return tp_wire_put_int(b, v); }
static int put_s(tp_wire_buf *b, int v) {
  char s[300];
  memset(s, 'a', sizeof s);
  return tp_wire_put_string(b, s, (size_t)v);
}

static void key_rules(void) {
  tp_wire_buf b;
  size_t pos;
  tp_wire_buf_init(&b);
  /* 1 belongs in the array part of a table without one. */
  TP_CHECK(two_keys(&b, put_i, 1, 5, &pos) == TP_WIRE_EKEY && pos == 9);
  TP_CHECK(two_keys(&b, put_i, 5, 5, &pos) == TP_WIRE_EDUP && pos == 19);
  /* Little-endian bytes: 256 (00 01) sorts before 5 (05 00). */
  TP_CHECK(two_keys(&b, put_i, 256, 5, &pos) == 0);
  TP_CHECK(two_keys(&b, put_i, 5, 256, &pos) == TP_WIRE_EORDER && pos == 19);
  TP_CHECK(two_keys(&b, put_i, -1, 0, &pos) == TP_WIRE_EORDER);
  TP_CHECK(two_keys(&b, put_s, 2, 3, &pos) == 0);
  TP_CHECK(two_keys(&b, put_s, 3, 2, &pos) == TP_WIRE_EORDER);
  TP_CHECK(two_keys(&b, put_s, 256, 3, &pos) == 0);    /* length 00 01 .. < 03 00 .. */
  TP_CHECK(two_keys(&b, put_s, 0, 0, &pos) == TP_WIRE_EDUP);
  /* Floats: NaN and integral values are not keys. */
  {
    double bad[] = {NAN, 2.0, -0.0, 0.0, -9223372036854775808.0};
    double good[] = {0.5, INFINITY, -INFINITY, 9223372036854775808.0, 1e300};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
      tp_wire_buf_reset(&b);
      tp_wire_put_table(&b, 0, 1);
      tp_wire_put_float(&b, bad[i]);
      tp_wire_put_bool(&b, 1);
      TP_CHECKF(validate(b.data, b.len, &pos) == TP_WIRE_EKEY && pos == 9, "bad %zu", i);
    }
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
      tp_wire_buf_reset(&b);
      tp_wire_put_table(&b, 0, 1);
      tp_wire_put_float(&b, good[i]);
      tp_wire_put_bool(&b, 1);
      TP_CHECKF(validate(b.data, b.len, &pos) == 0, "good %zu", i);
    }
  }
  /* Booleans before integers before floats before strings. */
  tp_wire_buf_reset(&b);
  tp_wire_put_table(&b, 0, 4);
  tp_wire_put_bool(&b, 1); tp_wire_put_int(&b, 1);
  tp_wire_put_int(&b, 0); tp_wire_put_int(&b, 1);
  tp_wire_put_float(&b, 0.5); tp_wire_put_int(&b, 1);
  tp_wire_put_string(&b, "", 0); tp_wire_put_int(&b, 1);
  TP_CHECK(validate(b.data, b.len, &pos) == 0);
  tp_wire_buf_free(&b);
}

static void nan_bits(void) {
  uint8_t p[9] = {4, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f};
  size_t pos;
  TP_CHECK(validate(p, 9, &pos) == 0);
  p[8] = 0xff;                                   /* -nan, as x86 makes 0/0 */
  TP_CHECK(validate(p, 9, &pos) == TP_WIRE_ENAN && pos == 0);
  p[8] = 0x7f; p[1] = 1;                         /* a payload bit */
  TP_CHECK(validate(p, 9, &pos) == TP_WIRE_ENAN);
  {
    tp_wire_buf b;
    volatile double z = 0.0;
    tp_wire_buf_init(&b);
    tp_wire_put_float(&b, -(z / z));
    TP_CHECK(b.len == 9 && b.data[8] == 0x7f && b.data[7] == 0xf8 && b.data[1] == 0);
    tp_wire_buf_free(&b);
  }
}

static void depth_and_values(void) {
  tp_wire_buf b;
  tp_wire_limits lim;
  size_t pos;
  char msg[200];
  tp_wire_buf_init(&b);
  for (int i = 0; i < 65; i++) tp_wire_put_table(&b, i < 64 ? 1 : 0, 0);
  TP_CHECK(validate(b.data, b.len, &pos) == TP_WIRE_EDEPTH && pos == 64 * 9);
  TP_CHECK(validate(b.data + 9, b.len - 9, &pos) == 0);
  tp_wire_limits_default(&lim);
  lim.max_depth = 3;
  TP_CHECK(tp_wire_validate(b.data + 9 * 61, b.len - 9 * 61, &lim, &pos, msg, sizeof msg) ==
           TP_WIRE_EDEPTH && pos == 27);
  TP_CHECK(tp_wire_validate(b.data + 9 * 62, b.len - 9 * 62, &lim, &pos, msg, sizeof msg) == 0);
  /* {true, true, true}: 4 values. */
  tp_wire_buf_reset(&b);
  tp_wire_put_table(&b, 3, 0);
  for (int i = 0; i < 3; i++) tp_wire_put_bool(&b, 1);
  tp_wire_limits_default(&lim);
  lim.max_values = 3;
  TP_CHECK(tp_wire_validate(b.data, b.len, &lim, &pos, msg, sizeof msg) == TP_WIRE_EVALUES);
  lim.max_values = 4;
  TP_CHECK(tp_wire_validate(b.data, b.len, &lim, &pos, msg, sizeof msg) == 0);
  lim.max_bytes = b.len - 1;
  TP_CHECK(tp_wire_validate(b.data, b.len, &lim, &pos, msg, sizeof msg) == TP_WIRE_EBYTES);
  lim.max_depth = 1000;
  TP_CHECK(tp_wire_validate(b.data, b.len, &lim, &pos, msg, sizeof msg) == TP_WIRE_EINVAL);
  tp_wire_buf_free(&b);
}

/* ---- Lua ------------------------------------------------------------ */

static const char *const shapes[] = {
  "nil", "true", "false", "0", "-1", "math.maxinteger", "math.mininteger", "1.0", "-0.0",
  "1/0", "-1/0", "0/0", "''", "('\\0'):rep(3)", "('x'):rep(100000)", "{}", "{{}}",
  "{1, 2, 3}", "{n = 3, 1, nil, 3}", "{a = 1, b = {c = {d = 'e'}}}",
  "{[1] = 'a', [3] = 'c', [-1] = 'm', [0] = 'z', [2^63] = 1, [0.5] = 2, [true] = 3, [false] = 4}",
  "{x = 1.5, y = -0.0, z = 1/0, w = 0/0}",
  "(function() local t = {} for i = 1, 300 do t[('k'):rep(i)] = i end return t end)()",
  "(function() local t = {} for i = 1, 1000 do t[i] = i * 1.5 end t.n = 1000 return t end)()",
  "(function() local t = {} for i = 1, 500 do t[i * 7] = {i} end return t end)()",
  NULL
};

static void lua_round_trips(void) {
  for (int i = 0; shapes[i]; i++) {
    lua_State *L = eval(shapes[i]);
    tp_wire_buf b1, b2;
    char err[200];
    int rc;
    tp_wire_buf_init(&b1);
    tp_wire_buf_init(&b2);
    rc = tpL_wire_encode(L, -1, &b1, NULL, err, sizeof err);
    TP_CHECKF(rc == 0, "%s: %s", shapes[i], err);
    rc = tpL_wire_decode(L, (const char *)b1.data, b1.len, NULL, err, sizeof err);
    TP_CHECKF(rc == 0, "%s: %s", shapes[i], err);
    if (rc == 0) {
      rc = tpL_wire_encode(L, -1, &b2, NULL, err, sizeof err);
      TP_CHECKF(rc == 0 && b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0,
                "%s: not canonical", shapes[i]);
      TP_CHECK(lua_gettop(L) == 2);
    }
    tp_wire_buf_free(&b1);
    tp_wire_buf_free(&b2);
    lua_close(L);
  }
}

static void lua_types_kept(void) {
  lua_State *L = eval("{1, 1.0, -0.0, math.maxinteger, 2^53}");
  tp_wire_buf b;
  char err[200];
  tp_wire_buf_init(&b);
  TP_CHECK(tpL_wire_encode(L, -1, &b, NULL, err, sizeof err) == 0);
  TP_CHECK(tpL_wire_decode(L, (const char *)b.data, b.len, NULL, err, sizeof err) == 0);
  lua_setglobal(L, "v");
  TP_CHECK(luaL_dostring(L, "assert(math.type(v[1]) == 'integer' and math.type(v[2]) == 'float' "
                            "and 1/v[3] == -1/0 and v[4] == math.maxinteger and "
                            "math.type(v[5]) == 'float' and #v == 5)") == LUA_OK);
  tp_wire_buf_free(&b);
  lua_close(L);
}

static void lua_refusals(void) {
  static const struct { const char *expr; int code; const char *msg; } cases[] = {
    {"print", TP_WIRE_EVALUE, "cannot encode a function"},
    {"{args = {1, {f = print}}}", TP_WIRE_EVALUE, "cannot encode a function at args[2].f"},
    {"{coroutine.create(print)}", TP_WIRE_EVALUE, "cannot encode a thread at [1]"},
    {"{io.stdout}", TP_WIRE_EVALUE, "cannot encode a userdata at [1]"},
    {"(function() local t = {} t.a = {b = t} return t end)()", TP_WIRE_ECYCLE,
     "a table that contains itself at a.b"},
    {"{x = setmetatable({}, {})}", TP_WIRE_EMETA, "cannot encode a table with a metatable at x"},
    {"{[{}] = 1}", TP_WIRE_EKEY, "cannot encode a table key"},
    {"{['not ident'] = {print}}", TP_WIRE_EVALUE,
     "cannot encode a function at [\"not ident\"][1]"},
    {"(function() local t = {} for i = 1, 70 do t = {t} end return t end)()", TP_WIRE_EDEPTH,
     "tables nested too deep"},
    {NULL, 0, NULL}
  };
  for (int i = 0; cases[i].expr; i++) {
    tp_wire_buf b;
    char err[200];
    int rc;
    tp_wire_buf_init(&b);
    tp_wire_put_nil(&b);             /* what was there stays */
    rc = enc(cases[i].expr, &b, err, sizeof err);
    TP_CHECKF(rc == cases[i].code, "%s: %d", cases[i].expr, rc);
    TP_CHECKF(strncmp(err, cases[i].msg, strlen(cases[i].msg)) == 0, "%s: '%s'",
              cases[i].expr, err);
    TP_CHECK(b.len == 1 && b.nspans == 0);
    tp_wire_buf_free(&b);
  }
  /* A shared table that is not a cycle is fine. */
  {
    tp_wire_buf b;
    char err[200];
    tp_wire_buf_init(&b);
    TP_CHECK(enc("(function() local s = {1} return {s, s, {s}} end)()", &b, err, sizeof err) == 0);
    tp_wire_buf_free(&b);
  }
}

static void lua_limits(void) {
  lua_State *L = eval("{('x'):rep(100), {1, 2, 3}}");
  tp_wire_buf b;
  tp_wire_limits lim;
  char err[200];
  tp_wire_buf_init(&b);
  tp_wire_limits_default(&lim);
  lim.max_bytes = 100;
  TP_CHECK(tpL_wire_encode(L, -1, &b, &lim, err, sizeof err) == TP_WIRE_EBYTES);
  tp_wire_limits_default(&lim);
  lim.max_values = 5;
  TP_CHECK(tpL_wire_encode(L, -1, &b, &lim, err, sizeof err) == TP_WIRE_EVALUES);
  lim.max_values = 6;
  TP_CHECK(tpL_wire_encode(L, -1, &b, &lim, err, sizeof err) == 0);
  lim.max_values = 5;
  TP_CHECK(tpL_wire_decode(L, (const char *)b.data, b.len, &lim, err, sizeof err) ==
           TP_WIRE_EVALUES);
  TP_CHECK(lua_gettop(L) == 1);
  tp_wire_buf_free(&b);
  lua_close(L);
}

/* An allocator that refuses past a cap, as a worker's state has. */
static size_t capped_used, capped_cap;
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (ptr == NULL) osize = 0;
  if (nsize == 0) { free(ptr); capped_used -= osize; return NULL; }
  if (nsize > osize && capped_used + (nsize - osize) > capped_cap) return NULL;
  ptr = realloc(ptr, nsize);
  if (ptr) capped_used += nsize - osize;
  return ptr;
}

static void decode_under_cap(void) {
  lua_State *L;
  tp_wire_buf b;
  char err[200];
  size_t pos;
  int rc;
  /* 20000 distinct strings: far more than the cap allows. */
  L = eval("(function() local t = {} for i = 1, 20000 do t[i] = ('%08d'):format(i) end "
           "return t end)()");
  tp_wire_buf_init(&b);
  TP_CHECK(tpL_wire_encode(L, -1, &b, NULL, err, sizeof err) == 0);
  lua_close(L);
  capped_used = 0;
  capped_cap = 256 * 1024;
  L = lua_newstate(capped_alloc, NULL);
  TP_CHECK(L != NULL);
  if (L) {
    rc = tpL_wire_decode_pos(L, (const char *)b.data, b.len, NULL, err, sizeof err, &pos);
    TP_CHECKF(rc == TP_WIRE_ENOMEM, "rc %d", rc);
    TP_CHECK(strstr(err, "out of memory") != NULL && pos > 0);
    TP_CHECK(lua_gettop(L) == 0);
    lua_close(L);
  }
  tp_wire_buf_free(&b);
}

/* Encoding never raises, even when the state cannot grow its stack: a
** raise outside a protected call would abort this test. */
static void encode_under_cap(void) {
  lua_State *L;
  tp_wire_buf b;
  char err[200];
  int rc, ok = 0, nomem = 0;
  capped_used = 0;
  capped_cap = 1 << 20;
  L = lua_newstate(capped_alloc, NULL);
  TP_CHECK(L != NULL);
  if (!L) return;
  luaL_openlibs(L);
  TP_CHECK(luaL_dostring(L, "local t = {} for i = 1, 63 do t = {t, x = {1, 2}} end return t") ==
           LUA_OK);
  tp_wire_buf_init(&b);
  /* From no headroom at all to plenty: each either encodes or says ENOMEM. */
  for (size_t extra = 0; extra < 16384; extra += 512) {
    capped_cap = capped_used + extra;
    tp_wire_buf_reset(&b);
    rc = tpL_wire_encode(L, -1, &b, NULL, err, sizeof err);
    TP_CHECKF(rc == 0 || rc == TP_WIRE_ENOMEM, "extra %zu: %d", extra, rc);
    if (rc == 0) ok++; else nomem++;
    TP_CHECK(lua_gettop(L) == 1);
  }
  TP_CHECK(ok > 0);
  capped_cap = 1 << 20;
  tp_wire_buf_free(&b);
  lua_close(L);
  (void)nomem;
}

/* ---- buffers and frames ---------------------------------------------- */

static void fixed_buffer(void) {
  uint8_t mem[40];
  tp_wire_buf b;
  size_t start;
  tp_wire_buf_fixed(&b, mem, sizeof mem);
  TP_CHECK(tp_wire_frame_begin(&b, TP_WIRE_VIOLATION, &start) == 0);
  TP_CHECK(tp_wire_put_table(&b, 0, 2) == 0);
  TP_CHECK(tp_wire_put_string(&b, "kind", 4) == 0);
  /* 12 + 9 + 9 written; "syscall" needs 12 more: full, nothing written. */
  TP_CHECK(tp_wire_put_string(&b, "syscall", 7) == TP_WIRE_ENOMEM && b.len == 30);
  TP_CHECK(tp_wire_put_string(&b, "sys", 3) == 0 && b.len == 38);
  TP_CHECK(tp_wire_put_nil(&b) == 0 && tp_wire_put_nil(&b) == 0 && tp_wire_put_nil(&b) != 0);
  tp_wire_buf_free(&b);                                   /* frees nothing of mem */
}

static void frame_limits(void) {
  tp_wire_buf b;
  tp_wire_limits lim;
  size_t start;
  tp_wire_buf_init(&b);
  tp_wire_limits_default(&lim);
  lim.max_bytes = 4;
  tp_wire_put_nil(&b);
  TP_CHECK(tp_wire_frame_begin(&b, TP_WIRE_CALL, &start) == 0 && start == 1);
  tp_wire_put_string(&b, "abc", 3);
  TP_CHECK(tp_wire_frame_end(&b, start, &lim) == TP_WIRE_EBYTES);
  TP_CHECK(b.len == 1);
  tp_wire_buf_free(&b);
}

static void socket_io(void) {
  int sv[2], e = 0;
  tp_wire_buf out, in;
  tp_wire_header h;
  const uint8_t *payload;
  size_t start;
  TP_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  tp_wire_buf_init(&out);
  tp_wire_buf_init(&in);
  /* Three frames in one write, the last one big. */
  tp_wire_frame_begin(&out, TP_WIRE_READY, &start);
  tp_wire_put_int(&out, 42);
  tp_wire_frame_end(&out, start, NULL);
  tp_wire_frame_begin(&out, TP_WIRE_BYE, &start);
  tp_wire_put_nil(&out);
  tp_wire_frame_end(&out, start, NULL);
  TP_CHECK(tp_wire_send(sv[0], out.data, out.len, &e) == 0);
  TP_CHECK(tp_wire_recv(sv[1], &in, NULL, &h, &payload, &e) == 0);
  TP_CHECK(h.type == TP_WIRE_READY && h.length == 9 && payload[0] == TP_WIRE_INT &&
           payload[1] == 42);
  TP_CHECK(tp_wire_recv(sv[1], &in, NULL, &h, &payload, &e) == 0);
  TP_CHECK(h.type == TP_WIRE_BYE && h.length == 1 && payload[0] == 0);
  /* A frame cut by the peer's close. */
  tp_wire_buf_reset(&out);
  tp_wire_frame_begin(&out, TP_WIRE_RESULT, &start);
  tp_wire_put_string(&out, "0123456789", 10);
  tp_wire_frame_end(&out, start, NULL);
  TP_CHECK(tp_wire_send(sv[0], out.data, out.len - 3, &e) == 0);
  shutdown(sv[0], SHUT_WR);
  TP_CHECK(tp_wire_recv(sv[1], &in, NULL, &h, &payload, &e) == TP_WIRE_ETRUNC);
  close(sv[0]);
  close(sv[1]);
  /* EOF between frames; a bad header; EPIPE as an error, not a signal. */
  TP_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  tp_wire_buf_reset(&in);
  TP_CHECK(tp_wire_send(sv[0], "TPW2\3\0\0\0\0\0\0\0", 12, &e) == 0);
  TP_CHECK(tp_wire_recv(sv[1], &in, NULL, &h, &payload, &e) == TP_WIRE_EMAGIC);
  close(sv[0]);
  TP_CHECK(tp_wire_send(sv[1], "x", 1, &e) == TP_WIRE_EIO && e == EPIPE);
  close(sv[1]);
  TP_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  tp_wire_buf_reset(&in);
  close(sv[0]);
  TP_CHECK(tp_wire_recv(sv[1], &in, NULL, &h, &payload, &e) == TP_WIRE_EEOF);
  close(sv[1]);
  tp_wire_buf_free(&out);
  tp_wire_buf_free(&in);
}

int main(void) {
  TP_RUN(header_round_trip);
  TP_RUN(header_refusals);
  TP_RUN(tokens_in_order);
  TP_RUN(every_truncation);
  TP_RUN(lying_counts);
  TP_RUN(bad_tags_and_nils);
  TP_RUN(key_rules);
  TP_RUN(nan_bits);
  TP_RUN(depth_and_values);
  TP_RUN(lua_round_trips);
  TP_RUN(lua_types_kept);
  TP_RUN(lua_refusals);
  TP_RUN(lua_limits);
  TP_RUN(decode_under_cap);
  TP_RUN(encode_under_cap);
  TP_RUN(fixed_buffer);
  TP_RUN(frame_limits);
  TP_RUN(socket_io);
  return tp_done();
}
