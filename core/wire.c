/*
** wire.c: the worker wire format (wire.h; docs/formats.md, "Worker wire
** format"). Frame headers, a byte buffer, single-value writers, the
** canonical key order, a tokenizer that refuses every malformed or
** non-canonical payload with the offset of the offending byte, and
** blocking frame I/O on a descriptor.
**
** The tokenizer trusts no count: a table's counts are checked against the
** bytes that remain (each array value needs at least one byte, each pair
** two) minus what the enclosing tables still owe, before anything is
** read, so a 9-byte payload cannot announce four billion values.
*/
#include "wire.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- names and limits ------------------------------------------------ */

void tp_wire_limits_default(tp_wire_limits *lim) {
  lim->max_bytes = TP_WIRE_MAX_BYTES;
  lim->max_depth = TP_WIRE_MAX_DEPTH;
  lim->max_values = TP_WIRE_MAX_VALUES;
}

int tp_wire_limits_check(const tp_wire_limits *lim) {
  if (lim->max_bytes > TP_WIRE_BYTES_CAP || lim->max_depth > TP_WIRE_DEPTH_CAP ||
      lim->max_values == 0)
    return TP_WIRE_EINVAL;
  return 0;
}

const char *tp_wire_strerror(int code) {
  switch (code) {
  case 0: return "ok";
  case TP_WIRE_ETRUNC: return "truncated";
  case TP_WIRE_ETAG: return "unknown value tag";
  case TP_WIRE_ETRAIL: return "trailing bytes after the value";
  case TP_WIRE_ECOUNT: return "table counts larger than the remaining bytes";
  case TP_WIRE_EDEPTH: return "tables nested too deep";
  case TP_WIRE_EVALUES: return "too many values";
  case TP_WIRE_EBYTES: return "too many bytes";
  case TP_WIRE_EKEY: return "invalid key";
  case TP_WIRE_EDUP: return "duplicate key";
  case TP_WIRE_EORDER: return "keys out of order";
  case TP_WIRE_ENIL: return "nil value in a table";
  case TP_WIRE_EMAGIC: return "bad magic";
  case TP_WIRE_ETYPE: return "unknown frame type";
  case TP_WIRE_EHEADER: return "flags or reserved bits set";
  case TP_WIRE_EVALUE: return "value of a type that cannot cross";
  case TP_WIRE_ECYCLE: return "table contains itself";
  case TP_WIRE_EMETA: return "table with a metatable";
  case TP_WIRE_ENOMEM: return "out of memory";
  case TP_WIRE_EINVAL: return "invalid argument";
  case TP_WIRE_EIO: return "i/o error";
  case TP_WIRE_EEOF: return "end of stream";
  case TP_WIRE_ENAN: return "non-canonical NaN";
  default: return "unknown error";
  }
}

static const char *const type_names[TP_WIRE_TYPE_MAX + 1] = {
  NULL, "SETUP", "READY", "CALL", "RESULT", "ERROR", "VIOLATION", "BYE", "STATS"
};

const char *tp_wire_type_name(int type) {
  return type >= 1 && type <= TP_WIRE_TYPE_MAX ? type_names[type] : NULL;
}

int tp_wire_type_of(const char *name) {
  for (int t = 1; t <= TP_WIRE_TYPE_MAX; t++)
    if (strcmp(name, type_names[t]) == 0) return t;
  return 0;
}

/* ---- little-endian integers -------------------------------------------- */

static inline void le32_put(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t le32_get(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void le64_put(uint8_t *p, uint64_t v) {
  le32_put(p, (uint32_t)v);
  le32_put(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t le64_get(const uint8_t *p) {
  return (uint64_t)le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

/* The one NaN the format carries: the encoder writes every NaN as this, so
** that a value has one encoding. */
#define CANON_NAN 0x7FF8000000000000ull

static inline uint64_t float_bits(double d) {
  uint64_t u;
  if (d != d) return CANON_NAN;
  memcpy(&u, &d, 8);
  return u;
}

/* ---- frame header --------------------------------------------------- */

void tp_wire_header_encode(uint8_t out[TP_WIRE_HEADER_SIZE], uint8_t type, uint32_t length) {
  memcpy(out, TP_WIRE_MAGIC, 4);
  out[4] = type;
  out[5] = 0;
  out[6] = out[7] = 0;
  le32_put(out + 8, length);
}

int tp_wire_header_decode(const uint8_t *p, size_t n, const tp_wire_limits *lim,
                          tp_wire_header *h) {
  tp_wire_limits def;
  if (!lim) { tp_wire_limits_default(&def); lim = &def; }
  if (n < TP_WIRE_HEADER_SIZE) {
    /* A partial header is refused as soon as a byte of it is wrong, so a
    ** stream reader does not wait for the rest of a bad one. */
    if (memcmp(p, TP_WIRE_MAGIC, n < 4 ? n : 4) != 0) return TP_WIRE_EMAGIC;
    if (n > 4 && (p[4] < 1 || p[4] > TP_WIRE_TYPE_MAX)) return TP_WIRE_ETYPE;
    for (size_t i = 5; i < n && i < 8; i++)
      if (p[i]) return TP_WIRE_EHEADER;
    return TP_WIRE_ETRUNC;
  }
  h->type = p[4];
  h->flags = p[5];
  h->length = le32_get(p + 8);
  if (memcmp(p, TP_WIRE_MAGIC, 4) != 0) return TP_WIRE_EMAGIC;
  if (h->type < 1 || h->type > TP_WIRE_TYPE_MAX) return TP_WIRE_ETYPE;
  if (p[5] || p[6] || p[7]) return TP_WIRE_EHEADER;
  if (h->length > lim->max_bytes) return TP_WIRE_EBYTES;
  return 0;
}

long long tp_wire_frame_split(const uint8_t *p, size_t n, const tp_wire_limits *lim,
                              tp_wire_header *h) {
  int rc = tp_wire_header_decode(p, n, lim, h);
  if (rc == TP_WIRE_ETRUNC) return 0;
  if (rc < 0) return rc;
  if (n - TP_WIRE_HEADER_SIZE < h->length) return 0;
  return (long long)TP_WIRE_HEADER_SIZE + h->length;
}

/* ---- buffer ---------------------------------------------------------- */

void tp_wire_buf_init(tp_wire_buf *b) {
  memset(b, 0, sizeof *b);
}

void tp_wire_buf_fixed(tp_wire_buf *b, void *mem, size_t cap) {
  memset(b, 0, sizeof *b);
  b->data = mem;
  b->cap = cap;
  b->fixed = 1;
}

void tp_wire_buf_free(tp_wire_buf *b) {
  if (!b->fixed) free(b->data);
  free(b->spans);
  memset(b, 0, sizeof *b);
}

void tp_wire_buf_reset(tp_wire_buf *b) {
  b->len = b->head = 0;
  b->nspans = 0;
}

int tp_wire_buf_reserve(tp_wire_buf *b, size_t n) {
  size_t want, cap;
  uint8_t *p;
  if (n <= b->cap - b->len) return 0;
  if (b->fixed || n > SIZE_MAX / 2 - b->len) return TP_WIRE_ENOMEM;
  want = b->len + n;
  cap = b->cap ? b->cap : 256;
  while (cap < want) cap *= 2;
  p = realloc(b->data, cap);
  if (!p) return TP_WIRE_ENOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

void tp_wire_buf_shrink(tp_wire_buf *b, size_t keep) {
  uint8_t *p;
  if (b->fixed || b->cap <= keep || b->len > keep) return;
  if (keep == 0) { free(b->data); b->data = NULL; b->cap = 0; return; }
  p = realloc(b->data, keep);
  if (p) { b->data = p; b->cap = keep; }
}

/* ---- writing --------------------------------------------------------- */

int tp_wire_frame_begin(tp_wire_buf *b, uint8_t type, size_t *start) {
  if (tp_wire_buf_reserve(b, TP_WIRE_HEADER_SIZE)) return TP_WIRE_ENOMEM;
  *start = b->len;
  tp_wire_header_encode(b->data + b->len, type, 0);
  b->len += TP_WIRE_HEADER_SIZE;
  return 0;
}

int tp_wire_frame_end(tp_wire_buf *b, size_t start, const tp_wire_limits *lim) {
  size_t n = b->len - start - TP_WIRE_HEADER_SIZE;
  size_t max = lim ? lim->max_bytes : TP_WIRE_MAX_BYTES;
  if (n > max || n > TP_WIRE_BYTES_CAP) {
    b->len = start;
    return TP_WIRE_EBYTES;
  }
  le32_put(b->data + start + 8, (uint32_t)n);
  return 0;
}

int tp_wire_put_nil(tp_wire_buf *b) {
  if (tp_wire_buf_reserve(b, 1)) return TP_WIRE_ENOMEM;
  b->data[b->len++] = TP_WIRE_NIL;
  return 0;
}

int tp_wire_put_bool(tp_wire_buf *b, int v) {
  if (tp_wire_buf_reserve(b, 1)) return TP_WIRE_ENOMEM;
  b->data[b->len++] = v ? TP_WIRE_TRUE : TP_WIRE_FALSE;
  return 0;
}

int tp_wire_put_int(tp_wire_buf *b, int64_t v) {
  if (tp_wire_buf_reserve(b, 9)) return TP_WIRE_ENOMEM;
  b->data[b->len] = TP_WIRE_INT;
  le64_put(b->data + b->len + 1, (uint64_t)v);
  b->len += 9;
  return 0;
}

int tp_wire_put_float(tp_wire_buf *b, double v) {
  if (tp_wire_buf_reserve(b, 9)) return TP_WIRE_ENOMEM;
  b->data[b->len] = TP_WIRE_FLOAT;
  le64_put(b->data + b->len + 1, float_bits(v));
  b->len += 9;
  return 0;
}

int tp_wire_put_string(tp_wire_buf *b, const void *s, size_t len) {
  if (len > TP_WIRE_BYTES_CAP) return TP_WIRE_EBYTES;
  if (tp_wire_buf_reserve(b, 5 + len)) return TP_WIRE_ENOMEM;
  b->data[b->len] = TP_WIRE_STRING;
  le32_put(b->data + b->len + 1, (uint32_t)len);
  if (len) memcpy(b->data + b->len + 5, s, len);
  b->len += 5 + len;
  return 0;
}

int tp_wire_put_table(tp_wire_buf *b, uint32_t narr, uint32_t npairs) {
  if (tp_wire_buf_reserve(b, 9)) return TP_WIRE_ENOMEM;
  b->data[b->len] = TP_WIRE_TABLE;
  le32_put(b->data + b->len + 1, narr);
  le32_put(b->data + b->len + 5, npairs);
  b->len += 9;
  return 0;
}

int tp_wire_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  size_t n = alen < blen ? alen : blen;
  int c = memcmp(a, b, n);
  if (c) return c;
  return alen < blen ? -1 : alen > blen;
}

/* ---- reading: the tokenizer ----------------------------------------- */

void tp_wire_reader_init(tp_wire_reader *r, const void *data, size_t len,
                         const tp_wire_limits *lim) {
  r->p = data;
  r->len = len;
  r->pos = 0;
  if (lim) r->lim = *lim; else tp_wire_limits_default(&r->lim);
  r->values = 1;
  r->owed = 0;
  r->depth = 0;
  r->started = 0;
  r->code = 0;
  r->err_pos = 0;
  r->err[0] = 0;
  if (tp_wire_limits_check(&r->lim)) r->code = TP_WIRE_EINVAL;
  else if (len > r->lim.max_bytes) r->code = TP_WIRE_EBYTES;
  if (r->code)
    snprintf(r->err, sizeof r->err, "%s at byte 0", tp_wire_strerror(r->code));
}

static int fail(tp_wire_reader *r, int code, size_t pos, const char *what) {
  r->code = code;
  r->err_pos = pos;
  snprintf(r->err, sizeof r->err, "%s%s%s at byte %zu", tp_wire_strerror(code),
           what ? ": " : "", what ? what : "", pos);
  return code;
}

/* Does this float have an exact int64 value (and so, as a Lua key, would
** have been an integer)? */
static int float_is_integral(double d) {
  return d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0;
}

/* Read one value's encoding at r->pos (the tag is there) into t. Checks
** that it fits in the bytes the open tables leave. */
static int read_value(tp_wire_reader *r, tp_wire_token *t) {
  size_t pos = r->pos, avail = r->len - pos, room;
  const uint8_t *p = r->p + pos;
  uint64_t u;
  /* The open tables still owe at least r->owed bytes after this value. */
  room = avail >= r->owed ? avail - r->owed : 0;
  t->pos = pos;
  t->kind = p[0];
  switch (p[0]) {
  case TP_WIRE_NIL: case TP_WIRE_FALSE: case TP_WIRE_TRUE:
    t->size = 1;
    break;
  case TP_WIRE_INT: case TP_WIRE_FLOAT:
    if (avail < 9) return fail(r, TP_WIRE_ETRUNC, pos, NULL);
    if (room < 9) return fail(r, TP_WIRE_ECOUNT, pos, "the enclosing table's counts");
    u = le64_get(p + 1);
    if (p[0] == TP_WIRE_INT) {
      t->u.i = (int64_t)u;
    } else {
      memcpy(&t->u.d, &u, 8);
      if (t->u.d != t->u.d && u != CANON_NAN) return fail(r, TP_WIRE_ENAN, pos, NULL);
    }
    t->size = 9;
    break;
  case TP_WIRE_STRING: {
    uint32_t n;
    if (avail < 5) return fail(r, TP_WIRE_ETRUNC, pos, NULL);
    n = le32_get(p + 1);
    if (n > r->lim.max_bytes) return fail(r, TP_WIRE_EBYTES, pos, "string length");
    if (avail - 5 < n) return fail(r, TP_WIRE_ETRUNC, pos, NULL);
    if (room < 5 || room - 5 < n)
      return fail(r, TP_WIRE_ECOUNT, pos, "the enclosing table's counts");
    t->u.s.p = (const char *)p + 5;
    t->u.s.len = n;
    t->size = 5 + (size_t)n;
    break;
  }
  case TP_WIRE_TABLE: {
    uint64_t need;
    if (avail < 9) return fail(r, TP_WIRE_ETRUNC, pos, NULL);
    t->u.t.narr = le32_get(p + 1);
    t->u.t.npairs = le32_get(p + 5);
    t->size = 9;
    if (r->depth + 1 > r->lim.max_depth) return fail(r, TP_WIRE_EDEPTH, pos, NULL);
    /* Every array value takes a byte at least, every pair two. */
    need = (uint64_t)t->u.t.narr + 2 * (uint64_t)t->u.t.npairs;
    if (room < 9 || need > room - 9) return fail(r, TP_WIRE_ECOUNT, pos, NULL);
    if (need > r->lim.max_values || r->values + need > r->lim.max_values)
      return fail(r, TP_WIRE_EVALUES, pos, NULL);
    break;
  }
  default:
    return fail(r, TP_WIRE_ETAG, pos, NULL);
  }
  return 0;
}

/* A key must be a string, a boolean, an integer outside 1..narr+1 (those
** belong in the array part) or a float that is neither NaN nor integral. */
static int check_key(tp_wire_reader *r, const tp_wire_token *t, const tp_wire_level *lv) {
  switch (t->kind) {
  case TP_WIRE_STRING: case TP_WIRE_FALSE: case TP_WIRE_TRUE:
    return 0;
  case TP_WIRE_INT:
    if (t->u.i >= 1 && (uint64_t)t->u.i <= (uint64_t)lv->narr + 1)
      return fail(r, TP_WIRE_EKEY, t->pos, "an integer key that belongs in the array part");
    return 0;
  case TP_WIRE_FLOAT:
    if (t->u.d != t->u.d) return fail(r, TP_WIRE_EKEY, t->pos, "NaN key");
    if (float_is_integral(t->u.d))
      return fail(r, TP_WIRE_EKEY, t->pos, "a float key with an integer value");
    return 0;
  case TP_WIRE_NIL:
    return fail(r, TP_WIRE_EKEY, t->pos, "nil key");
  default:
    return fail(r, TP_WIRE_EKEY, t->pos, "table key");
  }
}

int tp_wire_next(tp_wire_reader *r, tp_wire_token *t) {
  tp_wire_level *lv = NULL;
  int rc, role;
  uint32_t index = 0;
  if (r->code) return r->code;
  if (!r->started) {
    r->started = 1;
    if (r->len == 0) return fail(r, TP_WIRE_ETRUNC, 0, NULL);
    role = TP_WIRE_ROLE_TOP;
    goto value;
  }
  if (r->depth == 0) {
    if (r->pos != r->len) return fail(r, TP_WIRE_ETRAIL, r->pos, NULL);
    return 0;
  }
  lv = &r->stack[r->depth];
  if (lv->want_value) {
    role = TP_WIRE_ROLE_VALUE;
  } else if (lv->items < lv->narr) {
    role = TP_WIRE_ROLE_ITEM;
    index = lv->items + 1;
  } else if (lv->pairs < lv->npairs) {
    role = TP_WIRE_ROLE_KEY;
  } else {
    /* The table is complete: close it. */
    t->kind = TP_WIRE_END;
    t->role = lv->role;
    t->index = lv->index;
    t->pos = r->pos;
    t->size = 0;
    r->depth--;
    return 1;
  }
  /* The slot this value fills was owed one byte (two for a pair, one of
  ** them by its key and one by its value). */
  r->owed--;
value:
  if (r->pos >= r->len) return fail(r, TP_WIRE_ETRUNC, r->pos, NULL);
  rc = read_value(r, t);
  if (rc) return rc;
  t->role = role;
  t->index = index;
  if (role == TP_WIRE_ROLE_KEY) {
    rc = check_key(r, t, lv);
    if (rc) return rc;
    if (lv->pairs > 0) {
      int c = tp_wire_key_cmp(r->p + lv->prev_key, lv->prev_klen, r->p + t->pos, t->size);
      if (c == 0) return fail(r, TP_WIRE_EDUP, t->pos, NULL);
      if (c > 0) return fail(r, TP_WIRE_EORDER, t->pos, NULL);
    }
    lv->prev_key = t->pos;
    lv->prev_klen = t->size;
    lv->want_value = 1;
  } else if (role != TP_WIRE_ROLE_TOP && t->kind == TP_WIRE_NIL) {
    return fail(r, TP_WIRE_ENIL, t->pos, NULL);
  } else if (role == TP_WIRE_ROLE_VALUE) {
    lv->want_value = 0;
    lv->pairs++;
  } else if (role == TP_WIRE_ROLE_ITEM) {
    lv->items++;
  }
  r->pos += t->size;
  if (t->kind == TP_WIRE_TABLE) {
    tp_wire_level *nl = &r->stack[++r->depth];
    nl->narr = t->u.t.narr;
    nl->npairs = t->u.t.npairs;
    nl->items = nl->pairs = 0;
    nl->want_value = 0;
    nl->role = role;
    nl->index = index;
    nl->prev_key = nl->prev_klen = 0;
    r->owed += (size_t)nl->narr + 2 * (size_t)nl->npairs;
    r->values += (size_t)nl->narr + 2 * (size_t)nl->npairs;
  }
  return 1;
}

int tp_wire_validate(const void *data, size_t len, const tp_wire_limits *lim,
                     size_t *err_pos, char *msg, size_t msglen) {
  tp_wire_reader r;
  tp_wire_token t;
  int rc;
  tp_wire_reader_init(&r, data, len, lim);
  while ((rc = tp_wire_next(&r, &t)) == 1) {}
  if (rc < 0) {
    if (err_pos) *err_pos = r.err_pos;
    if (msg && msglen) snprintf(msg, msglen, "%s", r.err);
  }
  return rc;
}

/* ---- blocking I/O on a descriptor ------------------------------------ */

int tp_wire_send(int fd, const void *p, size_t n, int *sys_errno) {
  const uint8_t *q = p;
  int use_send = 1;
  while (n > 0) {
    ssize_t w = use_send ? send(fd, q, n, MSG_NOSIGNAL) : write(fd, q, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOTSOCK && use_send) { use_send = 0; continue; }
      if (sys_errno) *sys_errno = errno;
      return TP_WIRE_EIO;
    }
    q += w;
    n -= (size_t)w;
  }
  return 0;
}

int tp_wire_recv(int fd, tp_wire_buf *in, const tp_wire_limits *lim, tp_wire_header *h,
                 const uint8_t **payload, int *sys_errno) {
  long long size;
  /* Drop the frame handed out by the previous call. */
  if (in->head > 0) {
    memmove(in->data, in->data + in->head, in->len - in->head);
    in->len -= in->head;
    in->head = 0;
  }
  for (;;) {
    size_t want = 4096;
    ssize_t got;
    size = in->len ? tp_wire_frame_split(in->data, in->len, lim, h) : 0;
    if (size < 0) return (int)size;
    if (size > 0) break;
    /* Once the header is in, read the rest of the frame at once. */
    if (in->len >= TP_WIRE_HEADER_SIZE &&
        (size_t)TP_WIRE_HEADER_SIZE + h->length - in->len > want)
      want = (size_t)TP_WIRE_HEADER_SIZE + h->length - in->len;
    if (tp_wire_buf_reserve(in, want)) return TP_WIRE_ENOMEM;
    got = read(fd, in->data + in->len, in->cap - in->len);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (sys_errno) *sys_errno = errno;
      return TP_WIRE_EIO;
    }
    if (got == 0) return in->len ? TP_WIRE_ETRUNC : TP_WIRE_EEOF;
    in->len += (size_t)got;
  }
  *payload = in->data + TP_WIRE_HEADER_SIZE;
  in->head = (size_t)size;
  return 0;
}
