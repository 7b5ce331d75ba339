/*
** spawn.h: start a sandbox worker process. See docs/confinement.md,
** "Starting a worker".
**
** tp_spawn creates a socketpair, starts a child with clone(CLONE_VM |
** CLONE_VFORK) (or fork, opts.use_fork) and, between clone and exec,
** applies in this order:
**
**   1. signal dispositions reset and the signal mask emptied;
**   2. a new session and process group (setsid);
**   3. cgroup placement ("0" written to each cgroup.procs fd given);
**   4. the shared empty network namespace (setns on opts.netns_fd);
**   5. fds: the channel dup'ed to 3, /dev/null on 0, 1, 2, all others
**      closed (close_range) -- before NOFILE, which moving them may exceed;
**   6. rlimits, lowered only: CORE 0 always, DATA, NOFILE, FSIZE, CPU;
**   7. CPU affinity (opts.cpu >= 0);
**   8. when running as root and opts.drop_uid: setgroups(0), gid, uid
**      (65534 by default);
**   9. PR_SET_PDEATHSIG(SIGKILL), after the uid change that would clear it,
**      then getppid() compared with the spawner so a spawner that died
**      meanwhile is noticed;
**  10. no_new_privs;
**  11. execve with the clean environment opts.envp (NULL: empty).
**
** Everything in the child is a raw system call (no malloc, no locks, no
** glibc set*id broadcast, which would wait on the parent's threads). A
** failing step writes {step, errno} to a CLOEXEC pipe and _exits 127;
** the parent reads that pipe until it closes (exec) and names the step.
** Landlock and seccomp are applied by the worker itself after exec.
**
** The death signal follows the *thread* that spawned: spawn from the
** thread that lives as long as the workers (the loop thread).
*/
#ifndef TP_SPAWN_H
#define TP_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

#define TP_SPAWN_EINVAL (-1)   /* bad options */
#define TP_SPAWN_ESYS   (-2)   /* socketpair, pipe, clone failed in the parent */
#define TP_SPAWN_ECHILD (-3)   /* a step in the child failed: see err */

#define TP_SPAWN_MAX_CGROUPS 4
#define TP_SPAWN_NOBODY 65534

typedef enum tp_spawn_step {
  TP_SPAWN_STEP_SIGNALS = 1, TP_SPAWN_STEP_SETSID, TP_SPAWN_STEP_CGROUP,
  TP_SPAWN_STEP_NETNS, TP_SPAWN_STEP_RLIMIT, TP_SPAWN_STEP_FDS,
  TP_SPAWN_STEP_AFFINITY, TP_SPAWN_STEP_SETGROUPS, TP_SPAWN_STEP_SETGID,
  TP_SPAWN_STEP_SETUID, TP_SPAWN_STEP_PDEATHSIG, TP_SPAWN_STEP_PARENT,
  TP_SPAWN_STEP_NO_NEW_PRIVS, TP_SPAWN_STEP_EXEC
} tp_spawn_step;

typedef struct tp_spawn_opts {
  const char *path;          /* the program (absolute) */
  char *const *argv;         /* its argv; NULL: { path, NULL } */
  char *const *prefix;       /* a runtime run first ("bwrap", ..., "--"),
                                NULL-terminated; path/argv follow it */
  char *const *envp;         /* NULL: an empty environment */
  int netns_fd;              /* -1: stay in this network namespace */
  int cgroup_fds[TP_SPAWN_MAX_CGROUPS];  /* cgroup.procs, O_WRONLY */
  int ncgroup_fds;
  uint64_t rlimit_data;      /* bytes; 0: leave as is */
  uint64_t rlimit_nofile;    /* descriptors; 0: leave */
  uint64_t rlimit_fsize;     /* bytes; 0: leave */
  uint64_t rlimit_cpu;       /* seconds; 0: leave */
  int drop_uid;              /* when root: become uid/gid (0: 65534) */
  uid_t uid;
  gid_t gid;
  int cpu;                   /* pin to this CPU; -1: no affinity */
  int use_fork;              /* fork instead of clone(CLONE_VM|CLONE_VFORK) */
} tp_spawn_opts;

/* Defaults: nothing set, netns_fd -1, cpu -1, drop_uid 1. */
void tp_spawn_opts_init(tp_spawn_opts *o);

typedef struct tp_spawn_result {
  pid_t pid;                 /* also the process group and session id */
  int fd;                    /* the host end of the channel (CLOEXEC) */
} tp_spawn_result;

/* Start the worker. 0 with *out filled, or a negative code with err
** naming what failed ("spawn: setuid: Operation not permitted"); after a
** child step failed the child has been reaped. */
int tp_spawn(const tp_spawn_opts *o, tp_spawn_result *out, char *err, size_t errlen);

/* The name of a step ("setsid", ...). */
const char *tp_spawn_step_name(int step);

/* SIGKILL the worker's whole process group. 0 or -errno. */
int tp_spawn_kill(pid_t pid);

#endif
