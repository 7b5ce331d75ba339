/*
** probe.c: what this host can enforce (see probe.h and docs/host.md).
**
** Every probe tries the real thing where that is harmless. Reading a
** sysctl says what the kernel was told; unshare() in a child says what it
** will do for us now (a seccomp filter, an LSM or a container runtime may
** say no where the sysctl says yes).
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "sandbox/probe.h"

/* Landlock has no library, and Debian 12's kernel headers predate ABI 4:
** the constants of the kernel's UAPI we need, by value. */
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_restrict_self 446
#endif
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_ACCESS_FS_READ_FILE (1ULL << 2)
#define LL_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_SIGNAL (1ULL << 1)
struct ll_ruleset_attr {        /* grows with the ABI; the kernel takes the size */
  uint64_t handled_access_fs;
  uint64_t handled_access_net;  /* ABI 4 */
  uint64_t scoped;              /* ABI 6 */
};
#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif

#define CHILD_TIMEOUT_MS 2000   /* a child that only makes system calls */
#define NOBODY 65534

const char *const tp_probe_ns_names[TP_PROBE_NS_COUNT] = {
  "user", "mount", "pid", "net", "ipc", "uts", "cgroup",
};
static const int ns_flags[TP_PROBE_NS_COUNT] = {
  CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
  CLONE_NEWUTS, CLONE_NEWCGROUP,
};
static const char *const ns_flag_names[TP_PROBE_NS_COUNT] = {
  "CLONE_NEWUSER", "CLONE_NEWNS", "CLONE_NEWPID", "CLONE_NEWNET",
  "CLONE_NEWIPC", "CLONE_NEWUTS", "CLONE_NEWCGROUP",
};

const tp_probe_seccomp_action tp_probe_seccomp_actions[TP_PROBE_SECCOMP_ACTIONS] = {
  {"KILL_PROCESS", 0x80000000U}, {"KILL_THREAD", 0x00000000U},
  {"TRAP", 0x00030000U}, {"ERRNO", 0x00050000U}, {"USER_NOTIF", 0x7fc00000U},
  {"TRACE", 0x7ff00000U}, {"LOG", 0x7ffc0000U}, {"ALLOW", 0x7fff0000U},
};

/* The rights and flags of each Landlock ABI version, from the kernel's
** documentation (Documentation/userspace-api/landlock.rst). */
const tp_probe_landlock_right tp_probe_landlock_rights[] = {
  {"fs", "execute", 1}, {"fs", "write_file", 1}, {"fs", "read_file", 1},
  {"fs", "read_dir", 1}, {"fs", "remove_dir", 1}, {"fs", "remove_file", 1},
  {"fs", "make_char", 1}, {"fs", "make_dir", 1}, {"fs", "make_reg", 1},
  {"fs", "make_sock", 1}, {"fs", "make_fifo", 1}, {"fs", "make_block", 1},
  {"fs", "make_sym", 1},
  {"fs", "refer", 2},
  {"fs", "truncate", 3},
  {"net", "bind_tcp", 4}, {"net", "connect_tcp", 4},
  {"fs", "ioctl_dev", 5},
  {"scope", "abstract_unix_socket", 6}, {"scope", "signal", 6},
  {"restrict_flag", "log_same_exec_off", 7}, {"restrict_flag", "log_new_exec_on", 7},
  {"restrict_flag", "log_subdomains_off", 7},
};
const int tp_probe_landlock_nrights =
  (int)(sizeof tp_probe_landlock_rights / sizeof tp_probe_landlock_rights[0]);

const char *const tp_probe_cg_names[TP_PROBE_CG_COUNT] = {"memory", "cpu", "pids"};
const char *const tp_probe_cg_file_v2[TP_PROBE_CG_COUNT] = {"memory.max", "cpu.max", "pids.max"};
const char *const tp_probe_cg_file_v1[TP_PROBE_CG_COUNT] = {
  "memory.limit_in_bytes", "cpu.cfs_quota_us", "pids.max",
};

/* ---------------------------------------------------------------------- */
/* Small helpers                                                           */
/* ---------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static void set(tp_probe_check *c, int state, const char *fmt, ...) {
  va_list ap;
  c->state = state;
  va_start(ap, fmt);
  vsnprintf(c->reason, sizeof c->reason, fmt, ap);
  va_end(ap);
}

/* "Operation not permitted (EPERM)" */
static const char *errtext(int e, char *buf, size_t cap) {
  char tmp[128];
  const char *msg = strerror_r(e, tmp, sizeof tmp);
  const char *name = strerrorname_np(e);
  if (name) snprintf(buf, cap, "%s (%s)", msg, name);
  else snprintf(buf, cap, "%s", msg);
  return buf;
}
#define ERRTEXT(e) errtext((e), (char[160]){0}, 160)

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* The whole of a (small, procfs or sysfs) file, NUL-terminated, in a
** malloc'd buffer; NULL with errno set. */
static char *read_all(const char *path, size_t *len) {
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap), *grown;
  int fd = open(path, O_RDONLY | O_CLOEXEC), e;
  if (fd < 0 || buf == NULL) goto fail;
  for (;;) {
    ssize_t r;
    if (cap - n < 2) {
      if (cap >= (64u << 20)) { errno = EFBIG; goto fail; }
      grown = realloc(buf, cap * 2);
      if (grown == NULL) goto fail;
      buf = grown;
      cap *= 2;
    }
    r = read(fd, buf + n, cap - n - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) goto fail;
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
fail:
  e = errno;
  if (fd >= 0) close(fd);
  free(buf);
  errno = e;
  return NULL;
}

/* The first line of a small file, trimmed, into buf; 0 or -errno. */
static int read_line(const char *path, char *buf, size_t cap) {
  size_t len;
  char *text = read_all(path, &len), *nl;
  if (text == NULL) return -errno;
  nl = strchr(text, '\n');
  if (nl) *nl = '\0';
  snprintf(buf, cap, "%s", text);
  free(text);
  return 0;
}

/* A sysctl integer from path; -1 when absent or unreadable. */
static long read_long(const char *path) {
  char buf[64], *end;
  long v;
  if (read_line(path, buf, sizeof buf) < 0) return -1;
  v = strtol(buf, &end, 10);
  return end == buf ? -1 : v;
}

/* ---------------------------------------------------------------------- */
/* Children that try what would change us                                  */
/* ---------------------------------------------------------------------- */

/* What a child reports over its pipe: the step that failed and its errno
** (both 0 when every step worked). */
typedef struct child_result {
  int step, err;
} child_result;

/* Runs in the child, after fork: raw system calls only (async-signal-safe;
** the parent may have libuv threads whose locks are now held forever). */
typedef void (*child_fn)(const void *arg, child_result *r);

/* Fork, run fn in the child, collect its result. Returns 0 with *r set, or
** -1 with why filled (the child died or hung). */
static int run_child(child_fn fn, const void *arg, child_result *r,
                     char *why, size_t cap) {
  int fds[2], st = 0;
  pid_t pid, w;
  long long deadline;
  ssize_t n;
  if (pipe2(fds, O_CLOEXEC) != 0) {
    snprintf(why, cap, "pipe: %s", ERRTEXT(errno));
    return -1;
  }
  pid = fork();
  if (pid < 0) {
    snprintf(why, cap, "fork: %s", ERRTEXT(errno));
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    child_result cr = {0, 0};
    close(fds[0]);
    fn(arg, &cr);
    if (write(fds[1], &cr, sizeof cr) != (ssize_t)sizeof cr) _exit(126);
    _exit(0);
  }
  close(fds[1]);
  deadline = now_ms() + CHILD_TIMEOUT_MS;
  for (;;) {
    w = waitpid(pid, &st, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (now_ms() >= deadline) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
      close(fds[0]);
      snprintf(why, cap, "the probe child did not finish in %d ms", CHILD_TIMEOUT_MS);
      return -1;
    }
    sleep_ms(2);
  }
  do n = read(fds[0], r, sizeof *r); while (n < 0 && errno == EINTR);
  close(fds[0]);
  if (n == (ssize_t)sizeof *r) return 0;
  if (w == pid && WIFSIGNALED(st))
    snprintf(why, cap, "the probe child was killed by signal %d (%s)",
             WTERMSIG(st), strsignal(WTERMSIG(st)));
  else
    snprintf(why, cap, "the probe child exited without reporting");
  return -1;
}

#define STEP(n, call) do { if ((call) < 0) { r->step = (n); r->err = errno; return; } } while (0)

/* Namespaces: optionally become nobody in a new user namespace, then
** unshare. */
typedef struct ns_job {
  int flags;        /* the namespace to unshare (0: none beyond the user ns) */
  int unpriv;       /* first drop to nobody (when root) and unshare a user ns */
  int drop;         /* we are root: drop to nobody */
} ns_job;

enum { NS_SETGROUPS = 1, NS_SETGID, NS_SETUID, NS_USERNS, NS_UNSHARE };

static void child_unshare(const void *arg, child_result *r) {
  const ns_job *j = arg;
  if (j->unpriv) {
    if (j->drop) {
      STEP(NS_SETGROUPS, syscall(SYS_setgroups, 0, NULL));
      STEP(NS_SETGID, syscall(SYS_setresgid, NOBODY, NOBODY, NOBODY));
      STEP(NS_SETUID, syscall(SYS_setresuid, NOBODY, NOBODY, NOBODY));
    }
    STEP(NS_USERNS, syscall(SYS_unshare, CLONE_NEWUSER));
  }
  if (j->flags) STEP(NS_UNSHARE, syscall(SYS_unshare, j->flags));
}

/* Why an unprivileged user namespace may be refused, from the sysctls. */
static const char *userns_hint(const tp_probe_host *h) {
  if (h->max_user_namespaces == 0) return "; user.max_user_namespaces is 0";
  if (h->unprivileged_userns_clone == 0) return "; kernel.unprivileged_userns_clone is 0";
  if (read_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1)
    return "; kernel.apparmor_restrict_unprivileged_userns is 1";
  return "";
}

void tp_probe_namespaces(tp_probe_host *h) {
  int i, root = geteuid() == 0;
  h->max_user_namespaces = read_long("/proc/sys/user/max_user_namespaces");
  h->unprivileged_userns_clone = (int)read_long("/proc/sys/kernel/unprivileged_userns_clone");
  for (i = 0; i < TP_PROBE_NS_COUNT; i++) {
    ns_job cur = {ns_flags[i], 0, 0};
    ns_job unp = {i == TP_PROBE_NS_USER ? 0 : ns_flags[i], 1, root};
    child_result r;
    char why[TP_PROBE_TEXT];
    const char *who = root ? "as root" : "as this uid";

    if (run_child(child_unshare, &cur, &r, why, sizeof why) < 0)
      set(&h->ns[i], TP_PROBE_NO, "%s", why);
    else if (r.step)
      set(&h->ns[i], TP_PROBE_NO, "unshare(%s) %s: %s%s", ns_flag_names[i], who,
          ERRTEXT(r.err), i == TP_PROBE_NS_USER ? userns_hint(h) : "");
    else
      set(&h->ns[i], TP_PROBE_YES, "unshare(%s) works %s", ns_flag_names[i], who);

    if (run_child(child_unshare, &unp, &r, why, sizeof why) < 0) {
      set(&h->ns_unpriv[i], TP_PROBE_NO, "%s", why);
    } else if (r.step == NS_SETGROUPS || r.step == NS_SETGID || r.step == NS_SETUID) {
      set(&h->ns_unpriv[i], TP_PROBE_NO, "cannot drop to uid %d to try: %s",
          NOBODY, ERRTEXT(r.err));
    } else if (r.step == NS_USERNS) {
      set(&h->ns_unpriv[i], TP_PROBE_NO, "unshare(CLONE_NEWUSER) as uid %ld: %s%s",
          root ? (long)NOBODY : (long)geteuid(), ERRTEXT(r.err), userns_hint(h));
    } else if (r.step) {
      set(&h->ns_unpriv[i], TP_PROBE_NO, "unshare(%s) in a new user namespace: %s",
          ns_flag_names[i], ERRTEXT(r.err));
    } else if (i == TP_PROBE_NS_USER) {
      set(&h->ns_unpriv[i], TP_PROBE_YES, "uid %ld can unshare(CLONE_NEWUSER)",
          root ? (long)NOBODY : (long)geteuid());
    } else {
      set(&h->ns_unpriv[i], TP_PROBE_YES, "uid %ld can unshare(%s) inside a new user namespace",
          root ? (long)NOBODY : (long)geteuid(), ns_flag_names[i]);
    }
  }
}

/* ---------------------------------------------------------------------- */
/* no_new_privs and seccomp                                                */
/* ---------------------------------------------------------------------- */

enum { NNP_SET = 1, SECCOMP_INSTALL, LL_CREATE, LL_RESTRICT };

static void child_nnp(const void *arg, child_result *r) {
  (void)arg;
  STEP(NNP_SET, syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
}

void tp_probe_no_new_privs(tp_probe_host *h) {
  child_result r;
  char why[TP_PROBE_TEXT];
  h->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  if (run_child(child_nnp, NULL, &r, why, sizeof why) < 0)
    set(&h->no_new_privs_set, TP_PROBE_NO, "%s", why);
  else if (r.step)
    set(&h->no_new_privs_set, TP_PROBE_NO, "prctl(PR_SET_NO_NEW_PRIVS): %s", ERRTEXT(r.err));
  else
    set(&h->no_new_privs_set, TP_PROBE_YES, "prctl(PR_SET_NO_NEW_PRIVS) works");
}

/* Install a filter that allows everything: proves filter mode works
** without changing what the child may do. */
static void child_seccomp(const void *arg, child_result *r) {
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {1, &allow};
  (void)arg;
  STEP(NNP_SET, syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  STEP(SECCOMP_INSTALL, syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
}

void tp_probe_seccomp(tp_probe_host *h) {
  int i;
  child_result r;
  char why[TP_PROBE_TEXT];
  const struct scmp_version *v = seccomp_version();

  h->seccomp_mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  if (h->seccomp_mode < 0) h->seccomp_mode = -1;
  for (i = 0; i < TP_PROBE_SECCOMP_ACTIONS; i++) {
    uint32_t action = tp_probe_seccomp_actions[i].value;
    if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0)
      set(&h->seccomp_action[i], TP_PROBE_YES, "SECCOMP_RET_%s is available",
          tp_probe_seccomp_actions[i].name);
    else if (errno == EOPNOTSUPP)
      set(&h->seccomp_action[i], TP_PROBE_NO, "the kernel does not know SECCOMP_RET_%s",
          tp_probe_seccomp_actions[i].name);
    else
      set(&h->seccomp_action[i], TP_PROBE_NO, "seccomp(SECCOMP_GET_ACTION_AVAIL): %s",
          ERRTEXT(errno));
  }
  if (h->seccomp_mode < 0)
    set(&h->seccomp_filter, TP_PROBE_NO, "prctl(PR_GET_SECCOMP): %s (kernel without CONFIG_SECCOMP)",
        ERRTEXT(EINVAL));
  else if (run_child(child_seccomp, NULL, &r, why, sizeof why) < 0)
    set(&h->seccomp_filter, TP_PROBE_NO, "%s", why);
  else if (r.step == NNP_SET)
    set(&h->seccomp_filter, TP_PROBE_NO, "prctl(PR_SET_NO_NEW_PRIVS): %s", ERRTEXT(r.err));
  else if (r.step)
    set(&h->seccomp_filter, TP_PROBE_NO, "seccomp(SECCOMP_SET_MODE_FILTER): %s%s",
        ERRTEXT(r.err), r.err == EINVAL ? " (kernel without CONFIG_SECCOMP_FILTER)" : "");
  else
    set(&h->seccomp_filter, TP_PROBE_YES, "a seccomp filter installs");
  if (v) snprintf(h->libseccomp_version, sizeof h->libseccomp_version, "%u.%u.%u",
                  v->major, v->minor, v->micro);
  h->libseccomp_api = (int)seccomp_api_get();
}

/* ---------------------------------------------------------------------- */
/* Landlock                                                                */
/* ---------------------------------------------------------------------- */

/* Restrict the child by a ruleset that handles one right of each kind the
** ABI has and grants none: the calls a sandbox would make. */
static void child_landlock(const void *arg, child_result *r) {
  int abi = *(const int *)arg;
  struct ll_ruleset_attr attr = {LL_ACCESS_FS_READ_FILE, 0, 0};
  size_t size = sizeof attr.handled_access_fs;
  long fd;
  if (abi >= 4) { attr.handled_access_net = LL_ACCESS_NET_CONNECT_TCP; size += 8; }
  if (abi >= 6) { attr.scoped = LL_SCOPE_SIGNAL; size += 8; }
  STEP(NNP_SET, syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  STEP(LL_CREATE, fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0));
  STEP(LL_RESTRICT, syscall(SYS_landlock_restrict_self, (int)fd, 0));
}

void tp_probe_landlock(tp_probe_host *h) {
  long abi;
  child_result r;
  char why[TP_PROBE_TEXT];
  int n;

  h->lsm_known = read_line("/sys/kernel/security/lsm", h->lsm, sizeof h->lsm) == 0;
  if (!h->lsm_known) h->lsm[0] = '\0';
  abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  if (abi < 0) {
    int e = errno;
    h->landlock_abi = 0;
    if (e == ENOSYS)
      set(&h->landlock, TP_PROBE_NO, "landlock_create_ruleset: %s: the kernel has no Landlock",
          ERRTEXT(e));
    else if (e == EOPNOTSUPP)
      set(&h->landlock, TP_PROBE_NO, "landlock_create_ruleset: %s: Landlock is built in but "
          "not enabled (add it to the lsm= boot parameter)", ERRTEXT(e));
    else
      set(&h->landlock, TP_PROBE_NO, "landlock_create_ruleset: %s", ERRTEXT(e));
    set(&h->landlock_restrict, TP_PROBE_NO, "no Landlock");
    return;
  }
  h->landlock_abi = (int)abi;
  set(&h->landlock, TP_PROBE_YES, "Landlock ABI %d", h->landlock_abi);
  n = h->landlock_abi;
  if (run_child(child_landlock, &n, &r, why, sizeof why) < 0)
    set(&h->landlock_restrict, TP_PROBE_NO, "%s", why);
  else if (r.step == NNP_SET)
    set(&h->landlock_restrict, TP_PROBE_NO, "prctl(PR_SET_NO_NEW_PRIVS): %s", ERRTEXT(r.err));
  else if (r.step == LL_CREATE)
    set(&h->landlock_restrict, TP_PROBE_NO, "landlock_create_ruleset: %s", ERRTEXT(r.err));
  else if (r.step)
    set(&h->landlock_restrict, TP_PROBE_NO, "landlock_restrict_self: %s", ERRTEXT(r.err));
  else
    set(&h->landlock_restrict, TP_PROBE_YES, "a ruleset restricts a process");
}

/* ---------------------------------------------------------------------- */
/* Cgroups                                                                 */
/* ---------------------------------------------------------------------- */

int tp_probe_list_has(const char *list, const char *name) {
  size_t n = strlen(name);
  const char *p = list;
  if (n == 0) return 0;
  while (p && *p) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && memcmp(p, name, n) == 0) return 1;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

/* Copy a mountinfo field, undoing its octal escapes (\040 for a blank).
** Returns 0, or -1 when it does not fit. */
static int unescape(const char *s, size_t len, char *out, size_t cap) {
  size_t i = 0, o = 0;
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\\' && i + 3 < len &&
        s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
        s[i + 3] >= '0' && s[i + 3] <= '7') {
      c = (unsigned char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 4;
    } else {
      i++;
    }
    if (o + 1 >= cap) return -1;
    out[o++] = (char)c;
  }
  if (cap == 0) return -1;
  out[o] = '\0';
  return 0;
}

/* v1 super options that are not controllers. */
static int is_v1_option(const char *s, size_t n) {
  static const char *const opts[] = {
    "rw", "ro", "noprefix", "clone_children", "xattr", "cpuset_v2_mode",
    "none", "all", "favordynmods", "seclabel", NULL,
  };
  int i;
  for (i = 0; opts[i]; i++)
    if (strlen(opts[i]) == n && memcmp(opts[i], s, n) == 0) return 1;
  return (n >= 14 && memcmp(s, "release_agent=", 14) == 0);
}

/* Fill m's controllers and name from v1 super options "rw,cpu,cpuacct".
** Returns -1 when they do not fit. */
static int v1_controllers(tp_probe_cgmount *m, const char *s, size_t len) {
  size_t i = 0, o = 0;
  m->controllers[0] = m->name[0] = '\0';
  while (i < len) {
    size_t j = i;
    while (j < len && s[j] != ',') j++;
    if (j - i > 5 && memcmp(s + i, "name=", 5) == 0) {
      if (j - i - 5 >= sizeof m->name) return -1;
      memcpy(m->name, s + i + 5, j - i - 5);
      m->name[j - i - 5] = '\0';
    } else if (j > i && !is_v1_option(s + i, j - i)) {
      if (o + (o > 0) + (j - i) + 1 > sizeof m->controllers) return -1;
      if (o > 0) m->controllers[o++] = ',';
      memcpy(m->controllers + o, s + i, j - i);
      o += j - i;
      m->controllers[o] = '\0';
    }
    i = j + 1;
  }
  return 0;
}

#define MAX_FIELDS 64

int tp_probe_parse_mountinfo(const char *text, size_t len,
                             tp_probe_cgmount *out, int cap) {
  size_t pos = 0;
  int count = 0;
  while (pos < len) {
    size_t eol = pos, fstart[MAX_FIELDS], flen[MAX_FIELDS], i;
    int nf = 0, sep = -1, version;
    tp_probe_cgmount m;
    while (eol < len && text[eol] != '\n') eol++;
    /* Split on blanks (the kernel escapes blanks inside fields). */
    for (i = pos; i < eol && nf < MAX_FIELDS;) {
      while (i < eol && text[i] == ' ') i++;
      if (i >= eol) break;
      fstart[nf] = i;
      while (i < eol && text[i] != ' ') i++;
      flen[nf] = i - fstart[nf];
      nf++;
    }
    pos = eol + 1;
    /* id parent major:minor root mountpoint options [optional...] - fstype source super */
    for (i = 6; (int)i < nf; i++)
      if (flen[i] == 1 && text[fstart[i]] == '-') { sep = (int)i; break; }
    if (sep < 0 || sep + 1 >= nf) continue;
    if (flen[sep + 1] == 7 && memcmp(text + fstart[sep + 1], "cgroup2", 7) == 0) version = 2;
    else if (flen[sep + 1] == 6 && memcmp(text + fstart[sep + 1], "cgroup", 6) == 0) version = 1;
    else continue;
    memset(&m, 0, sizeof m);
    m.version = version;
    if (unescape(text + fstart[3], flen[3], m.root, sizeof m.root) < 0) continue;
    if (unescape(text + fstart[4], flen[4], m.mountpoint, sizeof m.mountpoint) < 0) continue;
    if (m.root[0] != '/' || m.mountpoint[0] != '/') continue;
    if (version == 1 && sep + 3 < nf &&
        v1_controllers(&m, text + fstart[sep + 3], flen[sep + 3]) < 0) continue;
    if (count < cap) out[count] = m;
    count++;
  }
  return count;
}

int tp_probe_parse_proc_cgroup(const char *text, size_t len,
                               tp_probe_cgpath *out, int cap) {
  size_t pos = 0;
  int count = 0;
  while (pos < len) {
    size_t eol = pos, c1, c2;
    tp_probe_cgpath p;
    long id = 0;
    while (eol < len && text[eol] != '\n') eol++;
    c1 = pos;
    while (c1 < eol && text[c1] >= '0' && text[c1] <= '9' && id < 1000000)
      id = id * 10 + (text[c1++] - '0');
    if (c1 == pos || c1 >= eol || text[c1] != ':') { pos = eol + 1; continue; }
    c2 = c1 + 1;
    while (c2 < eol && text[c2] != ':') c2++;
    /* the path must be there and absolute: an empty one ends the text */
    if (c2 + 1 >= eol || c2 - c1 - 1 >= sizeof p.controllers ||
        eol - c2 - 1 >= sizeof p.path || text[c2 + 1] != '/') { pos = eol + 1; continue; }
    memset(&p, 0, sizeof p);
    p.id = (int)id;
    memcpy(p.controllers, text + c1 + 1, c2 - c1 - 1);
    memcpy(p.path, text + c2 + 1, eol - c2 - 1);
    pos = eol + 1;
    if (count < cap) out[count] = p;
    count++;
  }
  return count;
}

/* rel: path relative to root ("" when equal), or NULL when outside it. */
static const char *under_root(const char *path, const char *root) {
  size_t n = strlen(root);
  while (n > 0 && root[n - 1] == '/') n--;      /* "/" becomes "" */
  if (strncmp(path, root, n) != 0) return NULL;
  if (path[n] != '\0' && path[n] != '/') return NULL;
  return path + n;
}

int tp_probe_cgroup_dir(const tp_probe_cgmount *m, int nm,
                        const tp_probe_cgpath *p, int np, int version,
                        const char *controller, char *buf, size_t cap) {
  const tp_probe_cgpath *mine = NULL;
  int i, outside = 0;
  for (i = 0; i < np && !mine; i++) {
    if (version == 2 && p[i].id == 0 && p[i].controllers[0] == '\0') mine = &p[i];
    if (version == 1 && p[i].id != 0 && tp_probe_list_has(p[i].controllers, controller))
      mine = &p[i];
  }
  if (!mine) return TP_PROBE_ENOENT;
  for (i = 0; i < nm; i++) {
    const char *rel;
    size_t mlen;
    int n;
    if (m[i].version != version) continue;
    if (version == 1 && !tp_probe_list_has(m[i].controllers, controller)) continue;
    rel = under_root(mine->path, m[i].root);
    if (!rel) { outside = 1; continue; }
    mlen = strlen(m[i].mountpoint);
    while (mlen > 1 && m[i].mountpoint[mlen - 1] == '/') mlen--;
    if (mlen == 1 && *rel) mlen = 0;             /* mounted on "/" */
    n = snprintf(buf, cap, "%.*s%s", (int)mlen, m[i].mountpoint, rel);
    if (n < 0 || (size_t)n >= cap) return TP_PROBE_ETOOLONG;
    while (n > 1 && buf[n - 1] == '/') buf[--n] = '\0';   /* our group is the root */
    return 0;
  }
  return outside ? TP_PROBE_EOUTSIDE : TP_PROBE_ENOENT;
}

/* Our v2 group's file (cgroup.controllers, ...) as a comma list. */
static void read_v2_list(const char *dir, const char *file, char *out, size_t cap) {
  char path[TP_PROBE_PATH + 64], *s;
  out[0] = '\0';
  snprintf(path, sizeof path, "%s/%s", dir, file);
  if (read_line(path, out, cap) < 0) return;
  for (s = out; *s; s++) if (*s == ' ') *s = ',';
}

/* Make a uniquely named child group in dir, see that it has file, remove
** it. Sets c. */
static void try_child_group(tp_probe_check *c, const char *dir, const char *file,
                            const char *controller, int version) {
  static unsigned counter;
  char child[TP_PROBE_PATH + 64], path[TP_PROBE_PATH + 128];
  int has, e;
  snprintf(child, sizeof child, "%s/tp-probe-%ld-%u", dir, (long)getpid(), counter++);
  if (mkdir(child, 0755) != 0) {
    set(c, TP_PROBE_NO, "cannot create a group in %s: mkdir: %s", dir, ERRTEXT(errno));
    return;
  }
  snprintf(path, sizeof path, "%s/%s", child, file);
  has = access(path, W_OK) == 0;
  e = errno;
  if (rmdir(child) != 0) {
    set(c, TP_PROBE_NO, "created %s but cannot remove it: %s", child, ERRTEXT(errno));
    return;
  }
  if (has)
    set(c, TP_PROBE_YES, "cgroup v%d: child groups of %s get %s", version, dir, file);
  else if (e == ENOENT && version == 1 && strcmp(controller, "cpu") == 0)
    set(c, TP_PROBE_NO, "a child group of %s has no %s (kernel without CFS bandwidth control)",
        dir, file);
  else
    set(c, TP_PROBE_NO, "a child group of %s has no writable %s: %s", dir, file, ERRTEXT(e));
}

static void probe_v2(tp_probe_host *h, int ctl) {
  tp_probe_cgcontrol *c = &h->cg[ctl][0];
  const char *name = tp_probe_cg_names[ctl];
  int r, i;
  c->file = tp_probe_cg_file_v2[ctl];
  r = tp_probe_cgroup_dir(h->cgmounts, h->ncgmounts, h->cgpaths, h->ncgpaths, 2, NULL,
                          c->dir, sizeof c->dir);
  if (r == TP_PROBE_ENOENT) {
    int mounted = 0;
    for (i = 0; i < h->ncgmounts; i++) mounted |= h->cgmounts[i].version == 2;
    set(&c->create, TP_PROBE_NO, mounted ? "no 0:: line in /proc/self/cgroup"
                                         : "no cgroup2 file system is mounted");
  } else if (r == TP_PROBE_EOUTSIDE) {
    set(&c->create, TP_PROBE_NO, "our cgroup2 group is outside every cgroup2 mount");
  } else if (r < 0) {
    set(&c->create, TP_PROBE_NO, "the path of our cgroup2 group is too long");
  } else if (!tp_probe_list_has(h->cg2_controllers, name)) {
    const char *v1 = NULL;
    for (i = 0; i < h->ncgmounts; i++)
      if (h->cgmounts[i].version == 1 && tp_probe_list_has(h->cgmounts[i].controllers, name))
        v1 = h->cgmounts[i].mountpoint;
    if (v1)
      set(&c->create, TP_PROBE_NO, "%s is not in %s/cgroup.controllers: it is bound to the "
          "cgroup v1 hierarchy at %s", name, c->dir, v1);
    else
      set(&c->create, TP_PROBE_NO, "%s is not in %s/cgroup.controllers (it lists: %s)",
          name, c->dir, h->cg2_controllers[0] ? h->cg2_controllers : "nothing");
  } else if (!tp_probe_list_has(h->cg2_subtree, name)) {
    set(&c->create, TP_PROBE_NO, "%s is not enabled in %s/cgroup.subtree_control, so child "
        "groups get no %s (an engine would have to enable it)", name, c->dir, c->file);
  } else {
    try_child_group(&c->create, c->dir, c->file, name, 2);
  }
}

static void probe_v1(tp_probe_host *h, int ctl) {
  tp_probe_cgcontrol *c = &h->cg[ctl][1];
  const char *name = tp_probe_cg_names[ctl];
  int r;
  c->file = tp_probe_cg_file_v1[ctl];
  r = tp_probe_cgroup_dir(h->cgmounts, h->ncgmounts, h->cgpaths, h->ncgpaths, 1, name,
                          c->dir, sizeof c->dir);
  if (r == TP_PROBE_ENOENT)
    set(&c->create, TP_PROBE_NO, "no cgroup v1 hierarchy has the %s controller", name);
  else if (r == TP_PROBE_EOUTSIDE)
    set(&c->create, TP_PROBE_NO, "our %s group is outside the v1 mount's root", name);
  else if (r < 0)
    set(&c->create, TP_PROBE_NO, "the path of our %s group is too long", name);
  else
    try_child_group(&c->create, c->dir, c->file, name, 1);
}

void tp_probe_cgroups(tp_probe_host *h) {
  size_t len;
  char *text;
  int i;
  char dir[TP_PROBE_PATH];
  h->ncgmounts = h->ncgpaths = 0;
  h->cg2_controllers[0] = h->cg2_subtree[0] = '\0';
  text = read_all("/proc/self/mountinfo", &len);
  if (text == NULL) {
    set(&h->cgmount_read, TP_PROBE_NO, "/proc/self/mountinfo: %s", ERRTEXT(errno));
  } else {
    set(&h->cgmount_read, TP_PROBE_YES, "/proc/self/mountinfo");
    h->ncgmounts = tp_probe_parse_mountinfo(text, len, h->cgmounts, TP_PROBE_MAX_CGMOUNTS);
    if (h->ncgmounts > TP_PROBE_MAX_CGMOUNTS) h->ncgmounts = TP_PROBE_MAX_CGMOUNTS;
    free(text);
  }
  text = read_all("/proc/self/cgroup", &len);
  if (text) {
    h->ncgpaths = tp_probe_parse_proc_cgroup(text, len, h->cgpaths, TP_PROBE_MAX_CGPATHS);
    if (h->ncgpaths > TP_PROBE_MAX_CGPATHS) h->ncgpaths = TP_PROBE_MAX_CGPATHS;
    free(text);
  }
  if (tp_probe_cgroup_dir(h->cgmounts, h->ncgmounts, h->cgpaths, h->ncgpaths, 2, NULL,
                          dir, sizeof dir) == 0) {
    read_v2_list(dir, "cgroup.controllers", h->cg2_controllers, sizeof h->cg2_controllers);
    read_v2_list(dir, "cgroup.subtree_control", h->cg2_subtree, sizeof h->cg2_subtree);
  }
  for (i = 0; i < TP_PROBE_CG_COUNT; i++) {
    probe_v2(h, i);
    probe_v1(h, i);
  }
}

/* ---------------------------------------------------------------------- */
/* Resource limits                                                         */
/* ---------------------------------------------------------------------- */

void tp_probe_rlimits(tp_probe_host *h) {
  static const struct { const char *name; int resource; } which[TP_PROBE_RLIMIT_COUNT] = {
    {"AS", RLIMIT_AS}, {"DATA", RLIMIT_DATA}, {"NOFILE", RLIMIT_NOFILE},
    {"NPROC", RLIMIT_NPROC}, {"CPU", RLIMIT_CPU},
  };
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  int i;
  for (i = 0; i < TP_PROBE_RLIMIT_COUNT; i++) {
    struct rlimit rl;
    tp_probe_rlimit *r = &h->rlimits[i];
    r->name = which[i].name;
    r->resource = which[i].resource;
    r->error = 0;
    if (getrlimit(which[i].resource, &rl) != 0) {
      r->error = errno;
      r->soft = r->hard = 0;
      continue;
    }
    r->soft = rl.rlim_cur == RLIM_INFINITY ? TP_PROBE_UNLIMITED : (uint64_t)rl.rlim_cur;
    r->hard = rl.rlim_max == RLIM_INFINITY ? TP_PROBE_UNLIMITED : (uint64_t)rl.rlim_max;
  }
  memset(data, 0, sizeof data);
  h->cap_sys_resource = 0;
  if (syscall(SYS_capget, &hdr, data) == 0)
    h->cap_sys_resource = (data[CAP_SYS_RESOURCE / 32].effective >> (CAP_SYS_RESOURCE % 32)) & 1;
}

/* ---------------------------------------------------------------------- */
/* Commands: container runtimes                                            */
/* ---------------------------------------------------------------------- */

int tp_probe_which(const char *name, const char *path, char *buf, size_t cap) {
  const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (*p) {
    const char *end = strchr(p, ':');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    struct stat st;
    if (n > 0 && p[0] == '/') {
      int w = snprintf(buf, cap, "%.*s/%s", (int)n, p, name);
      if (w > 0 && (size_t)w < cap && stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
          access(buf, X_OK) == 0)
        return 0;
    }
    if (!end) break;
    p = end + 1;
  }
  if (cap) buf[0] = '\0';
  return TP_PROBE_ENOENT;
}

/* Is the text a warning a tool prints before its real message? */
static int is_warning(const char *s, size_t n) {
  return (n >= 7 && strncasecmp(s, "warning", 7) == 0 &&
          (n == 7 || s[7] == ':' || s[7] == ' ' || s[7] == '['));
}

/* The first non-blank line of out that is not a warning (else the first
** non-blank line), trimmed, into line. */
static void first_line(const char *out, size_t n, char *line, size_t cap) {
  size_t i = 0;
  int have = 0;
  line[0] = '\0';
  while (i < n) {
    size_t s = i, e;
    while (i < n && out[i] != '\n') i++;
    e = i++;
    while (s < e && (out[s] == ' ' || out[s] == '\t' || out[s] == '\r')) s++;
    while (e > s && (out[e - 1] == ' ' || out[e - 1] == '\t' || out[e - 1] == '\r')) e--;
    if (e == s) continue;
    if (!is_warning(out + s, e - s)) {
      snprintf(line, cap, "%.*s", (int)(e - s), out + s);
      return;
    }
    if (!have) {
      snprintf(line, cap, "%.*s", (int)(e - s), out + s);
      have = 1;
    }
  }
}

int tp_probe_run(char *const argv[], int timeout_ms, int flags, char *line,
                 size_t cap, int *status, int *timed_out) {
  enum { KEEP = 4096 };
  char out[KEEP], scratch[512];
  size_t n = 0;
  int fds[2], rc, st = 0, exited = 0, eof = 0;
  long long deadline = now_ms() + timeout_ms;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, dflt;
  pid_t pid;

  *status = -1;
  *timed_out = 0;
  if (pipe2(fds, O_CLOEXEC) != 0) {
    snprintf(line, cap, "pipe: %s", ERRTEXT(errno));
    return TP_PROBE_ESPAWN;
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  if (flags & TP_PROBE_RUN_STDOUT)
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  else
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawnattr_init(&at);
  sigemptyset(&none);
  sigemptyset(&dflt);
  sigaddset(&dflt, SIGPIPE);
  sigaddset(&dflt, SIGINT);
  sigaddset(&dflt, SIGQUIT);
  sigaddset(&dflt, SIGTERM);
  sigaddset(&dflt, SIGCHLD);
  sigaddset(&dflt, SIGHUP);
  /* Its own process group, so that a timeout kills what it started too. */
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &dflt);
  rc = posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    snprintf(line, cap, "%s: %s", argv[0], ERRTEXT(rc));
    return TP_PROBE_ESPAWN;
  }
  for (;;) {
    struct pollfd pfd = {fds[0], POLLIN, 0};
    long long left = deadline - now_ms();
    if (!exited) {
      pid_t w = waitpid(pid, &st, WNOHANG);
      if (w == pid) exited = 1;
    }
    if (exited && eof) break;
    if (left <= 0 && !exited) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
      exited = 1;
      *timed_out = 1;
      break;
    }
    if (eof) { sleep_ms(5); continue; }
    /* Once it has exited, drain what is there without waiting for a
    ** descendant that may hold the pipe open. */
    if (poll(&pfd, 1, exited ? 0 : (int)(left < 50 ? left : 50)) <= 0) {
      if (exited) break;
      continue;
    }
    {
      ssize_t r = read(fds[0], scratch, sizeof scratch);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) { eof = 1; continue; }
      if (n < KEEP) {
        size_t take = (size_t)r < KEEP - n ? (size_t)r : KEEP - n;
        memcpy(out + n, scratch, take);
        n += take;
      }
    }
  }
  close(fds[0]);
  first_line(out, n, line, cap);
  if (WIFEXITED(st)) *status = WEXITSTATUS(st);
  else if (WIFSIGNALED(st)) *status = 128 + WTERMSIG(st);
  return 0;
}

/* The probe run of each runtime: start a container that does nothing.
** Docker cannot run one without an image, and pulling one is not a
** probe: for docker we ask whether the engine answers. */
static const char *const rt_names[TP_PROBE_RT_COUNT] = {"bwrap", "podman", "docker"};
static const char *const rt_args[TP_PROBE_RT_COUNT][10] = {
  {"--ro-bind", "/", "/", "--unshare-all", "/bin/true", NULL},
  {"run", "--rm", "--network=none", "--rootfs", "/", "/bin/true", NULL},
  {"version", "--format", "{{.Server.Version}}", NULL},
};

void tp_probe_runtimes(tp_probe_host *h, const tp_probe_opts *opts) {
  int i, timeout = opts && opts->run_timeout_ms > 0 ? opts->run_timeout_ms
                                                    : TP_PROBE_RUN_TIMEOUT_MS;
  const char *path = opts && opts->path ? opts->path : getenv("PATH");
  for (i = 0; i < TP_PROBE_RT_COUNT; i++) {
    tp_probe_runtime *rt = &h->runtimes[i];
    char *argv[12], line[TP_PROBE_TEXT];
    int j, st, to;
    size_t o;
    memset(rt, 0, sizeof *rt);
    rt->name = rt_names[i];
    rt->exit_status = -1;
    o = (size_t)snprintf(rt->command, sizeof rt->command, "%s", rt_names[i]);
    for (j = 0; rt_args[i][j] && o < sizeof rt->command; j++)
      o += (size_t)snprintf(rt->command + o, sizeof rt->command - o, " %s", rt_args[i][j]);
    if (tp_probe_which(rt_names[i], path, rt->path, sizeof rt->path) != 0) {
      set(&rt->run, TP_PROBE_NO, "%s is not on PATH", rt_names[i]);
      continue;
    }
    argv[0] = rt->path;
    argv[1] = (char *)"--version";
    argv[2] = NULL;
    if (opts && opts->skip_runs) {
      set(&rt->run, TP_PROBE_UNTRIED, "not run (probe runs skipped)");
      continue;
    }
    if (tp_probe_run(argv, timeout, TP_PROBE_RUN_STDOUT, line, sizeof line, &st, &to) == 0 &&
        st == 0 && !to)
      snprintf(rt->version, sizeof rt->version, "%s", line);
    for (j = 0; rt_args[i][j]; j++) argv[j + 1] = (char *)rt_args[i][j];
    argv[j + 1] = NULL;
    if (tp_probe_run(argv, timeout, 0, line, sizeof line, &rt->exit_status, &rt->timed_out) != 0)
      set(&rt->run, TP_PROBE_NO, "%s", line);
    else if (rt->timed_out)
      set(&rt->run, TP_PROBE_NO, "`%s` did not finish in %d ms%s%s", rt->command, timeout,
          line[0] ? ": " : "", line);
    else if (rt->exit_status != 0)
      set(&rt->run, TP_PROBE_NO, "`%s` exited with status %d: %s", rt->command,
          rt->exit_status, line[0] ? line : "(no output)");
    else
      set(&rt->run, TP_PROBE_YES, "`%s` works", rt->command);
  }
}

/* ---------------------------------------------------------------------- */
/* Everything                                                              */
/* ---------------------------------------------------------------------- */

void tp_probe_host_run(tp_probe_host *h, const tp_probe_opts *opts) {
  struct utsname u;
  memset(h, 0, sizeof *h);
  if (uname(&u) == 0) {
    snprintf(h->kernel_release, sizeof h->kernel_release, "%s", u.release);
    snprintf(h->machine, sizeof h->machine, "%s", u.machine);
  }
  h->uid = (long)getuid();
  h->euid = (long)geteuid();
  tp_probe_namespaces(h);
  tp_probe_no_new_privs(h);
  tp_probe_seccomp(h);
  tp_probe_landlock(h);
  tp_probe_cgroups(h);
  tp_probe_rlimits(h);
  tp_probe_runtimes(h, opts);
}
