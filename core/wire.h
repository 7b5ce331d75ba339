/*
** wire.h: the worker wire format (docs/formats.md, "Worker wire format").
**
** The host and a sandbox worker talk over an AF_UNIX SOCK_STREAM socket in
** frames: a 12-byte header ("TPW1", type, flags, reserved, payload length)
** and a payload holding exactly one encoded value (nil, booleans, int64,
** doubles, strings, tables of those). Each side decodes what the other
** sends as untrusted input, so the decoder checks every count against the
** bytes that remain before anything is allocated, and accepts only the
** canonical encoding: one value has one byte string, which is what the
** encoder writes (keys of a table sorted by their encoded bytes, the
** array part exactly the keys 1..n that are present, every NaN written
** as 0x7FF8000000000000). That makes
** duplicate keys detectable with no memory beyond one level per table.
**
** This file knows nothing of Lua. It has:
**   - the frame header (encode, decode, split a stream into frames);
**   - a byte buffer that grows, or a fixed one for a signal handler;
**   - writers of single values into a buffer (C callers write tables in
**     canonical order themselves; tp_wire_key_cmp says what that is);
**   - a tokenizer that reads a payload value by value, checking every
**     rule as it goes (core/lua/l_wire.c builds Lua values from it);
**   - blocking send and receive of whole frames on a descriptor.
**
** Errors are negative codes (TP_WIRE_E*), with a byte offset and a text.
*/
#ifndef TP_WIRE_H
#define TP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define TP_WIRE_MAGIC "TPW1"
#define TP_WIRE_HEADER_SIZE 12

/* Frame types (the u8 after the magic). */
#define TP_WIRE_SETUP     1    /* host -> worker, first frame */
#define TP_WIRE_READY     2    /* worker -> host, answer to SETUP */
#define TP_WIRE_CALL      3    /* host -> worker */
#define TP_WIRE_RESULT    4    /* worker -> host, answer to CALL */
#define TP_WIRE_ERROR     5    /* worker -> host, instead of READY or RESULT */
#define TP_WIRE_VIOLATION 6    /* worker -> host, from the SIGSYS handler */
#define TP_WIRE_BYE       7    /* host -> worker: exit */
#define TP_WIRE_STATS     8    /* host -> worker (request), worker -> host (answer) */
#define TP_WIRE_TYPE_MAX  8

/* Value tags (the first byte of every encoded value). */
#define TP_WIRE_NIL    0x00
#define TP_WIRE_FALSE  0x01
#define TP_WIRE_TRUE   0x02
#define TP_WIRE_INT    0x03    /* 8 bytes, two's complement, little-endian */
#define TP_WIRE_FLOAT  0x04    /* 8 bytes, IEEE 754 binary64 bits, little-endian */
#define TP_WIRE_STRING 0x05    /* u32 LE length, then the bytes */
#define TP_WIRE_TABLE  0x06    /* u32 LE array count, u32 LE pair count, values, pairs */
#define TP_WIRE_END    0x07    /* not a tag: the token that closes a table */

/* Default and maximum limits (tp_wire_limits). */
#define TP_WIRE_MAX_BYTES   (16u << 20)   /* payload bytes of one frame */
#define TP_WIRE_MAX_DEPTH   64            /* tables inside tables; the top table is 1 */
#define TP_WIRE_MAX_VALUES  1000000       /* values in one payload, keys and tables included */
#define TP_WIRE_BYTES_CAP   0xFFFFFFFFu   /* the length field is a u32 */
#define TP_WIRE_DEPTH_CAP   200

/* Error codes. */
#define TP_WIRE_ETRUNC   (-1)   /* the data ends inside a header or a value */
#define TP_WIRE_ETAG     (-2)   /* an unknown value tag */
#define TP_WIRE_ETRAIL   (-3)   /* bytes after the value */
#define TP_WIRE_ECOUNT   (-4)   /* a table's counts promise more values than bytes remain */
#define TP_WIRE_EDEPTH   (-5)   /* tables nested deeper than max_depth */
#define TP_WIRE_EVALUES  (-6)   /* more than max_values values */
#define TP_WIRE_EBYTES   (-7)   /* a payload, or a string in it, longer than max_bytes */
#define TP_WIRE_EKEY     (-8)   /* a key that cannot be one (nil, table, NaN, an integral
                                ** float, an integer that belongs in the array part) */
#define TP_WIRE_EDUP     (-9)   /* the same key twice in one table */
#define TP_WIRE_EORDER   (-10)  /* keys not in canonical order */
#define TP_WIRE_ENIL     (-11)  /* nil as a value inside a table */
#define TP_WIRE_EMAGIC   (-12)  /* a header that does not start with "TPW1" */
#define TP_WIRE_ETYPE    (-13)  /* an unknown frame type */
#define TP_WIRE_EHEADER  (-14)  /* flags or reserved bits set */
#define TP_WIRE_EVALUE   (-15)  /* encode: a function, userdata or thread */
#define TP_WIRE_ECYCLE   (-16)  /* encode: a table that contains itself */
#define TP_WIRE_EMETA    (-17)  /* encode: a table with a metatable */
#define TP_WIRE_ENOMEM   (-18)  /* out of memory, or a fixed buffer is full */
#define TP_WIRE_EINVAL   (-19)  /* bad limits or arguments */
#define TP_WIRE_EIO      (-20)  /* a system call failed (errno) */
#define TP_WIRE_EEOF     (-21)  /* the peer closed the channel between frames */
#define TP_WIRE_ENAN     (-22)  /* a NaN float other than the canonical 0x7FF8000000000000 */

typedef struct tp_wire_limits {
  size_t max_bytes;     /* payload bytes; also bounds every string; <= BYTES_CAP */
  unsigned max_depth;   /* <= DEPTH_CAP */
  size_t max_values;    /* every value counts one: keys, array values, tables */
} tp_wire_limits;

void tp_wire_limits_default(tp_wire_limits *lim);
/* 0, or EINVAL for a bound above its cap or max_values 0 (the value
** itself counts one). */
int tp_wire_limits_check(const tp_wire_limits *lim);
/* A short English text for a code: "truncated", "keys out of order"... */
const char *tp_wire_strerror(int code);
/* "SETUP" ... "STATS", or NULL for an unknown type. */
const char *tp_wire_type_name(int type);
/* The type named (exact upper case), or 0. */
int tp_wire_type_of(const char *name);

/* ---- frame header -------------------------------------------------- */

typedef struct tp_wire_header {
  uint8_t type;
  uint8_t flags;        /* none defined: always 0 in version 1 */
  uint32_t length;      /* payload bytes after the header */
} tp_wire_header;

void tp_wire_header_encode(uint8_t out[TP_WIRE_HEADER_SIZE], uint8_t type, uint32_t length);
/* Decode the header at p (n bytes available). 0, or ETRUNC (n < 12 and
** the bytes there are right so far),
** EMAGIC, ETYPE, EHEADER (flags or reserved not 0), EBYTES (length over
** lim->max_bytes; lim NULL: the defaults). h is filled whenever the
** first 12 bytes are there, also on failure. */
int tp_wire_header_decode(const uint8_t *p, size_t n, const tp_wire_limits *lim,
                          tp_wire_header *h);
/* For a stream: the size of the complete frame at the start of p (header
** and payload), 0 when more bytes are needed (h is filled once the header
** is there, so the caller knows how much), or a header error. */
long long tp_wire_frame_split(const uint8_t *p, size_t n, const tp_wire_limits *lim,
                              tp_wire_header *h);

/* ---- buffer ---------------------------------------------------------- */

/* Bytes being written (data[0..len)) and, for tp_wire_recv, being read
** (data[head..len) not consumed yet). A growing buffer keeps its memory
** between uses (reset only rewinds); a fixed one lives in the caller's
** storage and fails with ENOMEM when full, so writing into it allocates
** nothing and is async-signal-safe. The span fields are the encoder's
** scratch (core/lua/l_wire.c), reused across calls. */
typedef struct tp_wire_span { size_t off, klen, plen; } tp_wire_span;

typedef struct tp_wire_buf {
  uint8_t *data;
  size_t len, cap, head;
  int fixed;
  tp_wire_span *spans;
  size_t nspans, capspans;
} tp_wire_buf;

void tp_wire_buf_init(tp_wire_buf *b);
void tp_wire_buf_fixed(tp_wire_buf *b, void *mem, size_t cap);
void tp_wire_buf_free(tp_wire_buf *b);
/* len = head = 0; keeps the memory. */
void tp_wire_buf_reset(tp_wire_buf *b);
/* Room for n more bytes after len. 0 or ENOMEM. */
int tp_wire_buf_reserve(tp_wire_buf *b, size_t n);
/* Release memory above keep bytes (after an unusually large frame). */
void tp_wire_buf_shrink(tp_wire_buf *b, size_t keep);

/* ---- writing --------------------------------------------------------- */

/* A frame is written as begin, its one value, end: begin appends a header
** whose length end fills in (and checks against lim->max_bytes, EBYTES;
** on failure end removes the frame from b). *start receives the frame's
** offset in b. Several frames may follow each other in one buffer. */
int tp_wire_frame_begin(tp_wire_buf *b, uint8_t type, size_t *start);
int tp_wire_frame_end(tp_wire_buf *b, size_t start, const tp_wire_limits *lim);

/* One value each. A table is put_table(narr, npairs) followed by narr
** values and then npairs key/value pairs, keys in canonical order (see
** tp_wire_key_cmp) and never nil; the tokenizer refuses anything else.
** 0 or ENOMEM. */
int tp_wire_put_nil(tp_wire_buf *b);
int tp_wire_put_bool(tp_wire_buf *b, int v);
int tp_wire_put_int(tp_wire_buf *b, int64_t v);
int tp_wire_put_float(tp_wire_buf *b, double v);
int tp_wire_put_string(tp_wire_buf *b, const void *s, size_t len);
int tp_wire_put_table(tp_wire_buf *b, uint32_t narr, uint32_t npairs);

/* Canonical key order: keys compare as their encoded bytes (tag first),
** unsigned, bytewise. Encodings are self-delimiting, so two different
** keys always differ within the shorter one. <0, 0, >0. */
int tp_wire_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* ---- reading: the tokenizer ----------------------------------------- */

/* Where a token sits in its table. */
#define TP_WIRE_ROLE_TOP   0    /* the payload's value itself */
#define TP_WIRE_ROLE_ITEM  1    /* array part; index is its key (1-based) */
#define TP_WIRE_ROLE_KEY   2
#define TP_WIRE_ROLE_VALUE 3    /* of the key just before */

typedef struct tp_wire_token {
  int kind;                 /* a value tag, or TP_WIRE_END */
  int role;                 /* for END: the role of the table it closes */
  uint32_t index;           /* ROLE_ITEM: the array index */
  size_t pos;               /* offset of the tag (END: just after the table) */
  size_t size;              /* encoded bytes of the value (tables: header only) */
  union {
    int64_t i;
    double d;
    struct { const char *p; size_t len; } s;
    struct { uint32_t narr, npairs; } t;
  } u;
} tp_wire_token;

typedef struct tp_wire_level {
  uint32_t narr, npairs;      /* counts of the open table */
  uint32_t items, pairs;      /* read so far */
  int want_value;             /* a key was read, its value is next */
  int role;                   /* of the table itself in its parent */
  uint32_t index;
  size_t prev_key, prev_klen; /* the last key's encoding, for the order */
} tp_wire_level;

typedef struct tp_wire_reader {
  const uint8_t *p;
  size_t len, pos;
  tp_wire_limits lim;
  size_t values;              /* counted, including those announced by open tables */
  size_t owed;                /* bytes open tables still need at least */
  unsigned depth;             /* open tables */
  int started;
  int code;                   /* the first error, sticky */
  size_t err_pos;
  char err[160];
  tp_wire_level stack[TP_WIRE_DEPTH_CAP + 1];
} tp_wire_reader;

/* Read the value in data[0..len). lim NULL: the defaults (an invalid lim
** makes the first tp_wire_next fail with EINVAL). */
void tp_wire_reader_init(tp_wire_reader *r, const void *data, size_t len,
                         const tp_wire_limits *lim);
/* The next token, in pre-order: a scalar, or a TABLE whose items and
** pairs follow, closed by an END token. Returns 1 with *t filled, 0 once
** the whole value has been read and nothing follows it, or an error code
** (then r->err_pos is the offset of the offending byte and r->err says
** what and where; every later call returns the same code). */
int tp_wire_next(tp_wire_reader *r, tp_wire_token *t);
/* Check a whole payload without building anything. 0 or the error; on
** error *err_pos (if not NULL) is its offset and msg (if not NULL) gets
** the text. */
int tp_wire_validate(const void *data, size_t len, const tp_wire_limits *lim,
                     size_t *err_pos, char *msg, size_t msglen);

/* ---- blocking I/O on a descriptor ------------------------------------ */

/* Write all n bytes (send with MSG_NOSIGNAL on a socket, so a closed peer
** is EPIPE, not a signal; write otherwise). EINTR is retried. 0, or EIO
** with *sys_errno set. */
int tp_wire_send(int fd, const void *p, size_t n, int *sys_errno);
/* Read one frame into in, which keeps bytes read past it for the next
** call (so keep one buffer per channel). On success h is the header and
** *payload points to h->length bytes inside in, valid until the next call.
** EEOF when the peer closed between frames, ETRUNC inside one, a header
** error, or EIO with *sys_errno. */
int tp_wire_recv(int fd, tp_wire_buf *in, const tp_wire_limits *lim, tp_wire_header *h,
                 const uint8_t **payload, int *sys_errno);

#endif
