/*
** test_spawn.c: a spawned worker gets exactly the process state spawn.h
** promises (session, fds, environment, rlimits, uid, no_new_privs, death
** signal) and a failing step is named. The "worker" is /bin/sh reporting
** on fd 3, the channel.
*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/netns.h"
#include "sandbox/spawn.h"
#include "tp_test.h"

static const char *report_script =
  "exec >&3; echo uid=$(id -u) gid=$(id -g) groups=$(id -G);"
  "echo fds=$(ls /proc/$$/fd | tr '\\n' ' ');"
  "echo nofile=$(ulimit -n) core=$(ulimit -c) fsize=$(ulimit -f);"
  "echo env=$(env | grep -v '^PWD=' | grep -vc '^_=' );"
  "echo sid=$(cut -d' ' -f6 /proc/$$/stat) pid=$$;"
  "echo nnp=$(grep NoNewPrivs /proc/$$/status | tr -dc 0-9);"
  "echo sigpnd=$(grep SigBlk /proc/$$/status | tr -d ' \\t');"
  "(exec 20</dev/null) 2>/dev/null && echo fd20=yes || echo fd20=no;"
  "echo net=$(readlink /proc/$$/ns/net)";

/* Read everything from fd into buf, then close it and reap pid. */
static void drain(int fd, pid_t pid, char *buf, size_t cap, int *status) {
  size_t n = 0;
  ssize_t r;
  while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) != 0) {
    if (r < 0) { if (errno == EINTR) continue; break; }
    n += (size_t)r;
  }
  buf[n] = 0;
  close(fd);
  waitpid(pid, status, 0);
}

static void spawn_report(int use_fork, char *out, size_t cap) {
  char *argv[] = { "sh", "-c", (char *)report_script, NULL };
  char *envp[] = { "PATH=/usr/bin:/bin", NULL };
  tp_spawn_opts o;
  tp_spawn_result r;
  char err[256];
  int st;
  tp_spawn_opts_init(&o);
  o.path = "/bin/sh";
  o.argv = argv;
  o.envp = envp;
  o.rlimit_nofile = 16;
  o.rlimit_fsize = 1024 * 1024;
  o.rlimit_data = 512u << 20;
  o.use_fork = use_fork;
  out[0] = 0;
  int rc = tp_spawn(&o, &r, err, sizeof err);
  TP_CHECKF(rc == 0, "spawn: %d %s", rc, err);
  if (rc != 0) return;
  TP_CHECK(fcntl(r.fd, F_GETFD) & FD_CLOEXEC);
  drain(r.fd, r.pid, out, cap, &st);
  TP_CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %x", st);
}

static void check_report(const char *out) {
  char want[64];
  printf("# %s", out);
  if (getuid() == 0) {
    TP_CHECKF(strstr(out, "uid=65534 gid=65534 groups=65534\n") != NULL, "uid");
  }
  TP_CHECKF(strstr(out, "nofile=16 core=0 fsize=2048\n") != NULL, "rlimits");
  TP_CHECKF(strstr(out, "env=1\n") != NULL, "environment");
  TP_CHECKF(strstr(out, "nnp=1\n") != NULL, "no_new_privs");
  TP_CHECKF(strstr(out, "sigpnd=SigBlk:0000000000000000\n") != NULL, "signal mask");
  TP_CHECKF(strstr(out, "fd20=no\n") != NULL, "NOFILE bites");
  /* session id == pid: a session leader */
  const char *s = strstr(out, "sid="), *p = strstr(out, "pid=");
  TP_CHECK(s && p && atoi(s + 4) == atoi(p + 4));
  /* ls itself holds one more fd (its directory); the shell has 0-3 (and
  ** possibly 10, its saved copy of stdout) */
  s = strstr(out, "fds=");
  TP_CHECKF(s && strncmp(s, "fds=0 1 2 3 ", 12) == 0, "fds");
  snprintf(want, sizeof want, "net=");
  TP_CHECK(strstr(out, want) != NULL);
}

static void test_state_clone(void) {
  char out[2048];
  spawn_report(0, out, sizeof out);
  check_report(out);
}

static void test_state_fork(void) {
  char out[2048];
  spawn_report(1, out, sizeof out);
  check_report(out);
}

static void expect_step(tp_spawn_opts *o, const char *text) {
  tp_spawn_result r;
  char err[256] = "";
  int rc = tp_spawn(o, &r, err, sizeof err);
  TP_CHECKF(rc == TP_SPAWN_ECHILD, "rc %d", rc);
  TP_CHECKF(strstr(err, text) != NULL, "err '%s' lacks '%s'", err, text);
  if (rc == 0) { tp_spawn_kill(r.pid); close(r.fd); waitpid(r.pid, NULL, 0); }
}

static void test_failures_named(void) {
  tp_spawn_opts o;
  tp_spawn_result r;
  char err[256];
  int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
  tp_spawn_opts_init(&o);
  o.path = "/nonexistent/worker";
  expect_step(&o, "spawn: exec: No such file or directory");
  o.use_fork = 1;
  expect_step(&o, "spawn: exec: No such file");
  o.use_fork = 0;
  o.path = "/bin/true";
  o.netns_fd = nul;
  expect_step(&o, "spawn: netns: Invalid argument");
  o.netns_fd = -1;
  o.cpu = 1000;
  expect_step(&o, "spawn: affinity:");
  o.cpu = -1;
  o.cgroup_fds[0] = nul;
  o.ncgroup_fds = 1;
  expect_step(&o, "spawn: cgroup:");
  o.ncgroup_fds = 0;
  o.path = "relative";
  TP_CHECK(tp_spawn(&o, &r, err, sizeof err) == TP_SPAWN_EINVAL);
  close(nul);
}

static int alive(pid_t pid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *close_paren = strrchr(buf, ')');
  return close_paren && close_paren[1] == ' ' && close_paren[2] != 'Z' && close_paren[2] != 'X';
}

/* A spawner that dies takes its workers with it. */
static void test_pdeathsig(void) {
  int p[2];
  pid_t mid, worker = 0;
  if (pipe(p) != 0) return;
  fflush(stdout);
  mid = fork();
  if (mid == 0) {
    char *argv[] = { "sleep", "60", NULL };
    tp_spawn_opts o;
    tp_spawn_result r;
    char err[256];
    close(p[0]);
    tp_spawn_opts_init(&o);
    o.path = "/bin/sleep";
    o.argv = argv;
    if (tp_spawn(&o, &r, err, sizeof err) != 0) _exit(1);
    if (write(p[1], &r.pid, sizeof r.pid) != sizeof r.pid) _exit(2);
    _exit(0);
  }
  close(p[1]);
  TP_CHECK(read(p[0], &worker, sizeof worker) == sizeof worker);
  close(p[0]);
  waitpid(mid, NULL, 0);
  for (int i = 0; i < 1000 && worker > 0 && alive(worker); i++) usleep(10000);
  TP_CHECKF(worker > 0 && !alive(worker), "worker %d survived its spawner", (int)worker);
  if (worker > 0 && alive(worker)) kill(worker, SIGKILL);
}

static void test_kill_group(void) {
  char *argv[] = { "sh", "-c", "sleep 60 & echo $! >&3; sleep 60; :", NULL };
  char *envp[] = { "PATH=/usr/bin:/bin", NULL };
  tp_spawn_opts o;
  tp_spawn_result r;
  char err[256], out[64] = "";
  int st, bg = 0;
  tp_spawn_opts_init(&o);
  o.path = "/bin/sh";
  o.argv = argv;
  o.envp = envp;
  TP_CHECK(tp_spawn(&o, &r, err, sizeof err) == 0);
  /* the background sleep's pid, then kill the group */
  for (size_t n = 0; n < sizeof out - 1 && !strchr(out, '\n');) {
    ssize_t k = read(r.fd, out + n, 1);
    if (k <= 0) break;
    out[n += (size_t)k] = 0;
  }
  bg = atoi(out);
  TP_CHECK(bg > 1);
  TP_CHECK(tp_spawn_kill(r.pid) == 0);
  drain(r.fd, r.pid, out, sizeof out, &st);
  TP_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  /* the background sleep was in the group too (it may linger as a zombie
  ** of init) */
  for (int i = 0; i < 500 && bg > 1 && alive(bg); i++) usleep(10000);
  TP_CHECKF(bg > 1 && !alive(bg), "background %d alive", bg);
  if (bg > 1 && alive(bg)) kill(bg, SIGKILL);
  TP_CHECK(tp_spawn_kill(1) == -EINVAL);
}

static void test_prefix_and_netns(void) {
  char *prefix[] = { "/usr/bin/env", "-i", NULL };
  char *argv[] = { "ignored", "-c", "exec >&3; readlink /proc/$$/ns/net", NULL };
  tp_spawn_opts o;
  tp_spawn_result r;
  char err[256], out[256], mine[256];
  int st;
  ssize_t n = readlink("/proc/self/ns/net", mine, sizeof mine - 1);
  mine[n > 0 ? n : 0] = 0;
  tp_spawn_opts_init(&o);
  o.path = "/bin/sh";
  o.argv = argv;
  o.prefix = prefix;
  int ns = tp_netns_fd(err, sizeof err);
  if (ns < 0) { printf("# no netns: %s\n", err); }
  o.netns_fd = ns;
  TP_CHECKF(tp_spawn(&o, &r, err, sizeof err) == 0, "%s", err);
  drain(r.fd, r.pid, out, sizeof out, &st);
  TP_CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %x", st);
  TP_CHECKF(strncmp(out, "net:[", 5) == 0, "out %s", out);
  if (ns >= 0) TP_CHECKF(strncmp(out, mine, strlen(mine)) != 0, "same netns %s", out);
  tp_netns_release();
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Not a limit test: prints what clone(CLONE_VM|CLONE_VFORK) and fork cost
** here (spawn to exit of /bin/true) so the choice stays informed. */
static void test_timing(void) {
  for (int mode = 0; mode < 2; mode++) {
    tp_spawn_opts o;
    tp_spawn_result r;
    char err[256], out[8];
    int st, n = 30, ok = 1;
    tp_spawn_opts_init(&o);
    o.path = "/bin/true";
    o.use_fork = mode;
    double t0 = now_us();
    for (int i = 0; i < n && ok; i++) {
      ok = tp_spawn(&o, &r, err, sizeof err) == 0;
      if (ok) drain(r.fd, r.pid, out, sizeof out, &st);
    }
    TP_CHECK(ok);
    printf("# %s: %.0f us per spawn+exit of /bin/true\n", mode ? "fork" : "clone_vm",
           (now_us() - t0) / n);
  }
}

int main(void) {
  TP_RUN(test_state_clone);
  TP_RUN(test_state_fork);
  TP_RUN(test_failures_named);
  TP_RUN(test_pdeathsig);
  TP_RUN(test_kill_group);
  TP_RUN(test_prefix_and_netns);
  TP_RUN(test_timing);
  return tp_done();
}
