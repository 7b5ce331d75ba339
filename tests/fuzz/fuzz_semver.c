/*
** fuzz_semver.c: libFuzzer harness for core/semver.h (versions and ranges).
**
** Input: RANGE, optionally a tab and a VERSION. Under both values of
** include_prerelease, a range that parses must print a canonical form that
** parses again to a range printing the same text and giving the same test
** result for the version under both flag values; intersects() on it must
** not crash and must not tell the range from its reparsed copy. A version
** that parses must print a form that parses to an equal version. A refusal
** must carry a known code, a position inside the input and an expectation.
** Any violated invariant aborts.
**
**   make fuzz-build && build/fuzz/fuzz_semver tests/fuzz/seeds/fuzz_semver
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "semver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *s, size_t n) {
  fprintf(stderr, "fuzz_semver: invariant violated: %s\n  input: \"%.*s\"\n",
          what, (int)(n > 300 ? 300 : n), s);
  abort();
}

#define CHECK(cond, what, s, n) do { if (!(cond)) fail(what, s, n); } while (0)

static void check_error(const tp_semver_error *e, int rc, const char *s, size_t n) {
  CHECK(rc == TP_SEMVER_ESYNTAX || rc == TP_SEMVER_ERANGE || rc == TP_SEMVER_ETOOLONG,
        "refusal code is ESYNTAX, ERANGE or ETOOLONG (never ENOSPC with bound arrays)", s, n);
  CHECK(e->code == rc, "error code matches the return value", s, n);
  CHECK(e->pos <= n, "error position lies inside the input (or at its end)", s, n);
  CHECK(e->expected != NULL && e->expected[0] != '\0', "error names what was expected", s, n);
}

/* A range with arrays sized by tp_semver_range_bound for len bytes. */
typedef struct holder {
  tp_semver_range r;
} holder;

static int range_parse(holder *h, const char *s, size_t len, int flags, tp_semver_error *e) {
  uint32_t capcmp, capset;
  tp_semver_range_bound(len, &capcmp, &capset);
  memset(&h->r, 0, sizeof h->r);
  h->r.cmp = malloc((capcmp ? capcmp : 1) * sizeof *h->r.cmp);
  h->r.end = malloc((capset ? capset : 1) * sizeof *h->r.end);
  if (!h->r.cmp || !h->r.end) abort();
  h->r.capcmp = capcmp;
  h->r.capset = capset;
  return tp_semver_range_parse(&h->r, s, len, flags, e);
}

static void range_free(holder *h) {
  free(h->r.cmp);
  free(h->r.end);
}

/* The canonical text of r, malloc'ed; checks the snprintf contract. */
static char *range_text(const tp_semver_range *r, size_t *n, const char *s, size_t len) {
  char small[8];
  size_t need = tp_semver_range_format(r, NULL, 0);
  char *buf = malloc(need + 1);
  if (!buf) abort();
  CHECK(tp_semver_range_format(r, buf, need + 1) == need, "range_format returns its full length", s, len);
  CHECK(strlen(buf) == need, "range_format writes what it says", s, len);
  CHECK(tp_semver_range_format(r, small, sizeof small) == need, "a short buffer still gets the full length", s, len);
  CHECK(strlen(small) < sizeof small, "a short buffer is terminated", s, len);
  *n = need;
  return buf;
}

static void check_shape(const tp_semver_range *r, const char *s, size_t len) {
  uint32_t i;
  CHECK(r->nset >= 1, "a parsed range has at least one set", s, len);
  CHECK(r->nset <= r->capset && r->ncmp <= r->capcmp, "the range fits its arrays", s, len);
  for (i = 0; i < r->nset; i++)
    CHECK(r->end[i] <= r->ncmp && (i == 0 || r->end[i] >= r->end[i - 1]),
          "set ends ascend within the comparators", s, len);
  CHECK(r->end[r->nset - 1] == r->ncmp, "the last set ends at the last comparator", s, len);
}

/* node rewrites the literal comparator ">=0.0.0" (">=0.0.0-0" when
** including prereleases) to "any", but not ">=v0.0.0", so "v0.0.0 - 1"
** prints ">=0.0.0 <2.0.0-0", which reads back as "<2.0.0-0": the one
** place where the canonical form is not a fixed point (ours as node's).
** Such a form must be one after a second round. */
static int has_gte0(const char *text, int flags) {
  const char *tok = flags & TP_SEMVER_INCLUDE_PRERELEASE ? ">=0.0.0-0" : ">=0.0.0";
  size_t n = strlen(tok);
  const char *p = text;
  while ((p = strstr(p, tok)) != NULL) {
    if ((p == text || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) return 1;
    p += n;
  }
  return 0;
}

static void fuzz_range(const char *s, size_t len, const tp_semver *v, int flags) {
  holder a, b;
  tp_semver_error e;
  char *text, *text2;
  size_t n, n2;
  char *keep[2] = {NULL, NULL};  /* texts a points into */
  int rounds = 0;
  int rc = range_parse(&a, s, len, flags, &e);
  if (rc) {
    check_error(&e, rc, s, len);
    range_free(&a);
    return;
  }
  check_shape(&a.r, s, len);
  text = range_text(&a.r, &n, s, len);
  /* A canonical form longer than our input limit cannot be read back;
  ** that is the limit, not a bug. */
  while (n <= TP_SEMVER_RANGE_MAX_LENGTH && has_gte0(text, flags) && rounds < 2) {
    range_free(&a);
    rc = range_parse(&a, text, n, flags, &e);
    CHECK(rc == 0, "the canonical form parses again", s, len);
    keep[rounds++] = text;
    text = range_text(&a.r, &n, s, len);
    v = NULL;  /* the rewrite may change which prereleases of 0.0.0 match */
  }
  if (n <= TP_SEMVER_RANGE_MAX_LENGTH) {
    rc = range_parse(&b, text, n, flags, &e);
    if (rc) {
      fprintf(stderr, "canonical form \"%s\" refused at %zu: expected %s\n", text, e.pos,
              e.expected ? e.expected : "?");
      fail("the canonical form parses again", s, len);
    }
    check_shape(&b.r, text, n);
    text2 = range_text(&b.r, &n2, s, len);
    if (n2 != n || memcmp(text, text2, n) != 0) {
      fprintf(stderr, "first \"%s\"\nthen  \"%s\"\n", text, text2);
      fail("the canonical form is a fixed point", s, len);
    }
    if (v) {
      CHECK(tp_semver_range_test(&a.r, v, 0) == tp_semver_range_test(&b.r, v, 0),
            "the reparsed range tests the version alike (default)", s, len);
      CHECK(tp_semver_range_test(&a.r, v, TP_SEMVER_INCLUDE_PRERELEASE) ==
            tp_semver_range_test(&b.r, v, TP_SEMVER_INCLUDE_PRERELEASE),
            "the reparsed range tests the version alike (include_prerelease)", s, len);
    }
    CHECK(tp_semver_range_intersects(&a.r, &b.r, flags) ==
          tp_semver_range_intersects(&a.r, &a.r, flags),
          "intersects() cannot tell the range from its reparsed copy", s, len);
    (void)tp_semver_range_intersects(&b.r, &a.r, flags);
    (void)tp_semver_range_intersects(&a.r, &b.r, flags ^ TP_SEMVER_INCLUDE_PRERELEASE);
    free(text2);
    range_free(&b);
  } else {
    (void)tp_semver_range_intersects(&a.r, &a.r, flags);
  }
  free(text);
  free(keep[0]);
  free(keep[1]);
  range_free(&a);
}

/* A version: its printed form parses to an equal version. */
static int fuzz_version(const char *s, size_t len, tp_semver *v) {
  tp_semver_error e;
  tp_semver w;
  char buf[TP_SEMVER_MAX_LENGTH + 64];
  size_t n;
  int rc = tp_semver_parse(v, s, len, &e);
  if (rc) {
    check_error(&e, rc, s, len);
    return 0;
  }
  n = tp_semver_format(v, NULL, 0);
  CHECK(n < sizeof buf, "a version prints within its length limit", s, len);
  CHECK(tp_semver_format(v, buf, sizeof buf) == n && strlen(buf) == n,
        "format returns and writes its full length", s, len);
  rc = tp_semver_parse(&w, buf, n, &e);
  CHECK(rc == 0, "the printed version parses again", s, len);
  CHECK(tp_semver_compare(v, &w) == 0 && tp_semver_compare(&w, v) == 0,
        "the printed version compares equal", s, len);
  CHECK(tp_semver_same(v, &w), "the printed version has the same numbers", s, len);
  CHECK(w.build == NULL, "the printed version has no build metadata", s, len);
  CHECK(tp_semver_compare_build(v, v) == 0, "compare_build is reflexive", s, len);
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  const char *tab = memchr(s, '\t', size);
  size_t rlen = tab ? (size_t)(tab - s) : size;
  tp_semver v, rv;
  int have_v = 0;

  if (tab) have_v = fuzz_version(tab + 1, size - rlen - 1, &v);
  /* The range text may itself be a version: compare the two both ways. */
  if (fuzz_version(s, rlen, &rv) && have_v) {
    CHECK(tp_semver_compare(&v, &rv) == -tp_semver_compare(&rv, &v), "compare is antisymmetric", s, size);
    CHECK(tp_semver_compare_build(&v, &rv) == -tp_semver_compare_build(&rv, &v),
          "compare_build is antisymmetric", s, size);
    CHECK(tp_semver_compare(&v, &rv) == 0 || tp_semver_compare_build(&v, &rv) == tp_semver_compare(&v, &rv),
          "compare_build refines compare", s, size);
  }
  fuzz_range(s, rlen, have_v ? &v : NULL, 0);
  fuzz_range(s, rlen, have_v ? &v : NULL, TP_SEMVER_INCLUDE_PRERELEASE);
  return 0;
}
