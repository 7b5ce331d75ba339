/*
** netns.c: the shared empty network namespace. See netns.h.
**
** A child is cloned straight into a new network namespace and waits on a
** pipe while the parent opens /proc/<child>/ns/net; then it exits. The
** open fd keeps the namespace alive without any process in it. The child
** makes raw system calls only, as the host may have threads.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int held = -1;

static int fail(char *err, size_t errlen, int code, const char *what, int e) {
  if (err && errlen) snprintf(err, errlen, "netns: %s: %s", what, strerror(e));
  return code;
}

static int create(char *err, size_t errlen) {
  int p[2], fd, e;
  char path[64], c;
  if (pipe2(p, O_CLOEXEC) != 0) return fail(err, errlen, TP_NETNS_ESYS, "pipe", errno);
  long pid = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, NULL, NULL, 0);
  if (pid == 0) {
    /* wait until the parent has opened our namespace (EOF) */
    syscall(SYS_close, p[1]);
    while (syscall(SYS_read, p[0], &c, 1) < 0) {}
    syscall(SYS_exit_group, 0);
  }
  e = errno;
  close(p[0]);
  if (pid < 0) {
    close(p[1]);
    return fail(err, errlen, e == EPERM ? TP_NETNS_EPERM : TP_NETNS_ESYS,
                "cannot create a network namespace", e);
  }
  snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  e = errno;
  close(p[1]);
  while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR) {}
  if (fd < 0) return fail(err, errlen, TP_NETNS_ESYS, path, e);
  return fd;
}

int tp_netns_fd(char *err, size_t errlen) {
  int fd;
  pthread_mutex_lock(&lock);
  if (held < 0) {
    fd = create(err, errlen);
    if (fd >= 0) held = fd;
  } else {
    fd = held;
  }
  pthread_mutex_unlock(&lock);
  return fd;
}

void tp_netns_release(void) {
  pthread_mutex_lock(&lock);
  if (held >= 0) close(held);
  held = -1;
  pthread_mutex_unlock(&lock);
}
