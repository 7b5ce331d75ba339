/*
** landlock.c: the worker's file system and TCP view. See landlock.h.
**
** The kernel structures are declared here rather than taken from
** <linux/landlock.h>: the installed header may be older than the kernel
** (Debian 12's stops at ABI 2) and the size passed to
** landlock_create_ruleset tells the kernel which fields we know.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

#define FS_EXECUTE     (1ULL << 0)
#define FS_WRITE_FILE  (1ULL << 1)
#define FS_READ_FILE   (1ULL << 2)
#define FS_READ_DIR    (1ULL << 3)
#define FS_REMOVE_DIR  (1ULL << 4)
#define FS_REMOVE_FILE (1ULL << 5)
#define FS_MAKE_CHAR   (1ULL << 6)
#define FS_MAKE_DIR    (1ULL << 7)
#define FS_MAKE_REG    (1ULL << 8)
#define FS_MAKE_SOCK   (1ULL << 9)
#define FS_MAKE_FIFO   (1ULL << 10)
#define FS_MAKE_BLOCK  (1ULL << 11)
#define FS_MAKE_SYM    (1ULL << 12)
#define FS_REFER       (1ULL << 13)   /* ABI 2 */
#define FS_TRUNCATE    (1ULL << 14)   /* ABI 3 */
#define FS_IOCTL_DEV   (1ULL << 15)   /* ABI 5 */
#define NET_BIND_TCP    (1ULL << 0)   /* ABI 4 */
#define NET_CONNECT_TCP (1ULL << 1)
#define SCOPE_ABSTRACT_UNIX (1ULL << 0)  /* ABI 6 */
#define SCOPE_SIGNAL        (1ULL << 1)
#define RULE_PATH_BENEATH 1
#define CREATE_VERSION 1U

/* Rights that make sense on a file rather than a directory. */
#define FS_FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | \
                        FS_TRUNCATE | FS_IOCTL_DEV)

#define R_READ  (FS_READ_FILE | FS_READ_DIR)
#define R_EXEC  (R_READ | FS_EXECUTE)
#define R_WRITE (R_READ | FS_WRITE_FILE | FS_TRUNCATE | FS_REMOVE_DIR | \
                 FS_REMOVE_FILE | FS_MAKE_DIR | FS_MAKE_REG | FS_MAKE_SYM | \
                 FS_MAKE_SOCK | FS_MAKE_FIFO | FS_REFER)

struct ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;   /* ABI 4 */
  uint64_t scoped;               /* ABI 6 */
};

struct path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

int tp_landlock_abi(void) {
  long v = syscall(__NR_landlock_create_ruleset, NULL, 0, CREATE_VERSION);
  return v < 0 ? 0 : (int)v;
}

uint64_t tp_landlock_fs_rights(int abi) {
  uint64_t r;
  if (abi < 1) return 0;
  r = (FS_MAKE_SYM << 1) - 1;            /* ABI 1: bits 0-12 */
  if (abi >= 2) r |= FS_REFER;
  if (abi >= 3) r |= FS_TRUNCATE;
  if (abi >= 5) r |= FS_IOCTL_DEV;
  return r;
}

/* The worker's needs: [path, rights]; absent ones are skipped. */
static const struct { const char *path; uint64_t rights; } defaults[] = {
  { "/usr", R_EXEC }, { "/lib", R_EXEC }, { "/lib64", R_EXEC },
  { "/lib32", R_EXEC }, { "/etc/ld.so.cache", R_READ },
  { "/etc/localtime", R_READ }, { "/dev/urandom", R_READ },
  { "/dev/null", R_READ | FS_WRITE_FILE | FS_TRUNCATE },
};

typedef struct state {
  int fd;
  uint64_t handled;
  tp_landlock_result *res;
  char *err;
  size_t errlen;
} state;

static int fail(state *s, int code, const char *what, const char *path, int e) {
  if (s->err && s->errlen) {
    if (e) snprintf(s->err, s->errlen, "landlock: %s '%s': %s", what, path, strerror(e));
    else snprintf(s->err, s->errlen, "landlock: %s '%s'", what, path);
  }
  return code;
}

/* One rule. O_PATH opens without reading, so a path we may not read yet
** (before the ruleset) still gets its rule; a file gets file rights only,
** as the kernel requires. */
static int add_path(state *s, const char *path, uint64_t rights, int optional) {
  struct path_beneath_attr pb;
  struct stat st;
  int fd, e;
  if (path == NULL || path[0] != '/')
    return fail(s, TP_LANDLOCK_EINVAL, "not an absolute path", path ? path : "(null)", 0);
  fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    e = errno;
    if (optional && e == ENOENT) return 0;
    return fail(s, e == ENOENT ? TP_LANDLOCK_ENOENT : TP_LANDLOCK_ERULE,
                "cannot open", path, e);
  }
  if (fstat(fd, &st) != 0) {
    e = errno;
    close(fd);
    return fail(s, TP_LANDLOCK_ERULE, "cannot stat", path, e);
  }
  if (!S_ISDIR(st.st_mode)) rights &= FS_FILE_RIGHTS;
  pb.allowed_access = rights & s->handled;
  pb.parent_fd = fd;
  if (syscall(__NR_landlock_add_rule, s->fd, RULE_PATH_BENEATH, &pb, 0) != 0) {
    e = errno;
    close(fd);
    return fail(s, TP_LANDLOCK_ERULE, "rule refused for", path, e);
  }
  close(fd);
  if (s->res) s->res->rules++;
  return 0;
}

static int add_list(state *s, const char *const *paths, size_t n, uint64_t rights) {
  if (n > TP_LANDLOCK_MAX_PATHS)
    return fail(s, TP_LANDLOCK_EINVAL, "too many paths, first", paths[0], 0);
  for (size_t i = 0; i < n; i++) {
    int rc = add_path(s, paths[i], rights, 0);
    if (rc < 0) return rc;
  }
  return 0;
}

static int add_rules(state *s, const tp_landlock_config *cfg) {
  int rc;
  if (cfg->defaults)
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
      if ((rc = add_path(s, defaults[i].path, defaults[i].rights, 1)) < 0) return rc;
  if ((rc = add_list(s, cfg->read, cfg->nread, R_READ)) < 0) return rc;
  if ((rc = add_list(s, cfg->exec, cfg->nexec, R_EXEC)) < 0) return rc;
  return add_list(s, cfg->write, cfg->nwrite, R_WRITE);
}

/* The ruleset for abi: the attribute size tells the kernel which fields
** we fill, so an older kernel never sees the newer ones. */
static int create_ruleset(state *s, const tp_landlock_config *cfg, int abi) {
  struct ruleset_attr ra = { 0, 0, 0 };
  size_t size = sizeof ra.handled_access_fs;
  ra.handled_access_fs = s->handled;
  if (abi >= 4 && cfg->no_net) {
    ra.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
    size = offsetof(struct ruleset_attr, scoped);
  }
  if (abi >= 6 && cfg->scope) {
    ra.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL;
    size = sizeof ra;
  }
  s->fd = (int)syscall(__NR_landlock_create_ruleset, &ra, size, 0);
  if (s->fd < 0) return fail(s, TP_LANDLOCK_ERULE, "cannot create the ruleset", "", errno);
  if (s->res) {
    s->res->net = ra.handled_access_net != 0;
    s->res->scoped = ra.scoped != 0;
  }
  return 0;
}

int tp_landlock_apply(const tp_landlock_config *cfg, tp_landlock_result *res,
                      char *err, size_t errlen) {
  state s = { -1, 0, res, err, errlen };
  int abi = tp_landlock_abi(), rc;
  if (res) memset(res, 0, sizeof *res);
  if (abi < 1) return fail(&s, TP_LANDLOCK_ENOTSUP, "not available", "", 0);
  s.handled = tp_landlock_fs_rights(abi);
  if (res) { res->abi = abi; res->fs_handled = s.handled; }
  if ((rc = create_ruleset(&s, cfg, abi)) < 0) return rc;
  rc = add_rules(&s, cfg);
  if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    rc = fail(&s, TP_LANDLOCK_ERESTRICT, "no_new_privs", "", errno);
  if (rc == 0 && syscall(__NR_landlock_restrict_self, s.fd, 0) != 0)
    rc = fail(&s, TP_LANDLOCK_ERESTRICT, "cannot restrict", "", errno);
  close(s.fd);
  return rc;
}
