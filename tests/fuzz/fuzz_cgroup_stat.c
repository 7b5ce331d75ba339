/*
** fuzz_cgroup_stat.c: libFuzzer harness for the cpu.stat parser of
** core/sandbox/cgroup.c (tp_cgroup_parse_cpu_stat), which reads a file
** the kernel writes but whose shape differs between v1 and v2 and between
** kernels.
**
** The first byte chooses the format (even: v1, odd: v2); the rest is the
** file's text. The parser must not read past the text (ASan), must give
** the same figures twice, must leave the fields it does not own alone, and
** a text of exactly "nr_throttled N\n" (N decimal, fitting 63 bits) must
** give N.
**
**   make fuzz-build && build/fuzz/fuzz_cgroup_stat tests/fuzz/seeds/fuzz_cgroup_stat
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what) {
  fprintf(stderr, "fuzz_cgroup_stat: invariant violated: %s\n", what);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tp_cgroup_stats a, b;
  char *text;
  int version;
  if (size < 1) return 0;
  version = (data[0] & 1) ? 2 : 1;
  text = malloc(size);                  /* size - 1 bytes and a NUL */
  if (text == NULL) return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  a.memory_peak = b.memory_peak = 7;    /* not the parser's to touch */
  tp_cgroup_parse_cpu_stat(text, version, &a);
  tp_cgroup_parse_cpu_stat(text, version, &b);
  if (memcmp(&a, &b, sizeof a) != 0) fail("two parses differ");
  if (a.memory_peak != 7) fail("a memory field changed");
  {
    size_t len = strlen(text);           /* "nr_throttled " 1-18 digits "\n" */
    if (len >= 15 && len <= 32 && strncmp(text, "nr_throttled ", 13) == 0 &&
        text[len - 1] == '\n' && strspn(text + 13, "0123456789") == len - 14 &&
        a.nr_throttled != strtoull(text + 13, NULL, 10))
      fail("nr_throttled misread");
  }
  free(text);
  return 0;
}
