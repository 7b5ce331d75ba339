/*
** tp_test.h: a minimal TAP producer for the C unit tests.
** One TP_RUN(case) prints one "ok"/"not ok" line; checks inside a case
** print their failures as TAP comments and mark the case failed.
** Each test binary is built with ASan and UBSan (see Makefile).
*/
#ifndef TP_TEST_H
#define TP_TEST_H

#include <stdio.h>
#include <string.h>

static int tp_test_count;
static int tp_test_failures;
static int tp_case_failed;

#define TP_CHECK(cond) \
  tp_check_((cond) ? 1 : 0, __FILE__, __LINE__, "%s", #cond)
#define TP_CHECKF(cond, ...) \
  tp_check_((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)
#define TP_RUN(fn) tp_run_(fn, #fn)

__attribute__((format(printf, 4, 5)))
static void tp_check_(int ok, const char *file, int line, const char *fmt, ...);

#include <stdarg.h>

static void tp_check_(int ok, const char *file, int line, const char *fmt, ...) {
  va_list ap;
  if (ok) return;
  tp_case_failed = 1;
  printf("# %s:%d: check failed: ", file, line);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

static void tp_run_(void (*fn)(void), const char *name) {
  tp_case_failed = 0;
  fn();
  tp_test_count++;
  if (tp_case_failed) tp_test_failures++;
  printf("%s %d - %s\n", tp_case_failed ? "not ok" : "ok", tp_test_count, name);
  fflush(stdout);
}

/* Print the plan; the exit status says whether every case passed. */
static int tp_done(void) {
  printf("1..%d\n", tp_test_count);
  return tp_test_failures ? 1 : 0;
}

#endif
