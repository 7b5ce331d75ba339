/*
** loop.c: a libuv loop, the operations that complete on it, and timers.
** See loop.h for the model (operations, the done queue, reference counts).
*/
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include "loop.h"

/* Longest timer: 2^53 ms, the largest count a double holds exactly (and
** far below UINT64_MAX, so the conversion below is defined). */
#define TP_LOOP_MAX_MS 9007199254740992.0

/* ---- intrusive lists ------------------------------------------------ */

static void list_init(tp_loop_link_t *head) {
  head->prev = head->next = head;
}

static int list_empty(const tp_loop_link_t *head) {
  return head->next == head;
}

static void list_push(tp_loop_link_t *head, tp_loop_link_t *l) {
  l->prev = head->prev;
  l->next = head;
  head->prev->next = l;
  head->prev = l;
}

/* Unlinking twice is harmless: an unlinked node points at itself. */
static void list_remove(tp_loop_link_t *l) {
  l->prev->next = l->next;
  l->next->prev = l->prev;
  l->prev = l->next = l;
}

static tp_loop_op_t *op_of(tp_loop_link_t *l) {
  return (tp_loop_op_t *)((char *)l - offsetof(tp_loop_op_t, link));
}

static tp_loop_op_t *op_of_all(tp_loop_link_t *l) {
  return (tp_loop_op_t *)((char *)l - offsetof(tp_loop_op_t, all));
}

static void op_close_handles(tp_loop_op_t *op) {
  if (op->type->close) op->type->close(op);
}

/* ---- the clock ------------------------------------------------------ */

double tp_loop_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- the loop ------------------------------------------------------- */

int tp_loop_init(tp_loop_t *lp) {
  int r = uv_loop_init(&lp->uv);
  if (r < 0) return r;
  list_init(&lp->pending);
  list_init(&lp->done);
  list_init(&lp->all);
  lp->running = 0;
  lp->closed = 0;
  return 0;
}

/* uv_walk callback: whatever handle is still open belongs to no operation
** (those closed theirs first), so it is memory its creator owns; close it
** without a callback. */
static void close_stray(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

void tp_loop_close(tp_loop_t *lp) {
  if (lp->closed) return;
  lp->closed = 1;
  /* Each operation closes its own handles, with the callbacks that free
  ** them: pending ones are cancelled, finished ones may keep a handle open
  ** (a pipe still being read). Completed operations nobody collected
  ** leave the queue. The owners' references keep the memory. */
  while (!list_empty(&lp->all)) {
    tp_loop_op_t *op = op_of_all(lp->all.next);
    tp_loop_op_ref(op);            /* what follows may drop the others */
    list_remove(&op->all);
    if (!tp_loop_op_cancel(op)) op_close_handles(op);
    if (op->state == TP_LOOP_OP_DONE) tp_loop_op_collect(op);
    op->loop = NULL;
    tp_loop_op_unref(op);
  }
  /* Run until every close callback ran; uv_loop_close says when. */
  while (uv_loop_close(&lp->uv) == UV_EBUSY) {
    uv_walk(&lp->uv, close_stray, NULL);
    uv_run(&lp->uv, UV_RUN_DEFAULT);
  }
}

int tp_loop_run(tp_loop_t *lp, tp_loop_mode_t mode) {
  int more;
  if (lp->closed) return UV_EINVAL;
  if (lp->running) return UV_EBUSY;   /* uv_run is not re-entrant */
  /* A binding may finish an operation before the loop ever sees it (an
  ** answer read at once). It is already queued: waiting for a further
  ** event here would hold that completion back until something unrelated
  ** happens. */
  if (mode == TP_LOOP_ONCE && !list_empty(&lp->done)) mode = TP_LOOP_NOWAIT;
  lp->running = 1;
  more = uv_run(&lp->uv, (uv_run_mode)mode);
  lp->running = 0;
  return more != 0 || !list_empty(&lp->done);
}

int tp_loop_alive(const tp_loop_t *lp) {
  if (lp->closed) return 0;
  return uv_loop_alive(&lp->uv) || !list_empty(&lp->done);
}

tp_loop_op_t *tp_loop_next_done(tp_loop_t *lp) {
  return list_empty(&lp->done) ? NULL : op_of(lp->done.next);
}

/* ---- operations ----------------------------------------------------- */

void tp_loop_op_init(tp_loop_op_t *op, const tp_loop_op_type_t *type) {
  list_init(&op->link);
  list_init(&op->all);
  op->type = type;
  op->loop = NULL;
  op->state = TP_LOOP_OP_NEW;
  op->status = 0;
  op->refs = 1;
  op->owner = -1;
}

void tp_loop_op_start(tp_loop_t *lp, tp_loop_op_t *op) {
  op->loop = lp;
  op->state = TP_LOOP_OP_PENDING;
  list_push(&lp->pending, &op->link);
  list_push(&lp->all, &op->all);
}

void tp_loop_op_done(tp_loop_op_t *op, int status) {
  if (op->state != TP_LOOP_OP_PENDING) return;
  op->state = TP_LOOP_OP_DONE;
  op->status = status;
  list_remove(&op->link);
  if (op->loop) {
    tp_loop_op_ref(op);            /* the queue's reference */
    list_push(&op->loop->done, &op->link);
  }
}

void tp_loop_op_collect(tp_loop_op_t *op) {
  if (op->link.next == &op->link) return;   /* not queued */
  list_remove(&op->link);
  tp_loop_op_unref(op);
}

int tp_loop_op_cancel(tp_loop_op_t *op) {
  if (op->state != TP_LOOP_OP_PENDING) return 0;
  op->state = TP_LOOP_OP_CANCELLED;
  list_remove(&op->link);
  op_close_handles(op);
  return 1;
}

void tp_loop_op_release(tp_loop_op_t *op) {
  if (!tp_loop_op_cancel(op)) op_close_handles(op);
  if (op->state == TP_LOOP_OP_DONE) tp_loop_op_collect(op);
  tp_loop_op_unref(op);
}

void tp_loop_op_ref(tp_loop_op_t *op) {
  op->refs++;
}

void tp_loop_op_unref(tp_loop_op_t *op) {
  if (--op->refs > 0) return;
  list_remove(&op->all);           /* no-op once the loop closed */
  op->type->free(op);
}

void tp_loop_op_close_cb(uv_handle_t *handle) {
  tp_loop_op_unref((tp_loop_op_t *)handle->data);
}

/* ---- timers --------------------------------------------------------- */

static void timer_close(tp_loop_op_t *op) {
  tp_loop_timer_t *t = (tp_loop_timer_t *)op;
  if (!uv_is_closing((uv_handle_t *)&t->handle))
    uv_close((uv_handle_t *)&t->handle, tp_loop_op_close_cb);
}

static void timer_free(tp_loop_op_t *op) {
  free(op);
}

static const tp_loop_op_type_t timer_type = {"timer", timer_close, timer_free};

/* Whole milliseconds to wait for a deadline ms_left away. libuv counts in
** whole milliseconds of a cached clock, so round up and let timer_cb
** re-arm if it still fires early. */
static uint64_t timeout_of(double ms_left) {
  return ms_left <= 0 ? 0 : (uint64_t)ceil(ms_left);
}

static void timer_cb(uv_timer_t *h) {
  tp_loop_timer_t *t = (tp_loop_timer_t *)h->data;
  double left = t->deadline - tp_loop_now();
  /* libuv's loop time lags the monotonic clock by up to a millisecond
  ** (cached per iteration, truncated, possibly the coarse clock): a timer
  ** may fire a little before the deadline. Never complete early. */
  if (left > 0) {
    uv_timer_start(h, timer_cb, timeout_of(left), 0);
    return;
  }
  tp_loop_op_done(&t->op, 0);
  timer_close(&t->op);
}

int tp_loop_timer_start(tp_loop_t *lp, double ms, tp_loop_timer_t **out) {
  tp_loop_timer_t *t;
  int r;
  *out = NULL;
  if (lp->closed) return UV_EINVAL;
  if (!(ms >= 0 && ms <= TP_LOOP_MAX_MS)) return UV_EINVAL;  /* also NaN */
  t = malloc(sizeof *t);
  if (t == NULL) return UV_ENOMEM;
  tp_loop_op_init(&t->op, &timer_type);
  r = uv_timer_init(&lp->uv, &t->handle);
  if (r < 0) {
    free(t);
    return r;
  }
  t->handle.data = t;
  tp_loop_op_ref(&t->op);          /* the handle's reference */
  /* The loop time may be stale by however long the caller has been
  ** running since the last iteration; timers count from it. */
  uv_update_time(&lp->uv);
  t->deadline = tp_loop_now() + ms;
  r = uv_timer_start(&t->handle, timer_cb, timeout_of(ms), 0);
  if (r < 0) {
    uv_close((uv_handle_t *)&t->handle, tp_loop_op_close_cb);
    tp_loop_op_unref(&t->op);      /* the owner's; the close frees */
    return r;
  }
  tp_loop_op_start(lp, &t->op);
  *out = t;
  return 0;
}

/* ---- notices ------------------------------------------------------- */

/* No handles: closing only detaches it from its source's slot. */
static void notice_close(tp_loop_op_t *op) {
  tp_loop_notice_t *n = (tp_loop_notice_t *)op;
  if (n->slot != NULL && *n->slot == n) *n->slot = NULL;
  n->slot = NULL;
}

static void notice_free(tp_loop_op_t *op) {
  tp_loop_notice_t *n = (tp_loop_notice_t *)op;
  tp_loop_op_unref(n->source);
  free(n);
}

static const tp_loop_op_type_t notice_type = {"notice", notice_close, notice_free};

int tp_loop_notice_arm(tp_loop_op_t *source, tp_loop_notice_t **slot, tp_loop_notice_t **out) {
  tp_loop_notice_t *n;
  *out = NULL;
  if (source->state != TP_LOOP_OP_PENDING || source->loop == NULL) return UV_EINVAL;
  if (*slot != NULL) return UV_EBUSY;
  n = malloc(sizeof *n);
  if (n == NULL) return UV_ENOMEM;
  tp_loop_op_init(&n->op, &notice_type);
  n->source = source;
  n->slot = slot;
  tp_loop_op_ref(source);          /* what it reports outlives a stop */
  tp_loop_op_start(source->loop, &n->op);
  *slot = n;
  *out = n;
  return 0;
}

void tp_loop_notice_fire(tp_loop_notice_t **slot) {
  tp_loop_notice_t *n = *slot;
  if (n == NULL) return;
  *slot = NULL;
  n->slot = NULL;
  tp_loop_op_done(&n->op, 0);
}

void tp_loop_notice_cancel(tp_loop_notice_t **slot) {
  tp_loop_notice_t *n = *slot;
  if (n == NULL) return;
  *slot = NULL;
  n->slot = NULL;
  tp_loop_op_cancel(&n->op);
}
