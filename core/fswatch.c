/*
** fswatch.c: a directory tree watched through inotify on the loop. See
** fswatch.h for the model (one inotify watch per directory, batches merged
** per path, kinds from what existed before and after).
**
** Why inotify directly rather than libuv's uv_fs_event_t: libuv shares one
** inotify descriptor per loop and keeps it until the loop closes, drops
** IN_Q_OVERFLOW (an overflow would go unnoticed) and folds every event into
** "change" or "rename", losing IN_ISDIR and whether an entry came or went.
** Here each watch owns its descriptor (stop releases it), polled by a
** uv_poll_t on the same loop.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fswatch.h"

/* What every directory is watched for. IN_EXCL_UNLINK: no events for files
** already unlinked but still open. */
#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | \
                    IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF |    \
                    IN_EXCL_UNLINK | IN_ONLYDIR)

/* Longest timer, as in loop.c: 2^53 ms. */
#define MAX_MS 9007199254740992.0

/* Reads of the inotify descriptor per callback (read_events). */
#define READS_PER_CB 16

/* ---- a small hash map: (bytes, length) keys owned by the values ----- */

typedef struct map_ent {
  struct map_ent *next;
  size_t hash;
  const void *key;
  size_t klen;
  void *val;
} map_ent;

typedef struct {
  map_ent **b;
  size_t nb, n;
} map_t;

static size_t hash_bytes(const void *key, size_t len) {
  const unsigned char *p = key;
  uint64_t h = 1469598103934665603ULL;        /* FNV-1a */
  for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return (size_t)h;
}

static map_ent **map_slot(const map_t *m, const void *key, size_t len, size_t h) {
  map_ent **pp = &m->b[h & (m->nb - 1)];
  for (; *pp != NULL; pp = &(*pp)->next)
    if ((*pp)->hash == h && (*pp)->klen == len && memcmp((*pp)->key, key, len) == 0) break;
  return pp;
}

static void *map_get(const map_t *m, const void *key, size_t len) {
  map_ent *e;
  if (m->nb == 0) return NULL;
  e = *map_slot(m, key, len, hash_bytes(key, len));
  return e ? e->val : NULL;
}

static int map_grow(map_t *m) {
  size_t nb = m->nb ? m->nb * 2 : 64;
  map_ent **b = calloc(nb, sizeof *b);
  if (b == NULL) return UV_ENOMEM;
  for (size_t i = 0; i < m->nb; i++) {
    map_ent *e = m->b[i], *next;
    for (; e != NULL; e = next) {
      next = e->next;
      e->next = b[e->hash & (nb - 1)];
      b[e->hash & (nb - 1)] = e;
    }
  }
  free(m->b);
  m->b = b;
  m->nb = nb;
  return 0;
}

/* The key must not be in the map; its bytes live as long as the entry. */
static int map_put(map_t *m, const void *key, size_t len, void *val) {
  map_ent *e;
  size_t h;
  if (m->n >= m->nb && map_grow(m) < 0) return UV_ENOMEM;
  e = malloc(sizeof *e);
  if (e == NULL) return UV_ENOMEM;
  h = hash_bytes(key, len);
  e->hash = h;
  e->key = key;
  e->klen = len;
  e->val = val;
  e->next = m->b[h & (m->nb - 1)];
  m->b[h & (m->nb - 1)] = e;
  m->n++;
  return 0;
}

static void map_del(map_t *m, const void *key, size_t len) {
  map_ent **pp, *e;
  if (m->nb == 0) return;
  pp = map_slot(m, key, len, hash_bytes(key, len));
  if ((e = *pp) == NULL) return;
  *pp = e->next;
  free(e);
  m->n--;
}

static void map_clear(map_t *m) {
  for (size_t i = 0; i < m->nb; i++) {
    map_ent *e = m->b[i], *next;
    for (; e != NULL; e = next) {
      next = e->next;
      free(e);
    }
  }
  free(m->b);
  m->b = NULL;
  m->nb = m->n = 0;
}

/* ---- the watch ------------------------------------------------------ */

/* An entry of the tree, known from a walk or an event. rel is relative to
** the root ("" for the root itself). Children form a doubly linked list,
** so that a subtree can be dropped without scanning every entry. */
typedef struct fsnode {
  char *rel;
  size_t len;
  struct fsnode *parent, *child, *prev, *next;
  int wd;                       /* inotify watch of a directory, or -1 */
  int is_dir;
} fsnode;

/* What the open batch knows of one path. */
typedef struct entry {
  char *path;
  size_t len;
  unsigned char existed;        /* known when the batch first saw it */
  unsigned char exists;         /* after the last event */
  unsigned char came_by_rename, left_by_rename;
} entry;

enum ev { EV_CREATE, EV_MOVED_IN, EV_DELETE, EV_MOVED_OUT, EV_CHANGE };

struct tp_fswatch_s {
  tp_loop_op_t op;              /* pending for as long as the watch runs */
  uv_poll_t poll;
  uv_timer_t timer;
  int poll_inited, timer_inited;
  int fd;                       /* the inotify instance, -1 once closed */
  char *root;
  size_t rootlen;
  tp_fswatch_opts_t o;
  map_t nodes;                  /* rel -> fsnode */
  map_t wds;                    /* wd -> fsnode */
  fsnode *top;
  size_t ndirs;
  int root_gone;
  int resync;                   /* a kernel overflow: walk the tree again */
  fsnode **work;                /* directories to walk */
  size_t nwork, capwork;
  entry *ents;                  /* the batch, first-seen order */
  size_t nents, capents;
  map_t index;                  /* path -> entry number + 1 */
  int overflow, ready, open, dirty;
  double first, last;           /* tp_loop_now() of the batch's events */
  unsigned long dropped;
  tp_fswatch_next_t *armed;
  char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
};

/* root + "/" + rel, or root alone for "". */
static char *abs_path(const tp_fswatch_t *w, const char *rel, size_t len) {
  char *p = malloc(w->rootlen + len + 2);
  if (p == NULL) return NULL;
  memcpy(p, w->root, w->rootlen);
  if (len > 0) {
    p[w->rootlen] = '/';
    memcpy(p + w->rootlen + 1, rel, len + 1);
  } else {
    p[w->rootlen] = '\0';
  }
  return p;
}

static char *join(const char *dir, size_t dlen, const char *name, size_t *outlen) {
  size_t nlen = strlen(name), len = dlen ? dlen + 1 + nlen : nlen;
  char *p = malloc(len + 1);
  if (p == NULL) return NULL;
  if (dlen) {
    memcpy(p, dir, dlen);
    p[dlen] = '/';
    memcpy(p + dlen + 1, name, nlen + 1);
  } else {
    memcpy(p, name, nlen + 1);
  }
  *outlen = len;
  return p;
}

/* ---- the batch ------------------------------------------------------ */

static void lose(tp_fswatch_t *w) {
  w->overflow = 1;
  w->dropped++;
  w->dirty = 1;
}

static void apply(entry *e, enum ev ev) {
  switch (ev) {
  case EV_CREATE: e->exists = 1; e->came_by_rename = 0; break;
  case EV_MOVED_IN: e->exists = 1; e->came_by_rename = 1; break;
  case EV_DELETE: e->exists = 0; e->left_by_rename = 0; break;
  case EV_MOVED_OUT: e->exists = 0; e->left_by_rename = 1; break;
  case EV_CHANGE: e->exists = 1; break;
  }
}

/* Note ev on path; call it before the tree learns of the event, so that
** "existed" is what was true before the batch. */
static void record(tp_fswatch_t *w, const char *path, size_t len, enum ev ev) {
  uintptr_t i = (uintptr_t)map_get(&w->index, path, len);
  entry *e;
  w->dirty = 1;
  if (i == 0) {
    if (w->nents >= TP_FSWATCH_BATCH_MAX) { lose(w); return; }
    if (w->nents == w->capents) {
      size_t cap = w->capents ? w->capents * 2 : 16;
      entry *ents = realloc(w->ents, cap * sizeof *ents);
      if (ents == NULL) { lose(w); return; }
      w->ents = ents;
      w->capents = cap;
    }
    e = &w->ents[w->nents];
    e->path = malloc(len + 1);
    if (e->path == NULL) { lose(w); return; }
    memcpy(e->path, path, len + 1);
    e->len = len;
    e->existed = e->exists = map_get(&w->nodes, path, len) != NULL;
    e->came_by_rename = e->left_by_rename = 0;
    if (map_put(&w->index, e->path, len, (void *)(uintptr_t)(w->nents + 1)) < 0) {
      free(e->path);
      lose(w);
      return;
    }
    i = ++w->nents;
  }
  apply(&w->ents[i - 1], ev);
}

void tp_fswatch_clear(tp_fswatch_t *w) {
  map_clear(&w->index);
  for (size_t i = 0; i < w->nents; i++) free(w->ents[i].path);
  w->nents = 0;
  w->overflow = w->ready = 0;
}

int tp_fswatch_ready(const tp_fswatch_t *w) { return w->ready; }
tp_fswatch_next_t *tp_fswatch_armed(const tp_fswatch_t *w) { return w->armed; }
tp_loop_op_t *tp_fswatch_op(tp_fswatch_t *w) { return &w->op; }
size_t tp_fswatch_count(const tp_fswatch_t *w) { return w->ready ? w->nents : 0; }
int tp_fswatch_overflowed(const tp_fswatch_t *w) { return w->ready && w->overflow; }
size_t tp_fswatch_dirs(const tp_fswatch_t *w) { return w->ndirs; }
unsigned long tp_fswatch_dropped(const tp_fswatch_t *w) { return w->dropped; }

int tp_fswatch_entry(const tp_fswatch_t *w, size_t i, const char **path) {
  const entry *e;
  *path = NULL;
  if (!w->ready || i >= w->nents) return TP_FSWATCH_NONE;
  e = &w->ents[i];
  *path = e->path;
  if (e->existed && e->exists) return TP_FSWATCH_CHANGE;
  if (e->exists) return e->came_by_rename ? TP_FSWATCH_RENAME : TP_FSWATCH_CREATE;
  if (e->existed) return e->left_by_rename ? TP_FSWATCH_RENAME : TP_FSWATCH_DELETE;
  return TP_FSWATCH_NONE;        /* came and went within the batch */
}

/* ---- the tree ------------------------------------------------------- */

/* A new entry under parent; takes rel (malloc'ed) in every case. */
static fsnode *add_node(tp_fswatch_t *w, fsnode *parent, char *rel, size_t len, int is_dir) {
  fsnode *n = calloc(1, sizeof *n);
  if (n == NULL || map_put(&w->nodes, rel, len, n) < 0) {
    free(n);
    free(rel);
    return NULL;
  }
  n->rel = rel;
  n->len = len;
  n->wd = -1;
  n->is_dir = is_dir;
  n->parent = parent;
  if (parent != NULL) {
    n->next = parent->child;
    if (parent->child) parent->child->prev = n;
    parent->child = n;
  }
  return n;
}

/* Forget n's inotify watch; rm = 0 when the kernel dropped it already. */
static void unwatch(tp_fswatch_t *w, fsnode *n, int rm) {
  if (n->wd < 0) return;
  map_del(&w->wds, &n->wd, sizeof n->wd);
  if (rm && w->fd >= 0) inotify_rm_watch(w->fd, n->wd);
  n->wd = -1;
  w->ndirs--;
}

static void free_node(tp_fswatch_t *w, fsnode *n) {
  unwatch(w, n, 1);
  if (n->parent != NULL) {
    if (n->prev) n->prev->next = n->next;
    else n->parent->child = n->next;
    if (n->next) n->next->prev = n->prev;
  }
  map_del(&w->nodes, n->rel, n->len);
  free(n->rel);
  free(n);
}

/* Drop n and everything below it; the entries below are reported as
** deleted when report (n itself is the caller's to report). Leaves first,
** without recursion. */
static void drop_subtree(tp_fswatch_t *w, fsnode *top, int report) {
  fsnode *n = top;
  for (;;) {
    fsnode *parent;
    while (n->child != NULL) n = n->child;
    if (n == top) break;
    parent = n->parent;
    if (report) record(w, n->rel, n->len, EV_DELETE);
    free_node(w, n);
    n = parent;
  }
  free_node(w, top);
}

static int push_work(tp_fswatch_t *w, fsnode *n) {
  if (w->nwork == w->capwork) {
    size_t cap = w->capwork ? w->capwork * 2 : 16;
    fsnode **work = realloc(w->work, cap * sizeof *work);
    if (work == NULL) return UV_ENOMEM;
    w->work = work;
    w->capwork = cap;
  }
  w->work[w->nwork++] = n;
  return 0;
}

static int entry_is_dir(int dfd, const struct dirent *de) {
  struct stat st;
  if (de->d_type != DT_UNKNOWN) return de->d_type == DT_DIR;
  return fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Watch the directory n, then list it (in that order: an entry made
** between the two is seen twice, never missed). Entries not known yet join
** the tree, reported as created when report; unwatched subdirectories go
** on the work list. */
static int scan_dir(tp_fswatch_t *w, fsnode *n, int report) {
  uint32_t mask = WATCH_MASK | (n == w->top ? 0 : IN_DONT_FOLLOW);
  char *path;
  DIR *d;
  struct dirent *de;
  int wd, dfd, r = 0;
  if (w->ndirs >= w->o.max_dirs) return UV_E2BIG;
  path = abs_path(w, n->rel, n->len);
  if (path == NULL) return UV_ENOMEM;
  wd = inotify_add_watch(w->fd, path, mask);
  if (wd < 0) {
    r = -errno;
    free(path);
    return r;
  }
  if (map_get(&w->wds, &wd, sizeof wd) != NULL) {
    free(path);                  /* watched under another path already (a */
    return 0;                    /* bind mount): its events come from there */
  }
  n->wd = wd;
  if (map_put(&w->wds, &n->wd, sizeof n->wd, n) < 0) {
    inotify_rm_watch(w->fd, wd);
    n->wd = -1;
    free(path);
    return UV_ENOMEM;
  }
  w->ndirs++;
  dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (n == w->top ? 0 : O_NOFOLLOW));
  free(path);
  if (dfd < 0) return -errno;
  d = fdopendir(dfd);
  if (d == NULL) {
    r = -errno;
    close(dfd);
    return r;
  }
  while ((de = readdir(d)) != NULL) {
    const char *name = de->d_name;
    size_t len;
    char *rel;
    fsnode *c;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    rel = join(n->rel, n->len, name, &len);
    if (rel == NULL) { r = UV_ENOMEM; break; }
    c = map_get(&w->nodes, rel, len);
    if (c == NULL) {
      if (report) record(w, rel, len, EV_CREATE);
      c = add_node(w, n, rel, len, entry_is_dir(dirfd(d), de));
      if (c == NULL) { r = UV_ENOMEM; break; }
    } else {
      free(rel);
    }
    if (c->is_dir && c->wd < 0 && w->o.recursive && (r = push_work(w, c)) < 0) break;
  }
  closedir(d);
  return r;
}

/* An error that only says the directory went away or was replaced by
** something else meanwhile: its events tell the rest. */
static int vanished(int r) {
  return r == UV_ENOENT || r == UV_ENOTDIR || r == UV_ELOOP;
}

/* Walk from n: watch and list every directory below it. At start (strict)
** the first real failure ends the walk and is returned, with the path in
** errpath; afterwards a directory that cannot be watched is an overflow. */
static int walk(tp_fswatch_t *w, fsnode *n, int report, int strict, char *errpath,
                size_t errlen) {
  int r = 0;
  w->nwork = 0;
  if (push_work(w, n) < 0) {
    if (!strict) lose(w);
    return UV_ENOMEM;
  }
  while (w->nwork > 0) {
    fsnode *d = w->work[--w->nwork];
    r = scan_dir(w, d, report);
    if (r == 0 || (vanished(r) && d != w->top)) continue;
    if (strict) {
      if (errpath && errlen) snprintf(errpath, errlen, "%s", d->rel);
      w->nwork = 0;
      return r;
    }
    lose(w);
  }
  return 0;
}

/* The root was deleted, moved or unmounted: everything below is stale. */
static void root_gone(tp_fswatch_t *w) {
  while (w->top->child) drop_subtree(w, w->top->child, 0);
  unwatch(w, w->top, 1);
  w->root_gone = 1;
  w->overflow = 1;
  w->dirty = 1;
}

/* After a kernel overflow nothing is known for sure: forget the tree and
** walk it again, silently (the batch says overflow: rescan). */
static void resync(tp_fswatch_t *w) {
  if (w->root_gone) return;
  while (w->top->child) drop_subtree(w, w->top->child, 0);
  unwatch(w, w->top, 1);
  if (walk(w, w->top, 0, 0, NULL, 0) < 0 || w->top->wd < 0) root_gone(w);
}

/* ---- events --------------------------------------------------------- */

static void on_entry(tp_fswatch_t *w, fsnode *d, const struct inotify_event *e) {
  int is_dir = (e->mask & IN_ISDIR) != 0;
  size_t len;
  char *rel = join(d->rel, d->len, e->name, &len);
  fsnode *n;
  if (rel == NULL) { lose(w); return; }
  n = map_get(&w->nodes, rel, len);
  if (e->mask & (IN_CREATE | IN_MOVED_TO)) {
    record(w, rel, len, (e->mask & IN_MOVED_TO) ? EV_MOVED_IN : EV_CREATE);
    if (n != NULL && (n->is_dir || is_dir)) {      /* replaced a directory */
      drop_subtree(w, n, 1);
      n = NULL;
    }
    if (n == NULL) {
      n = add_node(w, d, rel, len, is_dir);
      rel = NULL;
      if (n == NULL) { lose(w); return; }
      if (is_dir && w->o.recursive) walk(w, n, 1, 0, NULL, 0);
    }
  } else if (e->mask & (IN_DELETE | IN_MOVED_FROM)) {
    record(w, rel, len, (e->mask & IN_MOVED_FROM) ? EV_MOVED_OUT : EV_DELETE);
    if (n != NULL) drop_subtree(w, n, 1);
  } else if (e->mask & (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE)) {
    record(w, rel, len, EV_CHANGE);
    if (n == NULL) {
      n = add_node(w, d, rel, len, is_dir);
      rel = NULL;
      if (n == NULL) lose(w);
    }
  }
  free(rel);
}

static void on_event(tp_fswatch_t *w, const struct inotify_event *e) {
  fsnode *d;
  if (e->mask & IN_Q_OVERFLOW) {
    lose(w);
    w->resync = 1;
    return;
  }
  d = map_get(&w->wds, &e->wd, sizeof e->wd);
  if (d == NULL) return;                   /* a watch dropped meanwhile */
  if (e->mask & IN_UNMOUNT) lose(w);       /* a file system under it went */
  if (e->mask & IN_IGNORED) {              /* the kernel removed the watch */
    unwatch(w, d, 0);
    if (d == w->top) root_gone(w);
    return;
  }
  if (e->len == 0 || e->name[0] == '\0') {
    /* About the directory itself; for any but the root its parent's
    ** watch reports the same under its name. */
    if (d == w->top && (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT))) root_gone(w);
    return;
  }
  on_entry(w, d, e);
}

static uint64_t timeout_of(double ms_left) {
  return ms_left <= 0 ? 0 : (uint64_t)ceil(ms_left);
}

static double deadline_of(const tp_fswatch_t *w) {
  double quiet = w->last + w->o.debounce_ms, cap = w->first + w->o.max_wait_ms;
  return quiet < cap ? quiet : cap;
}

/* Complete the armed next operation, if any. */
static void notify(tp_fswatch_t *w) {
  if (w->ready) tp_loop_notice_fire(&w->armed);
}

/* Read what the kernel queued (at most READS_PER_CB buffers: a writer that
** never stops cannot hold the loop; epoll is level-triggered, the rest
** comes on the next turn) and note it in the batch. */
static void read_events(tp_fswatch_t *w) {
  for (int i = 0; i < READS_PER_CB; i++) {
    ssize_t n = read(w->fd, w->buf, sizeof w->buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (char *p = w->buf; p < w->buf + n;) {
      const struct inotify_event *e = (const struct inotify_event *)(void *)p;
      on_event(w, e);
      p += sizeof *e + e->len;
    }
  }
  if (w->resync) {
    w->resync = 0;
    resync(w);
  }
}

static void touch_batch(tp_fswatch_t *w);

/* The batch closes once tp_loop_now() reached its deadline, never earlier
** (libuv's cached loop time may run behind, as for loop.c's timers), and
** only if the kernel holds no event the loop has not read yet: timers run
** before the poll in a loop turn, so a burst read over two turns must not
** be cut in two. max_wait_ms after the first event it closes regardless. */
static void timer_cb(uv_timer_t *h) {
  tp_fswatch_t *w = h->data;
  double left, now;
  if (w->op.state != TP_LOOP_OP_PENDING || !w->open) return;
  now = tp_loop_now();
  left = deadline_of(w) - now;
  if (left > 0) {
    uv_timer_start(h, timer_cb, timeout_of(left), 0);
    return;
  }
  if (now < w->first + w->o.max_wait_ms) {
    read_events(w);
    if (w->dirty) {
      w->dirty = 0;
      touch_batch(w);
      return;
    }
  }
  w->open = 0;
  if (w->nents > 0 || w->overflow) {
    w->ready = 1;
    notify(w);
  }
}

static void touch_batch(tp_fswatch_t *w) {
  double now = tp_loop_now();
  if (!w->open) {
    w->open = 1;
    w->first = now;
  }
  w->last = now;
  uv_update_time(w->timer.loop);
  uv_timer_start(&w->timer, timer_cb, timeout_of(deadline_of(w) - now), 0);
}

static void poll_cb(uv_poll_t *h, int status, int events) {
  tp_fswatch_t *w = h->data;
  (void)events;
  if (w->op.state != TP_LOOP_OP_PENDING) return;
  if (status < 0) lose(w);
  else read_events(w);
  if (w->dirty) {
    w->dirty = 0;
    touch_batch(w);
  }
}

/* ---- the operation -------------------------------------------------- */

/* Stopping: the descriptor goes at once (uv_close has already taken it out
** of epoll), the handles close, and the armed next operation can never
** complete, so it is cancelled. */
static void watch_close(tp_loop_op_t *op) {
  tp_fswatch_t *w = (tp_fswatch_t *)op;
  if (w->poll_inited && !uv_is_closing((uv_handle_t *)&w->poll))
    uv_close((uv_handle_t *)&w->poll, tp_loop_op_close_cb);
  if (w->timer_inited && !uv_is_closing((uv_handle_t *)&w->timer))
    uv_close((uv_handle_t *)&w->timer, tp_loop_op_close_cb);
  if (w->fd >= 0) {
    close(w->fd);
    w->fd = -1;
  }
  tp_loop_notice_cancel(&w->armed);
}

static void watch_free(tp_loop_op_t *op) {
  tp_fswatch_t *w = (tp_fswatch_t *)op;
  if (w->top != NULL) drop_subtree(w, w->top, 0);
  map_clear(&w->nodes);
  map_clear(&w->wds);
  tp_fswatch_clear(w);
  free(w->ents);
  free(w->work);
  free(w->root);
  free(w);
}

static const tp_loop_op_type_t watch_type = {"fs watch", watch_close, watch_free};

static int check_opts(const tp_fswatch_opts_t *o) {
  if (!(o->debounce_ms >= 0 && o->debounce_ms <= MAX_MS)) return UV_EINVAL;   /* NaN too */
  if (!(o->max_wait_ms >= o->debounce_ms && o->max_wait_ms <= MAX_MS)) return UV_EINVAL;
  if (o->max_dirs < 1) return UV_EINVAL;
  return 0;
}

static int open_handles(tp_loop_t *lp, tp_fswatch_t *w) {
  int r = uv_timer_init(&lp->uv, &w->timer);
  if (r < 0) return r;
  w->timer.data = w;
  tp_loop_op_ref(&w->op);
  w->timer_inited = 1;
  r = uv_poll_init(&lp->uv, &w->poll, w->fd);
  if (r < 0) return r;
  w->poll.data = w;
  tp_loop_op_ref(&w->op);
  w->poll_inited = 1;
  uv_unref((uv_handle_t *)&w->poll);
  return uv_poll_start(&w->poll, UV_READABLE, poll_cb);
}

int tp_fswatch_start(tp_loop_t *lp, const char *root, const tp_fswatch_opts_t *opts,
                     tp_fswatch_t **out, char *errpath, size_t errlen) {
  tp_fswatch_t *w;
  char *rel;
  int r;
  *out = NULL;
  if (errpath && errlen) errpath[0] = '\0';
  if (lp->closed || root == NULL || root[0] == '\0') return UV_EINVAL;
  if ((r = check_opts(opts)) < 0) return r;
  w = calloc(1, sizeof *w);
  if (w == NULL) return UV_ENOMEM;
  tp_loop_op_init(&w->op, &watch_type);
  w->fd = -1;
  w->o = *opts;
  w->rootlen = strlen(root);
  while (w->rootlen > 1 && root[w->rootlen - 1] == '/') w->rootlen--;
  w->root = malloc(w->rootlen + 1);
  rel = calloc(1, 1);
  if (w->root == NULL || rel == NULL) {
    free(rel);
    r = UV_ENOMEM;
    goto fail;
  }
  memcpy(w->root, root, w->rootlen);
  w->root[w->rootlen] = '\0';
  w->top = add_node(w, NULL, rel, 0, 1);
  if (w->top == NULL) {
    r = UV_ENOMEM;
    goto fail;
  }
  w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (w->fd < 0) {
    r = -errno;
    goto fail;
  }
  r = walk(w, w->top, 0, 1, errpath, errlen);
  if (r == 0) r = open_handles(lp, w);
  if (r < 0) goto fail;
  tp_loop_op_start(lp, &w->op);
  *out = w;
  return 0;
fail:
  watch_close(&w->op);
  tp_loop_op_unref(&w->op);      /* the owner's; the closes free it */
  return r;
}

/* ---- next: one ready batch ----------------------------------------- */

int tp_fswatch_next(tp_fswatch_t *w, tp_fswatch_next_t **out) {
  int r = tp_loop_notice_arm(&w->op, &w->armed, out);   /* the batch outlives a stop */
  if (r == 0) notify(w);                                  /* a batch nobody took yet */
  return r;
}
