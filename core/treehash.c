/*
** treehash.c: the tree digest of a plugin directory. See treehash.h for
** the steps and docs/formats.md ("Tree digest") for the bytes.
**
** Race-freedom is the point of most of what follows. The walk never
** resolves a name twice: each directory is read through a descriptor
** opened with O_NOFOLLOW relative to its parent's, and each entry is
** classified with fstatat(AT_SYMLINK_NOFOLLOW) relative to that same
** descriptor. The hash step opens each file again (there may be more files
** than descriptors), beneath the root and refusing links anywhere in the
** path, then checks on the open descriptor that it is the regular file the
** walk accepted (device, inode, size). What is hashed is read from that
** descriptor only, so the content hashed is the content checked.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "treehash.h"

/* Per read. With the bench's tree (scripts/bench/treehash.sh) the rate is
** flat from 128 KiB up and 2-5% lower at 64 KiB. */
#define READ_BLOCK (256 * 1024)

struct tp_treehash_s {
  char *dir;
  int rootfd;                  /* -1 until the walk opened it */
  tp_treehash_limits lim;
  EVP_MD *md;                  /* fetched once, shared by the threads */
  tp_treehash_file *files;     /* sorted by path after the walk */
  size_t nfiles, capfiles;
  tp_treehash_file **order;    /* hashing order: largest first */
  atomic_size_t next;          /* next index of order to hash */
  atomic_int stop;             /* set by the first failure or a cancel */
  atomic_int claimed;          /* the failure that owns the result */
  atomic_int code;             /* its code, readable while others write res */
  tp_treehash_result res;
  char *errpath;               /* res.path, owned */
  char *message;               /* res.message, owned */
  char *listing;               /* res.listing, owned */
};

/* ---- limits --------------------------------------------------------- */

void tp_treehash_limits_default(tp_treehash_limits *lim) {
  lim->max_depth = TP_TREEHASH_MAX_DEPTH;
  lim->max_files = TP_TREEHASH_MAX_FILES;
  lim->max_bytes = TP_TREEHASH_MAX_BYTES;
  lim->max_path = TP_TREEHASH_MAX_PATH;
}

int tp_treehash_limits_check(const tp_treehash_limits *lim) {
  if (lim->max_depth > TP_TREEHASH_DEPTH_CAP) return TP_TREEHASH_EINVAL;
  if (lim->max_path == 0 || lim->max_path > TP_TREEHASH_PATH_CAP) return TP_TREEHASH_EINVAL;
  return 0;
}

/* ---- names and quoting ---------------------------------------------- */

/* Length of the UTF-8 sequence at s (at most n bytes) and its code point,
** or 0 if it is not well formed (RFC 3629: no overlong forms, no
** surrogates, nothing above U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  uint32_t c = s[0], min;
  size_t len;
  if (c < 0x80) { *cp = c; return 1; }
  if (c >= 0xC2 && c <= 0xDF) { len = 2; c &= 0x1F; min = 0x80; }
  else if (c >= 0xE0 && c <= 0xEF) { len = 3; c &= 0x0F; min = 0x800; }
  else if (c >= 0xF0 && c <= 0xF4) { len = 4; c &= 0x07; min = 0x10000; }
  else return 0;
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (s[i] & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return len;
}

/* C0 controls, DEL and the C1 controls: invisible, and LF would split a
** line of the listing. */
static int is_control(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

const char *tp_treehash_name_problem(const char *name, size_t len) {
  const unsigned char *s = (const unsigned char *)name;
  size_t i = 0;
  if (len == 0) return "has an empty name";
  while (i < len) {
    uint32_t cp;
    size_t k = utf8_decode(s + i, len - i, &cp);
    if (k == 0) return "has a name that is not valid UTF-8";
    if (cp == 0 || cp == '/') return "has a name with a NUL or '/' byte";
    if (is_control(cp)) return "has a name with a control character";
    i += k;
  }
  return NULL;
}

/* Append to out (cap bytes, pos so far) without overflowing; the count
** goes on so the caller learns the length needed. */
static void put(char *out, size_t cap, size_t *pos, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++, (*pos)++)
    if (*pos + 1 < cap) out[*pos] = s[i];
}

size_t tp_treehash_quote(char *out, size_t cap, const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  size_t pos = 0, i = 0;
  put(out, cap, &pos, "\"", 1);
  while (i < len) {
    uint32_t cp;
    size_t k = utf8_decode(s + i, len - i, &cp);
    char esc[8];
    if (k == 0 || is_control(cp)) {
      const char *named = s[i] == '\n' ? "\\n" : s[i] == '\t' ? "\\t" : s[i] == '\r' ? "\\r" : NULL;
      if (named) put(out, cap, &pos, named, 2);
      else {
        snprintf(esc, sizeof esc, "\\x%02x", s[i]);
        put(out, cap, &pos, esc, 4);
      }
      i++;                     /* byte by byte: a C1 control is two \x */
      continue;
    }
    if (cp == '"' || cp == '\\') put(out, cap, &pos, "\\", 1);
    put(out, cap, &pos, (const char *)s + i, k);
    i += k;
  }
  put(out, cap, &pos, "\"", 1);
  if (cap > 0) out[pos < cap ? pos : cap - 1] = '\0';
  return pos;
}

/* ---- failures ------------------------------------------------------- */

/* Record the first failure: code, errno, the path it concerns (NULL: the
** root directory itself) and a message "<quoted path> <text>". Later
** failures (other threads, or the ones a stop causes) are dropped.
** Returns code. */
static int fail(tp_treehash_t *t, int code, int err, const char *path, size_t pathlen,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail(tp_treehash_t *t, int code, int err, const char *path, size_t pathlen,
                const char *fmt, ...) {
  int expected = 0;
  char text[256];
  const char *shown = path ? path : t->dir;
  size_t shownlen = path ? pathlen : strlen(t->dir), qlen;
  va_list ap;
  atomic_store(&t->stop, 1);
  if (!atomic_compare_exchange_strong(&t->claimed, &expected, 1)) return code;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  atomic_store(&t->code, code);
  t->res.code = code;
  t->res.sys_errno = err;
  t->errpath = malloc(pathlen + 1);
  if (t->errpath && path) {
    memcpy(t->errpath, path, pathlen);
    t->errpath[pathlen] = '\0';
    t->res.path = t->errpath;
    t->res.pathlen = pathlen;
  } else if (t->errpath) {
    t->errpath[0] = '\0';
    t->res.path = t->errpath;
    t->res.pathlen = 0;
  }
  qlen = tp_treehash_quote(NULL, 0, shown, shownlen);
  t->message = malloc(qlen + 1 + strlen(text) + 1);
  if (t->message) {
    tp_treehash_quote(t->message, qlen + 1, shown, shownlen);
    t->message[qlen] = ' ';
    strcpy(t->message + qlen + 1, text);
  }
  t->res.message = t->message ? t->message : "the tree could not be hashed (out of memory)";
  return code;
}

/* A failed system call: the message carries the call's meaning and the
** system's text. */
static int fail_sys(tp_treehash_t *t, int err, const char *path, size_t pathlen, const char *what) {
  char buf[128];
  const char *msg = strerror_r(err, buf, sizeof buf);
  return fail(t, TP_TREEHASH_ESYS, err, path, pathlen, "%s: %s", what, msg);
}

static int failed(tp_treehash_t *t) {
  return atomic_load(&t->stop);
}

/* The code a step returns once the tree has stopped. */
static int stop_code(tp_treehash_t *t) {
  int code = atomic_load(&t->code);
  return code < 0 ? code : TP_TREEHASH_ECANCELED;
}

void tp_treehash_cancel(tp_treehash_t *t) {
  fail(t, TP_TREEHASH_ECANCELED, 0, NULL, 0, "was not hashed: the tree hash was cancelled");
}

/* ---- the tree ------------------------------------------------------- */

int tp_treehash_new(const char *dir, const tp_treehash_limits *lim, tp_treehash_t **out) {
  tp_treehash_t *t;
  *out = NULL;
  if (lim && tp_treehash_limits_check(lim) < 0) return TP_TREEHASH_EINVAL;
  t = calloc(1, sizeof *t);
  if (t == NULL) return TP_TREEHASH_ENOMEM;
  t->rootfd = -1;
  if (lim) t->lim = *lim; else tp_treehash_limits_default(&t->lim);
  atomic_init(&t->next, 0);
  atomic_init(&t->stop, 0);
  atomic_init(&t->claimed, 0);
  atomic_init(&t->code, 0);
  t->dir = strdup(dir);
  if (t->dir == NULL) {
    free(t);
    return TP_TREEHASH_ENOMEM;
  }
  /* One explicit fetch: EVP_sha256() would look the algorithm up again
  ** at every EVP_DigestInit, under a lock the threads would share. */
  t->md = EVP_MD_fetch(NULL, "SHA256", NULL);
  if (t->md == NULL) {
    tp_treehash_free(t);
    return TP_TREEHASH_ECRYPTO;
  }
  *out = t;
  return 0;
}

void tp_treehash_free(tp_treehash_t *t) {
  if (t == NULL) return;
  if (t->rootfd >= 0) close(t->rootfd);
  for (size_t i = 0; i < t->nfiles; i++) free(t->files[i].path);
  free(t->files);
  free(t->order);
  EVP_MD_free(t->md);
  free(t->errpath);
  free(t->message);
  free(t->listing);
  free(t->dir);
  free(t);
}

const tp_treehash_result *tp_treehash_result_of(const tp_treehash_t *t) {
  return &t->res;
}

const tp_treehash_file *tp_treehash_files(const tp_treehash_t *t, size_t *n) {
  *n = t->nfiles;
  return t->files;
}

/* ---- walk ----------------------------------------------------------- */

typedef struct walker {
  tp_treehash_t *t;
  char *path;          /* the current relative path, built in place */
  size_t cap;
} walker;

static const char *kind_of(mode_t m) {
  if (S_ISFIFO(m)) return "a fifo";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISDIR(m)) return "a directory";
  return "of an unknown file type";
}

static int add_file(walker *w, size_t plen, const struct stat *st) {
  tp_treehash_t *t = w->t;
  tp_treehash_file *f;
  if (t->nfiles >= t->lim.max_files)
    return fail(t, TP_TREEHASH_EFILES, 0, w->path, plen,
                "is one file more than the limit of %llu files (max_files)",
                (unsigned long long)t->lim.max_files);
  if ((uint64_t)st->st_size > t->lim.max_bytes - t->res.bytes)
    return fail(t, TP_TREEHASH_EBYTES, 0, w->path, plen,
                "brings the tree over its limit of %llu bytes (max_bytes)",
                (unsigned long long)t->lim.max_bytes);
  if (t->nfiles == t->capfiles) {
    size_t cap = t->capfiles ? t->capfiles * 2 : 64;
    tp_treehash_file *nf = realloc(t->files, cap * sizeof *nf);
    if (nf == NULL) return fail(t, TP_TREEHASH_ENOMEM, ENOMEM, w->path, plen, "could not be listed: out of memory");
    t->files = nf;
    t->capfiles = cap;
  }
  f = &t->files[t->nfiles];
  memset(f, 0, sizeof *f);
  f->path = malloc(plen + 1);
  if (f->path == NULL) return fail(t, TP_TREEHASH_ENOMEM, ENOMEM, w->path, plen, "could not be listed: out of memory");
  memcpy(f->path, w->path, plen);
  f->path[plen] = '\0';
  f->pathlen = plen;
  f->dev = st->st_dev;
  f->ino = st->st_ino;
  f->size = (uint64_t)st->st_size;
  t->nfiles++;
  t->res.files = t->nfiles;
  t->res.bytes += f->size;
  return 0;
}

static int walk_dir(walker *w, int dfd, size_t len, unsigned depth);

/* Open the subdirectory name of dfd, make sure it is the directory fstatat
** saw, and walk it. */
static int enter_dir(walker *w, int dfd, const char *name, size_t plen, unsigned depth,
                     const struct stat *seen) {
  tp_treehash_t *t = w->t;
  struct stat st;
  int fd;
  if (depth + 1 > t->lim.max_depth)
    return fail(t, TP_TREEHASH_EDEPTH, 0, w->path, plen,
                "is nested deeper than %u directories (max_depth)", t->lim.max_depth);
  fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP || errno == ENOTDIR || errno == ENOENT)
      return fail(t, TP_TREEHASH_ECHANGED, errno, w->path, plen,
                  "changed while the tree was listed (a directory was replaced)");
    return fail_sys(t, errno, w->path, plen, "cannot open the directory");
  }
  if (fstat(fd, &st) != 0 || st.st_dev != seen->st_dev || st.st_ino != seen->st_ino) {
    close(fd);
    return fail(t, TP_TREEHASH_ECHANGED, 0, w->path, plen,
                "changed while the tree was listed (a directory was replaced)");
  }
  w->path[plen] = '/';
  return walk_dir(w, fd, plen + 1, depth + 1);
}

/* One entry of the directory dfd, whose path is w->path[0 .. len). */
static int visit(walker *w, int dfd, size_t len, unsigned depth, const char *name) {
  tp_treehash_t *t = w->t;
  size_t nlen = strlen(name), plen = len + nlen;
  const char *problem;
  struct stat st;
  /* The buffer holds max_path + a whole name, so the path always fits and
  ** the messages below can name it. */
  memcpy(w->path + len, name, nlen);
  w->path[plen] = '\0';
  if ((problem = tp_treehash_name_problem(name, nlen)) != NULL)
    return fail(t, TP_TREEHASH_ENAME, 0, w->path, plen, "%s", problem);
  if (plen > t->lim.max_path)
    return fail(t, TP_TREEHASH_EPATH, 0, w->path, plen,
                "has a path longer than %zu bytes (max_path)", t->lim.max_path);
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT)
      return fail(t, TP_TREEHASH_ECHANGED, errno, w->path, plen,
                  "changed while the tree was listed (it disappeared)");
    return fail_sys(t, errno, w->path, plen, "cannot stat");
  }
  if (depth == 0 && strcmp(name, TP_TREEHASH_SIG_NAME) == 0 && S_ISREG(st.st_mode))
    return 0;                  /* the signatures are not part of what they sign */
  if (S_ISLNK(st.st_mode))
    return fail(t, TP_TREEHASH_ESYMLINK, 0, w->path, plen,
                "is a symbolic link; a plugin tree holds only regular files and directories");
  if (depth == 0 && strcmp(name, TP_TREEHASH_SIG_NAME) == 0)
    return fail(t, TP_TREEHASH_ESPECIAL, 0, w->path, plen,
                "is %s; the top-level plugin.sig must be a regular file", kind_of(st.st_mode));
  if (S_ISDIR(st.st_mode)) return enter_dir(w, dfd, name, plen, depth, &st);
  if (S_ISREG(st.st_mode)) return add_file(w, plen, &st);
  return fail(t, TP_TREEHASH_ESPECIAL, 0, w->path, plen,
              "is %s; a plugin tree holds only regular files and directories",
              kind_of(st.st_mode));
}

/* Walk the directory dfd (closed here) whose path prefix, with its final
** '/', is w->path[0 .. len). */
static int walk_dir(walker *w, int dfd, size_t len, unsigned depth) {
  tp_treehash_t *t = w->t;
  DIR *d = fdopendir(dfd);
  int r = 0;
  size_t shown = len ? len - 1 : 0;   /* without the final '/' */
  if (d == NULL) {
    int e = errno;
    close(dfd);
    return fail_sys(t, e, len ? w->path : NULL, shown, "cannot read the directory");
  }
  for (;;) {
    struct dirent *e;
    errno = 0;
    if ((e = readdir(d)) == NULL) {
      if (errno != 0) {
        w->path[shown] = '\0';
        r = fail_sys(t, errno, len ? w->path : NULL, shown, "cannot read the directory");
      }
      break;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (failed(t)) {
      r = stop_code(t);
      break;
    }
    if ((r = visit(w, dirfd(d), len, depth, e->d_name)) < 0) break;
  }
  closedir(d);
  return r;
}

static int cmp_path(const void *a, const void *b) {
  const tp_treehash_file *x = a, *y = b;
  return strcmp(x->path, y->path);    /* unsigned bytes: LC_ALL=C sort */
}

int tp_treehash_sort(tp_treehash_file *files, size_t n, size_t *dup) {
  if (n > 1) qsort(files, n, sizeof *files, cmp_path);
  for (size_t i = 1; i < n; i++) {
    if (files[i].pathlen == files[i - 1].pathlen &&
        memcmp(files[i].path, files[i - 1].path, files[i].pathlen) == 0) {
      if (dup) *dup = i;
      return TP_TREEHASH_EDUP;
    }
  }
  return 0;
}

static int cmp_size_desc(const void *a, const void *b) {
  const tp_treehash_file *x = *(tp_treehash_file *const *)a, *y = *(tp_treehash_file *const *)b;
  if (x->size != y->size) return x->size < y->size ? 1 : -1;
  return x < y ? -1 : x > y;
}

/* Sort, refuse duplicates, and order the hashing largest first so that
** the threads finish together. */
static int order_files(tp_treehash_t *t) {
  size_t dup;
  if (tp_treehash_sort(t->files, t->nfiles, &dup) < 0)
    return fail(t, TP_TREEHASH_EDUP, 0, t->files[dup].path, t->files[dup].pathlen,
                "is listed twice");
  t->order = malloc((t->nfiles ? t->nfiles : 1) * sizeof *t->order);
  if (t->order == NULL) return fail(t, TP_TREEHASH_ENOMEM, ENOMEM, NULL, 0, "could not be listed: out of memory");
  for (size_t i = 0; i < t->nfiles; i++) t->order[i] = &t->files[i];
  if (t->nfiles > 1) qsort(t->order, t->nfiles, sizeof *t->order, cmp_size_desc);
  return 0;
}

int tp_treehash_walk(tp_treehash_t *t) {
  walker w;
  int fd, r;
  if (failed(t)) return stop_code(t);
  if (t->rootfd >= 0) return TP_TREEHASH_EINVAL;     /* walked already */
  /* The root as given (links in its path followed): the caller names it. */
  t->rootfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (t->rootfd < 0) return fail_sys(t, errno, NULL, 0, "cannot open the directory");
  /* The walk consumes its descriptor; the root one stays for hashing. */
  fd = fcntl(t->rootfd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return fail_sys(t, errno, NULL, 0, "cannot open the directory");
  w.t = t;
  w.cap = t->lim.max_path + 256 + 2;   /* a path, a name of up to 255 bytes, '/' */
  w.path = malloc(w.cap);
  if (w.path == NULL) {
    close(fd);
    return fail(t, TP_TREEHASH_ENOMEM, ENOMEM, NULL, 0, "could not be listed: out of memory");
  }
  w.path[0] = '\0';
  r = walk_dir(&w, fd, 0, 0);
  free(w.path);
  if (r < 0) return r;
  if (failed(t)) return stop_code(t);
  return order_files(t);
}

/* ---- hash ----------------------------------------------------------- */

/* Component by component, each opened with O_NOFOLLOW relative to the
** previous one. */
static int open_by_components(int rootfd, const char *path, int flags) {
  char *copy = strdup(path), *p, *slash;
  int dfd = rootfd, fd;
  if (copy == NULL) return -ENOMEM;
  for (p = copy; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
    *slash = '\0';
    fd = openat(dfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) fd = -errno;
    /* O_DIRECTORY wins over O_NOFOLLOW: a link says ENOTDIR here. Say
    ** ELOOP, as openat2 does, so a link is told from a file. */
    if (fd == -ENOTDIR) {
      struct stat st;
      if (fstatat(dfd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) fd = -ELOOP;
    }
    if (dfd != rootfd) close(dfd);
    if (fd < 0) {
      free(copy);
      return fd;
    }
    dfd = fd;
  }
  fd = openat(dfd, p, flags | O_NOFOLLOW);
  if (fd < 0) fd = -errno;
  if (dfd != rootfd) close(dfd);
  free(copy);
  return fd;
}

/* Set once openat2 turns out to be missing or filtered. */
static atomic_int no_openat2;

int tp_treehash_open_beneath(int rootfd, const char *path, int use_openat2) {
  /* O_NONBLOCK: a fifo swapped in after the walk must not hang the open;
  ** the fstat that follows refuses it. */
  int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  if (use_openat2 && !atomic_load(&no_openat2)) {
    struct open_how how;
    long fd;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_NOFOLLOW);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    if (fd >= 0) return (int)fd;
    /* ENOSYS: an older kernel; EPERM: a seccomp filter (containers);
    ** EINVAL/E2BIG: flags this kernel does not know. The fallback is as
    ** strict, only slower. */
    if (errno != ENOSYS && errno != EPERM && errno != EINVAL && errno != E2BIG) return -errno;
    atomic_store(&no_openat2, 1);
  }
  return open_by_components(rootfd, path, flags);
}

/* Hash one file into f->sha256 from a descriptor that is the file the
** walk accepted. */
static int hash_file(tp_treehash_t *t, tp_treehash_file *f, EVP_MD_CTX *ctx, unsigned char *buf) {
  struct stat st;
  uint64_t total = 0;
  int fd = tp_treehash_open_beneath(t->rootfd, f->path, 1), r = 0;
  if (fd < 0) {
    int e = -fd;
    if (e == ELOOP)
      return fail(t, TP_TREEHASH_ESYMLINK, e, f->path, f->pathlen,
                  "changed while the tree was hashed (a symbolic link appeared in its path)");
    if (e == ENOENT || e == ENOTDIR || e == EXDEV)
      return fail(t, TP_TREEHASH_ECHANGED, e, f->path, f->pathlen,
                  "changed while the tree was hashed (it disappeared)");
    return fail_sys(t, e, f->path, f->pathlen, "cannot open");
  }
  if (fstat(fd, &st) != 0) {
    r = fail_sys(t, errno, f->path, f->pathlen, "cannot stat");
  } else if (!S_ISREG(st.st_mode) || st.st_dev != f->dev || st.st_ino != f->ino) {
    r = fail(t, TP_TREEHASH_ECHANGED, 0, f->path, f->pathlen,
             "changed while the tree was hashed (it was replaced by another file)");
  } else if ((uint64_t)st.st_size != f->size) {
    r = fail(t, TP_TREEHASH_ECHANGED, 0, f->path, f->pathlen,
             "changed while the tree was hashed (its size changed)");
  }
  if (r < 0) {
    close(fd);
    return r;
  }
  f->exec = (st.st_mode & S_IXUSR) != 0;
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (!EVP_DigestInit_ex2(ctx, t->md, NULL)) r = fail(t, TP_TREEHASH_ECRYPTO, 0, f->path, f->pathlen, "could not be hashed: OpenSSL failed");
  while (r == 0) {
    ssize_t n = read(fd, buf, READ_BLOCK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) r = fail_sys(t, errno, f->path, f->pathlen, "cannot read");
    else if (n == 0) break;
    else if ((total += (uint64_t)n) > f->size)
      r = fail(t, TP_TREEHASH_ECHANGED, 0, f->path, f->pathlen,
               "changed while the tree was hashed (it grew)");
    else if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
      r = fail(t, TP_TREEHASH_ECRYPTO, 0, f->path, f->pathlen, "could not be hashed: OpenSSL failed");
    else if (failed(t)) r = stop_code(t);
  }
  if (r == 0 && total != f->size)
    r = fail(t, TP_TREEHASH_ECHANGED, 0, f->path, f->pathlen,
             "changed while the tree was hashed (it shrank)");
  if (r == 0 && !EVP_DigestFinal_ex(ctx, f->sha256, NULL))
    r = fail(t, TP_TREEHASH_ECRYPTO, 0, f->path, f->pathlen, "could not be hashed: OpenSSL failed");
  close(fd);
  return r;
}

int tp_treehash_hash(tp_treehash_t *t) {
  unsigned char *buf;
  EVP_MD_CTX *ctx;
  int r = 0;
  if (failed(t)) return stop_code(t);
  if (t->rootfd < 0 || t->order == NULL) return TP_TREEHASH_EINVAL;   /* not walked */
  buf = malloc(READ_BLOCK);
  ctx = EVP_MD_CTX_new();
  if (buf == NULL || ctx == NULL) {
    r = fail(t, buf ? TP_TREEHASH_ECRYPTO : TP_TREEHASH_ENOMEM, 0, NULL, 0, "could not be hashed: out of memory");
  }
  while (r == 0) {
    size_t i;
    if (failed(t)) {
      r = stop_code(t);
      break;
    }
    if ((i = atomic_fetch_add(&t->next, 1)) >= t->nfiles) break;
    r = hash_file(t, t->order[i], ctx, buf);
  }
  EVP_MD_CTX_free(ctx);
  free(buf);
  return r;
}

/* ---- finish --------------------------------------------------------- */

static void to_hex(char *out, const unsigned char *b, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 15];
  }
}

int tp_treehash_finish(tp_treehash_t *t) {
  size_t len = 0, pos = 0;
  unsigned char md[32];
  char *p;
  if (failed(t)) return stop_code(t);
  if (t->order == NULL || atomic_load(&t->next) < t->nfiles) return TP_TREEHASH_EINVAL;
  for (size_t i = 0; i < t->nfiles; i++) len += TP_TREEHASH_HEX_LEN + 3 + t->files[i].pathlen + 1;
  p = malloc(len + 1);
  if (p == NULL) return fail(t, TP_TREEHASH_ENOMEM, ENOMEM, NULL, 0, "could not be listed: out of memory");
  for (size_t i = 0; i < t->nfiles; i++) {
    const tp_treehash_file *f = &t->files[i];
    to_hex(p + pos, f->sha256, sizeof f->sha256);
    pos += TP_TREEHASH_HEX_LEN;
    p[pos++] = ' ';
    p[pos++] = f->exec ? 'x' : '-';
    p[pos++] = ' ';
    memcpy(p + pos, f->path, f->pathlen);
    pos += f->pathlen;
    p[pos++] = '\n';
  }
  p[pos] = '\0';
  if (!EVP_Digest(p, len, md, NULL, t->md, NULL)) {
    free(p);
    return fail(t, TP_TREEHASH_ECRYPTO, 0, NULL, 0, "could not be hashed: OpenSSL failed");
  }
  to_hex(t->res.digest, md, sizeof md);
  t->res.digest[TP_TREEHASH_HEX_LEN] = '\0';
  OPENSSL_cleanse(md, sizeof md);
  t->listing = p;
  t->res.listing = p;
  t->res.listing_len = len;
  return 0;
}

int tp_treehash_digest(const char *dir, const tp_treehash_limits *lim, tp_treehash_t **out) {
  int r = tp_treehash_new(dir, lim, out);
  if (r < 0) return r;
  if ((r = tp_treehash_walk(*out)) < 0) return r;
  if ((r = tp_treehash_hash(*out)) < 0) return r;
  return tp_treehash_finish(*out);
}

/* ---- the loop operation --------------------------------------------- */

static void op_close(tp_loop_op_t *op) {
  tp_treehash_op_t *h = (tp_treehash_op_t *)op;
  /* Threads already running see the stop and leave at their next block;
  ** requests still queued are taken off the queue (their after_work runs
  ** with UV_ECANCELED and drops their reference). */
  if (h->op.state != TP_LOOP_OP_DONE) tp_treehash_cancel(h->tree);
  if (h->walk_queued) uv_cancel((uv_req_t *)&h->walk);
  for (unsigned i = 0; i < h->jobs; i++)
    if (h->queued[i]) uv_cancel((uv_req_t *)&h->work[i]);
}

static void op_free(tp_loop_op_t *op) {
  tp_treehash_op_t *h = (tp_treehash_op_t *)op;
  tp_treehash_free(h->tree);
  free(h->work);
  free(h->queued);
  free(h);
}

static const tp_loop_op_type_t treehash_type = {"treehash", op_close, op_free};

static void hash_work(uv_work_t *req) {
  tp_treehash_op_t *h = req->data;
  tp_treehash_hash(h->tree);
  /* The last thread out builds the listing, still off the loop thread. */
  if (atomic_fetch_sub(&h->active, 1) == 1) tp_treehash_finish(h->tree);
}

static void after_hash(uv_work_t *req, int status) {
  tp_treehash_op_t *h = req->data;
  (void)status;
  h->queued[req - h->work] = 0;
  if (--h->pending == 0) tp_loop_op_done(&h->op, 0);   /* ignored once cancelled */
  tp_loop_op_unref(&h->op);
}

static void walk_work(uv_work_t *req) {
  tp_treehash_op_t *h = req->data;
  tp_treehash_walk(h->tree);
}

static void after_walk(uv_work_t *req, int status) {
  tp_treehash_op_t *h = req->data;
  const tp_treehash_result *res = tp_treehash_result_of(h->tree);
  h->walk_queued = 0;
  if (status == 0 && h->op.state == TP_LOOP_OP_PENDING) {
    size_t n = res->code < 0 ? 0 : res->files;
    unsigned jobs = h->jobs < n ? h->jobs : (unsigned)n;
    if (res->code == 0 && n == 0) tp_treehash_finish(h->tree);   /* an empty tree */
    if (jobs == 0) {
      tp_loop_op_done(&h->op, 0);
    } else {
      atomic_store(&h->active, jobs);
      h->pending = jobs;
      for (unsigned i = 0; i < jobs; i++) {
        h->work[i].data = h;
        h->queued[i] = 1;
        tp_loop_op_ref(&h->op);            /* the request's */
        uv_queue_work(req->loop, &h->work[i], hash_work, after_hash);
      }
    }
  }
  tp_loop_op_unref(&h->op);                /* the walk request's */
}

int tp_treehash_start(tp_loop_t *lp, const char *dir, const tp_treehash_limits *lim,
                      unsigned jobs, tp_treehash_op_t **out) {
  tp_treehash_op_t *h;
  int r;
  *out = NULL;
  if (lp->closed) return TP_TREEHASH_EINVAL;
  if (jobs == 0) jobs = uv_available_parallelism();
  if (jobs == 0) jobs = 1;
  if (jobs > 64) jobs = 64;
  h = calloc(1, sizeof *h);
  if (h == NULL) return TP_TREEHASH_ENOMEM;
  h->work = calloc(jobs, sizeof *h->work);
  h->queued = calloc(jobs, 1);
  if (h->work == NULL || h->queued == NULL) {
    free(h->work);
    free(h->queued);
    free(h);
    return TP_TREEHASH_ENOMEM;
  }
  if ((r = tp_treehash_new(dir, lim, &h->tree)) < 0) {
    free(h->work);
    free(h->queued);
    free(h);
    return r;
  }
  h->jobs = jobs;
  atomic_init(&h->active, 0);
  tp_loop_op_init(&h->op, &treehash_type);
  h->walk.data = h;
  tp_loop_op_ref(&h->op);                  /* the walk request's */
  h->walk_queued = 1;
  uv_queue_work(&lp->uv, &h->walk, walk_work, after_walk);
  tp_loop_op_start(lp, &h->op);
  *out = h;
  return 0;
}
