/*
** test_semver.c: core/semver.c against vectors computed with node-semver
** 7.8.5 (the oracle; tests/e2e/semver_diff.sh compares at scale), the
** SemVer 2.0.0 precedence example, and the inputs we refuse on purpose.
*/
#include <stdlib.h>

#include "semver.h"
#include "tp_test.h"

#define E_ "E"

/* range, canonical form, canonical form with include_prerelease ("E":
** invalid). Computed with node-semver's Range(...).range, '' shown as
** '*', '||' as ' || ', commas as blanks. */
static const char *const CANON[][3] = {
  {"^1.2.3", ">=1.2.3 <2.0.0-0", ">=1.2.3 <2.0.0-0"},
  {"^0.2.3", ">=0.2.3 <0.3.0-0", ">=0.2.3 <0.3.0-0"},
  {"^0.0.3", ">=0.0.3 <0.0.4-0", ">=0.0.3 <0.0.4-0"},
  {"^0.0.3-beta", ">=0.0.3-beta <0.0.4-0", ">=0.0.3-beta <0.0.4-0"},
  {"^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0", ">=1.2.3-beta.2 <2.0.0-0"},
  {"^1.2", ">=1.2.0 <2.0.0-0", ">=1.2.0-0 <2.0.0-0"},
  {"^0.2", ">=0.2.0 <0.3.0-0", ">=0.2.0-0 <0.3.0-0"},
  {"^0.0", "<0.1.0-0", "<0.1.0-0"},
  {"^1", ">=1.0.0 <2.0.0-0", ">=1.0.0-0 <2.0.0-0"},
  {"^0", "<1.0.0-0", "<1.0.0-0"},
  {"^*", "*", "*"},
  {"~1.2.3", ">=1.2.3 <1.3.0-0", ">=1.2.3 <1.3.0-0"},
  {"~1.2", ">=1.2.0 <1.3.0-0", ">=1.2.0-0 <1.3.0-0"},
  {"~1", ">=1.0.0 <2.0.0-0", ">=1.0.0-0 <2.0.0-0"},
  {"~0", "<1.0.0-0", "<1.0.0-0"},
  {"~>1.2.3", ">=1.2.3 <1.3.0-0", ">=1.2.3 <1.3.0-0"},
  {"~1.2.3-beta", ">=1.2.3-beta <1.3.0-0", ">=1.2.3-beta <1.3.0-0"},
  {"~ 1.2", ">=1.2.0 <1.3.0-0", ">=1.2.0-0 <1.3.0-0"},
  {"^ 1.2.3", ">=1.2.3 <2.0.0-0", ">=1.2.3 <2.0.0-0"},
  {"> 1.2.3", ">1.2.3", ">1.2.3"},
  {">=1.2.3 <2", ">=1.2.3 <2.0.0-0", ">=1.2.3 <2.0.0-0"},
  {"1.x", ">=1.0.0 <2.0.0-0", ">=1.0.0-0 <2.0.0-0"},
  {"1.2.x", ">=1.2.0 <1.3.0-0", ">=1.2.0-0 <1.3.0-0"},
  {"1.X", ">=1.0.0 <2.0.0-0", ">=1.0.0-0 <2.0.0-0"},
  {"1.*", ">=1.0.0 <2.0.0-0", ">=1.0.0-0 <2.0.0-0"},
  {"*", "*", "*"},
  {"x", "*", "*"},
  {">1", ">=2.0.0", ">=2.0.0-0"},
  {">1.2", ">=1.3.0", ">=1.3.0-0"},
  {">=1.2", ">=1.2.0", ">=1.2.0-0"},
  {"<1.2", "<1.2.0-0", "<1.2.0-0"},
  {"<=1.2", "<1.3.0-0", "<1.3.0-0"},
  {"<=1", "<2.0.0-0", "<2.0.0-0"},
  {">*", "<0.0.0-0", "<0.0.0-0"},
  {"<*", "<0.0.0-0", "<0.0.0-0"},
  {">=*", "*", "*"},
  {"<=*", "*", "*"},
  {"=1.2", ">=1.2.0 <1.3.0-0", ">=1.2.0-0 <1.3.0-0"},
  {"=1.2.3", "1.2.3", "1.2.3"},
  {"1.2.3", "1.2.3", "1.2.3"},
  {"v1.2.3", "1.2.3", "1.2.3"},
  {">=v1.2.3", ">=1.2.3", ">=1.2.3"},
  {"1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4", ">=1.2.3-0 <2.3.5-0"},
  {"1.2 - 2.3.4", ">=1.2.0 <=2.3.4", ">=1.2.0-0 <2.3.5-0"},
  {"1.2.3 - 2.3", ">=1.2.3 <2.4.0-0", ">=1.2.3-0 <2.4.0-0"},
  {"1.2.3 - 2", ">=1.2.3 <3.0.0-0", ">=1.2.3-0 <3.0.0-0"},
  {"* - 2", "<3.0.0-0", "<3.0.0-0"},
  {"1.2.3 - *", ">=1.2.3", ">=1.2.3-0"},
  {"1.2.3-beta - 2.3.4-rc.1", ">=1.2.3-beta <=2.3.4-rc.1", ">=1.2.3-beta <=2.3.4-rc.1"},
  {">=0.0.0", "*", ">=0.0.0"},
  {">=0.0.0-0", ">=0.0.0-0", "*"},
  {"<0.0.0-0", "<0.0.0-0", "<0.0.0-0"},
  {">=1.0.0 <0.0.0-0 || 1.2.3", "1.2.3", "1.2.3"},
  {"<0.0.0-0 || <0.0.0-0", "<0.0.0-0", "<0.0.0-0"},
  {"1.2.3 || *", "*", "*"},
  {"1.2.3 || <0.0.0-0", "1.2.3", "1.2.3"},
  {">=1.0.0 >=1.0.0 <2", ">=1.0.0 <2.0.0-0", ">=1.0.0 <2.0.0-0"},
  {">=1.0.0 * <2", ">=1.0.0 <2.0.0-0", ">=1.0.0 <2.0.0-0"},
  {"1.2.3+build", "1.2.3", "1.2.3"},
  {">=1.2.3+build.1 <2.0.0+x", ">=1.2.3 <2.0.0", ">=1.2.3 <2.0.0"},
  {">=1.0.0,<2.0.0", ">=1.0.0 <2.0.0", ">=1.0.0 <2.0.0"},
  {"^1.2.3 || ~2.3 || 3.x || 4.5.6 - 7", ">=1.2.3 <2.0.0-0 || >=2.3.0 <2.4.0-0 || >=3.0.0 <4.0.0-0 || >=4.5.6 <8.0.0-0", ">=1.2.3 <2.0.0-0 || >=2.3.0-0 <2.4.0-0 || >=3.0.0-0 <4.0.0-0 || >=4.5.6-0 <8.0.0-0"},
  {"9007199254740991.0.0", "9007199254740991.0.0", "9007199254740991.0.0"},
  {"^9007199254740991.0.0", E_, E_},
  {"~1.9007199254740991", E_, E_},
  {"<=9007199254740991", E_, E_},
  {">=v0.0.0 <=0.0.0-beta", ">=0.0.0 <=0.0.0-beta", ">=0.0.0 <=0.0.0-beta"},
  {"v0.0.0 - 1", ">=0.0.0 <2.0.0-0", ">=0.0.0-0 <2.0.0-0"},
  {"0.0.0 - 1", "<2.0.0-0", "<2.0.0-0"},
  /* found by tests/e2e/semver_diff.sh: "any" from >=0 kept a version */
  {">=0 *", "*", "*"},
  {">=0 x || >x", "*", "*"},
  {"^x >=0.0 || 1.2.3", "*", "*"},
};

/* range, version, include_prerelease, verdict ('1', '0', 'E'). */
static const struct { const char *range, *version; int incpr; char want; } SAT[] = {
  {"^1.2.3", "1.2.3", 0, '1'},
  {"^1.2.3", "1.2.3", 1, '1'},
  {"^1.2.3", "1.9.9", 0, '1'},
  {"^1.2.3", "1.9.9", 1, '1'},
  {"^1.2.3", "2.0.0", 0, '0'},
  {"^1.2.3", "2.0.0", 1, '0'},
  {"^1.2.3", "2.0.0-0", 0, '0'},
  {"^1.2.3", "2.0.0-0", 1, '0'},
  {"^1.2.3", "1.2.4-beta", 0, '0'},
  {"^1.2.3", "1.2.4-beta", 1, '1'},
  {"^1.2.3-beta.2", "1.2.3-beta.4", 0, '1'},
  {"^1.2.3-beta.2", "1.2.3-beta.4", 1, '1'},
  {"^1.2.3-beta.2", "1.2.3-beta.1", 0, '0'},
  {"^1.2.3-beta.2", "1.2.3-beta.1", 1, '0'},
  {"^1.2.3-beta.2", "1.2.4-beta.3", 0, '0'},
  {"^1.2.3-beta.2", "1.2.4-beta.3", 1, '1'},
  {"~1.2", "1.2.99", 0, '1'},
  {"~1.2", "1.2.99", 1, '1'},
  {"~1.2", "1.3.0", 0, '0'},
  {"~1.2", "1.3.0", 1, '0'},
  {"1.x", "1.0.0-rc.1", 0, '0'},
  {"1.x", "1.0.0-rc.1", 1, '1'},
  {">=1.0.0", "2.0.0-alpha", 0, '0'},
  {">=1.0.0", "2.0.0-alpha", 1, '1'},
  {"*", "1.0.0-alpha", 0, '0'},
  {"*", "1.0.0-alpha", 1, '1'},
  {">=1.0.0-0 <2", "1.5.0-x", 0, '0'},
  {">=1.0.0-0 <2", "1.5.0-x", 1, '1'},
  {">=1.0.0-0 <2", "1.0.0-x", 0, '1'},
  {">=1.0.0-0 <2", "1.0.0-x", 1, '1'},
  {"<0.0.0-0", "0.0.0-0", 0, '0'},
  {"<0.0.0-0", "0.0.0-0", 1, '0'},
  {"1.2.3 - 2.3.4", "2.3.4", 0, '1'},
  {"1.2.3 - 2.3.4", "2.3.4", 1, '1'},
  {"1.2.3 - 2.3.4", "2.3.5", 0, '0'},
  {"1.2.3 - 2.3.4", "2.3.5", 1, '0'},
  {"1.2.3 - 2.3", "2.3.9", 0, '1'},
  {"1.2.3 - 2.3", "2.3.9", 1, '1'},
  {"<=1.2", "1.2.9", 0, '1'},
  {"<=1.2", "1.2.9", 1, '1'},
  {">1.2", "1.2.9", 0, '0'},
  {">1.2", "1.2.9", 1, '0'},
  {">1.2", "1.3.0", 0, '1'},
  {">1.2", "1.3.0", 1, '1'},
  {"=1.2.3", "v1.2.3", 0, '1'},
  {"=1.2.3", "v1.2.3", 1, '1'},
  {"1.2.3", "1.2.3+build", 0, '1'},
  {"1.2.3", "1.2.3+build", 1, '1'},
  {" 1.2.3 ", "  1.2.3\t", 0, '1'},
  {" 1.2.3 ", "  1.2.3\t", 1, '1'},
  {"^0.0.3", "0.0.4", 0, '0'},
  {"^0.0.3", "0.0.4", 1, '0'},
  {"^0.0.3", "0.0.3", 0, '1'},
  {"^0.0.3", "0.0.3", 1, '1'},
  {">=0.0.0", "0.0.0-alpha", 0, '0'},
  {">=0.0.0", "0.0.0-alpha", 1, '0'},
  {"1.0.0-alpha < 1", "x", 0, 'E'},
  {"1.0.0-alpha < 1", "x", 1, 'E'},
};

static int parse_range(tp_semver_range *r, const char *s, int flags, tp_semver_error *e) {
  size_t len = strlen(s);
  tp_semver_range_bound(len, &r->capcmp, &r->capset);
  r->cmp = calloc(r->capcmp, sizeof *r->cmp);
  r->end = calloc(r->capset, sizeof *r->end);
  return tp_semver_range_parse(r, s, len, flags, e);
}

static void free_range(tp_semver_range *r) {
  free(r->cmp);
  free(r->end);
}

static void canonical_forms(void) {
  size_t i;
  for (i = 0; i < sizeof CANON / sizeof CANON[0]; i++) {
    int flags;
    for (flags = 0; flags <= 1; flags++) {
      tp_semver_range r;
      tp_semver_error e;
      char buf[256];
      int rc = parse_range(&r, CANON[i][0], flags, &e);
      const char *want = CANON[i][1 + flags];
      if (strcmp(want, E_) == 0) {
        TP_CHECKF(rc < 0, "'%s' (flags %d) should be invalid", CANON[i][0], flags);
      } else {
        TP_CHECKF(rc == 0, "'%s' (flags %d) failed at %zu: %s", CANON[i][0], flags,
                  e.pos, rc ? e.expected : "");
        if (rc == 0) {
          tp_semver_range_format(&r, buf, sizeof buf);
          TP_CHECKF(strcmp(buf, want) == 0, "'%s' (flags %d): got '%s', want '%s'",
                    CANON[i][0], flags, buf, want);
        }
      }
      free_range(&r);
    }
  }
}

static void satisfaction(void) {
  size_t i;
  for (i = 0; i < sizeof SAT / sizeof SAT[0]; i++) {
    tp_semver_range r;
    tp_semver_error e;
    tp_semver v;
    int flags = SAT[i].incpr ? TP_SEMVER_INCLUDE_PRERELEASE : 0;
    char got = 'E';
    if (parse_range(&r, SAT[i].range, flags, &e) == 0 &&
        tp_semver_parse(&v, SAT[i].version, strlen(SAT[i].version), &e) == 0)
      got = tp_semver_range_test(&r, &v, flags) ? '1' : '0';
    TP_CHECKF(got == SAT[i].want, "'%s' vs '%s' (flags %d): got %c, want %c",
              SAT[i].range, SAT[i].version, flags, got, SAT[i].want);
    free_range(&r);
  }
}

/* SemVer 2.0.0 section 11, in ascending order, plus numeric identifiers
** past 64 bits, which compare as digit strings. */
static void precedence(void) {
  static const char *const order[] = {
    "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
    "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1",
    "1.1.0-0", "1.1.0-99999999999999999999", "1.1.0-100000000000000000000",
    "1.1.0-a", "1.1.0", "2.0.0", "9007199254740991.0.0",
  };
  size_t i, j, n = sizeof order / sizeof order[0];
  for (i = 0; i < n; i++) {
    for (j = 0; j < n; j++) {
      tp_semver a, b;
      int want = i < j ? -1 : i > j, got;
      TP_CHECK(tp_semver_parse(&a, order[i], strlen(order[i]), NULL) == 0);
      TP_CHECK(tp_semver_parse(&b, order[j], strlen(order[j]), NULL) == 0);
      got = tp_semver_compare(&a, &b);
      TP_CHECKF(got == want, "compare(%s, %s) = %d, want %d", order[i], order[j], got, want);
    }
  }
}

static void build_metadata(void) {
  tp_semver a, b, c;
  TP_CHECK(tp_semver_parse(&a, "1.0.0+b.2", 9, NULL) == 0);
  TP_CHECK(tp_semver_parse(&b, "1.0.0+b.10", 10, NULL) == 0);
  TP_CHECK(tp_semver_parse(&c, "1.0.0", 5, NULL) == 0);
  TP_CHECK(tp_semver_compare(&a, &b) == 0);      /* ignored for precedence */
  TP_CHECK(tp_semver_compare_build(&a, &b) < 0); /* but sorts: 2 < 10 */
  TP_CHECK(tp_semver_compare_build(&c, &a) < 0); /* none before some */
  TP_CHECK(tp_semver_compare_build(&b, &b) == 0);
}

static void versions(void) {
  static const struct { const char *s; const char *canon; } ok[] = {
    {"1.2.3", "1.2.3"}, {" v1.2.3\t", "1.2.3"}, {"0.0.0-0", "0.0.0-0"},
    {"1.2.3-a-b.0.c--", "1.2.3-a-b.0.c--"}, {"1.2.3+001.x", "1.2.3"},
    {"1.2.3-0a", "1.2.3-0a"}, {"9007199254740991.9007199254740991.0", "9007199254740991.9007199254740991.0"},
  };
  static const struct { const char *s; size_t pos; int code; } bad[] = {
    {"", 0, TP_SEMVER_ESYNTAX}, {"1.2", 3, TP_SEMVER_ESYNTAX},
    {"01.2.3", 0, TP_SEMVER_ESYNTAX}, {"1.2.3-01", 6, TP_SEMVER_ESYNTAX},
    {"1.2.3-", 6, TP_SEMVER_ESYNTAX}, {"1.2.3-a..b", 8, TP_SEMVER_ESYNTAX},
    {"1.2.3+", 6, TP_SEMVER_ESYNTAX}, {"1.2.3.4", 5, TP_SEMVER_ESYNTAX},
    {"=1.2.3", 0, TP_SEMVER_ESYNTAX}, {"vv1.2.3", 1, TP_SEMVER_ESYNTAX},
    {"V1.2.3", 0, TP_SEMVER_ESYNTAX}, {"1.2.3 x", 6, TP_SEMVER_ESYNTAX},
    {"9007199254740992.0.0", 0, TP_SEMVER_ERANGE},
    {"1.99999999999999999999999.0", 2, TP_SEMVER_ERANGE},
    {"1.2.3-\xc3\xa9", 6, TP_SEMVER_ESYNTAX},
  };
  size_t i;
  char buf[64], longv[300];
  for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    tp_semver v;
    int rc = tp_semver_parse(&v, ok[i].s, strlen(ok[i].s), NULL);
    TP_CHECKF(rc == 0, "'%s' should parse", ok[i].s);
    if (rc) continue;
    tp_semver_format(&v, buf, sizeof buf);
    TP_CHECKF(strcmp(buf, ok[i].canon) == 0, "'%s' formats as '%s'", ok[i].s, buf);
  }
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tp_semver v;
    tp_semver_error e = {0, 0, NULL};
    int rc = tp_semver_parse(&v, bad[i].s, strlen(bad[i].s), &e);
    TP_CHECKF(rc == bad[i].code && e.pos == bad[i].pos && e.expected,
              "'%s': rc %d at %zu, want %d at %zu", bad[i].s, rc, e.pos, bad[i].code, bad[i].pos);
  }
  /* node's 256-character limit */
  memset(longv, '1', sizeof longv);
  memcpy(longv, "1.2.3-", 6);
  {
    tp_semver v;
    TP_CHECK(tp_semver_parse(&v, longv, 256, NULL) == 0);
    TP_CHECK(tp_semver_parse(&v, longv, 257, NULL) == TP_SEMVER_ETOOLONG);
  }
}

/* Inputs node-semver accepts by accident of its regexes (or reads as "any
** version") that we refuse; position of the complaint, 0-based. */
static void refused(void) {
  static const struct { const char *s; size_t pos; } bad[] = {
    {"", 0}, {"   ", 3}, {"1.2.3 ||", 8}, {"|| 1.2.3", 0}, {"1.2.3 || || 2", 9},
    {"1.x.2", 4}, {"^1.x.2", 5}, {"1.2.x-beta", 5}, {"vv1.2", 1}, {"==1.2", 1},
    {">==1.2", 2}, {"^=1", 1}, {"v 1.2", 1}, {"1.2+build", 3}, {">=1.0.0,,<2", 8},
    {">=1.0.0,", 8}, {",1", 0}, {"garbage,foo", 0}, {"1.2.3 | 2", 6},
    {"1 - 2 - 3", 6}, {"1 - 2 >3", 6}, {">=1 - 2", 4}, {"~ >1.2.3", 2},
    {"1.2.3-", 6}, {"1.2.3abc", 5}, {"<", 1}, {"1.2. 3", 4},
  };
  size_t i;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tp_semver_range r;
    tp_semver_error e = {0, 0, NULL};
    int rc = parse_range(&r, bad[i].s, 0, &e);
    TP_CHECKF(rc == TP_SEMVER_ESYNTAX && e.pos == bad[i].pos && e.expected,
              "'%s': rc %d at %zu (%s), want a syntax error at %zu", bad[i].s, rc,
              e.pos, e.expected ? e.expected : "-", bad[i].pos);
    free_range(&r);
  }
}

static void limits(void) {
  tp_semver_range r;
  tp_semver_error e;
  size_t n = TP_SEMVER_RANGE_MAX_LENGTH + 1, i;
  char *s = malloc(n + 1);
  /* "1 1 1 ...": the densest input; the bound must hold for it */
  for (i = 0; i < n; i++) s[i] = (i % 2) ? ' ' : '1';
  s[n] = '\0';
  s[n - 2] = '1';
  s[n - 1] = '\0';
  TP_CHECK(parse_range(&r, s, 0, &e) == 0);
  TP_CHECKF(r.ncmp <= r.capcmp && r.nset <= r.capset, "ncmp %u cap %u", r.ncmp, r.capcmp);
  free_range(&r);
  for (i = 0; i < n; i++) s[i] = (i % 3 == 0) ? '1' : '|';
  s[n - 1] = '1';
  TP_CHECK(parse_range(&r, s, 0, &e) == TP_SEMVER_ETOOLONG);
  free_range(&r);
  s[n - 1] = '\0';
  s[n - 2] = '1';
  TP_CHECKF(parse_range(&r, s, 0, &e) == 0, "'1||1||...' failed at %zu", e.pos);
  TP_CHECKF(r.nset == 1366 && r.nset <= r.capset, "nset %u cap %u", r.nset, r.capset);
  free_range(&r);
  /* node's 256 characters count a comparator's text as node keeps it:
  ** with its 'v', without build metadata; carets rebuild it without 'v' */
  memset(s, 'a', n);
  memcpy(s, ">=v1.2.3-", 9);
  s[9 + 250] = '\0';                      /* 'v' + 5 + '-' + 250 = 257 */
  TP_CHECK(parse_range(&r, s, 0, &e) == TP_SEMVER_ETOOLONG);
  free_range(&r);
  s[0] = '^'; s[1] = '^';                  /* "^^v1..." */
  TP_CHECKF(parse_range(&r, s + 1, 0, &e) == 0, "caret drops the v: %zu", e.pos);
  free_range(&r);
  memcpy(s, ">=1.2.3+", 8);
  memset(s + 8, 'b', 251);                 /* build metadata does not count */
  s[8 + 251] = '\0';
  TP_CHECKF(parse_range(&r, s, 0, &e) == 0, "long build refused at %zu", e.pos);
  free_range(&r);
  free(s);
}

/* node's Range.intersects, including its asymmetry: an exact prerelease
** does not meet "*" (which excludes prereleases), but "*" meets anything. */
static void intersections(void) {
  static const struct { const char *a, *b; int incpr, ab, ba; } cases[] = {
    {"^1.2", ">=1.9 <3", 0, 1, 1}, {"^1", "^2", 0, 0, 0}, {"1.2.3", "*", 0, 1, 1},
    {"1.2.3-beta", "*", 0, 0, 1}, {"1.2.3-beta", "*", 1, 1, 1}, {"<0.0.0-0", "*", 0, 1, 1},
    {"<0.0.0-0", "<1", 0, 0, 0}, {">1 <2", ">3 <4", 0, 0, 0}, {"<=1.0.0", ">=1.0.0", 0, 1, 1},
    {"<1.0.0", ">=1.0.0", 0, 0, 0}, {"~1.2.3 || 3.x", "^3.1", 0, 1, 1},
    {"<0.0.1", ">=0.0.0", 0, 1, 1}, {"<0.0.0", ">=0.0.0-0", 0, 0, 0},
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tp_semver_range a, b;
    int flags = cases[i].incpr ? TP_SEMVER_INCLUDE_PRERELEASE : 0;
    TP_CHECK(parse_range(&a, cases[i].a, flags, NULL) == 0);
    TP_CHECK(parse_range(&b, cases[i].b, flags, NULL) == 0);
    TP_CHECKF(tp_semver_range_intersects(&a, &b, flags) == cases[i].ab,
              "intersects('%s', '%s', %d) != %d", cases[i].a, cases[i].b, flags, cases[i].ab);
    TP_CHECKF(tp_semver_range_intersects(&b, &a, flags) == cases[i].ba,
              "intersects('%s', '%s', %d) != %d", cases[i].b, cases[i].a, flags, cases[i].ba);
    free_range(&a);
    free_range(&b);
  }
}

/* The format functions follow snprintf: truncate, terminate, report the
** full length. */
static void format_truncates(void) {
  tp_semver v;
  char buf[4];
  TP_CHECK(tp_semver_parse(&v, "10.20.30", 8, NULL) == 0);
  TP_CHECK(tp_semver_format(&v, buf, sizeof buf) == 8);
  TP_CHECK(strcmp(buf, "10.") == 0);
  TP_CHECK(tp_semver_format(&v, NULL, 0) == 8);
}

int main(void) {
  TP_RUN(versions);
  TP_RUN(precedence);
  TP_RUN(build_metadata);
  TP_RUN(canonical_forms);
  TP_RUN(satisfaction);
  TP_RUN(refused);
  TP_RUN(limits);
  TP_RUN(intersections);
  TP_RUN(format_truncates);
  return tp_done();
}
