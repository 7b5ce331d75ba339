/*
** cgroup.h: a control group per sandbox worker (or pool). See
** docs/confinement.md, "Control groups".
**
** For each controller (memory, cpu, pids) the group goes where the
** controller is usable: the cgroup2 hierarchy when our own v2 group
** already delegates it (its cgroup.subtree_control lists it), else the v1
** hierarchy that has it. The group is made under the host's own group
** (/proc/self/cgroup), named truthound-<hostpid>-<n>, one directory per
** hierarchy used. Limits:
**
**   memory   v2 memory.max + memory.swap.max 0; v1 memory.limit_in_bytes
**            + memory.memsw.limit_in_bytes (same value: no swap) when the
**            kernel accounts swap;
**   cpu      v2 cpu.max "<quota> 100000"; v1 cpu.cfs_period_us 100000 and
**            cpu.cfs_quota_us (percent of one CPU, 1-100 per CPU);
**   pids     pids.max (both).
**
** A controller asked for but not available is an error naming it: the
** engine registers cgroup.* only for what tp_cgroup_create reports set.
** Groups still alive at exit (or dlclose) are killed and removed; groups
** a killed host left behind are removed by tp_cgroup_sweep.
*/
#ifndef TP_CGROUP_H
#define TP_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TP_CGROUP_ENOENT  (-1)  /* a controller is not available here */
#define TP_CGROUP_EIO     (-2)  /* mkdir, write or read failed */
#define TP_CGROUP_EINVAL  (-3)
#define TP_CGROUP_ENOMEM  (-4)

enum { TP_CGROUP_MEMORY, TP_CGROUP_CPU, TP_CGROUP_PIDS, TP_CGROUP_NCTL };

typedef struct tp_cgroup_limits {
  uint64_t memory_bytes;    /* 0: no memory limit */
  unsigned cpu_percent;     /* 0: no CPU limit; 100 = one CPU */
  uint64_t pids_max;        /* 0: no pids limit */
} tp_cgroup_limits;

typedef struct tp_cgroup_stats {
  uint64_t memory_peak;     /* bytes (v1 max_usage_in_bytes, v2 memory.peak) */
  uint64_t memory_current;
  uint64_t oom_kills;       /* processes the OOM killer killed in the group */
  uint64_t memory_events;   /* times the limit was hit (v1 failcnt, v2 max) */
  uint64_t pids_current;
  uint64_t cpu_usage_ns;    /* v1 cpuacct.usage if joined with cpu; v2 usage_usec */
  uint64_t nr_periods;      /* cpu.stat: quota periods that had runnable tasks */
  uint64_t nr_throttled;    /* cpu.stat: periods in which the quota ran out */
  uint64_t throttled_ns;    /* v1 throttled_time (ns), v2 throttled_usec x 1000 */
} tp_cgroup_stats;

typedef struct tp_cgroup tp_cgroup;

/* Create a group with the limits set. 0 and *out, or a negative code
** with err naming the controller or file. */
int tp_cgroup_create(const tp_cgroup_limits *lim, tp_cgroup **out,
                     char *err, size_t errlen);

/* Which controllers the group has (bit 1 << TP_CGROUP_*), and the cgroup
** version used for one (1, 2, or 0 when not used). */
unsigned tp_cgroup_controllers(const tp_cgroup *g);
int tp_cgroup_version(const tp_cgroup *g, int ctl);

/* The group's directory for a controller ("" when not used). */
const char *tp_cgroup_dir(const tp_cgroup *g, int ctl);

/* Open each distinct cgroup.procs (O_WRONLY | O_CLOEXEC) into fds, for a
** spawned child to write "0" into (spawn.h, step 3). Returns how many,
** or a negative code. The caller closes them. */
int tp_cgroup_procs_fds(const tp_cgroup *g, int *fds, int cap);

/* Move pid into the group (every hierarchy). 0, or negative with err
** naming the controller and the cgroup.procs file (err may be NULL). */
int tp_cgroup_add(const tp_cgroup *g, pid_t pid, char *err, size_t errlen);

/* Read the counters. 0 or negative (missing files read as 0). */
int tp_cgroup_stats_read(const tp_cgroup *g, tp_cgroup_stats *st);

/* The cpu.stat counters of text (v1 or v2 format, version 1 or 2) into
** st's nr_periods, nr_throttled, throttled_ns (and, v2, cpu_usage_ns).
** Pure: tp_cgroup_stats_read uses it on the group's cpu.stat. */
void tp_cgroup_parse_cpu_stat(const char *text, int version, tp_cgroup_stats *st);

/* SIGKILL every process in the group (cgroup.kill on v2). Returns the
** number signalled, or negative. */
int tp_cgroup_kill(const tp_cgroup *g);

/* Kill, wait until the group is empty (bounded), remove its directories
** and free it. 0, or negative when a directory stayed (still freed). */
int tp_cgroup_destroy(tp_cgroup *g);

/* Remove the groups a dead host left behind: in our parent directory of
** every controller, v1 and v2 alike, each truthound-<pid>-<n> whose pid
** is not ours and no longer exists (kill(pid, 0) says ESRCH). Only rmdir:
** a group that still has processes stays (we never kill what we cannot
** prove is ours). Returns how many were removed, or negative. */
int tp_cgroup_sweep(void);

#endif
