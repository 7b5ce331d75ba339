/*
** test_landlock.c: the worker's Landlock ruleset bites. Each case applies
** a ruleset in a forked child over a scratch tree and tries what it must
** stop; the child's exit status is the number of the first failed step.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/landlock.h"
#include "tp_test.h"

static char root[64];
static char p_allowed[128], p_other[128], p_rw[128];

static void mkfile(const char *dir, const char *name, const char *text) {
  char p[256];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  if (f) { fputs(text, f); fclose(f); }
}

static void setup_tree(void) {
  snprintf(root, sizeof root, "/tmp/tp-landlock-XXXXXX");
  if (mkdtemp(root) == NULL) { perror("mkdtemp"); exit(1); }
  chmod(root, 0755);
  snprintf(p_allowed, sizeof p_allowed, "%s/allowed", root);
  snprintf(p_other, sizeof p_other, "%s/other", root);
  snprintf(p_rw, sizeof p_rw, "%s/rw", root);
  mkdir(p_allowed, 0755); mkdir(p_other, 0755); mkdir(p_rw, 0755);
  mkfile(p_allowed, "a.txt", "allowed");
  mkfile(p_other, "b.txt", "secret");
}

static void remove_tree(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  if (system(cmd) != 0) printf("# could not remove %s\n", root);
}

typedef int (*child_fn)(void *);

/* Fork, apply cfg, run fn: the child's exit status (100 + code when the
** apply failed, with its message in err). */
static int run(const tp_landlock_config *cfg, child_fn fn, void *arg, char *err,
               size_t errlen) {
  int p[2], st;
  ssize_t n;
  if (pipe(p) != 0) return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char e[256] = "";
    tp_landlock_result res;
    close(p[0]);
    int rc = tp_landlock_apply(cfg, &res, e, sizeof e);
    if (rc != 0) {
      if (write(p[1], e, strlen(e)) < 0) _exit(99);
      _exit(100 - rc);
    }
    _exit(fn(arg));
  }
  close(p[1]);
  n = read(p[0], err, errlen - 1);
  err[n > 0 ? n : 0] = 0;
  close(p[0]);
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int denied(const char *path, int flags) {
  int fd = open(path, flags, 0644);
  if (fd >= 0) { close(fd); return 0; }
  return errno == EACCES;
}

static int can(const char *path, int flags) {
  int fd = open(path, flags, 0644);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

static int fs_child(void *arg) {
  char p[256], q[256];
  snprintf(p, sizeof p, "%s/a.txt", p_allowed);
  if (!can(p, O_RDONLY)) return 1;
  if (!denied(p, O_WRONLY)) return 2;
  snprintf(p, sizeof p, "%s/b.txt", p_other);
  if (!denied(p, O_RDONLY)) return 3;
  if (!denied("/etc/passwd", O_RDONLY)) return 4;
  snprintf(p, sizeof p, "%s/../other/b.txt", p_allowed);
  if (!denied(p, O_RDONLY)) return 5;
  snprintf(p, sizeof p, "%s/new.txt", p_rw);
  if (!can(p, O_WRONLY | O_CREAT)) return 6;
  snprintf(p, sizeof p, "%s/new.txt", p_allowed);
  if (!denied(p, O_WRONLY | O_CREAT)) return 7;
  /* a link in the writable dir to the other dir's file */
  snprintf(p, sizeof p, "%s/b.txt", p_other);
  snprintf(q, sizeof q, "%s/link", p_rw);
  if (symlink(p, q) != 0) return 8;
  if (!denied(q, O_RDONLY)) return 9;
  snprintf(q, sizeof q, "%s/hard", p_rw);
  if (link(p, q) == 0) return 10;          /* refer into rw from other */
  if (!can("/dev/null", O_WRONLY)) return 11;
  if (!can("/dev/urandom", O_RDONLY)) return 12;
  if (!can("/usr/lib/os-release", O_RDONLY) && !can("/etc/ld.so.cache", O_RDONLY))
    return 13;
  if (!denied("/tmp", O_RDONLY | O_DIRECTORY)) return 14;
  return 0;
}

static void test_abi(void) {
  int abi = tp_landlock_abi();
  printf("# landlock ABI %d\n", abi);
  TP_CHECK(abi >= 1);
  TP_CHECK(tp_landlock_fs_rights(0) == 0);
  TP_CHECK(tp_landlock_fs_rights(1) == 0x1fff);
  TP_CHECK(tp_landlock_fs_rights(3) == 0x7fff);
  TP_CHECK(tp_landlock_fs_rights(7) == 0xffff);
}

static void test_paths(void) {
  const char *rd[] = { p_allowed };
  const char *wr[] = { p_rw };
  tp_landlock_config c = { rd, 1, wr, 1, NULL, 0, 1, 0, 0 };
  char err[256];
  int rc = run(&c, fs_child, NULL, err, sizeof err);
  TP_CHECKF(rc == 0, "child step %d: %s", rc, err);
}

static void test_missing_path(void) {
  char missing[160];
  const char *rd[] = { p_allowed, missing };
  tp_landlock_config c = { rd, 2, NULL, 0, NULL, 0, 1, 0, 0 };
  char err[256];
  snprintf(missing, sizeof missing, "%s/nope", root);
  int rc = run(&c, fs_child, NULL, err, sizeof err);
  TP_CHECKF(rc == 100 - TP_LANDLOCK_ENOENT, "rc %d", rc);
  TP_CHECKF(strstr(err, missing) != NULL, "err: %s", err);
  rd[1] = "relative/dir";
  rc = run(&c, fs_child, NULL, err, sizeof err);
  TP_CHECKF(rc == 100 - TP_LANDLOCK_EINVAL, "rc %d %s", rc, err);
}

static int net_child(void *arg) {
  int port = *(int *)arg, s;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return 1;
  if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) return 2;
  if (errno != EACCES) return 3;
  close(s);
  s = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_port = 0;
  if (bind(s, (struct sockaddr *)&a, sizeof a) == 0) return 4;
  return 0;
}

static void test_no_net(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int l = socket(AF_INET, SOCK_STREAM, 0), port;
  char err[256];
  tp_landlock_config c = { NULL, 0, NULL, 0, NULL, 0, 1, 1, 0 };
  if (tp_landlock_abi() < 4) { printf("# skip: ABI < 4\n"); close(l); return; }
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  TP_CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
  TP_CHECK(listen(l, 1) == 0);
  TP_CHECK(getsockname(l, (struct sockaddr *)&a, &len) == 0);
  port = ntohs(a.sin_port);
  int rc = run(&c, net_child, &port, err, sizeof err);
  TP_CHECKF(rc == 0, "child step %d: %s", rc, err);
  close(l);
}

static int signal_child(void *arg) {
  if (kill(getppid(), 0) == 0) return 1;
  if (errno != EPERM) return 2;
  return 0;
}

static void test_scope_signals(void) {
  char err[256];
  tp_landlock_config c = { NULL, 0, NULL, 0, NULL, 0, 1, 0, 1 };
  if (tp_landlock_abi() < 6) { printf("# skip: ABI < 6\n"); return; }
  int rc = run(&c, signal_child, NULL, err, sizeof err);
  TP_CHECKF(rc == 0, "child step %d: %s", rc, err);
}

int main(void) {
  setup_tree();
  TP_RUN(test_abi);
  TP_RUN(test_paths);
  TP_RUN(test_missing_path);
  TP_RUN(test_no_net);
  TP_RUN(test_scope_signals);
  remove_tree();
  return tp_done();
}
