/*
** test_seccomp.c: the worker's system call filter bites. Each case loads
** a filter in a forked child and makes the call it must stop; a SIGSYS
** handler reports what tp_seccomp_violation_from decoded through a pipe.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/landlock.h"
#include "sandbox/seccomp.h"
#include "tp_test.h"

static int report_fd = -1;

/* Async-signal-safe: write "name kind" and _exit(42). */
static void on_sigsys(int sig, siginfo_t *si, void *uc) {
  tp_seccomp_violation v;
  char buf[128];
  size_t n = 0;
  if (tp_seccomp_violation_from(si, uc, &v) == 0) {
    for (const char *p = v.name; *p && n < 60; p++) buf[n++] = *p;
    buf[n++] = ' ';
    for (const char *p = v.kind; *p && n < 120; p++) buf[n++] = *p;
  }
  if (write(report_fd, buf, n) < 0) _exit(43);
  _exit(42);
}

typedef int (*child_fn)(void);

/* Run fn in a child after loading cfg. *status is the wait status; out
** gets what the handler (or fn) wrote. */
static void run(const tp_seccomp_config *cfg, child_fn fn, int *status,
                char *out, size_t cap) {
  int p[2];
  pid_t pid;
  ssize_t n;
  out[0] = 0;
  if (pipe(p) != 0) { *status = -1; return; }
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    char err[256];
    struct sigaction sa;
    close(p[0]);
    report_fd = p[1];
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, NULL);
    if (tp_seccomp_apply(cfg, err, sizeof err) != 0) {
      if (write(p[1], err, strlen(err)) < 0) _exit(2);
      _exit(3);
    }
    _exit(fn());
  }
  close(p[1]);
  n = read(p[0], out, cap - 1);
  out[n > 0 ? n : 0] = 0;
  close(p[0]);
  waitpid(pid, status, 0);
}

static int exited(int st, int code) { return WIFEXITED(st) && WEXITSTATUS(st) == code; }

/* ---- children -------------------------------------------------------- */

static int do_execve(void) {
  char *argv[] = { "/bin/true", NULL };
  execve("/bin/true", argv, NULL);
  return 7;
}

static int do_fork(void) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  return 8;
}

/* system() and popen() spawn through posix_spawn, which blocks every
** signal around its clone: the trap then kills the process outright. */
static int do_system(void) {
  return system("/bin/true") == 0 ? 26 : 27;
}

static void *thread_main(void *arg) { return arg; }

static int do_thread(void) {
  pthread_t t;
  void *ret = NULL;
  if (pthread_create(&t, NULL, thread_main, (void *)0x5) != 0) return 9;
  if (pthread_join(t, &ret) != 0 || ret != (void *)0x5) return 10;
  return 0;
}

static int do_clone3(void) {
#ifdef SYS_clone3
  long r = syscall(SYS_clone3, NULL, 0);
  return (r == -1 && errno == ENOSYS) ? 0 : 11;
#else
  return 0;
#endif
}

static int do_inet(void) {
  socket(AF_INET, SOCK_STREAM, 0);
  return 12;
}

static int do_unix(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 13;
  if (write(sv[0], "x", 1) != 1) return 14;
  char c;
  if (read(sv[1], &c, 1) != 1 || c != 'x') return 15;
  return 0;
}

/* A pathname AF_UNIX socket reaches host services: denied under no_net. */
static int do_unix_socket(void) {
  socket(AF_UNIX, SOCK_STREAM, 0);
  return 16;
}

static int do_inet6_pair(void) {
  int sv[2];
  socketpair(AF_INET6, SOCK_STREAM, 0, sv);
  return 17;
}

static int do_unshare(void) {
  unshare(CLONE_NEWUSER);
  return 18;
}

static int do_clone_newns(void) {
  syscall(SYS_clone, (unsigned long)(CLONE_NEWNS | SIGCHLD), NULL, NULL, NULL, 0);
  return 19;
}

static int do_ptrace(void) {
  syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, (long)getppid(), 0, 0);
  return 20;
}

static int do_uname(void) {
  struct utsname u;
  uname(&u);
  return 21;
}

static int do_personality(void) {
  /* a query is allowed; ADDR_NO_RANDOMIZE is not */
  if (syscall(SYS_personality, 0xffffffffUL) < 0) return 22;
  syscall(SYS_personality, 0x0040000UL);
  return 23;
}

static int do_io_uring(void) {
  char params[120] = {0};
  syscall(425 /* io_uring_setup on x86_64 and aarch64 */, 1, params);
  return 24;
}

#ifdef __x86_64__
static int do_int80(void) {
  long ret;
  /* getpid through the 32-bit ABI */
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
  return 25;
}
#endif

/* ---- cases ----------------------------------------------------------- */

static void test_resolve(void) {
  TP_CHECK(tp_seccomp_resolve("execve") == SYS_execve);
  TP_CHECK(tp_seccomp_resolve("getpid") == SYS_getpid);
  TP_CHECK(tp_seccomp_resolve("nosuchcall") == TP_SECCOMP_EUNKNOWN);
  TP_CHECK(tp_seccomp_resolve("umount") == TP_SECCOMP_EUNKNOWN);
  TP_CHECK(tp_seccomp_resolve("") == TP_SECCOMP_EINVAL);
  TP_CHECK(tp_seccomp_resolve("Exec") == TP_SECCOMP_EINVAL);
  TP_CHECK(tp_seccomp_resolve("a;b") == TP_SECCOMP_EINVAL);
  TP_CHECK(tp_seccomp_resolve(NULL) == TP_SECCOMP_EINVAL);
  TP_CHECK(tp_seccomp_resolve_arch("open", "x86_64") == 2);
  TP_CHECK(tp_seccomp_resolve_arch("open", "aarch64") == TP_SECCOMP_EUNKNOWN);
  TP_CHECK(tp_seccomp_resolve_arch("openat", "aarch64") == 56);
  TP_CHECK(tp_seccomp_resolve_arch("open", "mips") == TP_SECCOMP_EINVAL);
#ifdef __aarch64__
  TP_CHECK(tp_seccomp_resolve("open") == TP_SECCOMP_EABSENT);
#endif
}

static void test_check_names(void) {
  char err[256];
  const char *bad[] = { "getpid", "frobnicate" };
  const char *malformed[] = { "exec ve" };
  const char *good[] = { "getpid", "uname", "ptrace", "socket", "clone", "clone3" };
  tp_seccomp_config c = { bad, 2, 1, 1, 0 };
  err[0] = 0;
  TP_CHECK(tp_seccomp_check(&c, err, sizeof err) == TP_SECCOMP_EUNKNOWN);
  TP_CHECKF(strstr(err, "'frobnicate'") != NULL, "err: %s", err);
  c.deny = malformed; c.ndeny = 1;
  TP_CHECK(tp_seccomp_check(&c, err, sizeof err) == TP_SECCOMP_EINVAL);
  c.deny = good; c.ndeny = 6;
  TP_CHECKF(tp_seccomp_check(&c, err, sizeof err) == 0, "err: %s", err);
  c.deny = NULL; c.ndeny = TP_SECCOMP_MAX_DENY + 1;
  TP_CHECK(tp_seccomp_check(&c, err, sizeof err) == TP_SECCOMP_EINVAL);
  for (int i = 0; tp_seccomp_base_names[i]; i++) {
    int nr = tp_seccomp_resolve(tp_seccomp_base_names[i]);
    TP_CHECKF(nr >= 0 || nr == TP_SECCOMP_EABSENT, "%s", tp_seccomp_base_names[i]);
  }
}

static void test_no_exec_traps_execve(void) {
  tp_seccomp_config c = { NULL, 0, 1, 0, 0 };
  char out[128];
  int st;
  run(&c, do_execve, &st, out, sizeof out);
  TP_CHECKF(exited(st, 42), "status %x", st);
  TP_CHECKF(strcmp(out, "execve subprocess") == 0, "out: %s", out);
}

static void test_no_exec_kill(void) {
  tp_seccomp_config c = { NULL, 0, 1, 0, 1 };
  char out[128];
  int st;
  run(&c, do_execve, &st, out, sizeof out);
  TP_CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "status %x", st);
}

static void test_no_exec_traps_fork(void) {
  tp_seccomp_config c = { NULL, 0, 1, 0, 0 };
  char out[128];
  int st;
  run(&c, do_fork, &st, out, sizeof out);
  TP_CHECKF(exited(st, 42), "status %x", st);
  TP_CHECKF(strcmp(out, "clone subprocess") == 0, "out: %s", out);
}

static void test_no_exec_system(void) {
  tp_seccomp_config c = { NULL, 0, 1, 0, 0 };
  char out[128];
  int st;
  run(&c, do_system, &st, out, sizeof out);
  printf("# system(): status %x out '%s'\n", st, out);
  TP_CHECKF(exited(st, 42) || (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS), "status %x", st);
}

static void test_no_exec_threads_work(void) {
  tp_seccomp_config c = { NULL, 0, 1, 1, 0 };
  char out[128];
  int st;
  run(&c, do_thread, &st, out, sizeof out);
  TP_CHECKF(exited(st, 0), "status %x out %s", st, out);
  run(&c, do_clone3, &st, out, sizeof out);
  TP_CHECKF(exited(st, 0), "status %x out %s", st, out);
}

static void test_exec_allowed_without_flag(void) {
  tp_seccomp_config c = { NULL, 0, 0, 0, 0 };
  char out[128];
  int st;
  run(&c, do_fork, &st, out, sizeof out);
  TP_CHECKF(exited(st, 8), "status %x out %s", st, out);
}

static void test_no_net(void) {
  tp_seccomp_config c = { NULL, 0, 0, 1, 0 };
  char out[128];
  int st;
  run(&c, do_inet, &st, out, sizeof out);
  TP_CHECKF(exited(st, 42), "status %x", st);
  TP_CHECKF(strcmp(out, "socket network") == 0, "out: %s", out);
  run(&c, do_inet6_pair, &st, out, sizeof out);
  TP_CHECKF(exited(st, 42), "status %x", st);
  TP_CHECKF(strcmp(out, "socketpair network") == 0, "out: %s", out);
  run(&c, do_unix_socket, &st, out, sizeof out);
  TP_CHECKF(exited(st, 42), "status %x", st);
  TP_CHECKF(strcmp(out, "socket network") == 0, "out: %s", out);
  run(&c, do_unix, &st, out, sizeof out);
  TP_CHECKF(exited(st, 0), "status %x out %s", st, out);
}

static void test_base_list(void) {
  tp_seccomp_config c = { NULL, 0, 0, 0, 0 };
  char out[128];
  int st;
  run(&c, do_unshare, &st, out, sizeof out);
  TP_CHECKF(exited(st, 42) && strcmp(out, "unshare base") == 0, "%x %s", st, out);
  run(&c, do_clone_newns, &st, out, sizeof out);
  TP_CHECKF(exited(st, 42) && strcmp(out, "clone base") == 0, "%x %s", st, out);
  run(&c, do_ptrace, &st, out, sizeof out);
  TP_CHECKF(exited(st, 42) && strcmp(out, "ptrace base") == 0, "%x %s", st, out);
  run(&c, do_personality, &st, out, sizeof out);
  TP_CHECKF(exited(st, 42) && strcmp(out, "personality base") == 0, "%x %s", st, out);
  run(&c, do_io_uring, &st, out, sizeof out);
  TP_CHECKF(exited(st, 42) && strcmp(out, "io_uring_setup base") == 0, "%x %s", st, out);
#ifdef __x86_64__
  run(&c, do_int80, &st, out, sizeof out);
  TP_CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "status %x", st);
#endif
}

static void test_policy_names(void) {
  const char *deny[] = { "uname", "socket", "clone" };
  tp_seccomp_config c = { deny, 1, 0, 0, 0 };
  char out[128];
  int st;
  run(&c, do_uname, &st, out, sizeof out);
  TP_CHECKF(exited(st, 42) && strcmp(out, "uname denied_syscall") == 0, "%x %s", st, out);
  /* policy names overlapping the flag rules still build and bite */
  c.ndeny = 3; c.no_net = 1; c.no_exec = 1;
  run(&c, do_unix_socket, &st, out, sizeof out);
  TP_CHECKF(exited(st, 42) && strcmp(out, "socket denied_syscall") == 0, "%x %s", st, out);
  run(&c, do_thread, &st, out, sizeof out);
  /* glibc blocks signals around clone: the trap then kills outright */
  TP_CHECKF(exited(st, 42) || (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS),
            "threads die when clone itself is denied: %x %s", st, out);
}

/* The worker's order, unprivileged: drop to 65534 (as spawn does), then
** Landlock, then seccomp; both load without privileges and both bite. */
static void test_worker_order_unprivileged(void) {
  int p[2], st;
  char out[256] = "";
  if (pipe(p) != 0) return;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char err[256] = "";
    tp_landlock_config lc;
    tp_seccomp_config sc = { NULL, 0, 1, 1, 0 };
    struct sigaction sa;
    close(p[0]);
    report_fd = p[1];
    memset(&lc, 0, sizeof lc);
    lc.defaults = 1;
    if (getuid() == 0 && (syscall(SYS_setgroups, 0, NULL) != 0 ||
                          syscall(SYS_setresgid, 65534, 65534, 65534) != 0 ||
                          syscall(SYS_setresuid, 65534, 65534, 65534) != 0))
      _exit(2);
    if (tp_landlock_apply(&lc, NULL, err, sizeof err) != 0) {
      if (write(p[1], err, strlen(err)) < 0) _exit(3);
      _exit(4);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, NULL);
    if (tp_seccomp_apply(&sc, err, sizeof err) != 0) {
      if (write(p[1], err, strlen(err)) < 0) _exit(5);
      _exit(6);
    }
    if (open("/etc/hostname", O_RDONLY) >= 0 || errno != EACCES) _exit(7);
    do_inet();
    _exit(8);
  }
  close(p[1]);
  ssize_t n = read(p[0], out, sizeof out - 1);
  out[n > 0 ? n : 0] = 0;
  close(p[0]);
  waitpid(pid, &st, 0);
  TP_CHECKF(exited(st, 42) && strcmp(out, "socket network") == 0, "status %x out %s", st, out);
}

static void test_lookup_after_failure(void) {
  const tp_seccomp_denial *d = tp_seccomp_lookup(SYS_execve);
  TP_CHECK(d == NULL);   /* nothing loaded in this process */
  TP_CHECK(strcmp(tp_seccomp_reason_name(TP_SECCOMP_R_NET), "network") == 0);
  TP_CHECK(strcmp(tp_seccomp_reason_name(99), "unknown") == 0);
}

int main(void) {
  TP_RUN(test_resolve);
  TP_RUN(test_check_names);
  TP_RUN(test_no_exec_traps_execve);
  TP_RUN(test_no_exec_kill);
  TP_RUN(test_no_exec_traps_fork);
  TP_RUN(test_no_exec_system);
  TP_RUN(test_no_exec_threads_work);
  TP_RUN(test_exec_allowed_without_flag);
  TP_RUN(test_no_net);
  TP_RUN(test_base_list);
  TP_RUN(test_policy_names);
  TP_RUN(test_worker_order_unprivileged);
  TP_RUN(test_lookup_after_failure);
  return tp_done();
}
