/*
** treehash.h: the tree digest of a plugin directory (docs/formats.md,
** "Tree digest").
**
** A tree is hashed in three steps, so that the steps that take time can
** run on several threads and the tests can attack the gaps between them:
**
**   walk    list the directory without following links; every entry is
**           checked (type, name, depth, counts) and every regular file
**           remembered with its device, inode and size; the list is sorted
**           bytewise and duplicates are refused.
**   hash    SHA-256 of each file's content, read from a descriptor opened
**           beneath the root without following links, and only if that
**           descriptor is the file the walk checked (same device, inode,
**           size, still regular). Several threads may call it at once on
**           the same tree; they share the files out.
**   finish  the listing "<64 hex> <x|-> <path>\n" per file and its SHA-256.
**
** tp_treehash_digest does the three in the calling thread;
** tp_treehash_start does them on the libuv thread pool as an operation of
** core/loop.h. The first failure stops every step and is kept with the
** relative path it concerns and a message naming it. Errors are negative
** codes (TP_TREEHASH_E*).
*/
#ifndef TP_TREEHASH_H
#define TP_TREEHASH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"

#define TP_TREEHASH_SIG_NAME "plugin.sig"   /* excluded at the top level only */
#define TP_TREEHASH_HEX_LEN 64

/* Default bounds (docs/formats.md); each can be overridden. */
#define TP_TREEHASH_MAX_DEPTH 32              /* directories inside directories */
#define TP_TREEHASH_MAX_FILES 100000
#define TP_TREEHASH_MAX_BYTES (1ULL << 30)    /* 1 GiB of file content */
#define TP_TREEHASH_MAX_PATH 4096             /* bytes in one relative path */
/* Hard caps on the overrides: the walk holds one descriptor per level. */
#define TP_TREEHASH_DEPTH_CAP 256
#define TP_TREEHASH_PATH_CAP 65536

/* Error codes. */
#define TP_TREEHASH_ESYMLINK  (-1)   /* a symbolic link in the tree */
#define TP_TREEHASH_ESPECIAL  (-2)   /* a device, fifo, socket; a non-file plugin.sig */
#define TP_TREEHASH_ENAME     (-3)   /* a name that is not UTF-8 or has a control character */
#define TP_TREEHASH_EDUP      (-4)   /* the same path twice */
#define TP_TREEHASH_EDEPTH    (-5)   /* nested deeper than max_depth */
#define TP_TREEHASH_EFILES    (-6)   /* more than max_files files */
#define TP_TREEHASH_EBYTES    (-7)   /* more than max_bytes of content */
#define TP_TREEHASH_EPATH     (-8)   /* a path longer than max_path */
#define TP_TREEHASH_ECHANGED  (-9)   /* the tree changed while it was hashed */
#define TP_TREEHASH_ESYS      (-10)  /* a system call failed (sys_errno) */
#define TP_TREEHASH_ENOMEM    (-11)
#define TP_TREEHASH_ECRYPTO   (-12)  /* OpenSSL failed */
#define TP_TREEHASH_ECANCELED (-13)
#define TP_TREEHASH_EINVAL    (-14)  /* bad limits */

typedef struct tp_treehash_limits {
  unsigned max_depth;    /* 0: files at the top level only */
  uint64_t max_files;
  uint64_t max_bytes;
  size_t max_path;
} tp_treehash_limits;

/* One regular file of the tree. */
typedef struct tp_treehash_file {
  char *path;                 /* relative, '/'-separated, NUL-terminated */
  size_t pathlen;
  dev_t dev;                  /* as the walk saw it */
  ino_t ino;
  uint64_t size;
  unsigned char sha256[32];   /* set by hash */
  int exec;                   /* owner-execute bit of the descriptor hashed */
} tp_treehash_file;

/* What a tree hash produced. Strings belong to the tree. */
typedef struct tp_treehash_result {
  int code;                   /* 0 or TP_TREEHASH_E* */
  int sys_errno;              /* for ESYS (and ECHANGED from open) */
  const char *path;           /* the offending path (raw bytes, "" for the
                              ** root itself), NULL when none */
  size_t pathlen;
  const char *message;        /* names the path, quoted; NULL on success */
  char digest[TP_TREEHASH_HEX_LEN + 1];   /* lowercase hex, "" until finish */
  const char *listing;        /* the canonical listing, NULL until finish */
  size_t listing_len;
  size_t files;
  uint64_t bytes;
} tp_treehash_result;

typedef struct tp_treehash_s tp_treehash_t;

void tp_treehash_limits_default(tp_treehash_limits *lim);
/* 0, or TP_TREEHASH_EINVAL for a bound above its cap or a max_path of 0. */
int tp_treehash_limits_check(const tp_treehash_limits *lim);

/* A tree to hash at dir (links in dir itself are followed, as open(2)
** does; nothing inside it is). lim NULL means the defaults. Returns 0 or
** ENOMEM/ECRYPTO/EINVAL with *out NULL. */
int tp_treehash_new(const char *dir, const tp_treehash_limits *lim, tp_treehash_t **out);
void tp_treehash_free(tp_treehash_t *t);

int tp_treehash_walk(tp_treehash_t *t);
/* Hash files not yet taken by another thread, until none is left or the
** tree failed. Thread-safe against itself on the same tree. */
int tp_treehash_hash(tp_treehash_t *t);
int tp_treehash_finish(tp_treehash_t *t);
/* Stop every step of t soon; the result becomes ECANCELED unless it had
** failed already. Safe from any thread. */
void tp_treehash_cancel(tp_treehash_t *t);
const tp_treehash_result *tp_treehash_result_of(const tp_treehash_t *t);
/* The files the walk found, sorted by path. */
const tp_treehash_file *tp_treehash_files(const tp_treehash_t *t, size_t *n);

/* new + walk + hash + finish in the calling thread. Returns the result
** code; *out is the tree (free it) unless new itself failed. */
int tp_treehash_digest(const char *dir, const tp_treehash_limits *lim, tp_treehash_t **out);

/* The pieces, for the tests and for anyone who builds a listing. */

/* NULL if name (one path component) is acceptable, else why not. */
const char *tp_treehash_name_problem(const char *name, size_t len);
/* Sort files by path bytewise. Returns 0, or EDUP with *dup the index
** (after sorting) of the second of two equal paths. */
int tp_treehash_sort(tp_treehash_file *files, size_t n, size_t *dup);
/* Open path (relative, '/'-separated, no "." or ".." components) beneath
** the directory rootfd for reading, refusing a symbolic link anywhere in
** it: openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or with
** use_openat2 == 0 (or where the kernel or a seccomp filter refuses
** openat2) one O_NOFOLLOW openat per component. Returns a descriptor or
** -errno (ELOOP for a link). */
int tp_treehash_open_beneath(int rootfd, const char *path, int use_openat2);
/* Write s (len bytes) quoted into out: "...", with \" \\ \n \t \r and
** \xNN for other control characters and bytes that are not UTF-8. Returns
** the length it needed (as snprintf). */
size_t tp_treehash_quote(char *out, size_t cap, const char *s, size_t len);

/* The tree hash as an operation of the loop: walk and hash on the libuv
** thread pool (jobs threads hash at once, at most one per file), the
** operation completes when the result is ready or the tree failed. */
typedef struct tp_treehash_op_s {
  tp_loop_op_t op;            /* first: a tp_loop_op_t * is a tp_treehash_op_t * */
  tp_treehash_t *tree;
  unsigned jobs;              /* hashing requests queued after the walk */
  unsigned pending;           /* requests whose after_work has not run (loop thread) */
  _Atomic unsigned active;    /* hashing requests still running (any thread) */
  uv_work_t walk;
  uv_work_t *work;            /* jobs requests */
  unsigned char *queued;      /* per request: submitted, after_work not yet run */
  int walk_queued;
} tp_treehash_op_t;

/* jobs 0 means one per available CPU. On success *out belongs to the
** caller, who ends it with tp_loop_op_release(&(*out)->op). */
int tp_treehash_start(tp_loop_t *lp, const char *dir, const tp_treehash_limits *lim,
                      unsigned jobs, tp_treehash_op_t **out);

#endif
