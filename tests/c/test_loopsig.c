/*
** test_loopsig.c: unit tests of core/loopsig.c (signals on the loop).
** Signals are raised at this process (raise(3): delivered before it
** returns), so every case leaves the dispositions as it found them.
** Built with ASan and UBSan: every case must also leave nothing behind.
*/
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "loopsig.h"
#include "tp_test.h"

static volatile sig_atomic_t counted;

static void count_handler(int sig) {
  (void)sig;
  counted++;
}

static void set_handler(int signum, void (*fn)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sigemptyset(&sa.sa_mask);
  sigaction(signum, &sa, NULL);
}

static int handler_is(int signum, void (*fn)(int)) {
  struct sigaction cur;
  sigaction(signum, NULL, &cur);
  return cur.sa_handler == fn;
}

static void run_until_settled(tp_loop_t *lp, tp_loop_op_t *op) {
  for (int i = 0; i < 100000 && op->state == TP_LOOP_OP_PENDING; i++)
    tp_loop_run(lp, TP_LOOP_ONCE);
}

/* Turns that never block, until the queue is empty and close callbacks ran. */
static void settle(tp_loop_t *lp) {
  for (int i = 0; i < 1000; i++) {
    tp_loop_op_t *op;
    int more = tp_loop_run(lp, TP_LOOP_NOWAIT);
    while ((op = tp_loop_next_done(lp)) != NULL) tp_loop_op_collect(op);
    if (!more) break;
  }
}

/* Let the loop read the signal pipe: a watch alone does not keep it
** running, so a short timer does, for one poll. */
static void pump(tp_loop_t *lp) {
  tp_loop_timer_t *t;
  if (tp_loop_timer_start(lp, 1, &t) != 0) return;
  run_until_settled(lp, &t->op);
  tp_loop_op_release(&t->op);
  settle(lp);
}

static void names_and_numbers(void) {
  TP_CHECK(tp_loopsig_number("INT") == SIGINT);
  TP_CHECK(tp_loopsig_number("USR2") == SIGUSR2);
  TP_CHECK(tp_loopsig_number("KILL") == 0);
  TP_CHECK(tp_loopsig_number("int") == 0);          /* the Lua layer folds case */
  TP_CHECK(strcmp(tp_loopsig_name(SIGQUIT), "QUIT") == 0);
  TP_CHECK(tp_loopsig_name(SIGKILL) == NULL);
  TP_CHECK(tp_loopsig_name(SIGSEGV) == NULL);
  TP_CHECK(tp_loopsig_name(SIGCHLD) == NULL);
  int n = 0;
  while (tp_loopsig_nth(n) != 0) n++;
  TP_CHECK(n == 6);
}

static void bad_arguments(void) {
  tp_loop_t lp;
  tp_loopsig_wait_t *w = (tp_loopsig_wait_t *)&lp;
  tp_loopsig_watch_t *x = (tp_loopsig_watch_t *)&lp;
  int kill_[] = {SIGKILL}, segv[] = {SIGUSR1, SIGSEGV}, many[] = {1, 2, 3, 10, 12, 15, 2};
  int usr1[] = {SIGUSR1};
  tp_loop_init(&lp);
  TP_CHECK(tp_loopsig_wait_start(&lp, kill_, 1, -1, &w) == UV_EINVAL && w == NULL);
  TP_CHECK(tp_loopsig_wait_start(&lp, segv, 2, -1, &w) == UV_EINVAL);
  TP_CHECK(tp_loopsig_wait_start(&lp, usr1, 0, -1, &w) == UV_EINVAL);
  TP_CHECK(tp_loopsig_wait_start(&lp, many, 7, -1, &w) == UV_EINVAL);
  TP_CHECK(tp_loopsig_wait_start(&lp, usr1, 1, 1e300, &w) == UV_EINVAL);
  TP_CHECK(tp_loopsig_watch_start(&lp, kill_, 1, &x) == UV_EINVAL && x == NULL);
  TP_CHECK(tp_loopsig_disposition(SIGUSR1) == TP_LOOPSIG_DEFAULT);
  TP_CHECK(tp_loopsig_disposition(0) == UV_EINVAL);
  settle(&lp);
  TP_CHECK(!tp_loop_alive(&lp));
  tp_loop_close(&lp);
  TP_CHECK(tp_loopsig_wait_start(&lp, usr1, 1, -1, &w) == UV_EINVAL);
  TP_CHECK(tp_loopsig_watch_start(&lp, usr1, 1, &x) == UV_EINVAL);
}

static void wait_returns_the_signal_and_restores(void) {
  tp_loop_t lp;
  tp_loopsig_wait_t *w;
  int sigs[] = {SIGUSR2, SIGUSR1, SIGUSR1};   /* duplicates are harmless */
  tp_loop_init(&lp);
  TP_CHECK(tp_loopsig_wait_start(&lp, sigs, 3, -1, &w) == 0);
  TP_CHECK(w->set.n == 2);
  TP_CHECK(tp_loopsig_disposition(SIGUSR1) == TP_LOOPSIG_LOOP);
  TP_CHECK(tp_loopsig_disposition(SIGUSR2) == TP_LOOPSIG_LOOP);
  TP_CHECK(tp_loop_alive(&lp));              /* a wait keeps the loop alive */
  raise(SIGUSR1);                            /* does not kill: the loop has it */
  run_until_settled(&lp, &w->op);
  TP_CHECK(w->op.state == TP_LOOP_OP_DONE);
  TP_CHECK(w->signum == SIGUSR1);
  /* Completion stops the watch at once. */
  TP_CHECK(tp_loopsig_disposition(SIGUSR1) == TP_LOOPSIG_DEFAULT);
  TP_CHECK(tp_loopsig_disposition(SIGUSR2) == TP_LOOPSIG_DEFAULT);
  tp_loop_op_release(&w->op);
  settle(&lp);
  TP_CHECK(!tp_loop_alive(&lp));
  tp_loop_close(&lp);
}

static void wait_times_out(void) {
  tp_loop_t lp;
  tp_loopsig_wait_t *w;
  int sigs[] = {SIGHUP};
  double start;
  tp_loop_init(&lp);
  start = tp_loop_now();
  TP_CHECK(tp_loopsig_wait_start(&lp, sigs, 1, 5.5, &w) == 0);
  run_until_settled(&lp, &w->op);
  TP_CHECKF(tp_loop_now() - start >= 5.5, "timed out after %f ms", tp_loop_now() - start);
  TP_CHECK(w->op.state == TP_LOOP_OP_DONE && w->signum == 0);
  TP_CHECK(tp_loopsig_disposition(SIGHUP) == TP_LOOPSIG_DEFAULT);
  tp_loop_op_release(&w->op);
  settle(&lp);
  TP_CHECK(!tp_loop_alive(&lp));
  tp_loop_close(&lp);
}

static void cancelled_wait_restores_the_previous_handler(void) {
  tp_loop_t lp;
  tp_loopsig_wait_t *w;
  int sigs[] = {SIGUSR2};
  tp_loop_init(&lp);
  set_handler(SIGUSR2, count_handler);
  counted = 0;
  TP_CHECK(tp_loopsig_wait_start(&lp, sigs, 1, 60000, &w) == 0);
  TP_CHECK(tp_loopsig_disposition(SIGUSR2) == TP_LOOPSIG_LOOP);
  TP_CHECK(tp_loop_op_cancel(&w->op) == 1);
  TP_CHECK(handler_is(SIGUSR2, count_handler));
  raise(SIGUSR2);
  TP_CHECK(counted == 1);
  tp_loop_op_release(&w->op);
  settle(&lp);
  TP_CHECK(!tp_loop_alive(&lp));
  tp_loop_close(&lp);
  set_handler(SIGUSR2, SIG_DFL);
}

/* A watch records every delivery; a next operation completes when there
** is one, at once if some arrived while none was armed. */
static void watch_delivers_every_signal(void) {
  tp_loop_t lp;
  tp_loopsig_watch_t *x;
  tp_loopsig_next_t *nx;
  int sigs[] = {SIGUSR1, SIGHUP}, got[8];
  size_t n;
  tp_loop_init(&lp);
  set_handler(SIGUSR1, count_handler);
  counted = 0;
  TP_CHECK(tp_loopsig_watch_start(&lp, sigs, 2, &x) == 0);
  TP_CHECK(tp_loopsig_watch_next(x, &nx) == 0);
  TP_CHECK(nx->op.state == TP_LOOP_OP_PENDING);
  tp_loopsig_next_t *nx2 = (tp_loopsig_next_t *)&lp;
  TP_CHECK(tp_loopsig_watch_next(x, &nx2) == UV_EBUSY && nx2 == NULL);
  raise(SIGUSR1);
  pump(&lp);
  TP_CHECK(nx->op.state == TP_LOOP_OP_DONE);
  n = tp_loopsig_watch_take(x, got, 8);
  TP_CHECK(n == 1 && got[0] == SIGUSR1);
  TP_CHECK(counted == 0);                     /* the loop had it, not the handler */
  tp_loop_op_release(&nx->op);
  /* Three deliveries while nothing is armed: kept, in order. The loop
  ** reads them during a turn that something else keeps going. */
  raise(SIGHUP);
  raise(SIGUSR1);
  raise(SIGHUP);
  pump(&lp);
  TP_CHECK(x->len == 3);
  TP_CHECK(tp_loopsig_watch_next(x, &nx) == 0);
  TP_CHECK(nx->op.state == TP_LOOP_OP_DONE);  /* at once */
  n = tp_loopsig_watch_take(x, got, 2);
  TP_CHECK(n == 2 && got[0] == SIGHUP && got[1] == SIGUSR1);
  n = tp_loopsig_watch_take(x, got, 8);
  TP_CHECK(n == 1 && got[0] == SIGHUP);
  TP_CHECK(tp_loopsig_watch_take(x, got, 8) == 0);
  tp_loop_op_release(&nx->op);
  /* Stopping gives back the previous dispositions. */
  TP_CHECK(tp_loopsig_watch_next(x, &nx) == 0);
  TP_CHECK(tp_loop_op_cancel(&x->op) == 1);
  TP_CHECK(nx->op.state == TP_LOOP_OP_CANCELLED);
  TP_CHECK(tp_loopsig_watch_next(x, &nx2) == UV_EINVAL);
  TP_CHECK(handler_is(SIGUSR1, count_handler));
  TP_CHECK(tp_loopsig_disposition(SIGHUP) == TP_LOOPSIG_DEFAULT);
  raise(SIGUSR1);
  TP_CHECK(counted == 1);
  tp_loop_op_release(&nx->op);
  tp_loop_op_release(&x->op);
  settle(&lp);
  TP_CHECK(!tp_loop_alive(&lp));
  tp_loop_close(&lp);
  set_handler(SIGUSR1, SIG_DFL);
}

static void many_deliveries_grow_the_queue(void) {
  tp_loop_t lp;
  tp_loopsig_watch_t *x;
  int sigs[] = {SIGUSR2}, got[64];
  size_t total = 0, n;
  tp_loop_init(&lp);
  TP_CHECK(tp_loopsig_watch_start(&lp, sigs, 1, &x) == 0);
  for (int i = 0; i < 100; i++) {
    raise(SIGUSR2);
    pump(&lp);           /* read each before the next: no merging */
  }
  while ((n = tp_loopsig_watch_take(x, got, 64)) > 0) total += n;
  TP_CHECKF(total == 100, "took %zu", total);
  TP_CHECK(x->dropped == 0);
  tp_loop_op_release(&x->op);
  settle(&lp);
  tp_loop_close(&lp);
  TP_CHECK(tp_loopsig_disposition(SIGUSR2) == TP_LOOPSIG_DEFAULT);
}

static void a_watch_does_not_keep_the_loop_alive(void) {
  tp_loop_t lp;
  tp_loopsig_watch_t *x;
  tp_loopsig_next_t *nx;
  int sigs[] = {SIGTERM};
  tp_loop_init(&lp);
  TP_CHECK(tp_loopsig_watch_start(&lp, sigs, 1, &x) == 0);
  TP_CHECK(tp_loopsig_watch_next(x, &nx) == 0);
  TP_CHECK(!tp_loop_alive(&lp));
  TP_CHECK(tp_loop_run(&lp, TP_LOOP_ONCE) == 0);   /* returns, does not block */
  tp_loop_op_release(&nx->op);
  tp_loop_op_release(&x->op);
  settle(&lp);
  tp_loop_close(&lp);
  TP_CHECK(tp_loopsig_disposition(SIGTERM) == TP_LOOPSIG_DEFAULT);
}

/* A wait and a watch of one signal, in two loops: each gets the delivery;
** the disposition comes back only when the last one stops. */
static void two_loops_share_a_signal(void) {
  tp_loop_t a, b;
  tp_loopsig_wait_t *w;
  tp_loopsig_watch_t *x;
  int sigs[] = {SIGUSR1}, got[4];
  tp_loop_init(&a);
  tp_loop_init(&b);
  TP_CHECK(tp_loopsig_wait_start(&a, sigs, 1, -1, &w) == 0);
  TP_CHECK(tp_loopsig_watch_start(&b, sigs, 1, &x) == 0);
  raise(SIGUSR1);
  run_until_settled(&a, &w->op);
  TP_CHECK(w->signum == SIGUSR1);
  TP_CHECK(tp_loopsig_disposition(SIGUSR1) == TP_LOOPSIG_LOOP);   /* b still has it */
  pump(&b);
  TP_CHECK(tp_loopsig_watch_take(x, got, 4) == 1 && got[0] == SIGUSR1);
  tp_loop_op_release(&x->op);
  TP_CHECK(tp_loopsig_disposition(SIGUSR1) == TP_LOOPSIG_DEFAULT);
  tp_loop_op_release(&w->op);
  settle(&a);
  settle(&b);
  tp_loop_close(&a);
  tp_loop_close(&b);
}

/* tp_loopsig_action changes what is restored, not what is active. */
static void host_actions_go_underneath(void) {
  tp_loop_t lp;
  tp_loopsig_watch_t *x;
  struct sigaction sa, old;
  int sigs[] = {SIGUSR2};
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = count_handler;
  sigemptyset(&sa.sa_mask);
  tp_loop_init(&lp);
  TP_CHECK(tp_loopsig_watch_start(&lp, sigs, 1, &x) == 0);
  TP_CHECK(tp_loopsig_action(SIGUSR2, &sa, &old) == 0);
  TP_CHECK(old.sa_handler == SIG_DFL);               /* what would have come back */
  TP_CHECK(tp_loopsig_disposition(SIGUSR2) == TP_LOOPSIG_LOOP);
  tp_loop_op_cancel(&x->op);
  TP_CHECK(handler_is(SIGUSR2, count_handler));
  /* Without a watch, it is sigaction. */
  sa.sa_handler = SIG_DFL;
  TP_CHECK(tp_loopsig_action(SIGUSR2, &sa, &old) == 0);
  TP_CHECK(old.sa_handler == count_handler);
  TP_CHECK(handler_is(SIGUSR2, SIG_DFL));
  TP_CHECK(tp_loopsig_action(0, &sa, NULL) == UV_EINVAL);
  tp_loop_op_release(&x->op);
  settle(&lp);
  tp_loop_close(&lp);
}

/* Someone replaces libuv's handler while a watch runs (lua.c does at the
** end of a chunk): stopping keeps theirs instead of resetting to SIG_DFL.
** A new watch takes the signal back, and gives theirs back. */
static void a_foreign_handler_survives_the_stop(void) {
  tp_loop_t lp;
  tp_loopsig_watch_t *x, *y;
  int sigs[] = {SIGUSR1};
  tp_loop_init(&lp);
  TP_CHECK(tp_loopsig_watch_start(&lp, sigs, 1, &x) == 0);
  set_handler(SIGUSR1, count_handler);
  TP_CHECK(tp_loopsig_disposition(SIGUSR1) == TP_LOOPSIG_OTHER);
  TP_CHECK(tp_loopsig_watch_start(&lp, sigs, 1, &y) == 0);
  TP_CHECK(tp_loopsig_disposition(SIGUSR1) == TP_LOOPSIG_LOOP);
  tp_loop_op_release(&y->op);
  TP_CHECK(tp_loopsig_disposition(SIGUSR1) == TP_LOOPSIG_LOOP);
  tp_loop_op_release(&x->op);
  TP_CHECK(handler_is(SIGUSR1, count_handler));
  settle(&lp);
  tp_loop_close(&lp);
  set_handler(SIGUSR1, SIG_DFL);
}

/* Ignored stays ignored afterwards. */
static void an_ignored_signal_stays_ignored(void) {
  tp_loop_t lp;
  tp_loopsig_wait_t *w;
  int sigs[] = {SIGQUIT};
  tp_loop_init(&lp);
  set_handler(SIGQUIT, SIG_IGN);
  TP_CHECK(tp_loopsig_disposition(SIGQUIT) == TP_LOOPSIG_IGNORED);
  TP_CHECK(tp_loopsig_wait_start(&lp, sigs, 1, -1, &w) == 0);
  raise(SIGQUIT);
  run_until_settled(&lp, &w->op);
  TP_CHECK(w->signum == SIGQUIT);
  TP_CHECK(tp_loopsig_disposition(SIGQUIT) == TP_LOOPSIG_IGNORED);
  tp_loop_op_release(&w->op);
  settle(&lp);
  tp_loop_close(&lp);
  set_handler(SIGQUIT, SIG_DFL);
}

/* Closing the loop with a wait, a watch and an armed next still owned
** stops them all; the owners release afterwards (ASan checks the rest). */
static void loop_close_stops_everything(void) {
  tp_loop_t lp;
  tp_loopsig_wait_t *w;
  tp_loopsig_watch_t *x;
  tp_loopsig_next_t *nx;
  int a[] = {SIGINT}, b[] = {SIGINT, SIGTERM};
  tp_loop_init(&lp);
  TP_CHECK(tp_loopsig_wait_start(&lp, a, 1, 1000, &w) == 0);
  TP_CHECK(tp_loopsig_watch_start(&lp, b, 2, &x) == 0);
  TP_CHECK(tp_loopsig_watch_next(x, &nx) == 0);
  raise(SIGTERM);               /* left in the pipe: discarded at close */
  tp_loop_close(&lp);
  TP_CHECK(w->op.state == TP_LOOP_OP_CANCELLED);
  TP_CHECK(x->op.state == TP_LOOP_OP_CANCELLED);
  TP_CHECK(nx->op.state == TP_LOOP_OP_CANCELLED);
  TP_CHECK(tp_loopsig_disposition(SIGINT) == TP_LOOPSIG_DEFAULT);
  TP_CHECK(tp_loopsig_disposition(SIGTERM) == TP_LOOPSIG_DEFAULT);
  tp_loop_op_release(&nx->op);
  tp_loop_op_release(&w->op);
  tp_loop_op_release(&x->op);
}

int main(void) {
  TP_RUN(names_and_numbers);
  TP_RUN(bad_arguments);
  TP_RUN(wait_returns_the_signal_and_restores);
  TP_RUN(wait_times_out);
  TP_RUN(cancelled_wait_restores_the_previous_handler);
  TP_RUN(watch_delivers_every_signal);
  TP_RUN(many_deliveries_grow_the_queue);
  TP_RUN(a_watch_does_not_keep_the_loop_alive);
  TP_RUN(two_loops_share_a_signal);
  TP_RUN(host_actions_go_underneath);
  TP_RUN(a_foreign_handler_survives_the_stop);
  TP_RUN(an_ignored_signal_stays_ignored);
  TP_RUN(loop_close_stops_everything);
  return tp_done();
}
