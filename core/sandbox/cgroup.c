/*
** cgroup.c: a control group per sandbox worker. See cgroup.h.
**
** Where our groups are comes from the host probe's parsers (mountinfo and
** /proc/self/cgroup, probe.h), so the two never disagree about it.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "probe.h"

#define CG_PATH (TP_PROBE_PATH + 64)
static const char *const ctl_v1[TP_CGROUP_NCTL] = { "memory", "cpu", "pids" };

struct tp_cgroup {
  int version[TP_CGROUP_NCTL];      /* 0: unused */
  char dir[TP_CGROUP_NCTL][CG_PATH];
  tp_cgroup *next;                  /* the live list, for exit */
};

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static tp_cgroup *live;
static unsigned counter;
static int exit_hooked;

/* ---- files -------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "re");
  size_t cap = 16384, n = 0;
  char *buf = NULL, *nb;
  if (!f) return NULL;
  for (;;) {
    nb = realloc(buf, cap + 1);
    if (!nb) { free(buf); fclose(f); return NULL; }
    buf = nb;
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    cap *= 2;
  }
  fclose(f);
  buf[n] = 0;
  *len = n;
  return buf;
}

static int write_file(const char *dir, const char *file, const char *value) {
  char path[CG_PATH + 64];
  int fd, ok;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
  int e = errno;
  close(fd);
  return ok ? 0 : -e;
}

static int exists(const char *dir, const char *file) {
  char path[CG_PATH + 64];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  return access(path, F_OK) == 0;
}

/* The number after key in "key value" lines of text, or the first number
** when key is NULL. 0 when absent. */
static uint64_t text_num(const char *text, const char *key) {
  const char *p;
  if (key == NULL) return strtoull(text, NULL, 10);
  size_t kl = strlen(key);
  for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp(p, key, kl) == 0 && p[kl] == ' ') return strtoull(p + kl + 1, NULL, 10);
  return 0;
}

/* The same, from dir/file. 0 when absent or unreadable. */
static uint64_t read_num(const char *dir, const char *file, const char *key) {
  char path[CG_PATH + 64];
  size_t len;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  char *text = slurp(path, &len);
  uint64_t v = 0;
  if (!text) return 0;
  v = text_num(text, key);
  free(text);
  return v;
}

/* ---- where our groups are -------------------------------------------------- */

typedef struct layout {
  tp_probe_cgmount m[TP_PROBE_MAX_CGMOUNTS];
  int nm;
  tp_probe_cgpath p[TP_PROBE_MAX_CGPATHS];
  int np;
} layout;

static int read_layout(layout *l) {
  size_t len;
  char *t = slurp("/proc/self/mountinfo", &len);
  if (!t) return -1;
  l->nm = tp_probe_parse_mountinfo(t, len, l->m, TP_PROBE_MAX_CGMOUNTS);
  free(t);
  if (l->nm > TP_PROBE_MAX_CGMOUNTS) l->nm = TP_PROBE_MAX_CGMOUNTS;
  t = slurp("/proc/self/cgroup", &len);
  if (!t) return -1;
  l->np = tp_probe_parse_proc_cgroup(t, len, l->p, TP_PROBE_MAX_CGPATHS);
  free(t);
  if (l->np > TP_PROBE_MAX_CGPATHS) l->np = TP_PROBE_MAX_CGPATHS;
  return 0;
}

/* Our parent directory for ctl: v2 when delegated there, else v1. */
static int parent_for(const layout *l, int ctl, char *buf, size_t cap) {
  char v2[TP_PROBE_PATH], list[TP_PROBE_TEXT] = "";
  if (tp_probe_cgroup_dir(l->m, l->nm, l->p, l->np, 2, NULL, v2, sizeof v2) == 0) {
    char path[CG_PATH];
    FILE *f;
    snprintf(path, sizeof path, "%s/cgroup.subtree_control", v2);
    if ((f = fopen(path, "re")) != NULL) {
      if (!fgets(list, sizeof list, f)) list[0] = 0;
      fclose(f);
      for (char *s = list; *s; s++) if (*s == ' ' || *s == '\n') *s = ',';
      if (tp_probe_list_has(list, ctl_v1[ctl])) {
        snprintf(buf, cap, "%s", v2);
        return 2;
      }
    }
  }
  if (tp_probe_cgroup_dir(l->m, l->nm, l->p, l->np, 1, ctl_v1[ctl], buf, cap) == 0)
    return 1;
  return 0;
}

/* ---- limits -------------------------------------------------------------- */

/* Write ctl's limit; on failure *file names the file that refused. */
static int set_limit(tp_cgroup *g, int ctl, const tp_cgroup_limits *lim, const char **file) {
  char v[64];
  const char *d = g->dir[ctl];
  int v2 = g->version[ctl] == 2, rc = 0;
  switch (ctl) {
  case TP_CGROUP_MEMORY:
    snprintf(v, sizeof v, "%" PRIu64, lim->memory_bytes);
    if (v2) {
      rc = write_file(d, *file = "memory.max", v);
      if (rc == 0 && exists(d, "memory.swap.max")) rc = write_file(d, *file = "memory.swap.max", "0");
    } else {
      rc = write_file(d, *file = "memory.limit_in_bytes", v);
      if (rc == 0 && exists(d, "memory.memsw.limit_in_bytes"))
        rc = write_file(d, *file = "memory.memsw.limit_in_bytes", v);
      /* where swap is not accounted (no memsw), at least do not prefer
      ** swapping the group out; some kernels refuse it: best effort */
      if (rc == 0) (void)write_file(d, "memory.swappiness", "0");
    }
    break;
  case TP_CGROUP_CPU: {
    uint64_t quota = (uint64_t)lim->cpu_percent * 1000;   /* of a 100 ms period */
    if (v2) {
      snprintf(v, sizeof v, "%" PRIu64 " 100000", quota);
      rc = write_file(d, *file = "cpu.max", v);
    } else {
      rc = write_file(d, *file = "cpu.cfs_period_us", "100000");
      snprintf(v, sizeof v, "%" PRIu64, quota);
      if (rc == 0) rc = write_file(d, *file = "cpu.cfs_quota_us", v);
    }
    break;
  }
  case TP_CGROUP_PIDS:
    snprintf(v, sizeof v, "%" PRIu64, lim->pids_max);
    rc = write_file(d, *file = "pids.max", v);
    break;
  }
  return rc;
}

/* ---- life cycle ------------------------------------------------------------- */

static void destroy_all_at_exit(void) {
  for (;;) {
    pthread_mutex_lock(&live_lock);
    tp_cgroup *g = live;
    pthread_mutex_unlock(&live_lock);
    if (!g) break;
    tp_cgroup_destroy(g);
  }
}

static void link_live(tp_cgroup *g) {
  pthread_mutex_lock(&live_lock);
  g->next = live;
  live = g;
  if (!exit_hooked) exit_hooked = atexit(destroy_all_at_exit) == 0;
  pthread_mutex_unlock(&live_lock);
}

static void unlink_live(tp_cgroup *g) {
  pthread_mutex_lock(&live_lock);
  for (tp_cgroup **pp = &live; *pp; pp = &(*pp)->next)
    if (*pp == g) { *pp = g->next; break; }
  pthread_mutex_unlock(&live_lock);
}

static int wanted(const tp_cgroup_limits *lim, int ctl) {
  return ctl == TP_CGROUP_MEMORY ? lim->memory_bytes != 0
       : ctl == TP_CGROUP_CPU ? lim->cpu_percent != 0 : lim->pids_max != 0;
}

/* The same directory may serve several controllers (v2, or v1 cpu,cpuacct
** mounted together): made once, removed once. */
static int same_dir_before(const tp_cgroup *g, int ctl) {
  for (int i = 0; i < ctl; i++)
    if (g->version[i] && strcmp(g->dir[i], g->dir[ctl]) == 0) return 1;
  return 0;
}

int tp_cgroup_create(const tp_cgroup_limits *lim, tp_cgroup **out,
                     char *err, size_t errlen) {
  layout l;
  tp_cgroup *g;
  char parent[TP_PROBE_PATH];
  int rc;
  if (!lim || !out || lim->cpu_percent > 100000) {
    snprintf(err, errlen, "cgroup: invalid limits");
    return TP_CGROUP_EINVAL;
  }
  if (read_layout(&l) != 0) {
    snprintf(err, errlen, "cgroup: cannot read /proc/self/mountinfo or /proc/self/cgroup");
    return TP_CGROUP_EIO;
  }
  if ((g = calloc(1, sizeof *g)) == NULL) return TP_CGROUP_ENOMEM;
  pthread_mutex_lock(&live_lock);
  unsigned n = ++counter;
  pthread_mutex_unlock(&live_lock);
  for (int ctl = 0; ctl < TP_CGROUP_NCTL; ctl++) {
    if (!wanted(lim, ctl)) continue;
    int v = parent_for(&l, ctl, parent, sizeof parent);
    if (v == 0) {
      snprintf(err, errlen, "cgroup: no usable %s controller (neither delegated in "
               "cgroup2 nor a v1 hierarchy)", ctl_v1[ctl]);
      rc = TP_CGROUP_ENOENT;
      goto fail;
    }
    g->version[ctl] = v;
    snprintf(g->dir[ctl], CG_PATH, "%s/truthound-%ld-%u", parent, (long)getpid(), n);
    if (!same_dir_before(g, ctl) && mkdir(g->dir[ctl], 0755) != 0 && errno != EEXIST) {
      snprintf(err, errlen, "cgroup: %s: mkdir %s: %s", ctl_v1[ctl], g->dir[ctl], strerror(errno));
      g->version[ctl] = 0;
      rc = TP_CGROUP_EIO;
      goto fail;
    }
    const char *file = "";
    if ((rc = set_limit(g, ctl, lim, &file)) != 0) {
      snprintf(err, errlen, "cgroup: %s: cannot write %s/%s: %s", ctl_v1[ctl], g->dir[ctl],
               file, strerror(-rc));
      rc = TP_CGROUP_EIO;
      goto fail;
    }
  }
  link_live(g);
  *out = g;
  return 0;
fail:
  link_live(g);
  tp_cgroup_destroy(g);
  return rc;
}

unsigned tp_cgroup_controllers(const tp_cgroup *g) {
  unsigned bits = 0;
  for (int i = 0; i < TP_CGROUP_NCTL; i++) if (g->version[i]) bits |= 1u << i;
  return bits;
}

int tp_cgroup_version(const tp_cgroup *g, int ctl) {
  return ctl >= 0 && ctl < TP_CGROUP_NCTL ? g->version[ctl] : 0;
}

const char *tp_cgroup_dir(const tp_cgroup *g, int ctl) {
  return ctl >= 0 && ctl < TP_CGROUP_NCTL && g->version[ctl] ? g->dir[ctl] : "";
}

int tp_cgroup_procs_fds(const tp_cgroup *g, int *fds, int cap) {
  int n = 0;
  for (int ctl = 0; ctl < TP_CGROUP_NCTL; ctl++) {
    char path[CG_PATH + 16];
    if (!g->version[ctl] || same_dir_before(g, ctl)) continue;
    if (n >= cap) goto fail;
    snprintf(path, sizeof path, "%s/cgroup.procs", g->dir[ctl]);
    if ((fds[n] = open(path, O_WRONLY | O_CLOEXEC)) < 0) goto fail;
    n++;
  }
  return n;
fail:
  while (n > 0) close(fds[--n]);
  return TP_CGROUP_EIO;
}

int tp_cgroup_add(const tp_cgroup *g, pid_t pid, char *err, size_t errlen) {
  char v[32];
  int rc;
  snprintf(v, sizeof v, "%ld", (long)pid);
  for (int ctl = 0; ctl < TP_CGROUP_NCTL; ctl++)
    if (g->version[ctl] && !same_dir_before(g, ctl) &&
        (rc = write_file(g->dir[ctl], "cgroup.procs", v)) != 0) {
      if (err && errlen)
        snprintf(err, errlen, "cgroup: %s: cannot write %ld to %s/cgroup.procs: %s",
                 ctl_v1[ctl], (long)pid, g->dir[ctl], strerror(-rc));
      return TP_CGROUP_EIO;
    }
  return 0;
}

void tp_cgroup_parse_cpu_stat(const char *text, int version, tp_cgroup_stats *st) {
  st->nr_periods = text_num(text, "nr_periods");
  st->nr_throttled = text_num(text, "nr_throttled");
  if (version == 2) {
    st->throttled_ns = text_num(text, "throttled_usec") * 1000;
    st->cpu_usage_ns = text_num(text, "usage_usec") * 1000;
  } else {
    st->throttled_ns = text_num(text, "throttled_time");
  }
}

int tp_cgroup_stats_read(const tp_cgroup *g, tp_cgroup_stats *st) {
  memset(st, 0, sizeof *st);
  const char *d = g->dir[TP_CGROUP_MEMORY];
  if (g->version[TP_CGROUP_MEMORY] == 2) {
    st->memory_peak = read_num(d, "memory.peak", NULL);
    st->memory_current = read_num(d, "memory.current", NULL);
    st->oom_kills = read_num(d, "memory.events", "oom_kill");
    st->memory_events = read_num(d, "memory.events", "max");
  } else if (g->version[TP_CGROUP_MEMORY] == 1) {
    st->memory_peak = read_num(d, "memory.max_usage_in_bytes", NULL);
    st->memory_current = read_num(d, "memory.usage_in_bytes", NULL);
    st->oom_kills = read_num(d, "memory.oom_control", "oom_kill");
    st->memory_events = read_num(d, "memory.failcnt", NULL);
  }
  d = g->dir[TP_CGROUP_PIDS];
  if (g->version[TP_CGROUP_PIDS]) st->pids_current = read_num(d, "pids.current", NULL);
  d = g->dir[TP_CGROUP_CPU];
  if (g->version[TP_CGROUP_CPU]) {
    char path[CG_PATH + 16];
    size_t len;
    snprintf(path, sizeof path, "%s/cpu.stat", d);
    char *text = slurp(path, &len);
    if (text) {
      tp_cgroup_parse_cpu_stat(text, g->version[TP_CGROUP_CPU], st);
      free(text);
    }
    if (g->version[TP_CGROUP_CPU] == 1 && exists(d, "cpuacct.usage"))
      st->cpu_usage_ns = read_num(d, "cpuacct.usage", NULL);
  }
  return 0;
}

/* SIGKILL the pids listed in dir/cgroup.procs; how many. */
static int kill_listed(const char *dir) {
  char path[CG_PATH + 16];
  size_t len;
  int n = 0;
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  char *t = slurp(path, &len);
  if (!t) return 0;
  for (char *p = t; *p;) {
    long pid = strtol(p, &p, 10);
    if (pid > 1 && kill((pid_t)pid, SIGKILL) == 0) n++;
    while (*p == '\n') p++;
    if (*p && (*p < '0' || *p > '9')) break;
  }
  free(t);
  return n;
}

int tp_cgroup_kill(const tp_cgroup *g) {
  int n = 0;
  for (int ctl = 0; ctl < TP_CGROUP_NCTL; ctl++) {
    if (!g->version[ctl] || same_dir_before(g, ctl)) continue;
    if (g->version[ctl] == 2 && exists(g->dir[ctl], "cgroup.kill") &&
        write_file(g->dir[ctl], "cgroup.kill", "1") == 0)
      n++;
    n += kill_listed(g->dir[ctl]);
  }
  return n;
}

/* rmdir fails with EBUSY until the killed processes are gone (and, for
** zombies, reaped by their parent): retry for up to ~2 s. */
static int remove_dir(const char *dir) {
  struct timespec ts = { 0, 5 * 1000 * 1000 };
  for (int i = 0; i < 400; i++) {
    if (rmdir(dir) == 0 || errno == ENOENT) return 0;
    if (errno != EBUSY) return -1;
    kill_listed(dir);
    nanosleep(&ts, NULL);
  }
  return -1;
}

int tp_cgroup_destroy(tp_cgroup *g) {
  int rc = 0;
  if (!g) return 0;
  unlink_live(g);
  tp_cgroup_kill(g);
  for (int ctl = TP_CGROUP_NCTL - 1; ctl >= 0; ctl--)
    if (g->version[ctl] && !same_dir_before(g, ctl) && remove_dir(g->dir[ctl]) != 0)
      rc = TP_CGROUP_EIO;
  free(g);
  return rc;
}

/* ---- groups of dead hosts -------------------------------------------------- */

/* rmdir dir/truthound-<pid>-<n> entries whose pid is gone; how many. */
static int sweep_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  if (!d) return 0;
  while ((e = readdir(d)) != NULL) {
    long pid;
    unsigned k;
    int end = 0;
    if (sscanf(e->d_name, "truthound-%ld-%u%n", &pid, &k, &end) != 2 ||
        e->d_name[end] != 0 || pid <= 0 || pid > 0x7fffffffL || pid == (long)getpid())
      continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;   /* alive (or not ours to tell) */
    if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) == 0) n++;
  }
  closedir(d);
  return n;
}

int tp_cgroup_sweep(void) {
  layout l;
  char dirs[TP_CGROUP_NCTL + 1][TP_PROBE_PATH];
  int nd = 0, n = 0;
  if (read_layout(&l) != 0) return TP_CGROUP_EIO;
  if (tp_probe_cgroup_dir(l.m, l.nm, l.p, l.np, 2, NULL, dirs[nd], sizeof dirs[nd]) == 0) nd++;
  for (int ctl = 0; ctl < TP_CGROUP_NCTL; ctl++) {
    if (tp_probe_cgroup_dir(l.m, l.nm, l.p, l.np, 1, ctl_v1[ctl], dirs[nd], sizeof dirs[nd]) != 0)
      continue;
    int dup = 0;
    for (int i = 0; i < nd; i++) dup |= strcmp(dirs[i], dirs[nd]) == 0;
    if (!dup) nd++;
  }
  for (int i = 0; i < nd; i++) n += sweep_dir(dirs[i]);
  return n;
}
