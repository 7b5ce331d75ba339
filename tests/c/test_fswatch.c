/*
** test_fswatch.c: unit tests of core/fswatch.c (a directory tree watched
** through inotify on the loop): the walk at start, directory watches added
** and dropped as the tree changes, the merging of a batch, and closing
** with everything active. Built with ASan and UBSan: every case must also
** leave nothing behind (memory, descriptors).
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fswatch.h"
#include "loop.h"
#include "tp_test.h"

static char root[256];

/* ---- a scratch tree ------------------------------------------------- */

static void at(char *buf, size_t len, const char *rel) {
  snprintf(buf, len, "%s/%s", root, rel);
}

static void mk(const char *rel) {
  char p[512];
  at(p, sizeof p, rel);
  TP_CHECKF(mkdir(p, 0700) == 0, "mkdir %s: %s", p, strerror(errno));
}

static void put(const char *rel, const char *data) {
  char p[512];
  FILE *f;
  at(p, sizeof p, rel);
  f = fopen(p, "w");
  TP_CHECKF(f != NULL, "fopen %s", p);
  if (f == NULL) return;
  fputs(data, f);
  fclose(f);
}

static void rm(const char *rel) {
  char p[512];
  at(p, sizeof p, rel);
  if (unlink(p) != 0) TP_CHECKF(rmdir(p) == 0, "remove %s", p);
}

static void mv(const char *from, const char *to) {
  char a[512], b[512];
  at(a, sizeof a, from);
  at(b, sizeof b, to);
  TP_CHECKF(rename(a, b) == 0, "rename %s %s", a, b);
}

static void fresh_root(void) {
  snprintf(root, sizeof root, "/tmp/test_fswatch.XXXXXX");
  TP_CHECK(mkdtemp(root) != NULL);
}

static void remove_tree(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  TP_CHECK(system(cmd) == 0);
}

static int fd_count(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return -1;
  while (readdir(d) != NULL) n++;
  closedir(d);
  return n;
}

/* ---- the loop ------------------------------------------------------- */

/* Turns that never block, until the queue is empty and close callbacks ran. */
static void settle(tp_loop_t *lp) {
  for (int i = 0; i < 1000; i++) {
    tp_loop_op_t *op;
    int more = tp_loop_run(lp, TP_LOOP_NOWAIT);
    while ((op = tp_loop_next_done(lp)) != NULL) tp_loop_op_collect(op);
    if (!more) break;
  }
}

/* Run the loop for ms: a watch alone does not keep it running. */
static void pump(tp_loop_t *lp, double ms) {
  tp_loop_timer_t *t;
  if (tp_loop_timer_start(lp, ms, &t) != 0) return;
  for (int i = 0; i < 100000 && t->op.state == TP_LOOP_OP_PENDING; i++)
    tp_loop_run(lp, TP_LOOP_ONCE);
  tp_loop_op_release(&t->op);
  settle(lp);
}

static const tp_fswatch_opts_t OPTS = {10, 1000, 1, 64};

/* Wait (at most ~5 s) for the next batch; 1 if one came. */
static int next_batch(tp_loop_t *lp, tp_fswatch_t *w) {
  tp_fswatch_next_t *nx;
  int got;
  if (tp_fswatch_next(w, &nx) != 0) return 0;
  for (int i = 0; i < 500 && nx->op.state == TP_LOOP_OP_PENDING; i++) pump(lp, 10);
  got = nx->op.state == TP_LOOP_OP_DONE;
  tp_loop_op_release(&nx->op);
  return got;
}

/* The kind of rel in the ready batch (TP_FSWATCH_NONE if absent), and
** that it is listed once. */
static int kind_of(tp_fswatch_t *w, const char *rel) {
  int kind = TP_FSWATCH_NONE, seen = 0;
  for (size_t i = 0; i < tp_fswatch_count(w); i++) {
    const char *p;
    int k = tp_fswatch_entry(w, i, &p);
    if (strcmp(p, rel) == 0) {
      kind = k;
      seen++;
    }
  }
  TP_CHECKF(seen <= 1, "%s listed %d times", rel, seen);
  return kind;
}

static size_t reported(tp_fswatch_t *w) {
  size_t n = 0;
  for (size_t i = 0; i < tp_fswatch_count(w); i++) {
    const char *p;
    if (tp_fswatch_entry(w, i, &p) != TP_FSWATCH_NONE) n++;
  }
  return n;
}

/* ---- cases ---------------------------------------------------------- */

static void bad_arguments(void) {
  tp_loop_t lp;
  tp_fswatch_t *w = (tp_fswatch_t *)&lp;
  tp_fswatch_opts_t o = OPTS;
  char errpath[64] = "x";
  char file[512];
  TP_CHECK(tp_loop_init(&lp) == 0);
  fresh_root();
  o.debounce_ms = -1;
  TP_CHECK(tp_fswatch_start(&lp, root, &o, &w, errpath, sizeof errpath) == UV_EINVAL);
  TP_CHECK(w == NULL);
  o = OPTS;
  o.max_wait_ms = 1;
  TP_CHECK(tp_fswatch_start(&lp, root, &o, &w, NULL, 0) == UV_EINVAL);
  o = OPTS;
  o.max_dirs = 0;
  TP_CHECK(tp_fswatch_start(&lp, root, &o, &w, NULL, 0) == UV_EINVAL);
  TP_CHECK(tp_fswatch_start(&lp, "", &OPTS, &w, NULL, 0) == UV_EINVAL);
  at(file, sizeof file, "missing");
  TP_CHECK(tp_fswatch_start(&lp, file, &OPTS, &w, errpath, sizeof errpath) == UV_ENOENT);
  TP_CHECK(strcmp(errpath, "") == 0);
  put("file", "x");
  at(file, sizeof file, "file");
  TP_CHECK(tp_fswatch_start(&lp, file, &OPTS, &w, errpath, sizeof errpath) == UV_ENOTDIR);
  tp_loop_close(&lp);
  remove_tree(root);
}

static void walk_at_start(void) {
  tp_loop_t lp;
  tp_fswatch_t *w;
  tp_fswatch_opts_t o = OPTS;
  char target[512], link[512], errpath[64];
  int fds = fd_count();
  TP_CHECK(tp_loop_init(&lp) == 0);
  fresh_root();
  mk("a"); mk("a/b"); mk("a/b/c"); mk("d");
  put("a/b/c/f", "x");
  at(target, sizeof target, "a");
  at(link, sizeof link, "d/link");
  TP_CHECK(symlink(target, link) == 0);      /* never followed */
  TP_CHECK(tp_fswatch_start(&lp, root, &OPTS, &w, errpath, sizeof errpath) == 0);
  TP_CHECK(tp_fswatch_dirs(w) == 5);
  TP_CHECK(!tp_fswatch_ready(w));
  tp_loop_op_release(tp_fswatch_op(w));
  o.max_dirs = 4;
  TP_CHECK(tp_fswatch_start(&lp, root, &o, &w, errpath, sizeof errpath) == UV_E2BIG);
  o.max_dirs = 5;
  o.recursive = 0;
  TP_CHECK(tp_fswatch_start(&lp, root, &o, &w, errpath, sizeof errpath) == 0);
  TP_CHECK(tp_fswatch_dirs(w) == 1);
  tp_loop_op_release(tp_fswatch_op(w));
  settle(&lp);
  tp_loop_close(&lp);
  TP_CHECK(fd_count() == fds);
  remove_tree(root);
}

static void batches_merge_per_path(void) {
  tp_loop_t lp;
  tp_fswatch_t *w;
  TP_CHECK(tp_loop_init(&lp) == 0);
  fresh_root();
  put("edit", "1"); put("gone", "1"); put("old", "1"); put("save", "1"); put("vim", "1");
  TP_CHECK(tp_fswatch_start(&lp, root, &OPTS, &w, NULL, 0) == 0);
  for (int i = 0; i < 20; i++) put("edit", "2");
  put("new", "1");
  rm("gone");
  mv("old", "moved");
  put(".save.tmp", "2"); mv(".save.tmp", "save");       /* atomic save */
  mv("vim", "vim~"); put("vim", "2"); rm("vim~");         /* vim's dance */
  put("scratch", "x"); rm("scratch");                     /* came and went */
  TP_CHECK(next_batch(&lp, w));
  TP_CHECK(!tp_fswatch_overflowed(w));
  TP_CHECK(kind_of(w, "edit") == TP_FSWATCH_CHANGE);
  TP_CHECK(kind_of(w, "new") == TP_FSWATCH_CREATE);
  TP_CHECK(kind_of(w, "gone") == TP_FSWATCH_DELETE);
  TP_CHECK(kind_of(w, "old") == TP_FSWATCH_RENAME);
  TP_CHECK(kind_of(w, "moved") == TP_FSWATCH_RENAME);
  TP_CHECK(kind_of(w, "save") == TP_FSWATCH_CHANGE);
  TP_CHECK(kind_of(w, "vim") == TP_FSWATCH_CHANGE);
  TP_CHECK(kind_of(w, "vim~") == TP_FSWATCH_NONE);
  TP_CHECK(kind_of(w, "scratch") == TP_FSWATCH_NONE);
  TP_CHECK(reported(w) == 7);
  tp_fswatch_clear(w);
  TP_CHECK(!tp_fswatch_ready(w) && tp_fswatch_count(w) == 0);
  tp_loop_op_release(tp_fswatch_op(w));
  tp_loop_close(&lp);
  remove_tree(root);
}

static void directories_come_and_go(void) {
  tp_loop_t lp;
  tp_fswatch_t *w;
  TP_CHECK(tp_loop_init(&lp) == 0);
  fresh_root();
  mk("keep");
  TP_CHECK(tp_fswatch_start(&lp, root, &OPTS, &w, NULL, 0) == 0);
  TP_CHECK(tp_fswatch_dirs(w) == 2);
  /* made before the loop reads the creation: only the walk sees them */
  mk("sub"); put("sub/f", "x"); mk("sub/d"); put("sub/d/g", "x");
  TP_CHECK(next_batch(&lp, w));
  TP_CHECK(kind_of(w, "sub") == TP_FSWATCH_CREATE);
  TP_CHECK(kind_of(w, "sub/f") == TP_FSWATCH_CREATE);
  TP_CHECK(kind_of(w, "sub/d") == TP_FSWATCH_CREATE);
  TP_CHECK(kind_of(w, "sub/d/g") == TP_FSWATCH_CREATE);
  TP_CHECK(tp_fswatch_dirs(w) == 4);
  tp_fswatch_clear(w);
  /* renamed within the tree: the old paths go, the new ones are watched */
  mv("sub", "keep/sub2");
  TP_CHECK(next_batch(&lp, w));
  TP_CHECK(kind_of(w, "sub") == TP_FSWATCH_RENAME);
  TP_CHECK(kind_of(w, "sub/d/g") == TP_FSWATCH_DELETE);
  TP_CHECK(kind_of(w, "keep/sub2") == TP_FSWATCH_RENAME);
  TP_CHECK(kind_of(w, "keep/sub2/d/g") == TP_FSWATCH_CREATE);
  TP_CHECK(tp_fswatch_dirs(w) == 4);
  tp_fswatch_clear(w);
  put("keep/sub2/d/g", "y");
  TP_CHECK(next_batch(&lp, w));
  TP_CHECK(kind_of(w, "keep/sub2/d/g") == TP_FSWATCH_CHANGE);
  TP_CHECK(reported(w) == 1);
  tp_fswatch_clear(w);
  /* deleted */
  rm("keep/sub2/d/g"); rm("keep/sub2/d"); rm("keep/sub2/f"); rm("keep/sub2");
  TP_CHECK(next_batch(&lp, w));
  TP_CHECK(kind_of(w, "keep/sub2") == TP_FSWATCH_DELETE);
  TP_CHECK(kind_of(w, "keep/sub2/d") == TP_FSWATCH_DELETE);
  TP_CHECK(reported(w) == 4);
  TP_CHECK(tp_fswatch_dirs(w) == 2);
  tp_fswatch_clear(w);
  tp_loop_op_release(tp_fswatch_op(w));
  tp_loop_close(&lp);
  remove_tree(root);
}

static void max_dirs_at_runtime(void) {
  tp_loop_t lp;
  tp_fswatch_t *w;
  tp_fswatch_opts_t o = OPTS;
  TP_CHECK(tp_loop_init(&lp) == 0);
  fresh_root();
  o.max_dirs = 2;
  TP_CHECK(tp_fswatch_start(&lp, root, &o, &w, NULL, 0) == 0);
  mk("a"); mk("b");
  TP_CHECK(next_batch(&lp, w));
  TP_CHECK(tp_fswatch_overflowed(w));
  TP_CHECK(tp_fswatch_dirs(w) == 2);
  TP_CHECK(tp_fswatch_dropped(w) == 1);
  tp_fswatch_clear(w);
  rm("a"); rm("b");
  TP_CHECK(next_batch(&lp, w));
  TP_CHECK(!tp_fswatch_overflowed(w));
  TP_CHECK(tp_fswatch_dirs(w) == 1);
  tp_fswatch_clear(w);
  tp_loop_op_release(tp_fswatch_op(w));
  tp_loop_close(&lp);
  remove_tree(root);
}

/* Stop with a batch gathering and a next operation armed; then a watch
** the loop's close ends while its owner still holds it; then one whose
** owner releases it without stopping. No leak, no descriptor left. */
static void close_with_everything_active(void) {
  tp_loop_t lp;
  tp_fswatch_t *w, *w2, *w3;
  tp_fswatch_next_t *nx, *nx2;
  tp_fswatch_opts_t slow = OPTS;
  int fds = fd_count();
  TP_CHECK(tp_loop_init(&lp) == 0);
  fresh_root();
  mk("a"); mk("a/b");
  slow.debounce_ms = 10000;
  slow.max_wait_ms = 10000;
  TP_CHECK(tp_fswatch_start(&lp, root, &slow, &w, NULL, 0) == 0);
  TP_CHECK(tp_fswatch_next(w, &nx) == 0);
  TP_CHECK(tp_fswatch_next(w, &nx2) == UV_EBUSY);
  TP_CHECK(tp_fswatch_armed(w) == nx);
  put("a/b/x", "1");
  pump(&lp, 5);                              /* read: the batch is open */
  TP_CHECK(nx->op.state == TP_LOOP_OP_PENDING);
  TP_CHECK(tp_loop_op_cancel(tp_fswatch_op(w)) == 1);
  TP_CHECK(nx->op.state == TP_LOOP_OP_CANCELLED);
  TP_CHECK(tp_fswatch_next(w, &nx2) == UV_EINVAL);
  TP_CHECK(tp_loop_op_cancel(tp_fswatch_op(w)) == 0);
  TP_CHECK(tp_fswatch_dirs(w) == 3);         /* the tree is still known */
  tp_loop_op_release(&nx->op);
  tp_loop_op_release(tp_fswatch_op(w));
  settle(&lp);

  TP_CHECK(tp_fswatch_start(&lp, root, &slow, &w2, NULL, 0) == 0);
  TP_CHECK(tp_fswatch_next(w2, &nx) == 0);
  TP_CHECK(tp_fswatch_start(&lp, root, &slow, &w3, NULL, 0) == 0);
  put("a/b/y", "1");
  mk("a/c");
  pump(&lp, 5);
  tp_loop_op_release(tp_fswatch_op(w3));     /* never stopped by hand */
  tp_loop_close(&lp);                        /* w2 still owned, nx armed */
  TP_CHECK(tp_fswatch_op(w2)->state == TP_LOOP_OP_CANCELLED);
  TP_CHECK(nx->op.state == TP_LOOP_OP_CANCELLED);
  tp_loop_op_release(&nx->op);
  tp_loop_op_release(tp_fswatch_op(w2));
  TP_CHECK(fd_count() == fds);
  remove_tree(root);
}

static void root_goes_away(void) {
  tp_loop_t lp;
  tp_fswatch_t *w;
  TP_CHECK(tp_loop_init(&lp) == 0);
  fresh_root();
  mk("a");
  TP_CHECK(tp_fswatch_start(&lp, root, &OPTS, &w, NULL, 0) == 0);
  remove_tree(root);
  TP_CHECK(next_batch(&lp, w));
  TP_CHECK(tp_fswatch_overflowed(w));
  TP_CHECK(tp_fswatch_dirs(w) == 0);
  tp_fswatch_clear(w);
  tp_loop_op_release(tp_fswatch_op(w));
  tp_loop_close(&lp);
}

int main(void) {
  TP_RUN(bad_arguments);
  TP_RUN(walk_at_start);
  TP_RUN(batches_merge_per_path);
  TP_RUN(directories_come_and_go);
  TP_RUN(max_dirs_at_runtime);
  TP_RUN(close_with_everything_active);
  TP_RUN(root_goes_away);
  return tp_done();
}
