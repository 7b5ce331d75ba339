/*
** spawn.c: start a sandbox worker. See spawn.h for the order of the steps.
**
** clone(CLONE_VM | CLONE_VFORK) rather than fork: the child borrows the
** parent's memory until exec, so no page tables are copied (the host may
** be large), and the parent sleeps until the exec or the failure, so the
** shared memory is never written by both at once. The child therefore
** touches nothing but its own stack and the read-only job, and makes only
** raw system calls: glibc's setuid/setgroups would signal the parent's
** threads and wait for them, and a handler of the parent run in the child
** would write the parent's memory, hence the signal reset first.
*/
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

#define CHILD_STACK (64 * 1024)
#define MAX_ARGV 256

typedef struct job {
  const tp_spawn_opts *o;
  const char *exe;           /* prefix[0] or path */
  char *const *argv;         /* the full argv */
  char *const *envp;
  int chan;                  /* the child end */
  int devnull;
  int errfd;                 /* write end of the report pipe */
  pid_t parent;
  sigset_t oldmask;          /* the caller's mask (restored in the parent) */
} job;

static const char *const step_names[] = {
  "?", "signals", "setsid", "cgroup", "netns", "rlimit", "fds", "affinity",
  "setgroups", "setgid", "setuid", "pdeathsig", "parent", "no_new_privs", "exec"
};

const char *tp_spawn_step_name(int step) {
  if (step < 1 || step > TP_SPAWN_STEP_EXEC) return "?";
  return step_names[step];
}

void tp_spawn_opts_init(tp_spawn_opts *o) {
  memset(o, 0, sizeof *o);
  o->netns_fd = -1;
  o->cpu = -1;
  o->drop_uid = 1;
}

int tp_spawn_kill(pid_t pid) {
  if (pid <= 1) return -EINVAL;
  return kill(-pid, SIGKILL) == 0 ? 0 : -errno;
}

/* ---- the child (raw system calls only) ---------------------------------- */

/* The child runs on a borrowed stack in the parent's memory: no sanitizer
** bookkeeping there (ASan would treat the small stack as a stack switch). */
#define CHILD __attribute__((no_sanitize("address", "undefined")))

/* Each step answers 0 or the step that failed (errno set). */

CHILD static int lower_limit(int resource, uint64_t value) {
  struct rlimit cur, nl;
  if (syscall(SYS_prlimit64, 0, resource, NULL, &cur) != 0) return -1;
  if (cur.rlim_max != RLIM_INFINITY && value > cur.rlim_max) value = cur.rlim_max;
  nl.rlim_cur = nl.rlim_max = value;
  return (int)syscall(SYS_prlimit64, 0, resource, &nl, NULL);
}

/* Default dispositions (a handler of the host must not run here, and an
** ignored SIGPIPE would survive exec) and an empty mask. The kernel's
** struct: handler, flags, restorer, mask; SIG_DFL needs no restorer. */
CHILD static int child_signals(void) {
  struct { void *h; unsigned long flags; void *restorer; uint64_t mask; } k = { SIG_DFL, 0, NULL, 0 };
  uint64_t empty = 0;
  for (int sig = 1; sig < 65; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, &k, NULL, 8);
  return syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, 8) ? TP_SPAWN_STEP_SIGNALS : 0;
}

CHILD static int child_limits(const tp_spawn_opts *o) {
  if (lower_limit(RLIMIT_CORE, 0) != 0 ||
      (o->rlimit_data && lower_limit(RLIMIT_DATA, o->rlimit_data) != 0) ||
      (o->rlimit_nofile && lower_limit(RLIMIT_NOFILE, o->rlimit_nofile) != 0) ||
      (o->rlimit_fsize && lower_limit(RLIMIT_FSIZE, o->rlimit_fsize) != 0) ||
      (o->rlimit_cpu && lower_limit(RLIMIT_CPU, o->rlimit_cpu) != 0))
    return TP_SPAWN_STEP_RLIMIT;
  return 0;
}

/* The channel to 3, /dev/null to 0-2, everything else closed but the
** report pipe, moved above them (*errfd) and closing on exec. */
CHILD static int child_fds(const job *j, int *errfd) {
  int e = (int)syscall(SYS_fcntl, j->errfd, F_DUPFD_CLOEXEC, 4);
  if (e < 0) return TP_SPAWN_STEP_FDS;
  *errfd = e;
  int c = (int)syscall(SYS_fcntl, j->chan, F_DUPFD_CLOEXEC, 4);
  if (c < 0 || syscall(SYS_dup2, c, 3) < 0) return TP_SPAWN_STEP_FDS;
  for (int fd = 0; fd < 3; fd++)
    if (syscall(SYS_dup2, j->devnull, fd) < 0) return TP_SPAWN_STEP_FDS;
  if ((e > 4 && syscall(SYS_close_range, 4, e - 1, 0) != 0) ||
      syscall(SYS_close_range, e + 1, ~0U, 0) != 0)
    return TP_SPAWN_STEP_FDS;
  return 0;
}

CHILD static int child_affinity(int cpu) {
  unsigned long mask[CPU_SETSIZE / (8 * sizeof(unsigned long))];
  for (size_t i = 0; i < sizeof mask / sizeof mask[0]; i++) mask[i] = 0;
  mask[cpu / (8 * sizeof(unsigned long))] |= 1UL << (cpu % (8 * sizeof(unsigned long)));
  return syscall(SYS_sched_setaffinity, 0, sizeof mask, mask) ? TP_SPAWN_STEP_AFFINITY : 0;
}

CHILD static int child_identity(const tp_spawn_opts *o) {
  if (!o->drop_uid || syscall(SYS_getuid) != 0) return 0;
  uid_t uid = o->uid ? o->uid : TP_SPAWN_NOBODY;
  gid_t gid = o->gid ? o->gid : TP_SPAWN_NOBODY;
  if (syscall(SYS_setgroups, 0, NULL) != 0) return TP_SPAWN_STEP_SETGROUPS;
  if (syscall(SYS_setresgid, gid, gid, gid) != 0) return TP_SPAWN_STEP_SETGID;
  if (syscall(SYS_setresuid, uid, uid, uid) != 0) return TP_SPAWN_STEP_SETUID;
  return 0;
}

CHILD static int child_steps(const job *j, int *errfd) {
  const tp_spawn_opts *o = j->o;
  int step;
  if ((step = child_signals())) return step;
  if (syscall(SYS_setsid) < 0) return TP_SPAWN_STEP_SETSID;
  for (int i = 0; i < o->ncgroup_fds; i++)
    if (syscall(SYS_write, o->cgroup_fds[i], "0", 1) != 1) return TP_SPAWN_STEP_CGROUP;
  if (o->netns_fd >= 0 && syscall(SYS_setns, o->netns_fd, CLONE_NEWNET) != 0)
    return TP_SPAWN_STEP_NETNS;
  /* fds before NOFILE: moving them may need numbers above the limit */
  if ((step = child_fds(j, errfd))) return step;
  if ((step = child_limits(o))) return step;
  if (o->cpu >= 0 && (step = child_affinity(o->cpu))) return step;
  if ((step = child_identity(o))) return step;
  if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
    return TP_SPAWN_STEP_PDEATHSIG;
  if (syscall(SYS_getppid) != j->parent) {
    errno = ESRCH;
    return TP_SPAWN_STEP_PARENT;
  }
  if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return TP_SPAWN_STEP_NO_NEW_PRIVS;
  syscall(SYS_execve, j->exe, j->argv, j->envp);
  return TP_SPAWN_STEP_EXEC;
}

/* Only returns on failure, with the status the child exits with. */
CHILD static int child_main(void *arg) {
  const job *j = arg;
  int errfd = j->errfd;
  int report[2];
  report[0] = child_steps(j, &errfd);
  report[1] = errno;
  ssize_t rc = syscall(SYS_write, errfd, report, sizeof report);
  (void)rc;
  return 127;
}

/* ---- the parent ------------------------------------------------------------ */

static int fail(char *err, size_t errlen, int code, const char *what, int e) {
  if (err && errlen) snprintf(err, errlen, "spawn: %s: %s", what, strerror(e));
  return code;
}

static int check_opts(const tp_spawn_opts *o, char *err, size_t errlen) {
  if (o == NULL || o->path == NULL || o->path[0] != '/')
    return fail(err, errlen, TP_SPAWN_EINVAL, "the program must be an absolute path", EINVAL);
  if (o->ncgroup_fds < 0 || o->ncgroup_fds > TP_SPAWN_MAX_CGROUPS)
    return fail(err, errlen, TP_SPAWN_EINVAL, "cgroup fds", EINVAL);
  if (o->cpu >= CPU_SETSIZE)
    return fail(err, errlen, TP_SPAWN_EINVAL, "cpu", EINVAL);
  return 0;
}

/* Without a prefix: argv (or { path }). With one: prefix, then path and
** argv[1..], since the runtime execs the path it is given. */
static int build_argv(const tp_spawn_opts *o, char **full) {
  size_t n = 0;
  char *const *rest = o->argv && o->argv[0] ? o->argv + 1 : NULL;
  if (o->prefix)
    for (char *const *p = o->prefix; *p; p++) {
      if (n >= MAX_ARGV - 2) return -1;
      full[n++] = *p;
    }
  if (o->prefix || o->argv == NULL || o->argv[0] == NULL) full[n++] = (char *)o->path;
  else full[n++] = o->argv[0];
  if (rest)
    for (; *rest; rest++) {
      if (n >= MAX_ARGV - 1) return -1;
      full[n++] = *rest;
    }
  full[n] = NULL;
  return 0;
}

static pid_t start_child(job *j) {
  pid_t pid;
  if (j->o->use_fork) {
    pid = fork();
    if (pid == 0) syscall(SYS_exit_group, child_main(j));
    return pid;
  }
  char *stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  pid = clone(child_main, stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, j);
  int e = errno;
  munmap(stack, CHILD_STACK);
  errno = e;
  return pid;
}

/* Read the child's report: 0 bytes means it exec'd. */
static int read_report(int fd, pid_t pid, char *err, size_t errlen) {
  int report[2];
  ssize_t n;
  do n = read(fd, report, sizeof report); while (n < 0 && errno == EINTR);
  if (n == 0) return 0;
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  if (n != (ssize_t)sizeof report)
    return fail(err, errlen, TP_SPAWN_ECHILD, "the child's report", EIO);
  return fail(err, errlen, TP_SPAWN_ECHILD, tp_spawn_step_name(report[0]), report[1]);
}

int tp_spawn(const tp_spawn_opts *o, tp_spawn_result *out, char *err, size_t errlen) {
  static char *const empty_env[] = { NULL };
  char *full[MAX_ARGV];
  int sv[2], ep[2], rc;
  sigset_t all;
  job j;
  if ((rc = check_opts(o, err, errlen)) < 0) return rc;
  if (build_argv(o, full) != 0)
    return fail(err, errlen, TP_SPAWN_EINVAL, "argv", E2BIG);
  memset(&j, 0, sizeof j);
  j.o = o;
  j.exe = o->prefix ? o->prefix[0] : o->path;
  j.argv = full;
  j.envp = o->envp ? o->envp : empty_env;
  j.parent = getpid();
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return fail(err, errlen, TP_SPAWN_ESYS, "socketpair", errno);
  if (pipe2(ep, O_CLOEXEC) != 0) {
    rc = fail(err, errlen, TP_SPAWN_ESYS, "pipe", errno);
    goto close_sv;
  }
  j.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (j.devnull < 0) {
    rc = fail(err, errlen, TP_SPAWN_ESYS, "/dev/null", errno);
    goto close_ep;
  }
  j.chan = sv[1];
  j.errfd = ep[1];
  /* No handler of ours may run in the child before it resets them. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &j.oldmask);
  pid_t pid = start_child(&j);
  int e = errno;
  pthread_sigmask(SIG_SETMASK, &j.oldmask, NULL);
  close(j.devnull);
  close(ep[1]);
  ep[1] = -1;
  close(sv[1]);
  sv[1] = -1;
  if (pid < 0) {
    rc = fail(err, errlen, TP_SPAWN_ESYS, "clone", e);
    goto close_ep;
  }
  rc = read_report(ep[0], pid, err, errlen);
  if (rc == 0) {
    out->pid = pid;
    out->fd = sv[0];
    sv[0] = -1;
  }
close_ep:
  close(ep[0]);
  if (ep[1] >= 0) close(ep[1]);
close_sv:
  if (sv[0] >= 0) close(sv[0]);
  if (sv[1] >= 0) close(sv[1]);
  return rc;
}
