/*
** loopsig.h: POSIX signals delivered to the truthound loop (libuv
** uv_signal_t), as loop operations (loop.h).
**
** Nothing here runs in a signal handler but libuv's own, which only writes
** to the loop's pipe; the callbacks below run from uv_run like any other.
**
** Two kinds of operation:
**
**   wait   completes once: with the first watched signal that arrives, or
**          empty-handed when its optional timeout expires. Its handles are
**          referenced: a pending wait keeps the loop alive.
**   watch  never completes: it records every delivery in a FIFO until it is
**          stopped (tp_loop_op_cancel or tp_loop_op_release). Its handles
**          are unreferenced (uv_unref), so a watch alone never keeps the
**          loop running. Its deliveries reach the waiter through "next"
**          operations: tp_loopsig_watch_next arms one, which completes when
**          the FIFO is not empty (at once if it already holds deliveries).
**
** Dispositions. libuv installs its handler when the first handle of a
** signal starts and resets the signal to SIG_DFL when the last one stops,
** whatever was there before. This file keeps, per signal and for the whole
** process, the disposition that was in place when the first handle started,
** and restores it when the last one stops, so that stopping a watch gives
** back, e.g., the host's Ctrl-C handler. A disposition someone else
** installed while handles were active (replacing libuv's) is kept as is.
** tp_loopsig_action lets a host change a disposition "underneath" active
** handles: the change takes effect when they stop. A host's Ctrl-C handler
** installed that way leaves SIGINT to an active watch (docs/loop.md,
** "Ctrl-C, tplua and lua5.4").
**
** Errors are negative libuv codes.
*/
#ifndef TP_LOOPSIG_H
#define TP_LOOPSIG_H

#include <signal.h>
#include <stddef.h>

#include "loop.h"

/* At most this many distinct signals per wait or watch. */
#define TP_LOOPSIG_MAX 6
/* A watch keeps at most this many deliveries nobody took yet; more are
** counted in `dropped`. (libuv's own pipe holds about 4096.) */
#define TP_LOOPSIG_QUEUE_MAX 65536

/* The signals truthound lets code wait for: INT TERM HUP USR1 USR2 QUIT.
** Returns the name without "SIG" ("INT"), or NULL for any other number. */
const char *tp_loopsig_name(int signum);
/* The number of an accepted name ("INT", exact spelling), or 0. */
int tp_loopsig_number(const char *name);
/* The i-th accepted signal (0 based), 0 past the end. */
int tp_loopsig_nth(int i);

/* What a signal does right now in this process. */
enum tp_loopsig_disp {
  TP_LOOPSIG_DEFAULT,   /* SIG_DFL */
  TP_LOOPSIG_IGNORED,   /* SIG_IGN */
  TP_LOOPSIG_LOOP,      /* delivered to the loops that wait or watch it */
  TP_LOOPSIG_OTHER      /* someone else's handler */
};
int tp_loopsig_disposition(int signum);

/* sigaction(2) for hosts: while loop handles watch signum, sa becomes the
** disposition restored when the last of them stops and *old receives the
** one that would have been restored; the kernel's disposition is left
** alone. Otherwise exactly sigaction(signum, sa, old). sa or old may be
** NULL. Returns 0 or a negative errno. */
int tp_loopsig_action(int signum, const struct sigaction *sa, struct sigaction *old);

/* The libuv handles of one wait or watch: one per distinct signal. */
typedef struct tp_loopsig_set_s {
  uv_signal_t handles[TP_LOOPSIG_MAX];
  int signums[TP_LOOPSIG_MAX];
  int n;                        /* distinct signals */
  int inited;                   /* handles initialised (to close) */
  int started;                  /* handles counted as users of their signal */
} tp_loopsig_set_t;

/* ---- wait ----------------------------------------------------------- */

typedef struct tp_loopsig_wait_s {
  tp_loop_op_t op;
  tp_loopsig_set_t set;
  uv_timer_t timer;
  int has_timer;
  double deadline;              /* tp_loop_now() value, if has_timer */
  int signum;                   /* result: the signal, or 0 on timeout */
} tp_loopsig_wait_t;

/* Wait for any of signums[0..n) (accepted signals, 1 <= n <= MAX,
** duplicates allowed) for at most timeout_ms (finite, >= 0; a negative
** value means no timeout). Completes with status 0; w->signum says which
** signal came, 0 if the timeout expired. Its handles close as it
** completes. *out is owned by the caller (tp_loop_op_release). */
int tp_loopsig_wait_start(tp_loop_t *lp, const int *signums, int n, double timeout_ms,
                          tp_loopsig_wait_t **out);

/* ---- watch ---------------------------------------------------------- */

/* A watch's "next": a loop notice (loop.h) armed in the watch's slot. */
typedef tp_loop_notice_t tp_loopsig_next_t;

typedef struct tp_loopsig_watch_s {
  tp_loop_op_t op;              /* pending for as long as the watch runs */
  tp_loopsig_set_t set;
  int *queue;                   /* ring of delivered signal numbers */
  size_t head, len, cap;
  unsigned long dropped;        /* deliveries beyond TP_LOOPSIG_QUEUE_MAX */
  tp_loopsig_next_t *armed;     /* the next operation waiting, or NULL */
} tp_loopsig_watch_t;


/* Start watching signums[0..n) (as for wait). Stop it with
** tp_loop_op_cancel(&w->op); the owner ends it with tp_loop_op_release. */
int tp_loopsig_watch_start(tp_loop_t *lp, const int *signums, int n,
                           tp_loopsig_watch_t **out);
/* Arm the operation that completes once the watch holds a delivery (at
** once if it already does). UV_EBUSY while another one is armed,
** UV_EINVAL once the watch stopped. *out is owned by the caller. */
int tp_loopsig_watch_next(tp_loopsig_watch_t *w, tp_loopsig_next_t **out);
/* Move up to max deliveries, oldest first, into buf; returns how many. */
size_t tp_loopsig_watch_take(tp_loopsig_watch_t *w, int *buf, size_t max);

#endif
