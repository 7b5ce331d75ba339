/*
** sandbox_rt.c: the physical floors of the sandbox benchmarks
** (scripts/bench/sandbox.sh).
**
**   sandbox_rt rt N PLACEMENT   a 64-byte round trip over a socketpair
**                               between two processes, N times; PLACEMENT
**                               "same" (both on CPU 0), "cross" (CPU 0 and
**                               1), "free" (the scheduler decides).
**                               Prints "p50_us p99_us".
**   sandbox_rt exec N PATH      fork + exec PATH + wait, N times. Prints
**                               "p50_us p99_us".
**   sandbox_rt true             exits 0 (the static binary to exec)
*/
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void pin(int cpu) {
  cpu_set_t s;
  if (cpu < 0) return;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  sched_setaffinity(0, sizeof s, &s);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void report(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp);
  printf("%.2f %.2f\n", t[n / 2], t[(int)(n * 0.99)]);
}

int main(int argc, char **argv) {
  int n = argc > 2 ? atoi(argv[2]) : 0, i;
  double *t;
  if (argc > 1 && strcmp(argv[1], "true") == 0) return 0;
  if (argc < 4 || n <= 0) {
    fprintf(stderr, "usage: sandbox_rt rt N same|cross|free | exec N PATH | true\n");
    return 2;
  }
  t = calloc((size_t)n, sizeof *t);
  if (strcmp(argv[1], "rt") == 0) {
    int sv[2], a = -1, b = -1;
    char buf[64];
    pid_t pid;
    if (strcmp(argv[3], "same") == 0) a = b = 0;
    else if (strcmp(argv[3], "cross") == 0) a = 0, b = 1;
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    memset(buf, 'x', sizeof buf);
    pid = fork();
    if (pid == 0) {
      pin(b);
      close(sv[0]);
      while (read(sv[1], buf, sizeof buf) == (ssize_t)sizeof buf)
        if (write(sv[1], buf, sizeof buf) != (ssize_t)sizeof buf) break;
      _exit(0);
    }
    pin(a);
    close(sv[1]);
    for (i = 0; i < n + 100; i++) {
      double t0 = now_us();
      if (write(sv[0], buf, sizeof buf) != (ssize_t)sizeof buf) return 1;
      if (read(sv[0], buf, sizeof buf) != (ssize_t)sizeof buf) return 1;
      if (i >= 100) t[i - 100] = now_us() - t0;
    }
    close(sv[0]);
    waitpid(pid, NULL, 0);
  } else {
    for (i = 0; i < n; i++) {
      double t0 = now_us();
      pid_t pid = fork();
      if (pid == 0) {
        execl(argv[3], argv[3], "true", (char *)NULL);
        _exit(127);
      }
      waitpid(pid, NULL, 0);
      t[i] = now_us() - t0;
    }
  }
  report(t, n);
  return 0;
}
