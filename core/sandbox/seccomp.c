/*
** seccomp.c: the system call filter of a sandbox worker. See seccomp.h
** for the three sources of denials and docs/confinement.md for the base
** list and what the filter does not stop.
**
** The filter is a default-allow list of denials: a deny list is what a
** policy's denied_syscalls says, and a plugin runtime (Lua, its C modules,
** libc) uses too many calls for an allow list to stay right across libc
** versions. The calls that matter for escaping are in the base list and
** are denied whatever the policy.
*/
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <ucontext.h>

#include "seccomp.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* Calls that leave or weaken a sandbox whatever the policy allows:
** debugging other processes, loading kernel code, new namespaces or mount
** views (the worker's namespaces are set before exec), keyrings shared
** across the uid, io_uring (its operations run without passing this
** filter), raw hardware and clock access. Names absent on this
** architecture are skipped. */
const char *const tp_seccomp_base_names[] = {
  "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
  "pidfd_getfd", "kcmp",
  "kexec_load", "kexec_file_load", "init_module", "finit_module",
  "delete_module", "bpf", "perf_event_open", "userfaultfd",
  "keyctl", "add_key", "request_key",
  "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
  "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
  "mount_setattr", "open_by_handle_at", "name_to_handle_at",
  "io_uring_setup", "io_uring_enter", "io_uring_register",
  "swapon", "swapoff", "reboot", "acct", "quotactl", "quotactl_fd",
  "iopl", "ioperm", "settimeofday", "clock_settime", "clock_adjtime",
  "syslog", "vhangup", "uselib", "lookup_dcookie", "nfsservctl",
  "_sysctl", "seccomp",
  NULL
};

/* Names denied for no_exec besides clone (handled by its flags). */
static const char *const exec_names[] = {
  "execve", "execveat", "fork", "vfork", NULL
};

/* Flags that make clone create a namespace: base denials. */
static const unsigned long clone_new_flags[] = {
  CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
  CLONE_NEWPID, CLONE_NEWNET,
#ifdef CLONE_NEWTIME
  CLONE_NEWTIME,
#endif
};
#define NCLONE_NEW (sizeof clone_new_flags / sizeof clone_new_flags[0])

/* ---- names ------------------------------------------------------------ */

static int name_ok(const char *name) {
  size_t n = 0;
  if (name == NULL) return 0;
  for (; name[n]; n++) {
    char c = name[n];
    if (n >= TP_SECCOMP_MAX_NAME) return 0;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return n > 0;
}

/* libseccomp answers a negative pseudo number for a name some other
** architecture has; only a number >= 0 is a real call of arch. */
static int resolve_token(const char *name, uint32_t arch) {
  int nr = seccomp_syscall_resolve_name_arch(arch, name);
  return nr >= 0 ? nr : TP_SECCOMP_EUNKNOWN;
}

int tp_seccomp_resolve_arch(const char *name, const char *arch) {
  uint32_t token;
  if (!name_ok(name) || arch == NULL) return TP_SECCOMP_EINVAL;
  if (strcmp(arch, "x86_64") == 0) token = SCMP_ARCH_X86_64;
  else if (strcmp(arch, "aarch64") == 0) token = SCMP_ARCH_AARCH64;
  else return TP_SECCOMP_EINVAL;
  return resolve_token(name, token);
}

int tp_seccomp_resolve(const char *name) {
  int nr;
  if (!name_ok(name)) return TP_SECCOMP_EINVAL;
  nr = resolve_token(name, SCMP_ARCH_NATIVE);
  if (nr >= 0) return nr;
  if (resolve_token(name, SCMP_ARCH_X86_64) >= 0 ||
      resolve_token(name, SCMP_ARCH_AARCH64) >= 0)
    return TP_SECCOMP_EABSENT;
  return TP_SECCOMP_EUNKNOWN;
}

/* ---- the denial table --------------------------------------------------- */

/* Filled by build() before the filter is loaded and never written after,
** so the SIGSYS handler may read it. Base + exec + socket + policy. */
#define TABLE_CAP (TP_SECCOMP_MAX_DENY + 96)
typedef struct table {
  tp_seccomp_denial d[TABLE_CAP];
  int n;
} table;
static table loaded;

static tp_seccomp_denial *table_find(table *t, int nr) {
  for (int i = 0; i < t->n; i++)
    if (t->d[i].nr == nr) return &t->d[i];
  return NULL;
}

static int table_add(table *t, int nr, const char *name, unsigned reason) {
  tp_seccomp_denial *e = table_find(t, nr);
  if (e == NULL) {
    if (t->n >= TABLE_CAP) return TP_SECCOMP_EINVAL;
    e = &t->d[t->n++];
    e->nr = nr;
    e->reasons = 0;
    snprintf(e->name, sizeof e->name, "%s", name);
  }
  e->reasons |= reason;
  return 0;
}

const tp_seccomp_denial *tp_seccomp_lookup(int nr) {
  for (int i = 0; i < loaded.n; i++)
    if (loaded.d[i].nr == nr) return &loaded.d[i];
  return NULL;
}

/* ---- building the filter ------------------------------------------------- */

typedef struct builder {
  scmp_filter_ctx ctx;
  uint32_t act;
  table *t;
  char *err;
  size_t errlen;
} builder;

static int fail(builder *b, int code, const char *fmt, const char *name, int rc) {
  if (b->err && b->errlen) {
    char what[160];
    snprintf(what, sizeof what, fmt, name);
    if (rc) snprintf(b->err, b->errlen, "%s: %s", what, strerror(-rc));
    else snprintf(b->err, b->errlen, "%s", what);
  }
  return code;
}

static int deny_plain(builder *b, const char *name, int nr, unsigned reason) {
  int rc = seccomp_rule_add(b->ctx, b->act, nr, 0);
  /* -EEXIST: an identical rule (a policy naming a base call) */
  if (rc < 0 && rc != -EEXIST)
    return fail(b, TP_SECCOMP_EBUILD, "seccomp: cannot deny %s", name, rc);
  return table_add(b->t, nr, name, reason);
}

/* A base or exec name that this architecture lacks is nothing to deny. */
static int deny_list(builder *b, const char *const *names, unsigned reason) {
  for (; *names; names++) {
    int nr = resolve_token(*names, SCMP_ARCH_NATIVE);
    if (nr < 0) continue;
    int rc = deny_plain(b, *names, nr, reason);
    if (rc < 0) return rc;
  }
  return 0;
}

static int deny_clone(builder *b, int no_exec) {
  int nr = SCMP_SYS(clone), rc;
  for (size_t i = 0; i < NCLONE_NEW; i++) {
    rc = seccomp_rule_add(b->ctx, b->act, nr, 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, clone_new_flags[i],
                                  clone_new_flags[i]));
    if (rc < 0) return fail(b, TP_SECCOMP_EBUILD, "seccomp: cannot deny %s", "clone", rc);
  }
  if ((rc = table_add(b->t, nr, "clone", TP_SECCOMP_R_BASE)) < 0) return rc;
  if (!no_exec) return 0;
  /* A new process, not a thread: the flags lack CLONE_THREAD. */
  rc = seccomp_rule_add(b->ctx, b->act, nr, 1,
                        SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
  if (rc < 0) return fail(b, TP_SECCOMP_EBUILD, "seccomp: cannot deny %s", "clone", rc);
  return table_add(b->t, nr, "clone", TP_SECCOMP_R_EXEC);
}

/* clone3 keeps its flags in memory the filter cannot read: ENOSYS makes
** glibc fall back to clone, whose flags it can. personality may only be
** queried (a changed personality can disable ASLR for an exec). */
static int fixed_rules(builder *b) {
  int rc;
#ifdef __NR_clone3
  rc = seccomp_rule_add(b->ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  if (rc < 0) return fail(b, TP_SECCOMP_EBUILD, "seccomp: cannot rule %s", "clone3", rc);
#endif
  rc = seccomp_rule_add(b->ctx, b->act, SCMP_SYS(personality), 1,
                        SCMP_A0_32(SCMP_CMP_NE, 0xffffffffu));
  if (rc < 0) return fail(b, TP_SECCOMP_EBUILD, "seccomp: cannot deny %s", "personality", rc);
  return table_add(b->t, SCMP_SYS(personality), "personality", TP_SECCOMP_R_BASE);
}

/* socket() of every family, and socketpair() of any family but AF_UNIX.
** A new AF_UNIX socket is denied too: connect(2) to a pathname socket
** reaches host services through the file system, which neither the empty
** network namespace nor Landlock (up to ABI 7) covers. An anonymous AF_UNIX
** socketpair reaches nothing outside and stays usable. */
static int deny_net(builder *b) {
  int nr = resolve_token("socket", SCMP_ARCH_NATIVE);
  int rc = seccomp_rule_add(b->ctx, b->act, nr, 0);
  if (rc < 0) return fail(b, TP_SECCOMP_EBUILD, "seccomp: cannot deny %s", "socket", rc);
  if ((rc = table_add(b->t, nr, "socket", TP_SECCOMP_R_NET)) < 0) return rc;
  nr = resolve_token("socketpair", SCMP_ARCH_NATIVE);
  rc = seccomp_rule_add(b->ctx, b->act, nr, 1, SCMP_A0_32(SCMP_CMP_NE, AF_UNIX));
  if (rc < 0) return fail(b, TP_SECCOMP_EBUILD, "seccomp: cannot deny %s", "socketpair", rc);
  return table_add(b->t, nr, "socketpair", TP_SECCOMP_R_NET);
}

static int deny_policy(builder *b, const tp_seccomp_config *cfg) {
  if (cfg->ndeny > TP_SECCOMP_MAX_DENY)
    return fail(b, TP_SECCOMP_EINVAL, "seccomp: more than %s denied system calls",
                "1024", 0);
  if (cfg->ndeny && cfg->deny == NULL)
    return fail(b, TP_SECCOMP_EINVAL, "seccomp: %s", "no deny list", 0);
  for (size_t i = 0; i < cfg->ndeny; i++) {
    const char *name = cfg->deny[i];
    int nr = tp_seccomp_resolve(name);
    if (nr == TP_SECCOMP_EABSENT) continue;
    if (nr == TP_SECCOMP_EINVAL)
      return fail(b, nr, "seccomp: malformed system call name '%.64s'",
                  name ? name : "(null)", 0);
    if (nr < 0)
      return fail(b, nr, "seccomp: unknown system call '%s'", name, 0);
    if (strcmp(name, "clone3") == 0) continue;   /* always ENOSYS */
    int rc = deny_plain(b, name, nr, TP_SECCOMP_R_POLICY);
    if (rc < 0) return rc;
  }
  return 0;
}

static int build(builder *b, const tp_seccomp_config *cfg) {
  int rc;
  b->ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (b->ctx == NULL) return fail(b, TP_SECCOMP_ENOMEM, "seccomp: %s", "out of memory", 0);
  b->act = cfg->kill ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_TRAP;
  b->t->n = 0;
  /* Only the native ABI: a call through another (int 0x80) kills. */
  if ((rc = seccomp_attr_set(b->ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
      (rc = seccomp_attr_set(b->ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0 ||
      (rc = seccomp_attr_set(b->ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
    return fail(b, TP_SECCOMP_EBUILD, "seccomp: %s", "filter attributes", rc);
  if ((rc = deny_list(b, tp_seccomp_base_names, TP_SECCOMP_R_BASE)) < 0) return rc;
  if ((rc = fixed_rules(b)) < 0) return rc;
  if ((rc = deny_clone(b, cfg->no_exec)) < 0) return rc;
  if (cfg->no_exec && (rc = deny_list(b, exec_names, TP_SECCOMP_R_EXEC)) < 0) return rc;
  if (cfg->no_net && (rc = deny_net(b)) < 0) return rc;
  return deny_policy(b, cfg);
}

int tp_seccomp_check(const tp_seccomp_config *cfg, char *err, size_t errlen) {
  static table scratch;     /* large: not on the stack */
  builder b = { NULL, 0, &scratch, err, errlen };
  int rc = build(&b, cfg);
  if (b.ctx) seccomp_release(b.ctx);
  return rc;
}

int tp_seccomp_apply(const tp_seccomp_config *cfg, char *err, size_t errlen) {
  builder b = { NULL, 0, &loaded, err, errlen };
  int rc = build(&b, cfg);
  if (rc == 0) {
    rc = seccomp_load(b.ctx);
    if (rc < 0) rc = fail(&b, TP_SECCOMP_ELOAD, "seccomp: %s", "the kernel refused the filter", rc);
  }
  if (rc < 0) loaded.n = 0;
  if (b.ctx) seccomp_release(b.ctx);
  return rc;
}

/* ---- reporting a trap ---------------------------------------------------- */

const char *tp_seccomp_reason_name(unsigned reason) {
  switch (reason) {
  case TP_SECCOMP_R_BASE: return "base";
  case TP_SECCOMP_R_POLICY: return "denied_syscall";
  case TP_SECCOMP_R_EXEC: return "subprocess";
  case TP_SECCOMP_R_NET: return "network";
  default: return "unknown";
  }
}

static unsigned long first_arg(const void *ucontext) {
  const ucontext_t *uc = ucontext;
  if (uc == NULL) return 0;
#if defined(__x86_64__)
  return (unsigned long)uc->uc_mcontext.gregs[REG_RDI];
#elif defined(__aarch64__)
  return (unsigned long)uc->uc_mcontext.regs[0];
#else
  return 0;
#endif
}

/* Which reason matched, from the arguments where one call has several. */
static unsigned pick_reason(const tp_seccomp_denial *d, unsigned long arg0) {
  if (d->nr == SCMP_SYS(clone)) {
    for (size_t i = 0; i < NCLONE_NEW; i++)
      if (arg0 & clone_new_flags[i]) return TP_SECCOMP_R_BASE;
    if (d->reasons & TP_SECCOMP_R_EXEC) return TP_SECCOMP_R_EXEC;
  }
  if (d->reasons & TP_SECCOMP_R_BASE) return TP_SECCOMP_R_BASE;
  if (d->reasons & TP_SECCOMP_R_EXEC) return TP_SECCOMP_R_EXEC;
  if ((d->reasons & TP_SECCOMP_R_NET) && (int)arg0 != AF_UNIX) return TP_SECCOMP_R_NET;
  if (d->reasons & TP_SECCOMP_R_POLICY) return TP_SECCOMP_R_POLICY;
  return d->reasons & TP_SECCOMP_R_NET;
}

int tp_seccomp_violation_from(const siginfo_t *si, const void *ucontext,
                              tp_seccomp_violation *out) {
  const tp_seccomp_denial *d;
  if (si == NULL || out == NULL || si->si_signo != SIGSYS || si->si_code != SYS_SECCOMP)
    return -1;
  out->nr = si->si_syscall;
  out->arg0 = first_arg(ucontext);
  d = tp_seccomp_lookup(out->nr);
  if (d == NULL) {
    out->name = "unknown";
    out->reason = 0;
    out->kind = "unknown";
    return 0;
  }
  out->name = d->name;
  out->reason = pick_reason(d, out->arg0);
  out->kind = tp_seccomp_reason_name(out->reason);
  return 0;
}
