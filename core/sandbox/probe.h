/*
** probe.h: what this host can enforce. See docs/host.md.
**
** Each probe answers one question about the kernel or the userland
** (can we unshare a net namespace? which seccomp actions exist? which
** Landlock ABI? can we create a memory cgroup?) by trying it where trying
** is harmless, and says WHY when the answer is no: the errno text, the
** missing file, the first line a runtime printed. Nothing here decides
** whether a policy can run; lua/truthound/security/enforcement.lua does.
**
** Probes that change the calling process (unshare, seccomp, Landlock,
** no_new_privs, dropping root) run in a forked child that makes only raw
** system calls and _exit()s, so they are safe in a process with libuv
** threads. Container runtimes run through posix_spawn with a timeout.
** Probes that create something (a test cgroup) remove it again.
*/
#ifndef TP_PROBE_H
#define TP_PROBE_H

#include <stddef.h>
#include <stdint.h>

#define TP_PROBE_TEXT 256      /* a reason, a version line, an option list */
#define TP_PROBE_PATH 512      /* a path */
#define TP_PROBE_MAX_CGMOUNTS 32
#define TP_PROBE_MAX_CGPATHS 32
#define TP_PROBE_RUN_TIMEOUT_MS 5000   /* default per runtime probe run */
#define TP_PROBE_UNLIMITED UINT64_MAX  /* an rlimit of RLIM_INFINITY */

/* Error codes (negative, libuv style). */
#define TP_PROBE_ENOENT    (-1)  /* no such hierarchy, controller or file */
#define TP_PROBE_EOUTSIDE  (-2)  /* our group is outside the mount's root */
#define TP_PROBE_ETOOLONG  (-3)  /* a path does not fit the caller's buffer */
#define TP_PROBE_ESPAWN    (-4)  /* a command could not be started */

/* The answer of one probe. */
enum { TP_PROBE_UNTRIED = -1, TP_PROBE_NO = 0, TP_PROBE_YES = 1 };
typedef struct tp_probe_check {
  int state;                      /* TP_PROBE_YES, _NO or _UNTRIED */
  char reason[TP_PROBE_TEXT];     /* why not; or, when yes, what works */
} tp_probe_check;

/* ---------------------------------------------------------------------- */
/* Namespaces                                                              */

enum { TP_PROBE_NS_USER, TP_PROBE_NS_MOUNT, TP_PROBE_NS_PID, TP_PROBE_NS_NET,
       TP_PROBE_NS_IPC, TP_PROBE_NS_UTS, TP_PROBE_NS_CGROUP, TP_PROBE_NS_COUNT };
extern const char *const tp_probe_ns_names[TP_PROBE_NS_COUNT];

/* ---------------------------------------------------------------------- */
/* Seccomp                                                                 */

enum { TP_PROBE_SECCOMP_ACTIONS = 8 };
typedef struct tp_probe_seccomp_action {
  const char *name;               /* "KILL_PROCESS", ..., "ALLOW" */
  uint32_t value;                 /* SECCOMP_RET_* */
} tp_probe_seccomp_action;
extern const tp_probe_seccomp_action tp_probe_seccomp_actions[TP_PROBE_SECCOMP_ACTIONS];

/* ---------------------------------------------------------------------- */
/* Landlock: which access rights each ABI version brought                 */

typedef struct tp_probe_landlock_right {
  const char *category;           /* "fs", "net", "scope" or "restrict_flag" */
  const char *name;               /* "read_file", "connect_tcp", "signal", ... */
  int abi;                        /* the first ABI version that has it */
} tp_probe_landlock_right;
extern const tp_probe_landlock_right tp_probe_landlock_rights[];
extern const int tp_probe_landlock_nrights;
#define TP_PROBE_LANDLOCK_KNOWN_ABI 7   /* the newest ABI this table covers */

/* ---------------------------------------------------------------------- */
/* Cgroups                                                                 */

/* A cgroup filesystem mounted in this mount namespace (mountinfo). */
typedef struct tp_probe_cgmount {
  int version;                    /* 1 or 2 */
  char mountpoint[TP_PROBE_PATH]; /* unescaped */
  char root[TP_PROBE_PATH];       /* the hierarchy's directory mounted there */
  char controllers[TP_PROBE_TEXT];/* v1: "cpu,cpuacct" (from the super
                                     options); v2: empty (see the group's
                                     cgroup.controllers) */
  char name[64];                  /* v1 name=... (e.g. "systemd"), or "" */
} tp_probe_cgmount;

/* A line of /proc/<pid>/cgroup: our group in one hierarchy. */
typedef struct tp_probe_cgpath {
  int id;                         /* hierarchy id; 0 is the v2 hierarchy */
  char controllers[TP_PROBE_TEXT];/* "memory", "cpu,cpuacct", "name=systemd", "" */
  char path[TP_PROBE_PATH];       /* the group, relative to the hierarchy root */
} tp_probe_cgpath;

/* The controllers a sandbox limits, and the file that enforces each. */
enum { TP_PROBE_CG_MEMORY, TP_PROBE_CG_CPU, TP_PROBE_CG_PIDS, TP_PROBE_CG_COUNT };
extern const char *const tp_probe_cg_names[TP_PROBE_CG_COUNT];
extern const char *const tp_probe_cg_file_v2[TP_PROBE_CG_COUNT];  /* memory.max ... */
extern const char *const tp_probe_cg_file_v1[TP_PROBE_CG_COUNT];  /* memory.limit_in_bytes ... */

typedef struct tp_probe_cgcontrol {
  tp_probe_check create;          /* a child group with the file can be made */
  char dir[TP_PROBE_PATH];        /* our group in that hierarchy, or "" */
  const char *file;               /* the file that would enforce the limit */
} tp_probe_cgcontrol;

/* ---------------------------------------------------------------------- */
/* Resource limits                                                         */

enum { TP_PROBE_RLIMIT_COUNT = 5 };
typedef struct tp_probe_rlimit {
  const char *name;               /* "AS", "DATA", "NOFILE", "NPROC", "CPU" */
  int resource;                   /* RLIMIT_* */
  uint64_t soft, hard;            /* TP_PROBE_UNLIMITED for RLIM_INFINITY */
  int error;                      /* errno of getrlimit, or 0 */
} tp_probe_rlimit;

/* ---------------------------------------------------------------------- */
/* Container runtimes                                                      */

enum { TP_PROBE_RT_BWRAP, TP_PROBE_RT_PODMAN, TP_PROBE_RT_DOCKER, TP_PROBE_RT_COUNT };
typedef struct tp_probe_runtime {
  const char *name;               /* "bwrap", "podman", "docker" */
  char path[TP_PROBE_PATH];       /* found on PATH, or "" */
  char version[TP_PROBE_TEXT];    /* first line of `<rt> --version` */
  char command[TP_PROBE_TEXT];    /* the probe run, as a shell would show it */
  tp_probe_check run;             /* did the probe run work (exit 0)? */
  int exit_status;                /* its exit status; 128+N for signal N */
  int timed_out;                  /* killed after the timeout */
} tp_probe_runtime;

/* ---------------------------------------------------------------------- */
/* Everything                                                              */

typedef struct tp_probe_host {
  char kernel_release[TP_PROBE_TEXT];
  char machine[72];
  long uid, euid;

  /* Namespaces: unshare in a forked child with this process's credentials,
  ** and as uid/gid 65534 inside a new user namespace (what an unprivileged
  ** worker would get; when we are not root, our own uid). */
  tp_probe_check ns[TP_PROBE_NS_COUNT];
  tp_probe_check ns_unpriv[TP_PROBE_NS_COUNT];
  long max_user_namespaces;       /* /proc/sys/user/max_user_namespaces, -1 */
  int unprivileged_userns_clone;  /* the Debian/Ubuntu sysctl, -1 if absent */

  /* Seccomp. */
  int seccomp_mode;               /* PR_GET_SECCOMP: 0, 1 strict, 2 filter; -1 */
  tp_probe_check seccomp_filter;  /* a filter installs (in a child) */
  tp_probe_check seccomp_action[TP_PROBE_SECCOMP_ACTIONS];
  char libseccomp_version[32];    /* "2.5.4" */
  int libseccomp_api;             /* seccomp_api_get(), 0 if unknown */

  /* Landlock. */
  int landlock_abi;               /* 0: none */
  tp_probe_check landlock;        /* the ABI query */
  tp_probe_check landlock_restrict;  /* a ruleset restricts a child */
  char lsm[TP_PROBE_TEXT];        /* /sys/kernel/security/lsm, or "" */
  int lsm_known;                  /* 1 when that file was readable */

  /* no_new_privs. */
  int no_new_privs;               /* this process's PR_GET_NO_NEW_PRIVS; -1 */
  tp_probe_check no_new_privs_set;/* a child can set it */

  /* Cgroups. */
  tp_probe_cgmount cgmounts[TP_PROBE_MAX_CGMOUNTS];
  int ncgmounts;
  tp_probe_cgpath cgpaths[TP_PROBE_MAX_CGPATHS];
  int ncgpaths;
  char cg2_controllers[TP_PROBE_TEXT];  /* cgroup.controllers of our v2 group */
  char cg2_subtree[TP_PROBE_TEXT];      /* cgroup.subtree_control of it */
  tp_probe_check cgmount_read;          /* /proc/self/mountinfo readable */
  tp_probe_cgcontrol cg[TP_PROBE_CG_COUNT][2];  /* [controller][0: v2, 1: v1] */

  /* Resource limits. */
  tp_probe_rlimit rlimits[TP_PROBE_RLIMIT_COUNT];
  int cap_sys_resource;           /* 1: limits may be raised past hard */

  /* Container runtimes. */
  tp_probe_runtime runtimes[TP_PROBE_RT_COUNT];
} tp_probe_host;

typedef struct tp_probe_opts {
  int run_timeout_ms;             /* per runtime command; 0: the default */
  int skip_runs;                  /* find runtimes but do not run them */
  const char *path;               /* PATH to search; NULL: getenv("PATH") */
} tp_probe_opts;

/* Run every probe into *h. opts may be NULL. Never fails: each probe
** records its own answer. */
void tp_probe_host_run(tp_probe_host *h, const tp_probe_opts *opts);

/* The parts, for callers that want one answer. */
void tp_probe_namespaces(tp_probe_host *h);
void tp_probe_seccomp(tp_probe_host *h);
void tp_probe_landlock(tp_probe_host *h);
void tp_probe_no_new_privs(tp_probe_host *h);
void tp_probe_cgroups(tp_probe_host *h);
void tp_probe_rlimits(tp_probe_host *h);
void tp_probe_runtimes(tp_probe_host *h, const tp_probe_opts *opts);

/* ---------------------------------------------------------------------- */
/* Parsers and helpers (pure: they read only their arguments)              */

/* Parse /proc/<pid>/mountinfo text; store the cgroup and cgroup2 mounts
** (at most cap) in out. Returns how many there are (may exceed cap, as
** snprintf). Malformed lines are skipped. */
int tp_probe_parse_mountinfo(const char *text, size_t len,
                             tp_probe_cgmount *out, int cap);

/* Parse /proc/<pid>/cgroup text, as above. */
int tp_probe_parse_proc_cgroup(const char *text, size_t len,
                               tp_probe_cgpath *out, int cap);

/* Is name one of the comma-separated items of list? */
int tp_probe_list_has(const char *list, const char *name);

/* The directory of our group for controller in cgroup version (2: the
** unified hierarchy, controller ignored; 1: the v1 hierarchy that has
** controller) into buf. 0, or TP_PROBE_ENOENT (not mounted, or no line in
** /proc/self/cgroup), TP_PROBE_EOUTSIDE, TP_PROBE_ETOOLONG. */
int tp_probe_cgroup_dir(const tp_probe_cgmount *m, int nm,
                        const tp_probe_cgpath *p, int np, int version,
                        const char *controller, char *buf, size_t cap);

/* Run argv[0] (a path) with stdin from /dev/null and stdout (and, unless
** flags has TP_PROBE_RUN_STDOUT, stderr) into a pipe, in its own process
** group, for at most timeout_ms; then kill the group. The first non-blank
** output line that is not a warning ("WARNING...", "warning:...") goes to
** line; the first non-blank line when all are. Returns 0 with *status
** (exit status, 128+N for signal N) and *timed_out set, or TP_PROBE_ESPAWN
** with the errno text in line. */
#define TP_PROBE_RUN_STDOUT 1    /* stderr to /dev/null */
int tp_probe_run(char *const argv[], int timeout_ms, int flags, char *line,
                 size_t cap, int *status, int *timed_out);

/* Find an executable on path (a PATH value) into buf. 0 or TP_PROBE_ENOENT. */
int tp_probe_which(const char *name, const char *path, char *buf, size_t cap);

#endif
