/*
** test_loop.c: unit tests of core/loop.c (the loop, operations, timers).
** Built with ASan and UBSan: every case must also leave nothing behind.
*/
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "loop.h"
#include "tp_test.h"

/* Run turns until op left the pending state (or a bound, so a bug fails
** instead of hanging). */
static void run_until_settled(tp_loop_t *lp, tp_loop_op_t *op) {
  for (int i = 0; i < 100000 && op->state == TP_LOOP_OP_PENDING; i++)
    tp_loop_run(lp, TP_LOOP_ONCE);
}

/* Run until nothing is left (close callbacks included). */
static void drain(tp_loop_t *lp) {
  for (int i = 0; i < 100000 && tp_loop_run(lp, TP_LOOP_ONCE) > 0; i++) {
    tp_loop_op_t *op;
    while ((op = tp_loop_next_done(lp)) != NULL) tp_loop_op_collect(op);
  }
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void now_is_monotonic_milliseconds(void) {
  double a = tp_loop_now(), b;
  sleep_ms(3);
  b = tp_loop_now();
  TP_CHECKF(b - a >= 3.0, "slept 3 ms, clock moved %f ms", b - a);
  for (int i = 0; i < 1000; i++) {
    double c = tp_loop_now();
    TP_CHECK(c >= b);
    b = c;
  }
}

static void init_and_close_twice(void) {
  tp_loop_t lp;
  TP_CHECK(tp_loop_init(&lp) == 0);
  TP_CHECK(!tp_loop_alive(&lp));
  TP_CHECK(tp_loop_run(&lp, TP_LOOP_NOWAIT) == 0);
  tp_loop_close(&lp);
  tp_loop_close(&lp);               /* idempotent */
  TP_CHECK(lp.closed);
}

static void timer_completes_not_before_deadline(void) {
  tp_loop_t lp;
  tp_loop_timer_t *t;
  double start;
  tp_loop_init(&lp);
  start = tp_loop_now();
  TP_CHECK(tp_loop_timer_start(&lp, 15.5, &t) == 0);
  TP_CHECK(t->op.state == TP_LOOP_OP_PENDING);
  TP_CHECK(tp_loop_alive(&lp));
  run_until_settled(&lp, &t->op);
  TP_CHECKF(tp_loop_now() - start >= 15.5, "woke after %f ms", tp_loop_now() - start);
  TP_CHECK(t->op.state == TP_LOOP_OP_DONE);
  TP_CHECK(t->op.status == 0);
  TP_CHECK(tp_loop_next_done(&lp) == &t->op);
  tp_loop_op_collect(&t->op);
  TP_CHECK(tp_loop_next_done(&lp) == NULL);
  tp_loop_op_release(&t->op);
  drain(&lp);
  TP_CHECK(!tp_loop_alive(&lp));
  tp_loop_close(&lp);
}

static void timers_complete_in_deadline_order(void) {
  tp_loop_t lp;
  tp_loop_timer_t *t[3];
  double ms[3] = {30, 10, 20};
  int order[3], n = 0;
  tp_loop_init(&lp);
  for (int i = 0; i < 3; i++) TP_CHECK(tp_loop_timer_start(&lp, ms[i], &t[i]) == 0);
  while (n < 3 && tp_loop_alive(&lp)) {
    tp_loop_op_t *op;
    tp_loop_run(&lp, TP_LOOP_ONCE);
    while ((op = tp_loop_next_done(&lp)) != NULL) {
      for (int i = 0; i < 3; i++)
        if (op == &t[i]->op) order[n++] = i;
      tp_loop_op_collect(op);
    }
  }
  TP_CHECK(n == 3);
  TP_CHECKF(order[0] == 1 && order[1] == 2 && order[2] == 0,
            "order %d %d %d", order[0], order[1], order[2]);
  for (int i = 0; i < 3; i++) tp_loop_op_release(&t[i]->op);
  tp_loop_close(&lp);
}

static void zero_timer_completes(void) {
  tp_loop_t lp;
  tp_loop_timer_t *t;
  tp_loop_init(&lp);
  TP_CHECK(tp_loop_timer_start(&lp, 0, &t) == 0);
  run_until_settled(&lp, &t->op);
  TP_CHECK(t->op.state == TP_LOOP_OP_DONE);
  tp_loop_op_release(&t->op);       /* while still queued */
  TP_CHECK(tp_loop_next_done(&lp) == NULL);
  drain(&lp);
  tp_loop_close(&lp);
}

static void bad_timer_arguments(void) {
  tp_loop_t lp;
  tp_loop_timer_t *t = (tp_loop_timer_t *)&lp;   /* must be reset to NULL */
  tp_loop_init(&lp);
  TP_CHECK(tp_loop_timer_start(&lp, -1, &t) == UV_EINVAL && t == NULL);
  TP_CHECK(tp_loop_timer_start(&lp, NAN, &t) == UV_EINVAL);
  TP_CHECK(tp_loop_timer_start(&lp, INFINITY, &t) == UV_EINVAL);
  TP_CHECK(tp_loop_timer_start(&lp, 1e300, &t) == UV_EINVAL);
  TP_CHECK(!tp_loop_alive(&lp));
  tp_loop_close(&lp);
  TP_CHECK(tp_loop_timer_start(&lp, 1, &t) == UV_EINVAL);
  TP_CHECK(tp_loop_run(&lp, TP_LOOP_NOWAIT) == UV_EINVAL);
}

static void cancel_stops_a_pending_timer(void) {
  tp_loop_t lp;
  tp_loop_timer_t *t;
  tp_loop_init(&lp);
  TP_CHECK(tp_loop_timer_start(&lp, 60000, &t) == 0);
  TP_CHECK(tp_loop_op_cancel(&t->op) == 1);
  TP_CHECK(t->op.state == TP_LOOP_OP_CANCELLED);
  TP_CHECK(tp_loop_op_cancel(&t->op) == 0);
  tp_loop_op_release(&t->op);
  /* One turn that never blocks runs the close callback, which frees it:
  ** a cancelled timer does not keep the loop alive. */
  TP_CHECK(tp_loop_run(&lp, TP_LOOP_NOWAIT) == 0);
  TP_CHECK(!tp_loop_alive(&lp));
  TP_CHECK(tp_loop_next_done(&lp) == NULL);
  tp_loop_close(&lp);
}

static void release_cancels_a_pending_timer(void) {
  tp_loop_t lp;
  tp_loop_timer_t *t;
  tp_loop_init(&lp);
  TP_CHECK(tp_loop_timer_start(&lp, 60000, &t) == 0);
  tp_loop_op_release(&t->op);       /* the owner goes away first */
  TP_CHECK(tp_loop_run(&lp, TP_LOOP_NOWAIT) == 0);
  TP_CHECK(!tp_loop_alive(&lp));
  tp_loop_close(&lp);
}

static void close_with_pending_timers(void) {
  tp_loop_t lp;
  tp_loop_timer_t *t[3];
  tp_loop_init(&lp);
  for (int i = 0; i < 3; i++) TP_CHECK(tp_loop_timer_start(&lp, 60000, &t[i]) == 0);
  tp_loop_op_release(&t[0]->op);    /* one owner lets go before the close */
  tp_loop_close(&lp);
  for (int i = 1; i < 3; i++) {
    TP_CHECK(t[i]->op.state == TP_LOOP_OP_CANCELLED);
    TP_CHECK(t[i]->op.loop == NULL);
    TP_CHECK(tp_loop_op_cancel(&t[i]->op) == 0);
    tp_loop_op_release(&t[i]->op);  /* owners outlive the loop */
  }
}

static void close_with_uncollected_completion(void) {
  tp_loop_t lp;
  tp_loop_timer_t *t;
  tp_loop_init(&lp);
  TP_CHECK(tp_loop_timer_start(&lp, 1, &t) == 0);
  run_until_settled(&lp, &t->op);
  TP_CHECK(tp_loop_next_done(&lp) == &t->op);
  tp_loop_close(&lp);               /* still queued */
  TP_CHECK(t->op.state == TP_LOOP_OP_DONE);
  TP_CHECK(t->op.loop == NULL);
  tp_loop_op_release(&t->op);
}

/* A raw handle that is no operation: the close must still close it. */
static void close_closes_stray_handles(void) {
  tp_loop_t lp;
  uv_timer_t stray;
  tp_loop_init(&lp);
  uv_timer_init(&lp.uv, &stray);
  uv_timer_start(&stray, NULL, 60000, 0);
  tp_loop_close(&lp);
  TP_CHECK(uv_is_closing((uv_handle_t *)&stray));
}

/* uv_run must never be re-entered from one of its callbacks. */
static int reentry_result = 1;

static void reenter_cb(uv_timer_t *h) {
  reentry_result = tp_loop_run(h->data, TP_LOOP_NOWAIT);
  uv_close((uv_handle_t *)h, NULL);
}

static void run_refuses_reentry(void) {
  tp_loop_t lp;
  uv_timer_t h;
  tp_loop_init(&lp);
  uv_timer_init(&lp.uv, &h);
  h.data = &lp;
  uv_timer_start(&h, reenter_cb, 0, 0);
  drain(&lp);
  TP_CHECKF(reentry_result == UV_EBUSY, "re-entry returned %d", reentry_result);
  tp_loop_close(&lp);
}

/* The contract a binding follows for its own kind of operation: embed the
** op, one reference per handle, done from a callback, a close function
** that closes what is still open, free when the last reference goes.
** Here: an idle handle that completes with status -42 and, like a pipe
** still being read, stays open after completing. */
typedef struct {
  tp_loop_op_t op;
  uv_idle_t idle;
} idle_op;

static int idle_closes, idle_frees;

static void idle_close(tp_loop_op_t *op) {
  idle_op *o = (idle_op *)op;
  if (uv_is_closing((uv_handle_t *)&o->idle)) return;
  idle_closes++;
  uv_close((uv_handle_t *)&o->idle, tp_loop_op_close_cb);
}

static void idle_free(tp_loop_op_t *op) {
  idle_frees++;
  free(op);
}

static const tp_loop_op_type_t idle_type = {"idle", idle_close, idle_free};

static void idle_cb(uv_idle_t *h) {
  idle_op *o = h->data;
  tp_loop_op_done(&o->op, -42);
  uv_idle_stop(h);                  /* finished, but the handle stays open */
}

static idle_op *idle_start(tp_loop_t *lp, int start_handle) {
  idle_op *o = malloc(sizeof *o);
  tp_loop_op_init(&o->op, &idle_type);
  uv_idle_init(&lp->uv, &o->idle);
  o->idle.data = o;
  tp_loop_op_ref(&o->op);           /* the handle's reference */
  if (start_handle) uv_idle_start(&o->idle, idle_cb);
  tp_loop_op_start(lp, &o->op);
  return o;
}

static void binding_contract(void) {
  tp_loop_t lp;
  idle_op *o;
  idle_closes = idle_frees = 0;
  tp_loop_init(&lp);
  o = idle_start(&lp, 1);
  TP_CHECK(o->op.owner == -1);
  run_until_settled(&lp, &o->op);
  TP_CHECK(o->op.state == TP_LOOP_OP_DONE && o->op.status == -42);
  TP_CHECK(tp_loop_next_done(&lp) == &o->op);
  tp_loop_op_done(&o->op, 7);       /* a second completion is ignored */
  TP_CHECK(o->op.status == -42);
  tp_loop_op_collect(&o->op);
  TP_CHECK(idle_closes == 0);
  tp_loop_op_release(&o->op);       /* closes the handle left open */
  TP_CHECK(idle_closes == 1);
  TP_CHECK(idle_frees == 0);        /* not before its close callback */
  drain(&lp);
  TP_CHECK(idle_frees == 1);
  tp_loop_close(&lp);
}

static void close_closes_handles_of_finished_operations(void) {
  tp_loop_t lp;
  idle_op *o;
  idle_closes = idle_frees = 0;
  tp_loop_init(&lp);
  o = idle_start(&lp, 1);
  run_until_settled(&lp, &o->op);   /* done, queued, handle open */
  tp_loop_close(&lp);
  TP_CHECK(idle_closes == 1);
  TP_CHECK(o->op.state == TP_LOOP_OP_DONE && o->op.loop == NULL);
  TP_CHECK(idle_frees == 0);        /* the owner still holds it */
  tp_loop_op_release(&o->op);
  TP_CHECK(idle_closes == 1);
  TP_CHECK(idle_frees == 1);
}

static void close_cancels_pending_operations(void) {
  tp_loop_t lp;
  idle_op *o;
  idle_closes = idle_frees = 0;
  tp_loop_init(&lp);
  o = idle_start(&lp, 0);           /* never completes by itself */
  tp_loop_close(&lp);
  TP_CHECK(o->op.state == TP_LOOP_OP_CANCELLED);
  TP_CHECK(idle_closes == 1);
  TP_CHECK(idle_frees == 0);
  tp_loop_op_release(&o->op);
  TP_CHECK(idle_frees == 1);
}

/* An operation a binding finished at once (no loop event) is delivered by
** the next blocking turn without waiting for an unrelated event: here a
** 60 s timer, which must still be pending after the turn. */
static void once_does_not_block_on_a_queued_completion(void) {
  tp_loop_t lp;
  tp_loop_timer_t *t;
  idle_op *o;
  idle_closes = idle_frees = 0;
  tp_loop_init(&lp);
  TP_CHECK(tp_loop_timer_start(&lp, 60000, &t) == 0);
  o = idle_start(&lp, 0);           /* its handle never fires */
  tp_loop_op_done(&o->op, 5);       /* finished by the binding itself */
  tp_loop_run(&lp, TP_LOOP_ONCE);
  TP_CHECK(tp_loop_next_done(&lp) == &o->op);
  TP_CHECK(t->op.state == TP_LOOP_OP_PENDING);
  tp_loop_op_collect(&o->op);
  tp_loop_op_release(&o->op);
  tp_loop_op_release(&t->op);
  drain(&lp);
  tp_loop_close(&lp);
}

int main(void) {
  TP_RUN(now_is_monotonic_milliseconds);
  TP_RUN(init_and_close_twice);
  TP_RUN(timer_completes_not_before_deadline);
  TP_RUN(timers_complete_in_deadline_order);
  TP_RUN(zero_timer_completes);
  TP_RUN(bad_timer_arguments);
  TP_RUN(cancel_stops_a_pending_timer);
  TP_RUN(release_cancels_a_pending_timer);
  TP_RUN(close_with_pending_timers);
  TP_RUN(close_with_uncollected_completion);
  TP_RUN(close_closes_stray_handles);
  TP_RUN(run_refuses_reentry);
  TP_RUN(binding_contract);
  TP_RUN(close_closes_handles_of_finished_operations);
  TP_RUN(close_cancels_pending_operations);
  TP_RUN(once_does_not_block_on_a_queued_completion);
  return tp_done();
}
