/*
** test_resolve.c: core/resolve.c on the examples of PubGrub's solver.md
** (dart-lang/pub doc/solver.md: their selections and the shape of their
** proofs), the external facts (missing plugins, constraints nothing
** meets, optional dependencies), preferences, duplicates, refused input,
** the step budget, sets wider than a word, and small random problems
** checked against a brute-force search (a selection must meet every
** constraint; "no solution" must mean that none exists).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolve.h"
#include "semver.h"
#include "tp_test.h"

static tp_resolve *R;

static int ver(const char *name, const char *v) {
  return tp_resolve_add_version(R, name, strlen(name), v, strlen(v), NULL);
}

static int dep(const char *name, const char *c) {
  return tp_resolve_add_dep(R, name, strlen(name), c, c ? strlen(c) : 0, TP_RESOLVE_REQUIRED, 1, NULL);
}

static int opt_dep(const char *name, const char *c) {
  return tp_resolve_add_dep(R, name, strlen(name), c, c ? strlen(c) : 0, TP_RESOLVE_OPTIONAL, 2, NULL);
}

static int req(const char *name, const char *c) {
  return tp_resolve_add_requirement(R, name, strlen(name), c, c ? strlen(c) : 0, NULL);
}

/* The selected version of name ("-" when not selected). */
static const char *selected(const char *name) {
  static char buf[64];
  int32_t p = tp_resolve_find(R, name, strlen(name)), i;
  size_t len;
  const char *v;
  if (p <= 0 || (i = tp_resolve_selected(R, (uint32_t)p)) < 0) return "-";
  v = tp_resolve_version(R, (uint32_t)p, (uint32_t)i, &len);
  snprintf(buf, sizeof buf, "%.*s", (int)len, v);
  return buf;
}

static int solve(int flags) { return tp_resolve_solve(R, flags, 100000); }

#define SELECTED(name, want) \
  TP_CHECKF(strcmp(selected(name), want) == 0, "%s: selected %s, want %s", name, selected(name), want)

/* ---------------------------------------------------------------------- */
/* The walk of a proof                                                     */
/* ---------------------------------------------------------------------- */

typedef struct facts {
  int derived, external, kinds[5];
  int bad;                    /* a derived incompatibility with a bad cause */
  char list[1024];            /* "kind:depender>target" of each external, in DFS order */
} facts;

static void name_of(uint32_t pkg, char *buf, size_t n) {
  size_t len;
  const char *s = tp_resolve_name(R, pkg, &len);
  if (len == 0) snprintf(buf, n, "root");
  else snprintf(buf, n, "%.*s", (int)len, s);
}

static void walk(int32_t id, facts *f, char *seen) {
  tp_resolve_incompat in;
  char a[32], b[32];
  if (seen[id]) return;
  seen[id] = 1;
  if (tp_resolve_get_incompat(R, id, &in)) { f->bad++; return; }
  f->kinds[in.kind]++;
  if (in.kind == TP_RESOLVE_DERIVED) {
    f->derived++;
    if (in.cause1 < 0 || in.cause2 < 0 || in.cause1 >= id || in.cause2 >= id) f->bad++;
    else { walk(in.cause1, f, seen); walk(in.cause2, f, seen); }
    return;
  }
  f->external++;
  name_of((uint32_t)in.depender, a, sizeof a);
  name_of((uint32_t)in.target, b, sizeof b);
  snprintf(f->list + strlen(f->list), sizeof f->list - strlen(f->list), "%s%d:%s>%s",
           f->list[0] ? " " : "", in.kind, a, b);
}

static facts proof_facts(void) {
  facts f;
  char seen[4096];
  memset(&f, 0, sizeof f);
  memset(seen, 0, sizeof seen);
  walk(tp_resolve_failure(R), &f, seen);
  return f;
}

/* Whether the failure's root says "the root cannot be selected". */
static int root_is_terminal(void) {
  tp_resolve_incompat in;
  tp_resolve_term t;
  int32_t id = tp_resolve_failure(R);
  if (id < 0 || tp_resolve_get_incompat(R, id, &in)) return 0;
  if (in.nterms == 0) return 1;
  return in.nterms == 1 && tp_resolve_get_term(R, id, 0, &t) == 0 && t.pkg == 0 && t.positive;
}

/* ---------------------------------------------------------------------- */
/* solver.md                                                               */
/* ---------------------------------------------------------------------- */

static void no_conflicts(void) {
  R = tp_resolve_new();
  req("foo", "^1.0.0");
  ver("foo", "1.0.0"); dep("bar", "^1.0.0");
  ver("bar", "1.0.0");
  ver("bar", "2.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("foo", "1.0.0");
  SELECTED("bar", "1.0.0");
  tp_resolve_free(R);
}

static void avoiding_conflict(void) {
  R = tp_resolve_new();
  req("foo", "^1.0.0");
  req("bar", "^1.0.0");
  ver("foo", "1.1.0"); dep("bar", "^2.0.0");
  ver("foo", "1.0.0");
  ver("bar", "1.0.0");
  ver("bar", "1.1.0");
  ver("bar", "2.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("foo", "1.0.0");
  SELECTED("bar", "1.1.0");
  tp_resolve_free(R);
}

static void conflict_resolution(void) {
  tp_resolve_stats st;
  R = tp_resolve_new();
  req("foo", ">=1.0.0");
  ver("foo", "2.0.0"); dep("bar", "^1.0.0");
  ver("foo", "1.0.0");
  ver("bar", "1.0.0"); dep("foo", "^1.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("foo", "1.0.0");
  SELECTED("bar", "-");
  tp_resolve_get_stats(R, &st);
  TP_CHECKF(st.conflicts == 1 && st.learned == 1, "conflicts %u learned %u", st.conflicts, st.learned);
  tp_resolve_free(R);
}

static void partial_satisfier(void) {
  R = tp_resolve_new();
  req("foo", "^1.0.0");
  req("target", "^2.0.0");
  ver("foo", "1.1.0"); dep("left", "^1.0.0"); dep("right", "^1.0.0");
  ver("foo", "1.0.0");
  ver("left", "1.0.0"); dep("shared", ">=1.0.0");
  ver("right", "1.0.0"); dep("shared", "<2.0.0");
  ver("shared", "2.0.0");
  ver("shared", "1.0.0"); dep("target", "^1.0.0");
  ver("target", "2.0.0");
  ver("target", "1.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("foo", "1.0.0");
  SELECTED("target", "2.0.0");
  SELECTED("left", "-");
  SELECTED("shared", "-");
  tp_resolve_free(R);
}

static void linear_error(void) {
  facts f;
  R = tp_resolve_new();
  req("foo", "^1.0.0");
  req("baz", "^1.0.0");
  ver("foo", "1.0.0"); dep("bar", "^2.0.0");
  ver("bar", "2.0.0"); dep("baz", "^3.0.0");
  ver("baz", "1.0.0");
  ver("baz", "3.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_CONFLICT);
  TP_CHECK(root_is_terminal());
  f = proof_facts();
  /* the four facts of solver.md's derivation graph, three derivations */
  TP_CHECKF(f.external == 4 && f.derived == 3 && f.bad == 0, "external %d derived %d bad %d",
            f.external, f.derived, f.bad);
  TP_CHECKF(strcmp(f.list, "1:foo>bar 1:bar>baz 0:root>baz 0:root>foo") == 0, "facts: %s", f.list);
  SELECTED("foo", "-");
  tp_resolve_free(R);
}

static void branching_error(void) {
  facts f;
  R = tp_resolve_new();
  req("foo", "^1.0.0");
  ver("foo", "1.0.0"); dep("a", "^1.0.0"); dep("b", "^1.0.0");
  ver("foo", "1.1.0"); dep("x", "^1.0.0"); dep("y", "^1.0.0");
  ver("a", "1.0.0"); dep("b", "^2.0.0");
  ver("b", "1.0.0");
  ver("b", "2.0.0");
  ver("x", "1.0.0"); dep("y", "^2.0.0");
  ver("y", "1.0.0");
  ver("y", "2.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_CONFLICT);
  TP_CHECK(root_is_terminal());
  f = proof_facts();
  /* solver.md: foo's two versions each fail for a reason of their own;
  ** the proof joins two derived branches */
  TP_CHECKF(f.external == 7 && f.bad == 0, "external %d bad %d: %s", f.external, f.bad, f.list);
  TP_CHECKF(strstr(f.list, "1:foo>a") && strstr(f.list, "1:a>b") && strstr(f.list, "1:foo>b") &&
            strstr(f.list, "1:foo>x") && strstr(f.list, "1:x>y") && strstr(f.list, "1:foo>y") &&
            strstr(f.list, "0:root>foo"), "facts: %s", f.list);
  tp_resolve_free(R);
}

/* ---------------------------------------------------------------------- */
/* External facts                                                          */
/* ---------------------------------------------------------------------- */

static void missing_and_no_versions(void) {
  facts f;
  /* a required dependency on a name with no candidate */
  R = tp_resolve_new();
  req("a", NULL);
  ver("a", "1.0.0"); dep("x", "^1.0");
  TP_CHECK(solve(0) == TP_RESOLVE_CONFLICT);
  f = proof_facts();
  TP_CHECKF(f.kinds[TP_RESOLVE_MISSING] == 1 && strstr(f.list, "3:a>x"), "facts %s", f.list);
  tp_resolve_free(R);
  /* the same, told to ignore missing plugins */
  R = tp_resolve_new();
  req("a", NULL);
  ver("a", "1.0.0"); dep("x", "^1.0");
  TP_CHECK(solve(TP_RESOLVE_IGNORE_MISSING) == TP_RESOLVE_SOLVED);
  SELECTED("a", "1.0.0");
  tp_resolve_free(R);
  /* a constraint no candidate meets: the version that has it is avoided */
  R = tp_resolve_new();
  req("a", NULL);
  ver("a", "2.0.0"); dep("x", "^3.0");
  ver("a", "1.0.0"); dep("x", "^1.0");
  ver("x", "1.0.0");
  ver("x", "2.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("a", "1.0.0");
  SELECTED("x", "1.0.0");
  tp_resolve_free(R);
  /* ... and when every version has it, it is the proof */
  R = tp_resolve_new();
  req("a", NULL);
  ver("a", "1.0.0"); dep("x", "^3.0");
  ver("x", "1.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_CONFLICT);
  f = proof_facts();
  TP_CHECKF(f.kinds[TP_RESOLVE_NO_VERSIONS] == 1 && strstr(f.list, "2:a>x"), "facts %s", f.list);
  tp_resolve_free(R);
  /* a requirement nothing meets is the whole proof */
  R = tp_resolve_new();
  req("a", "^9");
  ver("a", "1.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_CONFLICT);
  f = proof_facts();
  TP_CHECKF(f.external == 1 && f.derived == 0 && strcmp(f.list, "2:root>a") == 0, "facts %s", f.list);
  tp_resolve_free(R);
  R = tp_resolve_new();
  req("ghost", NULL);
  TP_CHECK(solve(0) == TP_RESOLVE_CONFLICT);
  f = proof_facts();
  TP_CHECKF(strcmp(f.list, "3:root>ghost") == 0, "facts %s", f.list);
  tp_resolve_free(R);
}

static void optional_dependencies(void) {
  /* absent: fine */
  R = tp_resolve_new();
  req("a", NULL);
  ver("a", "1.0.0"); opt_dep("log", "^2");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("a", "1.0.0");
  tp_resolve_free(R);
  /* present but not required: not selected, and no constraint on it */
  R = tp_resolve_new();
  req("a", NULL);
  ver("a", "1.0.0"); opt_dep("log", "^2");
  ver("log", "1.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("a", "1.0.0");
  SELECTED("log", "-");
  tp_resolve_free(R);
  /* selected: the constraint holds */
  R = tp_resolve_new();
  req("a", NULL);
  req("log", NULL);
  ver("a", "1.0.0"); opt_dep("log", "^2");
  ver("log", "1.0.0");
  ver("log", "2.5.0");
  ver("log", "3.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("a", "1.0.0");
  SELECTED("log", "2.5.0");
  tp_resolve_free(R);
  /* selected, and no version fits: the depender gives way */
  R = tp_resolve_new();
  req("a", NULL);
  req("log", NULL);
  ver("a", "2.0.0"); opt_dep("log", "^9");
  ver("a", "1.0.0");
  ver("log", "1.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("a", "1.0.0");
  SELECTED("log", "1.0.0");
  tp_resolve_free(R);
}

static void preferences(void) {
  R = tp_resolve_new();
  req("a", "^1");
  ver("a", "1.0.0");
  ver("a", "1.2.0");
  ver("a", "1.4.0");
  tp_resolve_prefer(R, "a", 1, "1.2.0", 5, NULL);
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("a", "1.2.0");
  TP_CHECK(tp_resolve_preferred(R, (uint32_t)tp_resolve_find(R, "a", 1)) == 1);
  tp_resolve_free(R);
  /* a preference outside the constraint is not taken */
  R = tp_resolve_new();
  req("a", "^1");
  ver("a", "1.4.0");
  ver("a", "2.0.0");
  tp_resolve_prefer(R, "a", 1, "2.0.0", 5, NULL);
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("a", "1.4.0");
  tp_resolve_free(R);
}

static void duplicates(void) {
  int h0, h1, h2;
  R = tp_resolve_new();
  req("a", NULL);
  h0 = ver("a", "1.0.0+one");
  h1 = ver("a", "1.0.0+two");
  h2 = ver("a", "0.9.0");
  TP_CHECK(h0 == 0 && h1 == 1 && h2 == 2);
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("a", "1.0.0+one");
  TP_CHECK(tp_resolve_duplicate_of(R, h1) == h0);
  TP_CHECK(tp_resolve_duplicate_of(R, h0) == -1 && tp_resolve_duplicate_of(R, h2) == -1);
  TP_CHECK(tp_resolve_ncandidates(R, (uint32_t)tp_resolve_find(R, "a", 1)) == 2);
  tp_resolve_free(R);
}

/* ---------------------------------------------------------------------- */
/* Refused input and limits                                                */
/* ---------------------------------------------------------------------- */

static void refused_input(void) {
  tp_semver_error e = {0, 0, NULL};
  size_t len;
  R = tp_resolve_new();
  TP_CHECK(tp_resolve_add_dep(R, "x", 1, "^1", 2, TP_RESOLVE_REQUIRED, 0, NULL) == TP_RESOLVE_ESTATE);
  TP_CHECK(tp_resolve_add_version(R, "a", 1, "1.2", 3, &e) == TP_RESOLVE_EVERSION);
  TP_CHECKF(e.pos == 3 && e.expected != NULL, "pos %zu", e.pos);
  TP_CHECK(tp_resolve_add_version(R, "", 0, "1.0.0", 5, NULL) == TP_RESOLVE_ENAME);
  TP_CHECK(ver("a", "1.0.0") == 0);
  memset(&e, 0, sizeof e);
  TP_CHECK(tp_resolve_add_dep(R, "b", 1, ">=1.0.0,,<2", 11, TP_RESOLVE_REQUIRED, 0, &e) == TP_RESOLVE_ECONSTRAINT);
  TP_CHECKF(e.pos == 8 && e.expected != NULL, "pos %zu", e.pos);
  TP_CHECK(tp_resolve_add_requirement(R, "a", 1, "^^1", 3, &e) == TP_RESOLVE_ECONSTRAINT);
  TP_CHECK(tp_resolve_prefer(R, "a", 1, "x", 1, &e) == TP_RESOLVE_EVERSION);
  /* queries before solving answer nothing */
  TP_CHECK(tp_resolve_npackages(R) == 0);
  TP_CHECK(tp_resolve_name(R, 0, &len) == NULL);
  TP_CHECK(tp_resolve_failure(R) == -1);
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  TP_CHECK(solve(0) == TP_RESOLVE_ESTATE);
  TP_CHECK(ver("c", "1.0.0") == TP_RESOLVE_ESTATE);
  TP_CHECK(tp_resolve_version(R, 99, 0, &len) == NULL);
  TP_CHECK(tp_resolve_handle(R, 1, 99) == TP_RESOLVE_ERANGE);
  tp_resolve_free(R);
  tp_resolve_free(NULL);
}

/* A chain where every version of p(i) needs p(i+1) at its own major and
** the last package has no such major: a long proof, many steps. */
static void build_chain(int n) {
  char name[16], v[16], c[16];
  int i, m;
  R = tp_resolve_new();
  req("p0", NULL);
  for (i = 0; i < n; i++) {
    snprintf(name, sizeof name, "p%d", i);
    for (m = 1; m <= 6; m++) {
      snprintf(v, sizeof v, "%d.0.0", m);
      ver(name, v);
      if (i + 1 < n) {
        snprintf(name, sizeof name, "p%d", i + 1);
        snprintf(c, sizeof c, "^%d", i + 1 == n - 1 ? m + 10 : m);
        dep(name, c);
        snprintf(name, sizeof name, "p%d", i);
      }
    }
  }
}

static void step_budget(void) {
  tp_resolve_stats st;
  build_chain(30);
  TP_CHECK(tp_resolve_solve(R, 0, 10) == TP_RESOLVE_ESTEPS);
  tp_resolve_get_stats(R, &st);
  TP_CHECKF(st.steps > 10 && st.steps < 20, "steps %llu", (unsigned long long)st.steps);
  TP_CHECK(tp_resolve_npackages(R) == 0);       /* nothing to read after giving up */
  tp_resolve_free(R);
  build_chain(30);
  TP_CHECK(tp_resolve_solve(R, 0, 1000000) == TP_RESOLVE_CONFLICT);
  tp_resolve_get_stats(R, &st);
  TP_CHECKF(st.steps > 30, "steps %llu", (unsigned long long)st.steps);
  tp_resolve_free(R);
}

/* 300 versions of one package: sets of five words. */
static void wide_sets(void) {
  char v[32];
  int i;
  R = tp_resolve_new();
  req("app", NULL);
  ver("app", "2.0.0"); dep("lib", ">=0.250.0"); dep("util", "^1");
  ver("app", "1.0.0"); dep("lib", "<0.100.0");
  for (i = 0; i < 300; i++) {
    snprintf(v, sizeof v, "0.%d.0", i);
    ver("lib", v);
    if (i >= 260) dep("util", "^2");     /* the newest lib needs util 2 */
  }
  ver("util", "1.0.0");
  ver("util", "2.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("app", "2.0.0");
  SELECTED("lib", "0.259.0");
  SELECTED("util", "1.0.0");
  tp_resolve_free(R);
}

static void prereleases(void) {
  R = tp_resolve_new();
  req("a", "^1.0.0");
  ver("a", "1.0.0");
  ver("a", "1.1.0-beta.1");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("a", "1.0.0");            /* node-semver: ^1.0.0 admits no 1.1.0-beta */
  tp_resolve_free(R);
  R = tp_resolve_new();
  req("a", NULL);                    /* any version means any candidate */
  ver("a", "1.0.0");
  ver("a", "1.1.0-beta.1");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("a", "1.1.0-beta.1");
  tp_resolve_free(R);
}

/* The versions of one dependency collapse into one fact per run of
** neighbours: "a >=1.1.0 <=1.3.0 depends on b ^2". */
static void collapsed_runs(void) {
  tp_resolve_incompat in;
  int32_t id;
  uint32_t pa;
  R = tp_resolve_new();
  req("a", NULL);
  ver("a", "1.0.0"); dep("b", "^1");
  ver("a", "1.1.0"); dep("b", "^2");
  ver("a", "1.2.0"); dep("b", "^2");
  ver("a", "1.3.0"); dep("b", "^2");
  ver("b", "1.0.0");
  TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
  SELECTED("a", "1.0.0");
  pa = (uint32_t)tp_resolve_find(R, "a", 1);
  for (id = 0; tp_resolve_get_incompat(R, id, &in) == 0; id++) {
    tp_resolve_term t;
    if (in.kind != TP_RESOLVE_NO_VERSIONS) continue;
    TP_CHECK(tp_resolve_get_term(R, id, 0, &t) == 0 && t.pkg == pa);
    TP_CHECK(!tp_resolve_term_names(R, id, 0, 0));
    TP_CHECK(tp_resolve_term_names(R, id, 0, 1) && tp_resolve_term_names(R, id, 0, 2) &&
             tp_resolve_term_names(R, id, 0, 3));
    break;
  }
  TP_CHECK(in.kind == TP_RESOLVE_NO_VERSIONS);
  tp_resolve_free(R);
}

/* The same problem added in another order gives the same answer: c 2.0.0
** needs d ^1, which 0.5.0 is not, so b 2.0.0 (c ^2) and a 2.0.0 (b ^2)
** cannot be chosen either. */
static void order_independent(void) {
  static const char *const vs[][3] = {
    {"a", "2.0.0", "b:^2"}, {"a", "1.0.0", "b:^1"}, {"b", "2.0.0", "c:^2"},
    {"b", "1.0.0", ""}, {"c", "1.0.0", ""}, {"c", "2.0.0", "d:^1"}, {"d", "0.5.0", ""},
  };
  char first[128] = "", out[128];
  int k, i;
  for (k = 0; k < 4; k++) {
    R = tp_resolve_new();
    req("a", NULL);
    for (i = 0; i < 7; i++) {
      int j = (i * (k + 1) + k) % 7;          /* multipliers 1-4: permutations of 7 */
      ver(vs[j][0], vs[j][1]);
      if (vs[j][2][0]) {
        char name[16];
        snprintf(name, sizeof name, "%c", vs[j][2][0]);
        dep(name, vs[j][2] + 2);
      }
    }
    TP_CHECK(solve(0) == TP_RESOLVE_SOLVED);
    snprintf(out, sizeof out, "a %s", selected("a"));
    snprintf(out + strlen(out), sizeof out - strlen(out), " b %s", selected("b"));
    snprintf(out + strlen(out), sizeof out - strlen(out), " c %s", selected("c"));
    snprintf(out + strlen(out), sizeof out - strlen(out), " d %s", selected("d"));
    if (k == 0) strcpy(first, out);
    TP_CHECKF(strcmp(first, out) == 0, "order %d: %s, first %s", k, out, first);
    tp_resolve_free(R);
  }
  TP_CHECKF(strcmp(first, "a 1.0.0 b 1.0.0 c - d -") == 0, "%s", first);
}

/* ---------------------------------------------------------------------- */
/* Random problems against a brute-force search                            */
/* ---------------------------------------------------------------------- */

#define NP 4          /* packages */
#define NV 3          /* versions each, "1.0.0" .. "3.0.0" */

typedef struct rdep { int on, lo, hi, optional; } rdep;    /* [lo, hi] of versions 1..3 */
typedef struct rprob {
  int nver[NP];
  rdep deps[NP][NV][2];
  int ndeps[NP][NV];
  int req_lo[NP], req_hi[NP];                              /* 0: not required */
} rprob;

static unsigned rng_state = 12345;
static int rnd(int n) {
  rng_state = rng_state * 1103515245u + 12345u;
  return (int)((rng_state >> 16) % (unsigned)n);
}

static void random_problem(rprob *p) {
  int i, v, k;
  memset(p, 0, sizeof *p);
  for (i = 0; i < NP; i++) {
    p->nver[i] = rnd(NV + 1);                     /* 0 .. 3 versions */
    for (v = 0; v < p->nver[i]; v++) {
      p->ndeps[i][v] = rnd(3);
      for (k = 0; k < p->ndeps[i][v]; k++) {
        rdep *d = &p->deps[i][v][k];
        d->on = rnd(NP);
        if (d->on == i || (k == 1 && d->on == p->deps[i][v][0].on)) { p->ndeps[i][v] = k; break; }
        d->lo = 1 + rnd(NV);
        d->hi = d->lo + rnd(NV - d->lo + 2);      /* up to 4: beyond the versions */
        d->optional = rnd(4) == 0;
      }
    }
  }
  p->req_lo[0] = 1;
  p->req_hi[0] = 1 + rnd(NV);
  if (rnd(2)) { p->req_lo[1] = 1 + rnd(NV); p->req_hi[1] = NV; }
}

static void constraint_text(char *buf, size_t n, int lo, int hi) {
  snprintf(buf, n, ">=%d.0.0 <=%d.0.0", lo, hi);
}

static void load_problem(const rprob *p) {
  char name[16], v[16], c[32];
  int i, k, j;
  R = tp_resolve_new();
  for (i = 0; i < NP; i++) {
    if (!p->req_lo[i]) continue;
    snprintf(name, sizeof name, "p%d", i);
    constraint_text(c, sizeof c, p->req_lo[i], p->req_hi[i]);
    req(name, c);
  }
  for (i = 0; i < NP; i++) {
    for (j = 0; j < p->nver[i]; j++) {
      snprintf(name, sizeof name, "p%d", i);
      snprintf(v, sizeof v, "%d.0.0", j + 1);
      ver(name, v);
      for (k = 0; k < p->ndeps[i][j]; k++) {
        const rdep *d = &p->deps[i][j][k];
        snprintf(name, sizeof name, "p%d", d->on);
        constraint_text(c, sizeof c, d->lo, d->hi);
        if (d->optional) opt_dep(name, c); else dep(name, c);
      }
    }
  }
}

/* sel[i]: 0 = not selected, else the version number. */
static int valid(const rprob *p, const int *sel) {
  int i, k;
  for (i = 0; i < NP; i++) {
    if (sel[i] > p->nver[i]) return 0;
    if (p->req_lo[i] && (sel[i] < p->req_lo[i] || sel[i] > p->req_hi[i])) return 0;
    if (!sel[i]) continue;
    for (k = 0; k < p->ndeps[i][sel[i] - 1]; k++) {
      const rdep *d = &p->deps[i][sel[i] - 1][k];
      int s = sel[d->on];
      if (!s && d->optional) continue;
      if (s < d->lo || s > d->hi) return 0;
    }
  }
  return 1;
}

static int brute_force(const rprob *p) {
  int sel[NP], i;
  long combos = 1, c;
  for (i = 0; i < NP; i++) combos *= NV + 1;
  for (c = 0; c < combos; c++) {
    long x = c;
    for (i = 0; i < NP; i++) { sel[i] = (int)(x % (NV + 1)); x /= NV + 1; }
    if (valid(p, sel)) return 1;
  }
  return 0;
}

static void random_against_brute_force(void) {
  int n, agree = 0, solved = 0;
  for (n = 0; n < 3000; n++) {
    rprob p;
    int sel[NP], i, rc, exists;
    random_problem(&p);
    load_problem(&p);
    rc = solve(0);
    exists = brute_force(&p);
    if (rc == TP_RESOLVE_SOLVED) {
      solved++;
      for (i = 0; i < NP; i++) {
        char name[16];
        const char *s;
        snprintf(name, sizeof name, "p%d", i);
        s = selected(name);
        sel[i] = s[0] == '-' ? 0 : s[0] - '0';
      }
      TP_CHECKF(valid(&p, sel), "problem %d: the selection breaks a constraint", n);
    } else {
      TP_CHECKF(rc == TP_RESOLVE_CONFLICT && root_is_terminal(), "problem %d: rc %d", n, rc);
      TP_CHECK(proof_facts().bad == 0);
    }
    if ((rc == TP_RESOLVE_SOLVED) == exists) agree++;
    else TP_CHECKF(0, "problem %d: resolver %d, brute force %d", n, rc, exists);
    tp_resolve_free(R);
  }
  TP_CHECKF(agree == 3000, "agreed on %d of 3000", agree);
  TP_CHECKF(solved > 300 && solved < 2700, "solved %d of 3000: the generator is lopsided", solved);
}

int main(void) {
  TP_RUN(no_conflicts);
  TP_RUN(avoiding_conflict);
  TP_RUN(conflict_resolution);
  TP_RUN(partial_satisfier);
  TP_RUN(linear_error);
  TP_RUN(branching_error);
  TP_RUN(missing_and_no_versions);
  TP_RUN(optional_dependencies);
  TP_RUN(preferences);
  TP_RUN(duplicates);
  TP_RUN(refused_input);
  TP_RUN(step_budget);
  TP_RUN(wide_sets);
  TP_RUN(prereleases);
  TP_RUN(collapsed_runs);
  TP_RUN(order_independent);
  TP_RUN(random_against_brute_force);
  return tp_done();
}
