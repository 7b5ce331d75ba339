/*
** fuzz_probe.c: libFuzzer harness for the text parsers of
** core/sandbox/probe.c (/proc/self/mountinfo and /proc/self/cgroup). The
** kernel writes these files, but a container runtime controls what is
** mounted where, so the parsers must survive any bytes: counting and
** filling must agree, and every string they produce must be terminated.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/probe.h"

#define CAP 64

static void check_terminated(const char *s, size_t size) {
  if (memchr(s, '\0', size) == NULL) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static tp_probe_cgmount mounts[CAP];
  static tp_probe_cgpath paths[CAP];
  const char *text = (const char *)data;
  int n, m, i;

  /* both calls count every entry (as snprintf); only CAP are stored */
  n = tp_probe_parse_mountinfo(text, size, NULL, 0);
  m = tp_probe_parse_mountinfo(text, size, mounts, CAP);
  if (n < 0 || m != n) abort();
  for (i = 0; i < m && i < CAP; i++) {
    if (mounts[i].version != 1 && mounts[i].version != 2) abort();
    check_terminated(mounts[i].mountpoint, sizeof mounts[i].mountpoint);
    check_terminated(mounts[i].root, sizeof mounts[i].root);
    check_terminated(mounts[i].controllers, sizeof mounts[i].controllers);
    check_terminated(mounts[i].name, sizeof mounts[i].name);
  }

  n = tp_probe_parse_proc_cgroup(text, size, NULL, 0);
  m = tp_probe_parse_proc_cgroup(text, size, paths, CAP);
  if (n < 0 || m != n) abort();
  for (i = 0; i < m && i < CAP; i++) {
    check_terminated(paths[i].controllers, sizeof paths[i].controllers);
    check_terminated(paths[i].path, sizeof paths[i].path);
  }
  return 0;
}
