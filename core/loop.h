/*
** loop.h: one libuv loop plus "operations", the unit the Lua layer waits on.
**
** An operation (tp_loop_op_t) is something that completes once: a timer, a
** child process exiting, a read finishing. The code that starts it (a
** binding) embeds a tp_loop_op_t in its own struct, opens the libuv handles
** it needs, and calls tp_loop_op_done from a libuv callback when it is over.
** Completed operations wait in the loop's done queue until the caller of
** tp_loop_run collects them. libuv callbacks therefore never call back into
** the code that waits (in truthound, Lua): they only queue, so nothing can
** longjmp across uv_run and uv_run is never re-entered.
**
** Ownership: an operation is reference counted. Its owner (the object the
** waiter holds) has one reference, each open libuv handle one, the done queue
** one while the operation sits in it. When the count drops to zero the type's
** free function runs; a handle's reference is dropped in its close callback,
** so handle memory is freed only after libuv is done with it.
**
** Errors are negative libuv codes (UV_EINVAL, UV_ENOMEM, ...), 0 is success.
*/
#ifndef TP_LOOP_H
#define TP_LOOP_H

#include <uv.h>

typedef struct tp_loop_s tp_loop_t;
typedef struct tp_loop_op_s tp_loop_op_t;
typedef struct tp_loop_op_type_s tp_loop_op_type_t;

/* Where an operation is in its life. */
enum tp_loop_op_state {
  TP_LOOP_OP_NEW,        /* initialised, not started */
  TP_LOOP_OP_PENDING,    /* started, not finished */
  TP_LOOP_OP_DONE,       /* finished; status says how */
  TP_LOOP_OP_CANCELLED   /* stopped early; will never complete */
};

/* What a kind of operation does; one static instance per kind. */
struct tp_loop_op_type_s {
  const char *name;
  /* uv_close every handle of the operation that is not closing yet
  ** (uv_is_closing), with tp_loop_op_close_cb or a callback that ends the
  ** same way. Called when the operation is cancelled, when its owner
  ** releases it and when the loop closes, so it must be idempotent. May be
  ** NULL for an operation without handles. */
  void (*close)(tp_loop_op_t *op);
  /* Release the operation's memory; called when the last reference goes. */
  void (*free)(tp_loop_op_t *op);
};

/* Links for the loop's intrusive lists (circular, with a sentinel). */
typedef struct tp_loop_link_s {
  struct tp_loop_link_s *prev, *next;
} tp_loop_link_t;

struct tp_loop_op_s {
  tp_loop_link_t link;            /* in the pending list or the done queue */
  tp_loop_link_t all;             /* in the loop's list of live operations */
  const tp_loop_op_type_t *type;
  tp_loop_t *loop;                /* NULL once the loop closed */
  int state;                      /* enum tp_loop_op_state */
  int status;                     /* set by tp_loop_op_done: 0 or < 0 */
  int refs;
  int owner;                      /* for the owner's use (a Lua registry ref
                                  ** in the bindings), -1 when unset; the
                                  ** core never reads it */
};

/* A loop. Embed it anywhere that outlives tp_loop_close. */
struct tp_loop_s {
  uv_loop_t uv;
  tp_loop_link_t pending;         /* started, not finished */
  tp_loop_link_t done;            /* completed, not yet collected (FIFO) */
  tp_loop_link_t all;             /* every started operation not yet freed */
  int running;                    /* inside uv_run: refuse re-entry */
  int closed;
};

/* How far tp_loop_run goes. */
typedef enum {
  TP_LOOP_ONCE = UV_RUN_ONCE,     /* wait for at least one event */
  TP_LOOP_NOWAIT = UV_RUN_NOWAIT  /* poll, never block */
} tp_loop_mode_t;

/* Milliseconds on CLOCK_MONOTONIC, with the clock's full resolution. */
double tp_loop_now(void);

int tp_loop_init(tp_loop_t *lp);
/* Cancel every pending operation, close the handles of every operation
** and then every remaining handle, run the loop until their close
** callbacks ran, then uv_loop_close. Operations still owned outlive it
** (their loop becomes NULL). Idempotent. */
void tp_loop_close(tp_loop_t *lp);
/* One turn of uv_run. Returns 1 if the loop still has work, 0 if not,
** UV_EBUSY when called from inside a callback of the same loop, UV_EINVAL
** on a closed loop. Collect what completed with tp_loop_next_done. */
int tp_loop_run(tp_loop_t *lp, tp_loop_mode_t mode);
/* 1 while a handle is active, a close is under way or a completed
** operation waits to be collected. */
int tp_loop_alive(const tp_loop_t *lp);
/* The oldest completed operation not yet collected, or NULL. It stays in
** the queue until tp_loop_op_collect. */
tp_loop_op_t *tp_loop_next_done(tp_loop_t *lp);

/* Operations, for the code that implements a kind of operation. */

/* refs = 1: the reference of the owner, who ends it with tp_loop_op_release. */
void tp_loop_op_init(tp_loop_op_t *op, const tp_loop_op_type_t *type);
/* The operation is under way (its handles are started): it joins the
** pending list and the loop's live operations, so tp_loop_close can
** cancel it and close its handles. */
void tp_loop_op_start(tp_loop_t *lp, tp_loop_op_t *op);
/* From a libuv callback: the operation finished with status (0 or a
** negative error). Moves it to the done queue. Ignored unless pending. */
void tp_loop_op_done(tp_loop_op_t *op, int status);
/* Take a completed operation out of the done queue. */
void tp_loop_op_collect(tp_loop_op_t *op);
/* Stop a pending operation (type->close closes its handles). Returns 1 if
** it was pending, 0 if it had already finished or been cancelled. */
int tp_loop_op_cancel(tp_loop_op_t *op);
/* The owner lets go: cancels if pending, closes the handles the operation
** may have kept open, leaves the done queue, unrefs. */
void tp_loop_op_release(tp_loop_op_t *op);
void tp_loop_op_ref(tp_loop_op_t *op);
void tp_loop_op_unref(tp_loop_op_t *op);
/* A uv_close_cb for a handle whose data is its operation: drops the
** handle's reference. */
void tp_loop_op_close_cb(uv_handle_t *handle);

/* Timers: an operation that completes with status 0 once tp_loop_now()
** reaches the deadline (start + ms), never earlier, whatever libuv's cached
** loop time says. */
typedef struct tp_loop_timer_s {
  tp_loop_op_t op;
  uv_timer_t handle;
  double deadline;                /* tp_loop_now() value */
} tp_loop_timer_t;

/* Start a timer of ms milliseconds (finite, >= 0). On success *out is owned
** by the caller, who ends it with tp_loop_op_release(&(*out)->op). */
int tp_loop_timer_start(tp_loop_t *lp, double ms, tp_loop_timer_t **out);

/* Notices: the "something new" of a source operation that never completes
** by itself (a signal watch, a file watch). The source keeps at most one
** armed notice in a slot of its own; the notice completes (status 0) when
** the source fires it, and holds a reference on the source, so that it may
** outlive the source's stop. Closing a notice (cancel, release) detaches
** it from the slot; the source cancels it when it stops. */
typedef struct tp_loop_notice_s tp_loop_notice_t;
struct tp_loop_notice_s {
  tp_loop_op_t op;
  tp_loop_op_t *source;           /* referenced */
  tp_loop_notice_t **slot;        /* the source's armed notice; NULL once detached */
};

/* Arm a notice for source in *slot: 0 and *out (owned by the caller, who
** ends it with tp_loop_op_release), UV_EINVAL when source is not pending,
** UV_EBUSY while another one is armed, UV_ENOMEM. */
int tp_loop_notice_arm(tp_loop_op_t *source, tp_loop_notice_t **slot, tp_loop_notice_t **out);
/* Complete the armed notice, if any (the source has something new). */
void tp_loop_notice_fire(tp_loop_notice_t **slot);
/* Cancel the armed notice, if any (the source stopped: it never fires). */
void tp_loop_notice_cancel(tp_loop_notice_t **slot);

#endif
