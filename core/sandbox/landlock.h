/*
** landlock.h: the file system and TCP view of a sandbox worker (Landlock).
** See docs/confinement.md, "Landlock".
**
** Applied by the worker to itself after exec and before seccomp. The
** ruleset handles every file system right the running kernel's ABI knows
** (so a right the kernel added later is denied, not ignored), and grants:
**
**   read    read_file + read_dir beneath each path (the plugin directory,
**           allowed_paths);
**   write   read plus write_file, truncate, remove, make_dir/reg/sym/sock/
**           fifo and refer beneath each path (writable_paths); never
**           execute, make_char/block or ioctl_dev;
**   exec    read plus execute (the worker's own needs: shared libraries
**           for C modules loaded after the ruleset).
**
** With defaults set, the worker's needs are added: /usr, /lib, /lib64 and
** /lib32 read+execute, /etc/ld.so.cache, /etc/localtime, /dev/urandom
** read, /dev/null read+write; a default that does not exist is skipped.
** A path the caller names that does not exist is an error naming it: a
** missing allowed path is the policy's mistake, and skipping it would
** hide that.
**
** no_net (ABI >= 4): TCP bind and connect are handled with no rule, so
** both fail with EACCES. scope (ABI >= 6): abstract unix sockets and
** signals to processes outside the sandbox are denied.
**
** Error codes are negative (TP_LANDLOCK_E*); messages name the path.
*/
#ifndef TP_LANDLOCK_H
#define TP_LANDLOCK_H

#include <stddef.h>
#include <stdint.h>

#define TP_LANDLOCK_ENOTSUP (-1)  /* no Landlock in this kernel (ABI 0) */
#define TP_LANDLOCK_ENOENT  (-2)  /* a named path does not exist */
#define TP_LANDLOCK_EINVAL  (-3)  /* a NULL or relative path, too many */
#define TP_LANDLOCK_ERULE   (-4)  /* the kernel refused a rule */
#define TP_LANDLOCK_ERESTRICT (-5)/* ... or the restriction */

#define TP_LANDLOCK_MAX_PATHS 256 /* per list */

typedef struct tp_landlock_config {
  const char *const *read;  size_t nread;
  const char *const *write; size_t nwrite;
  const char *const *exec;  size_t nexec;
  int defaults;             /* add the worker's own needs (above) */
  int no_net;               /* deny TCP bind/connect (ABI >= 4) */
  int scope;                /* deny abstract unix sockets, signals (ABI >= 6) */
} tp_landlock_config;

/* What tp_landlock_apply really applied, for enforcement.provide. */
typedef struct tp_landlock_result {
  int abi;                  /* the kernel's ABI version */
  uint64_t fs_handled;      /* LANDLOCK_ACCESS_FS_* bits handled */
  int net;                  /* 1: TCP bind/connect denied */
  int scoped;               /* 1: abstract unix + signal scoping */
  int rules;                /* path rules added */
} tp_landlock_result;

/* The running kernel's ABI version, 0 when Landlock is absent or off. */
int tp_landlock_abi(void);

/* The file system rights ABI abi handles (every right it knows). */
uint64_t tp_landlock_fs_rights(int abi);

/* Restrict the calling thread (and its future children) as cfg says,
** setting no_new_privs first. 0, or a negative code with err set; res
** (may be NULL) says what was applied. On an error before the restriction
** nothing was restricted. */
int tp_landlock_apply(const tp_landlock_config *cfg, tp_landlock_result *res,
                      char *err, size_t errlen);

#endif
