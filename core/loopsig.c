/*
** loopsig.c: signals on the loop. See loopsig.h for the model (wait and
** watch operations, the dispositions kept per signal).
*/
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "loopsig.h"

/* Longest timeout, as for timers (loop.c): 2^53 ms. */
#define MAX_MS 9007199254740992.0

/* ---- the accepted signals ------------------------------------------ */

/* Signals that a program asks to stop, reload or report. Not SIGCHLD
** (libuv's process handles own it), not the synchronous faults, not
** SIGPIPE/SIGALRM, whose default other code relies on. */
static const struct {
  int signum;
  const char *name;
} accepted[] = {
  {SIGINT, "INT"}, {SIGTERM, "TERM"}, {SIGHUP, "HUP"},
  {SIGUSR1, "USR1"}, {SIGUSR2, "USR2"}, {SIGQUIT, "QUIT"},
};

#define NACCEPTED ((int)(sizeof accepted / sizeof accepted[0]))

const char *tp_loopsig_name(int signum) {
  for (int i = 0; i < NACCEPTED; i++)
    if (accepted[i].signum == signum) return accepted[i].name;
  return NULL;
}

int tp_loopsig_number(const char *name) {
  for (int i = 0; i < NACCEPTED; i++)
    if (strcmp(accepted[i].name, name) == 0) return accepted[i].signum;
  return 0;
}

int tp_loopsig_nth(int i) {
  return i >= 0 && i < NACCEPTED ? accepted[i].signum : 0;
}

/* ---- dispositions ---------------------------------------------------- */

/* Per signal, for the whole process: how many of our handles are started
** (every loop counts), the disposition to restore when the last stops, and
** the one libuv installed (to tell whether someone replaced it). The lock
** orders these with libuv's own signal lock, taken inside uv_signal_*. */
static struct slot {
  int users;
  struct sigaction prev;
  struct sigaction mine;
} slots[NSIG];

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;

static int same_handler(const struct sigaction *a, const struct sigaction *b) {
  return a->sa_handler == b->sa_handler;   /* sa_sigaction shares the storage */
}

/* Start h on signum, libuv's handler replacing (and saving) whatever was
** installed. */
static int slot_start(uv_signal_t *h, uv_signal_cb cb, int signum) {
  struct slot *s = &slots[signum];
  struct sigaction cur;
  int r;
  pthread_mutex_lock(&slot_lock);
  if (s->users == 0) sigaction(signum, NULL, &s->prev);
  r = uv_signal_start(h, cb, signum);
  if (r == 0) {
    sigaction(signum, NULL, &cur);
    if (s->users == 0) {
      s->mine = cur;
    } else if (!same_handler(&cur, &s->mine)) {
      /* Someone replaced libuv's handler while ours were active (lua.c
      ** does at the end of a chunk). A new watcher wants the signal: take
      ** it back, and give theirs back when the last handle stops. */
      s->prev = cur;
      sigaction(signum, &s->mine, NULL);
    }
    s->users++;
  }
  pthread_mutex_unlock(&slot_lock);
  return r;
}

/* Close a started h. When it was the last user of signum, libuv resets the
** signal to SIG_DFL; put back the saved disposition instead, or the one
** someone installed over libuv's meanwhile. The signal stays blocked in
** this thread in between, so a delivery in that window waits for the
** restored disposition instead of meeting SIG_DFL (which would kill). */
static void slot_stop(uv_signal_t *h, int signum) {
  struct slot *s = &slots[signum];
  struct sigaction cur;
  sigset_t block, saved;
  sigemptyset(&block);
  sigaddset(&block, signum);
  pthread_sigmask(SIG_BLOCK, &block, &saved);
  pthread_mutex_lock(&slot_lock);
  sigaction(signum, NULL, &cur);
  uv_close((uv_handle_t *)h, tp_loop_op_close_cb);
  if (--s->users == 0)
    sigaction(signum, same_handler(&cur, &s->mine) ? &s->prev : &cur, NULL);
  pthread_mutex_unlock(&slot_lock);
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

int tp_loopsig_action(int signum, const struct sigaction *sa, struct sigaction *old) {
  int r = 0;
  if (signum <= 0 || signum >= NSIG) return UV_EINVAL;
  pthread_mutex_lock(&slot_lock);
  if (slots[signum].users > 0) {
    if (old) *old = slots[signum].prev;
    if (sa) slots[signum].prev = *sa;
  } else if (sigaction(signum, sa, old) != 0) {
    r = -errno;
  }
  pthread_mutex_unlock(&slot_lock);
  return r;
}

int tp_loopsig_disposition(int signum) {
  struct sigaction cur;
  int ours;
  if (signum <= 0 || signum >= NSIG) return UV_EINVAL;
  pthread_mutex_lock(&slot_lock);
  sigaction(signum, NULL, &cur);
  ours = slots[signum].users > 0 && same_handler(&cur, &slots[signum].mine);
  pthread_mutex_unlock(&slot_lock);
  if (ours) return TP_LOOPSIG_LOOP;
  if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL) return TP_LOOPSIG_DEFAULT;
  if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_IGN) return TP_LOOPSIG_IGNORED;
  return TP_LOOPSIG_OTHER;
}

/* ---- the handles of one operation ----------------------------------- */

/* Check the list and keep its distinct signals: two handles of one
** signal on one loop would report each delivery twice. */
static int set_fill(tp_loopsig_set_t *set, const int *signums, int n) {
  set->n = set->inited = set->started = 0;
  if (n < 1 || n > TP_LOOPSIG_MAX) return UV_EINVAL;
  for (int i = 0; i < n; i++) {
    int j;
    if (tp_loopsig_name(signums[i]) == NULL) return UV_EINVAL;
    for (j = 0; j < set->n && set->signums[j] != signums[i]; j++) {}
    if (j == set->n) set->signums[set->n++] = signums[i];
  }
  return 0;
}

/* Initialise the handles (each holds a reference to op) and start them.
** keepalive = 0 unrefs them: they do not keep the loop running. On
** failure the caller closes the set. */
static int set_open(tp_loop_t *lp, tp_loop_op_t *op, tp_loopsig_set_t *set,
                    uv_signal_cb cb, int keepalive) {
  int r;
  for (int i = 0; i < set->n; i++) {
    r = uv_signal_init(&lp->uv, &set->handles[i]);
    if (r < 0) return r;
    set->handles[i].data = op;
    tp_loop_op_ref(op);
    set->inited++;
    if (!keepalive) uv_unref((uv_handle_t *)&set->handles[i]);
  }
  for (int i = 0; i < set->n; i++) {
    r = slot_start(&set->handles[i], cb, set->signums[i]);
    if (r < 0) return r;
    set->started++;
  }
  return 0;
}

/* Idempotent: stops and closes every handle not closing yet. */
static void set_close(tp_loopsig_set_t *set) {
  for (int i = 0; i < set->inited; i++) {
    uv_handle_t *h = (uv_handle_t *)&set->handles[i];
    if (uv_is_closing(h)) continue;
    if (i < set->started) slot_stop(&set->handles[i], set->signums[i]);
    else uv_close(h, tp_loop_op_close_cb);
  }
}

/* ---- wait ----------------------------------------------------------- */

static void wait_close(tp_loop_op_t *op) {
  tp_loopsig_wait_t *w = (tp_loopsig_wait_t *)op;
  set_close(&w->set);
  if (w->has_timer && !uv_is_closing((uv_handle_t *)&w->timer))
    uv_close((uv_handle_t *)&w->timer, tp_loop_op_close_cb);
}

static void wait_free(tp_loop_op_t *op) {
  free(op);
}

static const tp_loop_op_type_t wait_type = {"signal wait", wait_close, wait_free};

static void wait_finish(tp_loopsig_wait_t *w, int signum) {
  w->signum = signum;
  tp_loop_op_done(&w->op, 0);
  wait_close(&w->op);         /* stop watching at once: later deliveries
                              ** get the restored disposition */
}

static void wait_signal_cb(uv_signal_t *h, int signum) {
  tp_loopsig_wait_t *w = h->data;
  if (w->op.state == TP_LOOP_OP_PENDING) wait_finish(w, signum);
}

static uint64_t timeout_of(double ms_left) {
  return ms_left <= 0 ? 0 : (uint64_t)ceil(ms_left);
}

/* As loop.c's timers: never expire before tp_loop_now() reached the
** deadline, whatever libuv's cached loop time says. */
static void wait_timer_cb(uv_timer_t *h) {
  tp_loopsig_wait_t *w = h->data;
  double left = w->deadline - tp_loop_now();
  if (w->op.state != TP_LOOP_OP_PENDING) return;
  if (left > 0) {
    uv_timer_start(h, wait_timer_cb, timeout_of(left), 0);
    return;
  }
  wait_finish(w, 0);
}

static int wait_open_timer(tp_loop_t *lp, tp_loopsig_wait_t *w, double ms) {
  int r = uv_timer_init(&lp->uv, &w->timer);
  if (r < 0) return r;
  w->timer.data = w;
  tp_loop_op_ref(&w->op);
  w->has_timer = 1;
  uv_update_time(&lp->uv);
  w->deadline = tp_loop_now() + ms;
  return uv_timer_start(&w->timer, wait_timer_cb, timeout_of(ms), 0);
}

int tp_loopsig_wait_start(tp_loop_t *lp, const int *signums, int n, double timeout_ms,
                          tp_loopsig_wait_t **out) {
  tp_loopsig_wait_t *w;
  int r;
  *out = NULL;
  if (lp->closed) return UV_EINVAL;
  if (!(timeout_ms < 0 || timeout_ms <= MAX_MS)) return UV_EINVAL;   /* NaN too */
  w = malloc(sizeof *w);
  if (w == NULL) return UV_ENOMEM;
  tp_loop_op_init(&w->op, &wait_type);
  w->has_timer = 0;
  w->signum = 0;
  r = set_fill(&w->set, signums, n);
  if (r == 0) r = set_open(lp, &w->op, &w->set, wait_signal_cb, 1);
  if (r == 0 && timeout_ms >= 0) r = wait_open_timer(lp, w, timeout_ms);
  if (r < 0) {
    wait_close(&w->op);
    tp_loop_op_unref(&w->op);      /* the owner's; the closes free it */
    return r;
  }
  tp_loop_op_start(lp, &w->op);
  *out = w;
  return 0;
}

/* ---- watch ---------------------------------------------------------- */

static int queue_push(tp_loopsig_watch_t *w, int signum) {
  if (w->len == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 8;
    int *q;
    if (w->cap >= TP_LOOPSIG_QUEUE_MAX) return 0;
    q = malloc(cap * sizeof *q);
    if (q == NULL) return 0;
    for (size_t i = 0; i < w->len; i++) q[i] = w->queue[(w->head + i) % w->cap];
    free(w->queue);
    w->queue = q;
    w->head = 0;
    w->cap = cap;
  }
  w->queue[(w->head + w->len) % w->cap] = signum;
  w->len++;
  return 1;
}

size_t tp_loopsig_watch_take(tp_loopsig_watch_t *w, int *buf, size_t max) {
  size_t n = 0;
  while (n < max && w->len > 0) {
    buf[n++] = w->queue[w->head];
    w->head = (w->head + 1) % w->cap;
    w->len--;
  }
  return n;
}

/* Complete the armed next operation, if any. */
static void watch_notify(tp_loopsig_watch_t *w) {
  tp_loop_notice_fire(&w->armed);
}

static void watch_signal_cb(uv_signal_t *h, int signum) {
  tp_loopsig_watch_t *w = h->data;
  if (w->op.state != TP_LOOP_OP_PENDING) return;
  if (!queue_push(w, signum)) w->dropped++;
  watch_notify(w);
}

/* Stopping the watch: no more deliveries, and the armed next operation
** can never complete, so it is cancelled too. */
static void watch_close(tp_loop_op_t *op) {
  tp_loopsig_watch_t *w = (tp_loopsig_watch_t *)op;
  set_close(&w->set);
  tp_loop_notice_cancel(&w->armed);
}

static void watch_free(tp_loop_op_t *op) {
  tp_loopsig_watch_t *w = (tp_loopsig_watch_t *)op;
  free(w->queue);
  free(w);
}

static const tp_loop_op_type_t watch_type = {"signal watch", watch_close, watch_free};

int tp_loopsig_watch_start(tp_loop_t *lp, const int *signums, int n,
                           tp_loopsig_watch_t **out) {
  tp_loopsig_watch_t *w;
  int r;
  *out = NULL;
  if (lp->closed) return UV_EINVAL;
  w = malloc(sizeof *w);
  if (w == NULL) return UV_ENOMEM;
  tp_loop_op_init(&w->op, &watch_type);
  w->queue = NULL;
  w->head = w->len = w->cap = 0;
  w->dropped = 0;
  w->armed = NULL;
  r = set_fill(&w->set, signums, n);
  if (r == 0) r = set_open(lp, &w->op, &w->set, watch_signal_cb, 0);
  if (r < 0) {
    watch_close(&w->op);
    tp_loop_op_unref(&w->op);
    return r;
  }
  tp_loop_op_start(lp, &w->op);
  *out = w;
  return 0;
}

/* ---- next: one notification of a watch ------------------------------ */

int tp_loopsig_watch_next(tp_loopsig_watch_t *w, tp_loopsig_next_t **out) {
  int r = tp_loop_notice_arm(&w->op, &w->armed, out);   /* the queue outlives a stop */
  if (r == 0 && w->len > 0) watch_notify(w);              /* deliveries nobody took yet */
  return r;
}
