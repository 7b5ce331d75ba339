/*
** seccomp.h: the system call filter of a sandbox worker (libseccomp).
** See docs/confinement.md, "seccomp".
**
** One filter per worker, built from three sources and loaded last, after
** Landlock, because nothing after it may need a call it denies:
**
**   base      calls that escape a sandbox whatever the policy says
**             (ptrace, kernel modules, BPF, new namespaces, mounts, ...;
**             the list is tp_seccomp_base_names and docs/confinement.md);
**   policy    the policy's denied_syscalls, by libseccomp name;
**   booleans  no_exec (execve, execveat, fork, vfork, clone without
**             CLONE_THREAD) and no_net (socket of every family, AF_UNIX
**             included; socketpair of every family but AF_UNIX).
**
** Everything else is allowed. A denied call raises SIGSYS (SECCOMP_RET_TRAP)
** so that the worker's handler can report which call it was
** (tp_seccomp_violation_from, async-signal-safe) before it exits; with
** cfg.kill the kernel kills the process at once instead. clone3 always
** fails with ENOSYS: its flags live in memory a filter cannot read, and
** glibc then falls back to clone, whose flags it can. A system call of
** another architecture's ABI (x86's int 0x80 on x86_64) kills the process.
**
** Error codes are negative (TP_SECCOMP_E*); messages name the input.
*/
#ifndef TP_SECCOMP_H
#define TP_SECCOMP_H

#include <signal.h>
#include <stddef.h>

/* Error codes. */
#define TP_SECCOMP_EUNKNOWN (-1)  /* not a system call of x86_64 or aarch64 */
#define TP_SECCOMP_EABSENT  (-2)  /* a system call of x86_64 or aarch64, but
                                     not of this architecture: nothing to deny */
#define TP_SECCOMP_EINVAL   (-3)  /* a malformed name, too many names */
#define TP_SECCOMP_ENOMEM   (-4)
#define TP_SECCOMP_EBUILD   (-5)  /* libseccomp refused a rule */
#define TP_SECCOMP_ELOAD    (-6)  /* the kernel refused the filter */

#define TP_SECCOMP_MAX_NAME 64     /* bytes in a name, as policies allow */
#define TP_SECCOMP_MAX_DENY 1024   /* names in cfg.deny, as policies allow */

/* Why a call is denied (a bit set: a call may be denied for several). */
#define TP_SECCOMP_R_BASE   1u     /* the base list: a sandbox escape */
#define TP_SECCOMP_R_POLICY 2u     /* the policy's denied_syscalls */
#define TP_SECCOMP_R_EXEC   4u     /* no_exec */
#define TP_SECCOMP_R_NET    8u     /* no_net */

typedef struct tp_seccomp_config {
  const char *const *deny;   /* the policy's denied_syscalls (may be NULL) */
  size_t ndeny;
  int no_exec;               /* allow_subprocess = false */
  int no_net;                /* allow_network = false */
  int kill;                  /* 1: SECCOMP_RET_KILL_PROCESS instead of TRAP */
} tp_seccomp_config;

/* The base list, NULL-terminated (besides: clone with a CLONE_NEW* flag,
** personality other than a query, clone3 -> ENOSYS). */
extern const char *const tp_seccomp_base_names[];

/* The number of a system call on this architecture: >= 0, or
** TP_SECCOMP_EABSENT (x86_64 or aarch64 has it, this one does not: "open"
** on aarch64), TP_SECCOMP_EUNKNOWN (neither has it: "umount", "nosuch"),
** TP_SECCOMP_EINVAL (not [a-z0-9_]{1,64}). For policy validation. */
int tp_seccomp_resolve(const char *name);

/* The same for "x86_64" or "aarch64" (libseccomp's table for it, whatever
** this machine is): >= 0, TP_SECCOMP_EUNKNOWN, or TP_SECCOMP_EINVAL for an
** unknown architecture name. */
int tp_seccomp_resolve_arch(const char *name, const char *arch);

/* Build the filter in memory without loading it: every name is checked.
** 0, or a negative code with err naming the first bad name. */
int tp_seccomp_check(const tp_seccomp_config *cfg, char *err, size_t errlen);

/* Build and load the filter into the calling process (every thread:
** TSYNC), setting no_new_privs. Remembers what it denied for
** tp_seccomp_lookup. 0, or a negative code with err set; on failure
** nothing was loaded. */
int tp_seccomp_apply(const tp_seccomp_config *cfg, char *err, size_t errlen);

/* What the loaded filter denies for call nr: its name and the reasons
** (TP_SECCOMP_R_*), or NULL. Async-signal-safe (a table filled before the
** filter was loaded and never written after). */
typedef struct tp_seccomp_denial {
  int nr;
  unsigned reasons;
  char name[32];
} tp_seccomp_denial;
const tp_seccomp_denial *tp_seccomp_lookup(int nr);

/* A trapped call, decoded in a SIGSYS handler (async-signal-safe). */
typedef struct tp_seccomp_violation {
  int nr;                    /* si_syscall */
  const char *name;          /* "execve"; "unknown" when not in the table */
  unsigned reason;           /* the one TP_SECCOMP_R_* that matched */
  const char *kind;          /* "base", "denied_syscall", "subprocess", "network" */
  unsigned long arg0;        /* the call's first argument (clone flags, domain) */
} tp_seccomp_violation;

/* Fill *out from a SIGSYS handler's siginfo and ucontext. 0, or -1 when
** si is not a seccomp trap (si_code != SYS_SECCOMP). */
int tp_seccomp_violation_from(const siginfo_t *si, const void *ucontext,
                              tp_seccomp_violation *out);

/* The name of a reason bit ("base", ...). */
const char *tp_seccomp_reason_name(unsigned reason);

#endif
