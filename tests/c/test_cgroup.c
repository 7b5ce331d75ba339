/*
** test_cgroup.c: a worker's control group bites. A forked child joins a
** fresh group and runs into its pids and memory limits; a spawned worker
** lands in it through spawn's cgroup.procs fds; every group is removed.
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/cgroup.h"
#include "sandbox/spawn.h"
#include "tp_test.h"

static int dir_exists(const char *d) {
  struct stat st;
  return d[0] && stat(d, &st) == 0 && S_ISDIR(st.st_mode);
}

static tp_cgroup *make(uint64_t mem, unsigned cpu, uint64_t pids) {
  tp_cgroup_limits lim = { mem, cpu, pids };
  tp_cgroup *g = NULL;
  char err[256] = "";
  int rc = tp_cgroup_create(&lim, &g, err, sizeof err);
  TP_CHECKF(rc == 0, "create: %d %s", rc, err);
  return rc == 0 ? g : NULL;
}

static void test_create_and_remove(void) {
  tp_cgroup *g = make(32u << 20, 50, 16);
  char dirs[TP_CGROUP_NCTL][640];
  if (!g) return;
  TP_CHECK(tp_cgroup_controllers(g) == 7);
  for (int c = 0; c < TP_CGROUP_NCTL; c++) {
    snprintf(dirs[c], sizeof dirs[c], "%s", tp_cgroup_dir(g, c));
    printf("# v%d %s\n", tp_cgroup_version(g, c), dirs[c]);
    TP_CHECKF(dir_exists(dirs[c]), "%s", dirs[c]);
    TP_CHECK(strstr(dirs[c], "/truthound-") != NULL);
  }
  /* the limits were written */
  char path[700], buf[64] = "";
  FILE *f;
  const char *cpu = tp_cgroup_version(g, TP_CGROUP_CPU) == 2 ? "cpu.max" : "cpu.cfs_quota_us";
  snprintf(path, sizeof path, "%s/%s", dirs[TP_CGROUP_CPU], cpu);
  if ((f = fopen(path, "r")) != NULL) { if (!fgets(buf, sizeof buf, f)) buf[0] = 0; fclose(f); }
  TP_CHECKF(strncmp(buf, "50000", 5) == 0, "%s: %s", path, buf);
  snprintf(path, sizeof path, "%s/pids.max", dirs[TP_CGROUP_PIDS]);
  buf[0] = 0;
  if ((f = fopen(path, "r")) != NULL) { if (!fgets(buf, sizeof buf, f)) buf[0] = 0; fclose(f); }
  TP_CHECKF(strcmp(buf, "16\n") == 0, "%s: %s", path, buf);
  TP_CHECK(tp_cgroup_destroy(g) == 0);
  for (int c = 0; c < TP_CGROUP_NCTL; c++) TP_CHECKF(!dir_exists(dirs[c]), "%s stayed", dirs[c]);
}

/* In the child: fork until refused; report how many forks worked. */
static int fork_bomb(void) {
  int made = 0;
  for (int i = 0; i < 64; i++) {
    pid_t p = fork();
    if (p == 0) { pause(); _exit(0); }
    if (p < 0) return errno == EAGAIN ? made : 200;
    made++;
  }
  return 100;
}

static void test_pids_stop_fork_bomb(void) {
  tp_cgroup *g = make(0, 0, 8);
  int p[2], st;
  if (!g || pipe(p) != 0) return;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    close(p[1]);
    if (read(p[0], &c, 1) != 1) _exit(1);   /* until moved */
    _exit(fork_bomb());
  }
  close(p[0]);
  TP_CHECK(tp_cgroup_add(g, pid) == 0);
  TP_CHECK(write(p[1], "g", 1) == 1);
  close(p[1]);
  waitpid(pid, &st, 0);
  TP_CHECKF(WIFEXITED(st) && WEXITSTATUS(st) < 8, "status %x: the bomb went past pids.max",
            st);
  tp_cgroup_stats s;
  tp_cgroup_stats_read(g, &s);
  printf("# pids.current %llu after the bomb\n", (unsigned long long)s.pids_current);
  TP_CHECK(s.pids_current >= 1);       /* the paused children */
  TP_CHECK(tp_cgroup_destroy(g) == 0); /* kills them */
}

static void test_memory_oom(void) {
  tp_cgroup *g = make(24u << 20, 0, 0);
  int p[2], st;
  if (!g || pipe(p) != 0) return;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    close(p[1]);
    if (read(p[0], &c, 1) != 1) _exit(1);
    size_t size = 256u << 20;
    char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) _exit(2);
    for (size_t i = 0; i < size; i += 4096) m[i] = 1;
    _exit(3);
  }
  close(p[0]);
  TP_CHECK(tp_cgroup_add(g, pid) == 0);
  TP_CHECK(write(p[1], "g", 1) == 1);
  close(p[1]);
  waitpid(pid, &st, 0);
  TP_CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %x", st);
  tp_cgroup_stats s;
  tp_cgroup_stats_read(g, &s);
  printf("# peak %llu oom_kills %llu events %llu\n", (unsigned long long)s.memory_peak,
         (unsigned long long)s.oom_kills, (unsigned long long)s.memory_events);
  TP_CHECK(s.oom_kills >= 1);
  TP_CHECK(s.memory_peak >= (16u << 20) && s.memory_peak <= (25u << 20));
  TP_CHECK(tp_cgroup_destroy(g) == 0);
}

static void test_spawn_places_worker(void) {
  tp_cgroup *g = make(64u << 20, 100, 32);
  char *argv[] = { "sh", "-c", "exec >&3; cat /proc/$$/cgroup", NULL };
  char *envp[] = { "PATH=/usr/bin:/bin", NULL };
  tp_spawn_opts o;
  tp_spawn_result r;
  char err[256], out[2048];
  size_t n = 0;
  ssize_t k;
  int st;
  if (!g) return;
  tp_spawn_opts_init(&o);
  o.path = "/bin/sh";
  o.argv = argv;
  o.envp = envp;
  o.ncgroup_fds = tp_cgroup_procs_fds(g, o.cgroup_fds, TP_SPAWN_MAX_CGROUPS);
  TP_CHECK(o.ncgroup_fds >= 1);
  TP_CHECKF(tp_spawn(&o, &r, err, sizeof err) == 0, "%s", err);
  for (int i = 0; i < o.ncgroup_fds; i++) close(o.cgroup_fds[i]);
  while (n < sizeof out - 1 && (k = read(r.fd, out + n, sizeof out - 1 - n)) > 0) n += (size_t)k;
  out[n] = 0;
  close(r.fd);
  waitpid(r.pid, &st, 0);
  const char *mem = strstr(out, ":memory:");
  TP_CHECKF(mem && strstr(mem, "/truthound-") && strchr(mem, '\n') > strstr(mem, "/truthound-"),
            "out: %s", out);
  const char *pids = strstr(out, ":pids:");
  TP_CHECKF(pids && strstr(pids, "/truthound-"), "out: %s", out);
  TP_CHECK(tp_cgroup_destroy(g) == 0);
}

int main(void) {
  if (geteuid() != 0) {
    printf("1..0 # SKIP creating cgroups needs root\n");
    return 0;
  }
  TP_RUN(test_create_and_remove);
  TP_RUN(test_pids_stop_fork_bomb);
  TP_RUN(test_memory_oom);
  TP_RUN(test_spawn_places_worker);
  return tp_done();
}
