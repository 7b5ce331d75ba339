/*
** test_probe.c: core/sandbox/probe.c. The parsers get mountinfo and
** /proc/self/cgroup samples of the three layouts (v1 only, v2 only, the
** hybrid of this machine) and of containers, so that they do not depend
** on the host; the command runner and the whole probe run for real.
*/
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "sandbox/probe.h"
#include "tp_test.h"

#define LEN(s) (sizeof(s) - 1)

/* CentOS 7 / RHEL 7: cgroup v1 only, SELinux labels, a joined cpu,cpuacct. */
static const char V1_MOUNTINFO[] =
  "18 62 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw,seclabel\n"
  "24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:7 - tmpfs tmpfs ro,seclabel,mode=755\n"
  "25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup "
    "rw,seclabel,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n"
  "28 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,seclabel,cpu,cpuacct\n"
  "29 24 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,seclabel,memory\n"
  "30 24 0:26 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,seclabel,pids\n"
  "31 24 0:27 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,seclabel,cpuset\n";
static const char V1_CGROUP[] =
  "11:cpuset:/\n"
  "10:pids:/system.slice/sshd.service\n"
  "4:memory:/system.slice/sshd.service\n"
  "3:cpu,cpuacct:/system.slice/sshd.service\n"
  "1:name=systemd:/system.slice/sshd.service\n";

/* Debian 12 with systemd: the unified hierarchy only. */
static const char V2_MOUNTINFO[] =
  "22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
  "26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
  "28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n";
static const char V2_CGROUP[] = "0::/user.slice/user-1000.slice/session-3.scope\n";

/* This machine: v1 controllers, cgroup2 at .../unified with no controllers
** of its own, our memory group nested, no trailing newline. */
static const char HYBRID_MOUNTINFO[] =
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
  "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
  "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
  "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
  "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
  "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
  "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw";
static const char HYBRID_CGROUP[] =
  "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/25ceda36\n3:cpuset:/\n"
  "2:cpuacct:/\n1:cpu:/\n0::/\n";

/* Inside a docker container (v1): the hierarchies are mounted from our
** group down, so mountinfo's root is the group. */
static const char DOCKER_MOUNTINFO[] =
  "700 690 0:30 /docker/abc123 /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:15 - cgroup cgroup rw,memory\n"
  "701 690 0:31 /docker/abc123 /sys/fs/cgroup/pids ro,nosuid,nodev,noexec,relatime master:16 - cgroup cgroup rw,pids\n";
static const char DOCKER_CGROUP[] = "6:memory:/docker/abc123/worker\n5:pids:/other\n";

static void v1_only(void) {
  tp_probe_cgmount m[8];
  tp_probe_cgpath p[8];
  char dir[TP_PROBE_PATH];
  int n = tp_probe_parse_mountinfo(V1_MOUNTINFO, LEN(V1_MOUNTINFO), m, 8);
  TP_CHECKF(n == 5, "n = %d", n);
  TP_CHECK(m[0].version == 1);
  TP_CHECK(strcmp(m[0].mountpoint, "/sys/fs/cgroup/systemd") == 0);
  TP_CHECKF(strcmp(m[0].controllers, "") == 0, "'%s'", m[0].controllers);
  TP_CHECK(strcmp(m[0].name, "systemd") == 0);
  TP_CHECKF(strcmp(m[1].controllers, "cpu,cpuacct") == 0, "'%s'", m[1].controllers);
  TP_CHECK(strcmp(m[1].mountpoint, "/sys/fs/cgroup/cpu,cpuacct") == 0);
  TP_CHECK(strcmp(m[2].controllers, "memory") == 0);
  TP_CHECK(strcmp(m[1].root, "/") == 0);
  n = tp_probe_parse_proc_cgroup(V1_CGROUP, LEN(V1_CGROUP), p, 8);
  TP_CHECKF(n == 5, "n = %d", n);
  TP_CHECK(p[3].id == 3 && strcmp(p[3].controllers, "cpu,cpuacct") == 0);
  TP_CHECK(strcmp(p[4].controllers, "name=systemd") == 0);
  TP_CHECK(tp_probe_cgroup_dir(m, 5, p, 5, 1, "memory", dir, sizeof dir) == 0);
  TP_CHECKF(strcmp(dir, "/sys/fs/cgroup/memory/system.slice/sshd.service") == 0, "%s", dir);
  TP_CHECK(tp_probe_cgroup_dir(m, 5, p, 5, 1, "cpu", dir, sizeof dir) == 0);
  TP_CHECKF(strcmp(dir, "/sys/fs/cgroup/cpu,cpuacct/system.slice/sshd.service") == 0, "%s", dir);
  TP_CHECK(tp_probe_cgroup_dir(m, 5, p, 5, 1, "cpuset", dir, sizeof dir) == 0);
  TP_CHECKF(strcmp(dir, "/sys/fs/cgroup/cpuset") == 0, "%s", dir);
  TP_CHECK(tp_probe_cgroup_dir(m, 5, p, 5, 2, NULL, dir, sizeof dir) == TP_PROBE_ENOENT);
  TP_CHECK(tp_probe_cgroup_dir(m, 5, p, 5, 1, "hugetlb", dir, sizeof dir) == TP_PROBE_ENOENT);
}

static void v2_only(void) {
  tp_probe_cgmount m[4];
  tp_probe_cgpath p[4];
  char dir[TP_PROBE_PATH];
  int n = tp_probe_parse_mountinfo(V2_MOUNTINFO, LEN(V2_MOUNTINFO), m, 4);
  TP_CHECKF(n == 1, "n = %d", n);
  TP_CHECK(m[0].version == 2);
  TP_CHECK(strcmp(m[0].mountpoint, "/sys/fs/cgroup") == 0);
  TP_CHECK(m[0].controllers[0] == '\0' && m[0].name[0] == '\0');
  n = tp_probe_parse_proc_cgroup(V2_CGROUP, LEN(V2_CGROUP), p, 4);
  TP_CHECK(n == 1 && p[0].id == 0 && p[0].controllers[0] == '\0');
  TP_CHECK(tp_probe_cgroup_dir(m, 1, p, 1, 2, NULL, dir, sizeof dir) == 0);
  TP_CHECKF(strcmp(dir, "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope") == 0,
            "%s", dir);
  TP_CHECK(tp_probe_cgroup_dir(m, 1, p, 1, 1, "memory", dir, sizeof dir) == TP_PROBE_ENOENT);
}

static void hybrid(void) {
  tp_probe_cgmount m[16];
  tp_probe_cgpath p[16];
  char dir[TP_PROBE_PATH];
  int nm = tp_probe_parse_mountinfo(HYBRID_MOUNTINFO, LEN(HYBRID_MOUNTINFO), m, 16);
  int np = tp_probe_parse_proc_cgroup(HYBRID_CGROUP, LEN(HYBRID_CGROUP), p, 16);
  TP_CHECKF(nm == 7, "nm = %d", nm);
  TP_CHECKF(np == 7, "np = %d", np);
  TP_CHECK(m[6].version == 2 && strcmp(m[6].mountpoint, "/sys/fs/cgroup/unified") == 0);
  TP_CHECK(tp_probe_cgroup_dir(m, nm, p, np, 1, "memory", dir, sizeof dir) == 0);
  TP_CHECKF(strcmp(dir, "/sys/fs/cgroup/memory/process_api/25ceda36") == 0, "%s", dir);
  /* "cpu" is not "cpuacct" nor "cpuset"; our group is the root: no '/'. */
  TP_CHECK(tp_probe_cgroup_dir(m, nm, p, np, 1, "cpu", dir, sizeof dir) == 0);
  TP_CHECKF(strcmp(dir, "/sys/fs/cgroup/cpu") == 0, "%s", dir);
  TP_CHECK(tp_probe_cgroup_dir(m, nm, p, np, 2, NULL, dir, sizeof dir) == 0);
  TP_CHECKF(strcmp(dir, "/sys/fs/cgroup/unified") == 0, "%s", dir);
  TP_CHECK(tp_probe_cgroup_dir(m, nm, p, np, 1, "blkio", dir, sizeof dir) == TP_PROBE_ENOENT);
  /* A buffer too small for the path. */
  TP_CHECK(tp_probe_cgroup_dir(m, nm, p, np, 1, "memory", dir, 12) == TP_PROBE_ETOOLONG);
}

static void container(void) {
  tp_probe_cgmount m[4];
  tp_probe_cgpath p[4];
  char dir[TP_PROBE_PATH];
  int nm = tp_probe_parse_mountinfo(DOCKER_MOUNTINFO, LEN(DOCKER_MOUNTINFO), m, 4);
  int np = tp_probe_parse_proc_cgroup(DOCKER_CGROUP, LEN(DOCKER_CGROUP), p, 4);
  TP_CHECK(nm == 2 && np == 2);
  TP_CHECK(strcmp(m[0].root, "/docker/abc123") == 0);
  TP_CHECK(tp_probe_cgroup_dir(m, nm, p, np, 1, "memory", dir, sizeof dir) == 0);
  TP_CHECKF(strcmp(dir, "/sys/fs/cgroup/memory/worker") == 0, "%s", dir);
  /* Our pids group is not below the mounted subtree. */
  TP_CHECK(tp_probe_cgroup_dir(m, nm, p, np, 1, "pids", dir, sizeof dir) == TP_PROBE_EOUTSIDE);
}

static void mountinfo_edges(void) {
  static const char text[] =
    "\n"                                                   /* blank line */
    "garbage\n"                                            /* too few fields */
    "1 2 0:3 / /a rw - cgroup\n"                           /* no super options */
    "1 2 0:3 / /no/separator rw cgroup cgroup rw,memory\n" /* no '-' */
    "5 4 0:9 / /sys/fs/cgroup/my\\040mem rw shared:1 master:2 - cgroup cgroup rw,memory\n"
    "6 4 0:9 / relative rw - cgroup2 cgroup2 rw\n"         /* not absolute */
    "7 4 0:9 /a\\134b /x rw - cgroup2 none rw\n"
    "8 4 0:9 / /tmp rw - tmpfs cgroup rw\n";               /* source is not type */
  tp_probe_cgmount m[8];
  int n = tp_probe_parse_mountinfo(text, LEN(text), m, 8);
  TP_CHECKF(n == 3, "n = %d", n);
  TP_CHECK(strcmp(m[0].mountpoint, "/a") == 0 && m[0].controllers[0] == '\0');
  TP_CHECKF(strcmp(m[1].mountpoint, "/sys/fs/cgroup/my mem") == 0, "'%s'", m[1].mountpoint);
  TP_CHECK(strcmp(m[1].controllers, "memory") == 0);
  TP_CHECKF(strcmp(m[2].root, "/a\\b") == 0, "'%s'", m[2].root);
  /* More mounts than room: the count says so, nothing is written past. */
  n = tp_probe_parse_mountinfo(HYBRID_MOUNTINFO, LEN(HYBRID_MOUNTINFO), m, 2);
  TP_CHECK(n == 7);
  TP_CHECK(tp_probe_parse_mountinfo(HYBRID_MOUNTINFO, LEN(HYBRID_MOUNTINFO), NULL, 0) == 7);
  TP_CHECK(tp_probe_parse_mountinfo("", 0, m, 8) == 0);
  /* Length is respected: the text is not read past len. */
  TP_CHECK(tp_probe_parse_mountinfo(V2_MOUNTINFO, 60, m, 8) == 0);
}

static void proc_cgroup_edges(void) {
  static const char text[] =
    "x:memory:/a\n"      /* id not a number */
    "4:memory\n"         /* one colon */
    "4:memory:relative\n"
    "12:rdma:/\n"
    "0::/a:b\n";         /* a colon inside the path */
  tp_probe_cgpath p[4];
  int n = tp_probe_parse_proc_cgroup(text, LEN(text), p, 4);
  TP_CHECKF(n == 2, "n = %d", n);
  TP_CHECK(p[0].id == 12 && strcmp(p[0].controllers, "rdma") == 0);
  TP_CHECK(p[1].id == 0 && strcmp(p[1].path, "/a:b") == 0);
  {
    /* Found by fuzz_probe: a text ending right after the second colon was
    ** read one byte past its end. A heap copy without terminator lets
    ** ASan see it. */
    char *tail = malloc(9);
    memcpy(tail, "1:memory:", 9);
    TP_CHECK(tp_probe_parse_proc_cgroup(tail, 9, p, 4) == 0);
    free(tail);
  }
}

static void lists(void) {
  TP_CHECK(tp_probe_list_has("cpu,cpuacct", "cpu"));
  TP_CHECK(tp_probe_list_has("cpu,cpuacct", "cpuacct"));
  TP_CHECK(!tp_probe_list_has("cpuacct,cpuset", "cpu"));
  TP_CHECK(!tp_probe_list_has("", "cpu"));
  TP_CHECK(!tp_probe_list_has("cpu", ""));
  TP_CHECK(tp_probe_list_has("a,,memory", "memory"));
}

static void landlock_table(void) {
  int i, fs1 = 0, last = 0;
  for (i = 0; i < tp_probe_landlock_nrights; i++) {
    const tp_probe_landlock_right *r = &tp_probe_landlock_rights[i];
    TP_CHECKF(r->abi >= last, "%s out of ABI order", r->name);
    last = r->abi;
    TP_CHECK(r->abi >= 1 && r->abi <= TP_PROBE_LANDLOCK_KNOWN_ABI);
    if (r->abi == 1) fs1 += strcmp(r->category, "fs") == 0;
    if (strcmp(r->category, "net") == 0) TP_CHECK(r->abi == 4);
    if (strcmp(r->category, "scope") == 0) TP_CHECK(r->abi == 6);
  }
  TP_CHECKF(fs1 == 13, "ABI 1 has %d filesystem rights", fs1);
  TP_CHECK(last == TP_PROBE_LANDLOCK_KNOWN_ABI);
}

static void which(void) {
  char buf[TP_PROBE_PATH];
  TP_CHECK(tp_probe_which("sh", "/nonexistent:relative::/bin", buf, sizeof buf) == 0);
  TP_CHECKF(strcmp(buf, "/bin/sh") == 0, "%s", buf);
  TP_CHECK(tp_probe_which("sh", "/nonexistent", buf, sizeof buf) == TP_PROBE_ENOENT);
  TP_CHECK(buf[0] == '\0');
  /* A directory is not an executable. */
  TP_CHECK(tp_probe_which("bin", "/", buf, sizeof buf) == TP_PROBE_ENOENT);
}

static void run_commands(void) {
  char line[64];
  int st, to;
  char *ok[] = {"/bin/sh", "-c", "echo; echo '  first line  '; echo second >&2", NULL};
  char *fail[] = {"/bin/sh", "-c", "echo 'it failed' >&2; exit 3", NULL};
  char *sig[] = {"/bin/sh", "-c", "kill -9 $$", NULL};
  char *hang[] = {"/bin/sh", "-c", "echo started; exec sleep 30", NULL};
  char *bg[] = {"/bin/sh", "-c", "sleep 2 & echo done", NULL};
  char *missing[] = {"/nonexistent/tool", NULL};
  char *warn[] = {"/bin/sh", "-c", "echo 'WARNING: config unreadable' >&2; echo 'warning: x' >&2; "
                  "echo 'Cannot connect' >&2; exit 1", NULL};
  char *only_warn[] = {"/bin/sh", "-c", "echo 'WARNING: first'; echo 'Warning: second'", NULL};
  char *loud[] = {"/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done", NULL};

  TP_CHECK(tp_probe_run(ok, 5000, 0, line, sizeof line, &st, &to) == 0);
  TP_CHECKF(strcmp(line, "first line") == 0, "'%s'", line);
  TP_CHECK(st == 0 && to == 0);
  TP_CHECK(tp_probe_run(fail, 5000, 0, line, sizeof line, &st, &to) == 0);
  TP_CHECKF(st == 3 && strcmp(line, "it failed") == 0, "%d '%s'", st, line);
  TP_CHECK(tp_probe_run(sig, 5000, 0, line, sizeof line, &st, &to) == 0);
  TP_CHECKF(st == 128 + 9, "status %d", st);
  /* A hang is killed at the timeout, with what it printed so far. */
  TP_CHECK(tp_probe_run(hang, 100, 0, line, sizeof line, &st, &to) == 0);
  TP_CHECKF(to == 1 && st == 128 + 9 && strcmp(line, "started") == 0, "%d %d '%s'", to, st, line);
  /* A descendant that keeps the pipe open does not hold us up. */
  TP_CHECK(tp_probe_run(bg, 60000, 0, line, sizeof line, &st, &to) == 0);
  TP_CHECKF(to == 0 && st == 0 && strcmp(line, "done") == 0, "%d %d '%s'", to, st, line);
  TP_CHECK(tp_probe_run(missing, 1000, 0, line, sizeof line, &st, &to) == TP_PROBE_ESPAWN);
  TP_CHECKF(strstr(line, "ENOENT") != NULL, "'%s'", line);
  /* Warnings before the message are skipped; stderr can be dropped. */
  TP_CHECK(tp_probe_run(warn, 5000, 0, line, sizeof line, &st, &to) == 0);
  TP_CHECKF(st == 1 && strcmp(line, "Cannot connect") == 0, "%d '%s'", st, line);
  TP_CHECK(tp_probe_run(warn, 5000, TP_PROBE_RUN_STDOUT, line, sizeof line, &st, &to) == 0);
  TP_CHECKF(strcmp(line, "") == 0, "'%s'", line);
  TP_CHECK(tp_probe_run(only_warn, 5000, 0, line, sizeof line, &st, &to) == 0);
  TP_CHECKF(strcmp(line, "WARNING: first") == 0, "'%s'", line);
  /* Output beyond what we keep is drained, so the command never blocks. */
  TP_CHECK(tp_probe_run(loud, 60000, 0, line, 8, &st, &to) == 0);
  TP_CHECKF(to == 0 && st == 0 && strcmp(line, "xxxxxxx") == 0, "%d %d '%s'", to, st, line);
}

static int checked(const tp_probe_check *c) {
  return (c->state == TP_PROBE_YES || c->state == TP_PROBE_NO) && c->reason[0] != '\0';
}

/* The whole probe on this host: every answer has a reason, and the rlimits
** agree with getrlimit. What the answers are is for tests/lua/host_spec.lua
** to compare with independent evidence. */
static void whole_probe(void) {
  static tp_probe_host h;
  tp_probe_opts o = {2000, 0, NULL};
  struct rlimit rl;
  int i;
  tp_probe_host_run(&h, &o);
  for (i = 0; i < TP_PROBE_NS_COUNT; i++) {
    TP_CHECKF(checked(&h.ns[i]), "ns %s", tp_probe_ns_names[i]);
    TP_CHECKF(checked(&h.ns_unpriv[i]), "unprivileged ns %s", tp_probe_ns_names[i]);
  }
  TP_CHECK(checked(&h.seccomp_filter));
  for (i = 0; i < TP_PROBE_SECCOMP_ACTIONS; i++) TP_CHECK(checked(&h.seccomp_action[i]));
  TP_CHECK(h.libseccomp_version[0] != '\0');
  TP_CHECK(checked(&h.landlock) && checked(&h.landlock_restrict));
  TP_CHECK((h.landlock_abi > 0) == (h.landlock.state == TP_PROBE_YES));
  TP_CHECK(checked(&h.no_new_privs_set));
  TP_CHECK(h.no_new_privs == 0 || h.no_new_privs == 1);
  for (i = 0; i < TP_PROBE_CG_COUNT; i++) {
    TP_CHECK(checked(&h.cg[i][0].create) && checked(&h.cg[i][1].create));
    TP_CHECK(h.cg[i][0].file && h.cg[i][1].file);
  }
  for (i = 0; i < TP_PROBE_RLIMIT_COUNT; i++) {
    TP_CHECK(h.rlimits[i].error == 0);
    TP_CHECK(h.rlimits[i].soft <= h.rlimits[i].hard);
  }
  getrlimit(RLIMIT_NOFILE, &rl);
  TP_CHECK(h.rlimits[2].soft == (rl.rlim_cur == RLIM_INFINITY ? TP_PROBE_UNLIMITED : rl.rlim_cur));
  for (i = 0; i < TP_PROBE_RT_COUNT; i++) {
    TP_CHECK(h.runtimes[i].name != NULL);
    TP_CHECK(checked(&h.runtimes[i].run));
    TP_CHECK(h.runtimes[i].command[0] != '\0');
  }
  /* Skipped runs are marked untried, not failed. */
  o.skip_runs = 1;
  tp_probe_runtimes(&h, &o);
  for (i = 0; i < TP_PROBE_RT_COUNT; i++)
    TP_CHECK(h.runtimes[i].path[0] ? h.runtimes[i].run.state == TP_PROBE_UNTRIED
                                   : h.runtimes[i].run.state == TP_PROBE_NO);
}

/* A regression guard for the probes that fork: their children make raw
** system calls only, so that a lock another thread held at the fork
** (malloc's, stdio's, the loop's) cannot hang them. Two threads take and
** release such locks while the forking probes run; a child that hung
** would be killed at the probe's timeout and its reason would say "the
** probe child". (A race can hide a bug here, never invent one.) */
static atomic_int busy_stop;

static void *busy(void *arg) {
  FILE *null = fopen("/dev/null", "w");
  (void)arg;
  while (!atomic_load(&busy_stop)) {
    void *p = malloc(4096);
    if (null) fprintf(null, "%p\n", p);
    free(p);
  }
  if (null) fclose(null);
  return NULL;
}

static void fork_with_threads(void) {
  static tp_probe_host h;
  pthread_t t[2];
  int i, round;
  atomic_store(&busy_stop, 0);
  for (i = 0; i < 2; i++) TP_CHECK(pthread_create(&t[i], NULL, busy, NULL) == 0);
  for (round = 0; round < 5; round++) {
    memset(&h, 0, sizeof h);
    tp_probe_namespaces(&h);
    tp_probe_no_new_privs(&h);
    tp_probe_seccomp(&h);
    tp_probe_landlock(&h);
    for (i = 0; i < TP_PROBE_NS_COUNT; i++) {
      TP_CHECKF(strstr(h.ns[i].reason, "probe child") == NULL, "%s", h.ns[i].reason);
      TP_CHECKF(strstr(h.ns_unpriv[i].reason, "probe child") == NULL, "%s", h.ns_unpriv[i].reason);
    }
    TP_CHECKF(strstr(h.no_new_privs_set.reason, "probe child") == NULL, "%s", h.no_new_privs_set.reason);
    TP_CHECKF(strstr(h.seccomp_filter.reason, "probe child") == NULL, "%s", h.seccomp_filter.reason);
    TP_CHECKF(strstr(h.landlock_restrict.reason, "probe child") == NULL, "%s", h.landlock_restrict.reason);
  }
  atomic_store(&busy_stop, 1);
  for (i = 0; i < 2; i++) pthread_join(t[i], NULL);
}

int main(void) {
  TP_RUN(v1_only);
  TP_RUN(v2_only);
  TP_RUN(hybrid);
  TP_RUN(container);
  TP_RUN(mountinfo_edges);
  TP_RUN(proc_cgroup_edges);
  TP_RUN(lists);
  TP_RUN(landlock_table);
  TP_RUN(which);
  TP_RUN(run_commands);
  TP_RUN(whole_probe);
  TP_RUN(fork_with_threads);
  return tp_done();
}
