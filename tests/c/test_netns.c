/*
** test_netns.c: the shared network namespace is empty. A forked child
** that enters it finds only a loopback that is down, cannot reach a
** listener on the host's 127.0.0.1, and cannot resolve anything by IP.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/netns.h"
#include "tp_test.h"

static int in_ns_child(int nsfd, int port) {
  struct sockaddr_in a;
  char buf[4096];
  if (setns(nsfd, CLONE_NEWNET) != 0) return 1;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return 2;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) return 3;
  if (errno != ENETUNREACH) return 4;
  close(s);
  /* UDP to a public address: no route */
  s = socket(AF_INET, SOCK_DGRAM, 0);
  a.sin_addr.s_addr = inet_addr("1.1.1.1");
  a.sin_port = htons(53);
  if (sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a) >= 0) return 5;
  close(s);
  /* only lo, and it is down */
  int fd = open("/proc/self/net/dev", O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (n <= 0) return 6;
  buf[n] = 0;
  int lines = 0;
  for (char *p = buf; *p; p++) lines += *p == '\n';
  close(fd);
  if (lines != 3 || !strstr(buf, "lo:")) return 7;
  return 0;
}

static void test_same_fd(void) {
  char err[256];
  int a = tp_netns_fd(err, sizeof err), b = tp_netns_fd(err, sizeof err);
  TP_CHECKF(a >= 0, "%s", err);
  TP_CHECK(a == b);
  struct stat s1, s2;
  TP_CHECK(fstat(a, &s1) == 0);
  TP_CHECK(stat("/proc/self/ns/net", &s2) == 0);
  TP_CHECK(s1.st_ino != s2.st_ino);     /* not the host's namespace */
  tp_netns_release();
  int c = tp_netns_fd(err, sizeof err);
  TP_CHECK(c >= 0);
  tp_netns_release();
}

static void test_no_route(void) {
  char err[256];
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int st, l = socket(AF_INET, SOCK_STREAM, 0);
  int ns = tp_netns_fd(err, sizeof err);
  TP_CHECKF(ns >= 0, "%s", err);
  if (ns < 0) return;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  TP_CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 1) == 0);
  TP_CHECK(getsockname(l, (struct sockaddr *)&a, &len) == 0);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) _exit(in_ns_child(ns, ntohs(a.sin_port)));
  waitpid(pid, &st, 0);
  TP_CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child step %d", WEXITSTATUS(st));
  close(l);
  tp_netns_release();
}

int main(void) {
  if (geteuid() != 0) {
    printf("1..0 # SKIP creating a network namespace needs root\n");
    return 0;
  }
  TP_RUN(test_same_fd);
  TP_RUN(test_no_route);
  return tp_done();
}
