/*
** test_cgroup.c: a worker's control group bites. A forked child joins a
** fresh group and runs into its pids and memory limits; a spawned worker
** lands in it through spawn's cgroup.procs fds; a busy child under a 20%
** quota is throttled (cpu.stat says so); groups of dead hosts are swept;
** every group is removed.
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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
  TP_CHECK(tp_cgroup_add(g, pid, NULL, 0) == 0);
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
  TP_CHECK(tp_cgroup_add(g, pid, NULL, 0) == 0);
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

static void test_parse_cpu_stat(void) {
  tp_cgroup_stats s;
  memset(&s, 0, sizeof s);
  tp_cgroup_parse_cpu_stat("nr_periods 12\nnr_throttled 7\nthrottled_time 123456789\n"
                           "nr_bursts 0\nburst_time 0\n", 1, &s);
  TP_CHECK(s.nr_periods == 12 && s.nr_throttled == 7 && s.throttled_ns == 123456789);
  TP_CHECK(s.cpu_usage_ns == 0);
  memset(&s, 0, sizeof s);
  tp_cgroup_parse_cpu_stat("usage_usec 5000\nuser_usec 4000\nsystem_usec 1000\n"
                           "nr_periods 30\nnr_throttled 9\nthrottled_usec 2500\n"
                           "nr_bursts 0\nburst_usec 0\n", 2, &s);
  TP_CHECK(s.nr_periods == 30 && s.nr_throttled == 9);
  TP_CHECK(s.throttled_ns == 2500000 && s.cpu_usage_ns == 5000000);
  memset(&s, 0, sizeof s);   /* v2 without the cpu controller: no throttling lines */
  tp_cgroup_parse_cpu_stat("usage_usec 10\nuser_usec 10\nsystem_usec 0\n", 2, &s);
  TP_CHECK(s.nr_throttled == 0 && s.throttled_ns == 0 && s.cpu_usage_ns == 10000);
}

/* A child spins for ~wall_ms of wall time in g; g's cpu counters after. */
static void spin_in(tp_cgroup *g, long wall_ms, tp_cgroup_stats *s) {
  int p[2], st;
  memset(s, 0, sizeof *s);
  if (pipe(p) != 0) return;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    struct timespec t0, t;
    close(p[1]);
    if (read(p[0], &c, 1) != 1) _exit(1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < wall_ms);
    _exit(0);
  }
  close(p[0]);
  TP_CHECK(tp_cgroup_add(g, pid, NULL, 0) == 0);
  TP_CHECK(write(p[1], "g", 1) == 1);
  close(p[1]);
  waitpid(pid, &st, 0);
  TP_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  tp_cgroup_stats_read(g, s);
}

/* The quota is a mechanism fact: the kernel throttled the group. */
static void test_cpu_quota_throttles(void) {
  tp_cgroup *g = make(0, 20, 0), *full = make(0, 100, 0);
  tp_cgroup_stats s;
  if (g) {
    spin_in(g, 600, &s);
    printf("# 20%%: nr_periods %llu nr_throttled %llu throttled %llu ns\n",
           (unsigned long long)s.nr_periods, (unsigned long long)s.nr_throttled,
           (unsigned long long)s.throttled_ns);
    TP_CHECK(s.nr_periods > 0);
    TP_CHECK(s.nr_throttled > 0);
    TP_CHECK(s.throttled_ns > 0);
    TP_CHECK(tp_cgroup_destroy(g) == 0);
  }
  if (full) {     /* one whole CPU for a single thread: never throttled */
    spin_in(full, 300, &s);
    printf("# 100%%: nr_periods %llu nr_throttled %llu\n",
           (unsigned long long)s.nr_periods, (unsigned long long)s.nr_throttled);
    TP_CHECK(s.nr_periods > 0);
    TP_CHECK(s.nr_throttled == 0);
    TP_CHECK(tp_cgroup_destroy(full) == 0);
  }
}

/* A group named for a dead host goes; ours and a live host's stay. */
static void test_sweep(void) {
  tp_cgroup *g = make(0, 0, 8);
  char stale[700], alive[700], busy[700], parent[640];
  int st;
  if (!g) return;
  snprintf(parent, sizeof parent, "%s", tp_cgroup_dir(g, TP_CGROUP_PIDS));
  *strrchr(parent, '/') = 0;
  pid_t dead = fork();        /* a pid that existed and is gone */
  if (dead == 0) _exit(0);
  waitpid(dead, &st, 0);
  snprintf(stale, sizeof stale, "%s/truthound-%ld-77", parent, (long)dead);
  snprintf(alive, sizeof alive, "%s/truthound-1-77", parent);      /* init lives */
  snprintf(busy, sizeof busy, "%s/truthound-%ld-78", parent, (long)dead);
  TP_CHECK(mkdir(stale, 0755) == 0);
  TP_CHECK(mkdir(alive, 0755) == 0);
  /* a dead host's group that still holds a process: not ours to kill */
  TP_CHECK(mkdir(busy, 0755) == 0);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) { pause(); _exit(0); }
  char path[720], v[32];
  snprintf(path, sizeof path, "%s/cgroup.procs", busy);
  snprintf(v, sizeof v, "%ld", (long)child);
  FILE *f = fopen(path, "w");
  TP_CHECK(f && fputs(v, f) >= 0 && fclose(f) == 0);
  int n = tp_cgroup_sweep();
  TP_CHECKF(n >= 1, "swept %d", n);
  TP_CHECKF(!dir_exists(stale), "%s stayed", stale);
  TP_CHECKF(dir_exists(alive), "%s went", alive);
  TP_CHECKF(dir_exists(busy), "%s went", busy);
  TP_CHECK(dir_exists(tp_cgroup_dir(g, TP_CGROUP_PIDS)));
  kill(child, SIGKILL);
  waitpid(child, &st, 0);
  rmdir(alive);
  for (int i = 0; i < 200 && rmdir(busy) != 0 && errno == EBUSY; i++) usleep(5000);
  TP_CHECK(!dir_exists(busy));
  TP_CHECK(tp_cgroup_destroy(g) == 0);
}

/* No limit asked: a group with no controllers, where add is a no-op. */
static void test_no_limits(void) {
  tp_cgroup_limits none = { 0, 0, 0 };
  tp_cgroup *g = NULL;
  char err[256] = "";
  TP_CHECKF(tp_cgroup_create(&none, &g, err, sizeof err) == 0 && g, "%s", err);
  if (!g) return;
  TP_CHECK(tp_cgroup_controllers(g) == 0);
  TP_CHECK(tp_cgroup_dir(g, TP_CGROUP_MEMORY)[0] == 0);
  TP_CHECK(tp_cgroup_add(g, getpid(), err, sizeof err) == 0);
  TP_CHECK(tp_cgroup_destroy(g) == 0);
}

static void test_add_error_names_file(void) {
  tp_cgroup *g = make(0, 0, 8);
  char err[256] = "";
  if (!g) return;
  /* pid 0x7ffffff0 does not exist: the kernel refuses the write */
  TP_CHECK(tp_cgroup_add(g, (pid_t)0x7ffffff0, err, sizeof err) != 0);
  TP_CHECKF(strstr(err, "pids") && strstr(err, "/cgroup.procs"), "%s", err);
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
  TP_RUN(test_parse_cpu_stat);
  TP_RUN(test_cpu_quota_throttles);
  TP_RUN(test_sweep);
  TP_RUN(test_no_limits);
  TP_RUN(test_add_error_names_file);
  return tp_done();
}
