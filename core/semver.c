/*
** semver.c: SemVer 2.0.0 versions and node-semver ranges.
**
** A range is desugared exactly as node-semver 7.8.5 does it (carets, tildes,
** x-ranges, hyphens become plain comparators; ">=0.0.0" becomes "any"; a set
** holding "<0.0.0-0" is the null set; duplicates and redundant "any" go), so
** that testing, intersecting and printing agree with node comparator for
** comparator. The grammar is node's documented one plus ',' as AND; the
** inputs node accepts only by accident of its regexes are refused here
** (docs/versioning.md lists them).
*/
#include <string.h>

#include "semver.h"

#define MAXNUM TP_SEMVER_MAX_NUMBER

static int is_blank(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }


/* ---------------------------------------------------------------------- */
/* Scanner shared by versions and ranges                                   */
/* ---------------------------------------------------------------------- */

typedef struct scan {
  const char *s;
  size_t len, i;
  tp_semver_error *err;
} scan;

static int peek(const scan *sc) {
  return sc->i < sc->len ? (unsigned char)sc->s[sc->i] : -1;
}

static int fail(scan *sc, int code, size_t pos, const char *expected) {
  if (sc->err) {
    sc->err->code = code;
    sc->err->pos = pos;
    sc->err->expected = expected;
  }
  return code;
}

static void skip_blanks(scan *sc) {
  while (sc->i < sc->len && is_blank((unsigned char)sc->s[sc->i])) sc->i++;
}

/* A numeric identifier: 0 or a digit string without leading zero, at most
** 2^53 - 1 (node's Number.MAX_SAFE_INTEGER). The loops below run millions
** of times a second in the benchmark, so they walk pointers. */
static int scan_number(scan *sc, uint64_t *out, const char *what) {
  const char *p = sc->s + sc->i, *end = sc->s + sc->len, *start = p;
  uint64_t n = 0;
  if (p == end || !is_digit((unsigned char)*p)) return fail(sc, TP_SEMVER_ESYNTAX, sc->i, what);
  do {
    n = n * 10 + (uint64_t)(*p++ - '0');
    if (n > MAXNUM) {
      sc->i = (size_t)(p - sc->s);
      return fail(sc, TP_SEMVER_ERANGE, (size_t)(start - sc->s), "a number at most 2^53-1");
    }
  } while (p < end && is_digit((unsigned char)*p));
  sc->i = (size_t)(p - sc->s);
  if (*start == '0' && p - start > 1)
    return fail(sc, TP_SEMVER_ESYNTAX, (size_t)(start - sc->s), "a number without leading zeros");
  *out = n;
  return 0;
}

/* Bytes of identifiers: [0-9A-Za-z-]; 2 marks the digits. */
static const unsigned char IDENT[256] = {
  ['-'] = 1,
  ['0'] = 2, ['1'] = 2, ['2'] = 2, ['3'] = 2, ['4'] = 2,
  ['5'] = 2, ['6'] = 2, ['7'] = 2, ['8'] = 2, ['9'] = 2,
  ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
  ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
  ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
  ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
  ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
  ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
  ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
  ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* Dot-separated identifiers after '-' (prerelease) or '+' (build). A numeric
** prerelease identifier must not have a leading zero; build ones may. */
static int scan_idents(scan *sc, int prerelease, const char **out, uint32_t *n) {
  const char *p = sc->s + sc->i, *end = sc->s + sc->len, *start = p;
  for (;;) {
    const char *id = p;
    unsigned char kinds = 2;       /* stays 2 while every byte is a digit */
    while (p < end && IDENT[(unsigned char)*p]) kinds &= IDENT[(unsigned char)*p++];
    if (p == id) {
      sc->i = (size_t)(p - sc->s);
      return fail(sc, TP_SEMVER_ESYNTAX, sc->i,
                  prerelease ? "a prerelease identifier ([0-9A-Za-z-]+)"
                             : "a build identifier ([0-9A-Za-z-]+)");
    }
    if (prerelease && kinds == 2 && *id == '0' && p - id > 1) {
      sc->i = (size_t)(p - sc->s);
      return fail(sc, TP_SEMVER_ESYNTAX, (size_t)(id - sc->s),
                  "a numeric prerelease identifier without leading zeros");
    }
    if (p == end || *p != '.') break;
    p++;
  }
  sc->i = (size_t)(p - sc->s);
  *out = start;
  *n = (uint32_t)(p - start);
  return 0;
}

/* Optional "-pre" and "+build" after X.Y.Z. */
static int scan_qualifiers(scan *sc, tp_semver *v) {
  int rc;
  v->pre = v->build = NULL;
  v->prelen = v->buildlen = 0;
  if (peek(sc) == '-') {
    sc->i++;
    if ((rc = scan_idents(sc, 1, &v->pre, &v->prelen))) return rc;
  }
  if (peek(sc) == '+') {
    sc->i++;
    if ((rc = scan_idents(sc, 0, &v->build, &v->buildlen))) return rc;
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Versions                                                                */
/* ---------------------------------------------------------------------- */

static int scan_version(scan *sc, tp_semver *v) {
  int rc;
  if (peek(sc) == 'v') sc->i++;
  if ((rc = scan_number(sc, &v->major, "a major version number"))) return rc;
  if (peek(sc) != '.') return fail(sc, TP_SEMVER_ESYNTAX, sc->i, "'.' and a minor version number");
  sc->i++;
  if ((rc = scan_number(sc, &v->minor, "a minor version number"))) return rc;
  if (peek(sc) != '.') return fail(sc, TP_SEMVER_ESYNTAX, sc->i, "'.' and a patch version number");
  sc->i++;
  if ((rc = scan_number(sc, &v->patch, "a patch version number"))) return rc;
  return scan_qualifiers(sc, v);
}

int tp_semver_parse(tp_semver *v, const char *s, size_t len, tp_semver_error *err) {
  scan sc = {s, len, 0, err};
  int rc;
  if (len > TP_SEMVER_MAX_LENGTH)
    return fail(&sc, TP_SEMVER_ETOOLONG, TP_SEMVER_MAX_LENGTH,
                "a version of at most 256 characters");
  skip_blanks(&sc);
  if ((rc = scan_version(&sc, v))) return rc;
  skip_blanks(&sc);
  if (sc.i != len) {
    int c = peek(&sc);
    return fail(&sc, TP_SEMVER_ESYNTAX, sc.i,
                c == '.' ? "the end of the version (it has exactly three numbers)"
                         : "'-' and a prerelease, '+' and build metadata, or the end of the version");
  }
  return 0;
}

/* Identifiers compare as numbers when both are all digits (as exact digit
** strings, so no overflow: without leading zeros, longer is larger), a numeric one sorts
** before an alphanumeric one, else ASCII order. */
static int compare_ident(const char *a, size_t an, const char *b, size_t bn) {
  size_t i;
  int anum = 1, bnum = 1, c;
  for (i = 0; i < an; i++) if (!is_digit(a[i])) { anum = 0; break; }
  for (i = 0; i < bn; i++) if (!is_digit(b[i])) { bnum = 0; break; }
  if (anum && bnum) {
    /* build identifiers may carry leading zeros; numbers ignore them */
    while (an > 1 && *a == '0') { a++; an--; }
    while (bn > 1 && *b == '0') { b++; bn--; }
    if (an != bn) return an < bn ? -1 : 1;
  }
  if (anum != bnum) return anum ? -1 : 1;
  c = memcmp(a, b, an < bn ? an : bn);
  if (c) return c < 0 ? -1 : 1;
  return an == bn ? 0 : (an < bn ? -1 : 1);
}

/* Compare dot-separated identifier lists; a shorter list that is a prefix
** of the longer sorts first. */
static int compare_idents(const char *a, size_t an, const char *b, size_t bn) {
  size_t i = 0, j = 0;
  for (;;) {
    size_t ie = i, je = j;
    int c;
    if (i > an || j > bn) return (i > an) - (j > bn) == 0 ? 0 : (i > an ? -1 : 1);
    while (ie < an && a[ie] != '.') ie++;
    while (je < bn && b[je] != '.') je++;
    if ((c = compare_ident(a + i, ie - i, b + j, je - j))) return c;
    i = ie + 1;
    j = je + 1;
  }
}

static int compare_u64(uint64_t a, uint64_t b) { return a < b ? -1 : a > b; }

int tp_semver_compare(const tp_semver *a, const tp_semver *b) {
  int c;
  if ((c = compare_u64(a->major, b->major))) return c;
  if ((c = compare_u64(a->minor, b->minor))) return c;
  if ((c = compare_u64(a->patch, b->patch))) return c;
  if (!a->pre || !b->pre) return (a->pre == NULL) - (b->pre == NULL);
  return compare_idents(a->pre, a->prelen, b->pre, b->prelen);
}

/* Precedence, then build metadata (as node's compareBuild, for sorting). */
int tp_semver_compare_build(const tp_semver *a, const tp_semver *b) {
  int c = tp_semver_compare(a, b);
  if (c) return c;
  if (!a->build || !b->build) return (a->build != NULL) - (b->build != NULL);
  return compare_idents(a->build, a->buildlen, b->build, b->buildlen);
}

/* Same major.minor.patch (node's test for prereleases a set allows). */
int tp_semver_same(const tp_semver *a, const tp_semver *b) {
  return a->major == b->major && a->minor == b->minor && a->patch == b->patch;
}

/* ---------------------------------------------------------------------- */
/* Formatting (snprintf semantics: returns the full length)                */
/* ---------------------------------------------------------------------- */

typedef struct out {
  char *buf;
  size_t cap, n;
} out;

static void put(out *o, const char *s, size_t n) {
  if (o->n < o->cap) {
    size_t room = o->cap - o->n;
    memcpy(o->buf + o->n, s, n < room ? n : room);
  }
  o->n += n;
}

static void put_u64(out *o, uint64_t n) {
  char tmp[24];
  size_t i = sizeof tmp;
  do { tmp[--i] = (char)('0' + n % 10); n /= 10; } while (n);
  put(o, tmp + i, sizeof tmp - i);
}

static void put_version(out *o, const tp_semver *v) {
  put_u64(o, v->major); put(o, ".", 1);
  put_u64(o, v->minor); put(o, ".", 1);
  put_u64(o, v->patch);
  if (v->pre) { put(o, "-", 1); put(o, v->pre, v->prelen); }
}

static size_t finish(out *o) {
  if (o->cap) o->buf[o->n < o->cap ? o->n : o->cap - 1] = '\0';
  return o->n;
}

size_t tp_semver_format(const tp_semver *v, char *buf, size_t cap) {
  out o = {buf, cap, 0};
  put_version(&o, v);
  return finish(&o);
}

/* ---------------------------------------------------------------------- */
/* Ranges: parsing                                                         */
/* ---------------------------------------------------------------------- */

/* A partial version as written: nx leading numbers (0..3), then wildcards
** or nothing. Only a full one (nx == 3) carries a prerelease. */
typedef struct partial {
  uint64_t n[3];
  int nx;
  int v_prefix;          /* written with a leading 'v' */
  const char *pre;
  uint32_t prelen;
  size_t pos;
  size_t textlen;        /* bytes of 'v'? X.Y.Z('-' pre)?, build excluded */
} partial;

typedef struct rparser {
  scan sc;
  tp_semver_range *r;
  int incpr;             /* TP_SEMVER_INCLUDE_PRERELEASE */
} rparser;

static const char ZERO[] = "0";

static int scan_xr(scan *sc, partial *p, int k) {
  int c = peek(sc);
  if (c == 'x' || c == 'X' || c == '*') {
    sc->i++;
    return 1;  /* a wildcard */
  }
  if (!is_digit(c))
    return fail(sc, TP_SEMVER_ESYNTAX, sc->i,
                k == 0 ? "a version (a number, 'x', 'X' or '*')"
                       : "a number, 'x', 'X' or '*' after '.'");
  if (p->nx < k)
    return fail(sc, TP_SEMVER_ESYNTAX, sc->i,
                "'x', 'X' or '*' (a number cannot follow a wildcard)");
  {
    int rc = scan_number(sc, &p->n[k], "a number");
    if (rc) return rc;
  }
  p->nx = k + 1;
  return 0;
}

/* partial ::= 'v'? xr ( '.' xr ( '.' xr qualifier? )? )? */
static int scan_partial(scan *sc, partial *p) {
  int k, rc;
  memset(p, 0, sizeof *p);
  p->pos = sc->i;
  if (peek(sc) == 'v') { sc->i++; p->v_prefix = 1; }
  for (k = 0; k < 3; k++) {
    if (k > 0) {
      if (peek(sc) != '.') break;
      sc->i++;
    }
    if ((rc = scan_xr(sc, p, k)) < 0) return rc;
  }
  p->textlen = sc->i - p->pos;
  if (peek(sc) == '-' || peek(sc) == '+') {
    tp_semver q;
    if (p->nx < 3)
      return fail(sc, TP_SEMVER_ESYNTAX, sc->i,
                  peek(sc) == '-' ? "a full version X.Y.Z before a prerelease"
                                  : "a full version X.Y.Z before build metadata");
    if ((rc = scan_qualifiers(sc, &q))) return rc;
    p->pre = q.pre;
    p->prelen = q.prelen;
    if (q.pre) p->textlen += 1 + q.prelen;
  }
  return 0;
}

/* node hands a comparator's version text to its version parser, which
** refuses more than 256 characters: the text as written (with its 'v',
** without build metadata) where node keeps it, the bare X.Y.Z-pre where it
** rebuilds it (carets, tildes). */
static int check_length(scan *sc, const partial *q, int keeps_v) {
  size_t n = q->textlen - (keeps_v ? 0 : (size_t)q->v_prefix);
  if (q->nx == 3 && n > TP_SEMVER_MAX_LENGTH)
    return fail(sc, TP_SEMVER_ETOOLONG, q->pos, "a version of at most 256 characters");
  return 0;
}

static int bump(scan *sc, const partial *p, uint64_t n, uint64_t *res) {
  if (n >= MAXNUM)
    return fail(sc, TP_SEMVER_ERANGE, p->pos, "a version whose next number stays below 2^53");
  *res = n + 1;
  return 0;
}

static int emit(rparser *rp, int op, uint64_t M, uint64_t m, uint64_t p,
                const char *pre, uint32_t prelen, int gte0_eligible) {
  tp_semver_range *r = rp->r;
  tp_semver_cmp *c;
  if (r->ncmp >= r->capcmp) return fail(&rp->sc, TP_SEMVER_ENOSPC, rp->sc.i, "room for comparators");
  c = &r->cmp[r->ncmp++];
  memset(c, 0, sizeof *c);
  c->op = op;
  c->v.major = M; c->v.minor = m; c->v.patch = p;
  c->v.pre = pre; c->v.prelen = prelen;
  /* node rewrites the literal text ">=0.0.0" (">=0.0.0-0" when including
  ** prereleases) to "any"; a 'v' in the text defeats its pattern. */
  if (gte0_eligible && op == TP_SEMVER_GE && M == 0 && m == 0 && p == 0) {
    int want_zero = rp->incpr;
    if (want_zero ? (pre && prelen == 1 && pre[0] == '0') : !pre) {
      memset(c, 0, sizeof *c);  /* "any" has no version */
      c->op = TP_SEMVER_ANY;
    }
  }
  return 0;
}

#define Z(rp) ((rp)->incpr ? ZERO : NULL), ((rp)->incpr ? 1u : 0u)

/* "<M.m.p-0": the upper bound every desugaring uses. */
static int emit_below(rparser *rp, uint64_t M, uint64_t m, uint64_t p) {
  return emit(rp, TP_SEMVER_LT, M, m, p, ZERO, 1, 1);
}

/* x-ranges and primitives: "1.2", ">1", "<=1.2.x", "=1.2.3", "*". */
static int desugar_xrange(rparser *rp, int op, const partial *q) {
  uint64_t M = q->n[0], m = q->n[1];
  int rc;
  if (q->nx == 3)  /* a full version is a plain comparator */
    return emit(rp, op, M, m, q->n[2], q->pre, q->prelen, !q->v_prefix);
  if (q->nx == 0) {
    if (op == TP_SEMVER_GT || op == TP_SEMVER_LT) return emit_below(rp, 0, 0, 0);
    return emit(rp, TP_SEMVER_ANY, 0, 0, 0, NULL, 0, 0);
  }
  switch (op) {
  case TP_SEMVER_GT:   /* >1 is >=2.0.0, >1.2 is >=1.3.0 */
    if (q->nx == 1) { if ((rc = bump(&rp->sc, q, M, &M))) return rc; m = 0; }
    else if ((rc = bump(&rp->sc, q, m, &m))) return rc;
    return emit(rp, TP_SEMVER_GE, M, m, 0, Z(rp), 1);
  case TP_SEMVER_GE:
    return emit(rp, TP_SEMVER_GE, M, q->nx == 1 ? 0 : m, 0, Z(rp), 1);
  case TP_SEMVER_LE:   /* <=1.2 is <1.3.0-0 */
    if (q->nx == 1) { if ((rc = bump(&rp->sc, q, M, &M))) return rc; m = 0; }
    else if ((rc = bump(&rp->sc, q, m, &m))) return rc;
    return emit_below(rp, M, m, 0);
  case TP_SEMVER_LT:
    return emit_below(rp, M, q->nx == 1 ? 0 : m, 0);
  default:             /* bare or '=': 1 is >=1.0.0 <2.0.0-0 */
    if (q->nx == 1) {
      uint64_t next = 0;
      if ((rc = bump(&rp->sc, q, M, &next))) return rc;
      if ((rc = emit(rp, TP_SEMVER_GE, M, 0, 0, Z(rp), 1))) return rc;
      return emit_below(rp, next, 0, 0);
    } else {
      uint64_t next = 0;
      if ((rc = bump(&rp->sc, q, m, &next))) return rc;
      if ((rc = emit(rp, TP_SEMVER_GE, M, m, 0, Z(rp), 1))) return rc;
      return emit_below(rp, M, next, 0);
    }
  }
}

/* ~1.2.3 is >=1.2.3 <1.3.0-0; ~1.2 is >=1.2.0 <1.3.0-0; ~1 is >=1.0.0 <2.0.0-0 */
static int desugar_tilde(rparser *rp, const partial *q) {
  uint64_t M = q->n[0], m = q->n[1], next = 0;
  int rc;
  if (q->nx == 0) return emit(rp, TP_SEMVER_ANY, 0, 0, 0, NULL, 0, 0);
  if (q->nx == 1) {
    if ((rc = bump(&rp->sc, q, M, &next))) return rc;
    if ((rc = emit(rp, TP_SEMVER_GE, M, 0, 0, Z(rp), 1))) return rc;
    return emit_below(rp, next, 0, 0);
  }
  if ((rc = bump(&rp->sc, q, m, &next))) return rc;
  if (q->nx == 2) {
    if ((rc = emit(rp, TP_SEMVER_GE, M, m, 0, Z(rp), 1))) return rc;
  } else {
    /* node adds no "-0" to a full lower bound here, prerelease mode or not */
    if ((rc = emit(rp, TP_SEMVER_GE, M, m, q->n[2], q->pre, q->prelen, 1))) return rc;
  }
  return emit_below(rp, M, next, 0);
}

/* ^1.2.3 is >=1.2.3 <2.0.0-0; ^0.2.3 is >=0.2.3 <0.3.0-0; ^0.0.3 is
** >=0.0.3 <0.0.4-0; partials as for tilde but keeping the major. As in
** node, only partial lower bounds get "-0" when including prereleases. */
static int desugar_caret(rparser *rp, const partial *q) {
  uint64_t M = q->n[0], m = q->n[1], p = q->n[2], next = 0;
  int rc;
  if (q->nx == 0) return emit(rp, TP_SEMVER_ANY, 0, 0, 0, NULL, 0, 0);
  if (q->nx == 1 || (q->nx == 2 && M != 0) || (q->nx == 3 && M != 0)) {
    if ((rc = bump(&rp->sc, q, M, &next))) return rc;
    if (q->nx == 3) {
      /* a full lower bound never gets "-0", prerelease mode or not */
      if ((rc = emit(rp, TP_SEMVER_GE, M, m, p, q->pre, q->prelen, 1))) return rc;
    } else if ((rc = emit(rp, TP_SEMVER_GE, M, q->nx == 1 ? 0 : m, 0, Z(rp), 1))) {
      return rc;
    }
    return emit_below(rp, next, 0, 0);
  }
  if (q->nx == 2 || m != 0) {  /* 0.m: the minor is the breaking number */
    if ((rc = bump(&rp->sc, q, m, &next))) return rc;
    if (q->nx == 2) rc = emit(rp, TP_SEMVER_GE, M, m, 0, Z(rp), 1);
    else rc = emit(rp, TP_SEMVER_GE, M, m, p, q->pre, q->prelen, 1);
    if (rc) return rc;
    return emit_below(rp, M, next, 0);
  }
  /* 0.0.p: the patch is the breaking number */
  if ((rc = bump(&rp->sc, q, p, &next))) return rc;
  if ((rc = emit(rp, TP_SEMVER_GE, M, m, p, q->pre, q->prelen, 1))) return rc;
  return emit_below(rp, M, m, next);
}

/* "A - B": inclusive on both ends, partials widened (1.2 - 2 is
** >=1.2.0 <3.0.0-0). */
static int desugar_hyphen(rparser *rp, const partial *a, const partial *b) {
  int rc;
  uint64_t next = 0;
  /* node keeps the text of the lower end, and of the upper end unless it
  ** rebuilds it (a prerelease, or a bumped patch) */
  if ((rc = check_length(&rp->sc, a, 1))) return rc;
  if (b->pre || !rp->incpr) {
    if ((rc = check_length(&rp->sc, b, !b->pre))) return rc;
  }
  switch (a->nx) {
  case 0: break;
  case 1: rc = emit(rp, TP_SEMVER_GE, a->n[0], 0, 0, Z(rp), 1); if (rc) return rc; break;
  case 2: rc = emit(rp, TP_SEMVER_GE, a->n[0], a->n[1], 0, Z(rp), 1); if (rc) return rc; break;
  default:
    if (a->pre) rc = emit(rp, TP_SEMVER_GE, a->n[0], a->n[1], a->n[2], a->pre, a->prelen, !a->v_prefix);
    else rc = emit(rp, TP_SEMVER_GE, a->n[0], a->n[1], a->n[2], Z(rp), !a->v_prefix);
    if (rc) return rc;
  }
  switch (b->nx) {
  case 0: break;
  case 1:
    if ((rc = bump(&rp->sc, b, b->n[0], &next))) return rc;
    if ((rc = emit_below(rp, next, 0, 0))) return rc;
    break;
  case 2:
    if ((rc = bump(&rp->sc, b, b->n[1], &next))) return rc;
    if ((rc = emit_below(rp, b->n[0], next, 0))) return rc;
    break;
  default:
    if (b->pre || !rp->incpr) {
      rc = emit(rp, TP_SEMVER_LE, b->n[0], b->n[1], b->n[2], b->pre, b->prelen, 1);
    } else {
      if ((rc = bump(&rp->sc, b, b->n[2], &next))) return rc;
      rc = emit_below(rp, b->n[0], b->n[1], next);
    }
    if (rc) return rc;
  }
  if (a->nx == 0 && b->nx == 0) return emit(rp, TP_SEMVER_ANY, 0, 0, 0, NULL, 0, 0);
  return 0;
}

/* Operators: < <= > >= = ~ ~> ^. Returns a code below, or -1 for none. */
enum { OP_TILDE = 100, OP_CARET };

static int scan_op(scan *sc) {
  int c = peek(sc);
  switch (c) {
  case '<': case '>': {
    int ge = 0;
    sc->i++;
    if (peek(sc) == '=') { sc->i++; ge = 1; }
    if (c == '<') return ge ? TP_SEMVER_LE : TP_SEMVER_LT;
    return ge ? TP_SEMVER_GE : TP_SEMVER_GT;
  }
  case '=': sc->i++; return TP_SEMVER_EQ;
  case '~': sc->i++; if (peek(sc) == '>') sc->i++; return OP_TILDE;
  case '^': sc->i++; return OP_CARET;
  default: return -1;
  }
}

static int at_alt_end(const scan *sc) {
  return sc->i >= sc->len || (sc->s[sc->i] == '|');
}

/* After a simple: blanks, ',' (AND), '||' (OR) or the end. */
static int check_follow(scan *sc) {
  int c = peek(sc);
  if (c < 0 || is_blank(c) || c == ',' || c == '|') return 0;
  return fail(sc, TP_SEMVER_ESYNTAX, sc->i,
              "a blank, ',' or '||' after the version");
}

static int desugar_simple(rparser *rp, int op, const partial *q) {
  int rc = check_length(&rp->sc, q, op != OP_TILDE && op != OP_CARET);
  if (rc) return rc;
  if (op == OP_TILDE) return desugar_tilde(rp, q);
  if (op == OP_CARET) return desugar_caret(rp, q);
  return desugar_xrange(rp, op < 0 ? TP_SEMVER_EQ : op, q);
}

/* One simple: op? blanks? partial. Sets *bare when there was no operator
** (the only kind that may start a hyphen range). */
static int parse_simple(rparser *rp, partial *q, int *op) {
  scan *sc = &rp->sc;
  int rc;
  *op = scan_op(sc);
  if (*op >= 0) skip_blanks(sc);
  if ((rc = scan_partial(sc, q))) return rc;
  return check_follow(sc);
}

/* "A - B" once A has been read: returns 1 when a hyphen range was parsed,
** 0 when the text is not one (nothing consumed). */
static int try_hyphen(rparser *rp, const partial *a, int *rc) {
  scan *sc = &rp->sc;
  size_t save = sc->i, j = sc->i;
  partial b;
  while (j < sc->len && is_blank((unsigned char)sc->s[j])) j++;
  if (j == save || j >= sc->len || sc->s[j] != '-' || j + 1 >= sc->len ||
      !is_blank((unsigned char)sc->s[j + 1]))
    return 0;
  sc->i = j + 1;
  skip_blanks(sc);
  if ((*rc = scan_partial(sc, &b))) return 1;
  if ((*rc = check_follow(sc))) return 1;
  skip_blanks(sc);
  if (!at_alt_end(sc)) {
    *rc = fail(sc, TP_SEMVER_ESYNTAX, sc->i,
               "'||' or the end of the range (a hyphen range stands alone)");
    return 1;
  }
  *rc = desugar_hyphen(rp, a, &b);
  return 1;
}

static int same_cmp(const tp_semver_cmp *a, const tp_semver_cmp *b) {
  if (a->op != b->op) return 0;
  if (a->op == TP_SEMVER_ANY) return 1;
  return tp_semver_compare(&a->v, &b->v) == 0 &&
         a->v.prelen == b->v.prelen;  /* equal text, not just precedence */
}

static int is_null_cmp(const tp_semver_cmp *c) {
  return c->op == TP_SEMVER_LT && c->v.major == 0 && c->v.minor == 0 &&
         c->v.patch == 0 && c->v.pre && c->v.prelen == 1 && c->v.pre[0] == '0';
}

/* node's per-set cleanup: a null comparator makes the whole set null;
** duplicates keep their first place; "any" goes when others remain. */
static void normalize_set(tp_semver_range *r, uint32_t first) {
  uint32_t i, j, n = first;
  int has_any = 0;
  for (i = first; i < r->ncmp; i++) {
    if (is_null_cmp(&r->cmp[i])) {
      r->cmp[first] = r->cmp[i];
      r->ncmp = first + 1;
      return;
    }
  }
  for (i = first; i < r->ncmp; i++) {
    for (j = first; j < n; j++)
      if (same_cmp(&r->cmp[j], &r->cmp[i])) break;
    if (j < n) continue;
    r->cmp[n++] = r->cmp[i];
    if (r->cmp[i].op == TP_SEMVER_ANY) has_any = 1;
  }
  r->ncmp = n;
  if (has_any && n - first > 1) {
    for (i = j = first; i < n; i++)
      if (r->cmp[i].op != TP_SEMVER_ANY) r->cmp[j++] = r->cmp[i];
    r->ncmp = j;
  }
}

static int parse_alt(rparser *rp) {
  scan *sc = &rp->sc;
  tp_semver_range *r = rp->r;
  uint32_t first = r->ncmp;
  int rc, op, count = 0;
  partial q;
  skip_blanks(sc);
  if (at_alt_end(sc))
    return fail(sc, TP_SEMVER_ESYNTAX, sc->i,
                "a version range (an empty range is refused; write '*' for any version)");
  for (;;) {
    if ((rc = parse_simple(rp, &q, &op))) return rc;
    if (op < 0 && count == 0 && try_hyphen(rp, &q, &rc)) {
      if (rc) return rc;
      break;
    }
    if ((rc = desugar_simple(rp, op, &q))) return rc;
    count++;
    skip_blanks(sc);
    if (at_alt_end(sc)) break;
    if (peek(sc) == ',') {
      sc->i++;
      skip_blanks(sc);
      if (at_alt_end(sc) || peek(sc) == ',')
        return fail(sc, TP_SEMVER_ESYNTAX, sc->i, "a version or an operator after ','");
    }
  }
  if (r->nset >= r->capset) return fail(sc, TP_SEMVER_ENOSPC, sc->i, "room for sets");
  normalize_set(r, first);
  r->end[r->nset++] = r->ncmp;
  return 0;
}

static uint32_t set_start(const tp_semver_range *r, uint32_t i) {
  return i == 0 ? 0 : r->end[i - 1];
}

/* Remove set k, closing the gap. */
static void drop_set(tp_semver_range *r, uint32_t k) {
  uint32_t a = set_start(r, k), b = r->end[k], n = b - a, i;
  memmove(&r->cmp[a], &r->cmp[b], (r->ncmp - b) * sizeof *r->cmp);
  for (i = k; i + 1 < r->nset; i++) r->end[i] = r->end[i + 1] - n;
  r->nset--;
  r->ncmp -= n;
}

/* node's range cleanup: null sets go unless all are null (keep the first);
** a set that is just "any" makes the whole range "any". */
static void normalize_range(tp_semver_range *r) {
  uint32_t i;
  if (r->nset <= 1) return;
  for (i = 0; i < r->nset && r->nset > 1;) {
    if (is_null_cmp(&r->cmp[set_start(r, i)])) drop_set(r, i); else i++;
  }
  if (r->nset == 1 && is_null_cmp(&r->cmp[0])) return;
  for (i = 0; i < r->nset; i++) {
    uint32_t a = set_start(r, i);
    if (r->end[i] - a == 1 && r->cmp[a].op == TP_SEMVER_ANY) {
      r->cmp[0] = r->cmp[a];
      r->ncmp = 1;
      r->end[0] = 1;
      r->nset = 1;
      return;
    }
  }
}

void tp_semver_range_bound(size_t len, uint32_t *capcmp, uint32_t *capset) {
  /* A simple takes at least one byte plus a separator and yields at most
  ** two comparators; an alternative takes at least one byte plus "||". */
  if (len > TP_SEMVER_RANGE_MAX_LENGTH) len = TP_SEMVER_RANGE_MAX_LENGTH;
  *capcmp = (uint32_t)len + 2;
  *capset = (uint32_t)len / 2 + 2;
}

int tp_semver_range_parse(tp_semver_range *r, const char *s, size_t len,
                          int flags, tp_semver_error *err) {
  rparser rp;
  int rc;
  rp.sc.s = s; rp.sc.len = len; rp.sc.i = 0; rp.sc.err = err;
  rp.r = r;
  rp.incpr = (flags & TP_SEMVER_INCLUDE_PRERELEASE) != 0;
  r->ncmp = r->nset = 0;
  if (len > TP_SEMVER_RANGE_MAX_LENGTH)
    return fail(&rp.sc, TP_SEMVER_ETOOLONG, TP_SEMVER_RANGE_MAX_LENGTH,
                "a range of at most 4096 characters");
  for (;;) {
    if ((rc = parse_alt(&rp))) return rc;
    if (rp.sc.i >= len) break;
    /* at_alt_end stopped at '|': it must be "||" */
    if (rp.sc.i + 1 >= len || s[rp.sc.i + 1] != '|')
      return fail(&rp.sc, TP_SEMVER_ESYNTAX, rp.sc.i, "'||' (a single '|' is not an operator)");
    rp.sc.i += 2;
  }
  normalize_range(r);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Ranges: testing and intersecting                                        */
/* ---------------------------------------------------------------------- */

static int cmp_test(const tp_semver_cmp *c, const tp_semver *v) {
  int d;
  if (c->op == TP_SEMVER_ANY) return 1;
  d = tp_semver_compare(v, &c->v);
  switch (c->op) {
  case TP_SEMVER_EQ: return d == 0;
  case TP_SEMVER_LT: return d < 0;
  case TP_SEMVER_LE: return d <= 0;
  case TP_SEMVER_GT: return d > 0;
  default:           return d >= 0;
  }
}

/* A prerelease satisfies a set only when some comparator of the set names
** a prerelease of the same major.minor.patch (unless prereleases are
** included): ^1.2.3-beta.1 admits 1.2.3-beta.2 but not 1.2.4-alpha. */
static int test_set(const tp_semver_cmp *c, uint32_t n, const tp_semver *v, int incpr) {
  uint32_t i;
  for (i = 0; i < n; i++)
    if (!cmp_test(&c[i], v)) return 0;
  if (!v->pre || incpr) return 1;
  for (i = 0; i < n; i++)
    if (c[i].op != TP_SEMVER_ANY && c[i].v.pre && tp_semver_same(&c[i].v, v)) return 1;
  return 0;
}

int tp_semver_range_test(const tp_semver_range *r, const tp_semver *v, int flags) {
  uint32_t i;
  int incpr = (flags & TP_SEMVER_INCLUDE_PRERELEASE) != 0;
  for (i = 0; i < r->nset; i++) {
    uint32_t a = set_start(r, i);
    if (test_set(&r->cmp[a], r->end[i] - a, v, incpr)) return 1;
  }
  return 0;
}

static int is_gt(int op) { return op == TP_SEMVER_GT || op == TP_SEMVER_GE; }
static int is_lt(int op) { return op == TP_SEMVER_LT || op == TP_SEMVER_LE; }

/* node's Comparator.intersects, rule for rule. */
static int cmp_intersects(const tp_semver_cmp *a, const tp_semver_cmp *b, int incpr) {
  int d;
  if (a->op == TP_SEMVER_ANY) return 1;
  if (a->op == TP_SEMVER_EQ) return test_set(b, 1, &a->v, incpr);
  if (b->op == TP_SEMVER_ANY) return 1;
  if (b->op == TP_SEMVER_EQ) return test_set(a, 1, &b->v, incpr);
  /* nothing lies below 0.0.0-0; without prereleases, below 0.0.0 */
  if (incpr ? (is_null_cmp(a) || is_null_cmp(b))
            : ((a->op == TP_SEMVER_LT && a->v.major == 0 && a->v.minor == 0 && a->v.patch == 0) ||
               (b->op == TP_SEMVER_LT && b->v.major == 0 && b->v.minor == 0 && b->v.patch == 0)))
    return 0;
  if ((is_gt(a->op) && is_gt(b->op)) || (is_lt(a->op) && is_lt(b->op))) return 1;
  d = tp_semver_compare(&a->v, &b->v);
  if (d == 0 && (a->op == TP_SEMVER_GE || a->op == TP_SEMVER_LE) &&
      (b->op == TP_SEMVER_GE || b->op == TP_SEMVER_LE))
    return 1;
  if (d < 0 && is_gt(a->op) && is_lt(b->op)) return 1;
  if (d > 0 && is_lt(a->op) && is_gt(b->op)) return 1;
  return 0;
}

/* Every pair of comparators in the set intersects (node's isSatisfiable). */
static int satisfiable(const tp_semver_cmp *c, uint32_t n, int incpr) {
  uint32_t i, j;
  for (j = n; j-- > 1;)
    for (i = 0; i < j; i++)
      if (!cmp_intersects(&c[j], &c[i], incpr)) return 0;
  return 1;
}

int tp_semver_range_intersects(const tp_semver_range *a, const tp_semver_range *b,
                               int flags) {
  uint32_t i, j, x, y;
  int incpr = (flags & TP_SEMVER_INCLUDE_PRERELEASE) != 0;
  for (i = 0; i < a->nset; i++) {
    const tp_semver_cmp *ca = &a->cmp[set_start(a, i)];
    uint32_t na = a->end[i] - set_start(a, i);
    if (!satisfiable(ca, na, incpr)) continue;
    for (j = 0; j < b->nset; j++) {
      const tp_semver_cmp *cb = &b->cmp[set_start(b, j)];
      uint32_t nb = b->end[j] - set_start(b, j);
      int all = 1;
      if (!satisfiable(cb, nb, incpr)) continue;
      for (x = 0; x < na && all; x++)
        for (y = 0; y < nb && all; y++)
          all = cmp_intersects(&ca[x], &cb[y], incpr);
      if (all) return 1;
    }
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Ranges: canonical text                                                  */
/* ---------------------------------------------------------------------- */

static const char *const OPS[] = {"*", "", "<", "<=", ">", ">="};

size_t tp_semver_range_format(const tp_semver_range *r, char *buf, size_t cap) {
  out o = {buf, cap, 0};
  uint32_t i, k;
  for (i = 0; i < r->nset; i++) {
    if (i > 0) put(&o, " || ", 4);
    for (k = set_start(r, i); k < r->end[i]; k++) {
      const tp_semver_cmp *c = &r->cmp[k];
      if (k > set_start(r, i)) put(&o, " ", 1);
      put(&o, OPS[c->op], strlen(OPS[c->op]));
      if (c->op != TP_SEMVER_ANY) put_version(&o, &c->v);
    }
  }
  return finish(&o);
}
