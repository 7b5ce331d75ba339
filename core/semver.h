/*
** semver.h: semantic versions (SemVer 2.0.0) and version ranges with the
** meaning node-semver 7.8.5 gives them. See docs/versioning.md.
**
** Nothing here allocates: parsed versions point into the caller's string,
** and a range is parsed into arrays the caller provides, sized with
** tp_semver_range_bound(). Errors are negative codes plus a position.
*/
#ifndef TP_SEMVER_H
#define TP_SEMVER_H

#include <stddef.h>
#include <stdint.h>

#define TP_SEMVER_MAX_LENGTH 256          /* bytes in one version, as node */
#define TP_SEMVER_RANGE_MAX_LENGTH 4096   /* bytes in one range (ours) */
#define TP_SEMVER_MAX_NUMBER 9007199254740991ULL  /* 2^53 - 1 */

/* Error codes (negative, libuv style). */
#define TP_SEMVER_ESYNTAX  (-1)  /* the input does not follow the grammar */
#define TP_SEMVER_ERANGE   (-2)  /* a number above 2^53 - 1 */
#define TP_SEMVER_ETOOLONG (-3)  /* input longer than the limits above */
#define TP_SEMVER_ENOSPC   (-4)  /* caller's arrays too small */

/* Range parsing and testing option (node-semver's includePrerelease). */
#define TP_SEMVER_INCLUDE_PRERELEASE 1

typedef struct tp_semver {
  uint64_t major, minor, patch;
  const char *pre;      /* prerelease identifiers "a.1" without '-', or NULL */
  const char *build;    /* build identifiers without '+', or NULL */
  uint32_t prelen, buildlen;
} tp_semver;

/* Comparator operators; EQ prints as a bare version, ANY as "*". */
enum { TP_SEMVER_ANY, TP_SEMVER_EQ, TP_SEMVER_LT, TP_SEMVER_LE,
       TP_SEMVER_GT, TP_SEMVER_GE };

typedef struct tp_semver_cmp {
  tp_semver v;
  int op;
} tp_semver_cmp;

/* A range is an OR of sets; a set is an AND of comparators. Set i holds
** comparators cmp[i == 0 ? 0 : end[i-1]] .. cmp[end[i] - 1]. */
typedef struct tp_semver_range {
  tp_semver_cmp *cmp;
  uint32_t *end;
  uint32_t ncmp, nset;
  uint32_t capcmp, capset;
} tp_semver_range;

typedef struct tp_semver_error {
  int code;              /* one of the TP_SEMVER_E* codes */
  size_t pos;            /* 0-based byte offset of the offending input */
  const char *expected;  /* what the grammar wanted at pos */
} tp_semver_error;

/* Versions. parse accepts surrounding blanks and one leading 'v'. */
int tp_semver_parse(tp_semver *v, const char *s, size_t len,
                    tp_semver_error *err);
int tp_semver_compare(const tp_semver *a, const tp_semver *b);
int tp_semver_compare_build(const tp_semver *a, const tp_semver *b);
int tp_semver_same(const tp_semver *a, const tp_semver *b);
size_t tp_semver_format(const tp_semver *v, char *buf, size_t cap);

/* Ranges. bound gives array sizes that always suffice for len bytes. */
void tp_semver_range_bound(size_t len, uint32_t *capcmp, uint32_t *capset);
int tp_semver_range_parse(tp_semver_range *r, const char *s, size_t len,
                          int flags, tp_semver_error *err);
int tp_semver_range_test(const tp_semver_range *r, const tp_semver *v,
                         int flags);
int tp_semver_range_intersects(const tp_semver_range *a,
                               const tp_semver_range *b, int flags);
size_t tp_semver_range_format(const tp_semver_range *r, char *buf, size_t cap);

#endif
