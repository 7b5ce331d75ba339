/*
** fswatch.h: watching a directory tree on the loop (Linux inotify).
**
** A watch is an operation (loop.h) that stays pending until it is stopped.
** It owns one inotify instance, polled by an unreferenced uv_poll_t (an
** idle watch does not keep the loop alive), with one inotify watch per
** directory of the tree: inotify is not recursive. Directories are found
** by a walk at start (lstat semantics: symbolic links are never followed
** below the root), and every directory that appears later (created or
** moved in) is watched and then walked, so entries made inside it before
** its watch existed are still reported, as created.
**
** Events are merged per relative path into one batch. A uv_timer_t (the
** debounce; referenced while a batch is open, so a started batch is
** delivered before the loop runs dry) closes the batch once no event came
** for debounce_ms, or max_wait_ms after its first event when events never
** stop. The batch is then "ready": the armed "next" operation completes,
** and the owner reads it with tp_fswatch_entry and empties it with
** tp_fswatch_clear.
**
** Kinds are decided per path from what the watch knows: whether the path
** existed when the batch first saw it (the watch keeps the set of entries
** of the tree) and whether it exists at the end. Existed and exists:
** CHANGE (an edit, or an editor's atomic save: rename over, delete then
** create, vim's backup dance). Appeared: CREATE, or RENAME when it came by
** a rename. Went away: DELETE, or RENAME when it left by a rename. A path
** that neither existed before nor after (an editor's temporary file) is
** left out.
**
** Overflow (the kernel's queue overflowed, a directory could not be
** watched, the batch exceeded TP_FSWATCH_BATCH_MAX paths, the root went
** away) sets the batch's overflow flag: "something changed, rescan". After
** a kernel overflow the watch rebuilds its directory watches from a new
** walk. No callback calls anything but the loop's queue (docs/loop.md).
*/
#ifndef TP_FSWATCH_H
#define TP_FSWATCH_H

#include <stddef.h>

#include "loop.h"

/* Kinds of a change, as tp_fswatch_entry returns them. */
enum {
  TP_FSWATCH_NONE = 0,          /* transient path: not to be reported */
  TP_FSWATCH_CHANGE,
  TP_FSWATCH_RENAME,
  TP_FSWATCH_CREATE,
  TP_FSWATCH_DELETE
};

/* Distinct paths one batch keeps; more set overflow. */
#define TP_FSWATCH_BATCH_MAX 65536

typedef struct tp_fswatch_opts_s {
  double debounce_ms;           /* >= 0, finite */
  double max_wait_ms;           /* >= debounce_ms: a batch closes by then */
  int recursive;                /* 0: the root directory only */
  size_t max_dirs;              /* >= 1: directories watched at most */
} tp_fswatch_opts_t;

typedef struct tp_fswatch_s tp_fswatch_t;
/* A watch's "next": a loop notice (loop.h) armed in the watch's slot; it
** completes (status 0) once a batch is ready. */
typedef tp_loop_notice_t tp_fswatch_next_t;

/* Start watching the directory root (followed if it is a symbolic link;
** nothing below it is). Fails with UV_ENOENT, UV_ENOTDIR, UV_EACCES, ...
** for the root or a directory of the initial walk (its path relative to
** root goes to errpath, "" for the root itself), UV_E2BIG when the tree
** has more than max_dirs directories, UV_ENOSPC/UV_EMFILE at the kernel's
** inotify limits, UV_EINVAL for bad options. *out is owned by the caller:
** stop with tp_loop_op_cancel(tp_fswatch_op(w)), end with
** tp_loop_op_release. */
int tp_fswatch_start(tp_loop_t *lp, const char *root, const tp_fswatch_opts_t *opts,
                     tp_fswatch_t **out, char *errpath, size_t errlen);

/* The watch's operation (pending while it runs). */
tp_loop_op_t *tp_fswatch_op(tp_fswatch_t *w);

/* Arm the operation that completes once a batch is ready (at once if one
** is). UV_EBUSY while another one is armed, UV_EINVAL once the watch
** stopped. *out is owned by the caller. */
int tp_fswatch_next(tp_fswatch_t *w, tp_fswatch_next_t **out);

/* The armed next operation, or NULL (a binding that anchored it cancels
** it itself before stopping the watch, to drop the anchor). */
tp_fswatch_next_t *tp_fswatch_armed(const tp_fswatch_t *w);

/* The ready batch: 1 if there is one. */
int tp_fswatch_ready(const tp_fswatch_t *w);
/* Paths in the batch (transient ones included), in first-seen order. */
size_t tp_fswatch_count(const tp_fswatch_t *w);
/* The i-th path of the batch and its kind (TP_FSWATCH_NONE: skip it). */
int tp_fswatch_entry(const tp_fswatch_t *w, size_t i, const char **path);
/* 1 if the batch overflowed: something changed that is not listed. */
int tp_fswatch_overflowed(const tp_fswatch_t *w);
/* Empty the batch (after reading it). */
void tp_fswatch_clear(tp_fswatch_t *w);

/* Directories watched right now. */
size_t tp_fswatch_dirs(const tp_fswatch_t *w);
/* Events or directories the watch could not keep (beyond the batch bound,
** max_dirs or the kernel's limits, or lost in a kernel overflow). */
unsigned long tp_fswatch_dropped(const tp_fswatch_t *w);

#endif
