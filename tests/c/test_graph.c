/*
** test_graph.c: core/graph.c. Hand-made graphs with known answers, then
** properties on random graphs: the order is the same whatever the
** insertion order, respects every edge, and is the smallest by id among
** valid orders at each step; cycles are found exactly when the order is
** short; deep graphs (100,000 nodes in a chain and in one cycle) run
** without recursion. tsort's loop reports are compared with GNU tsort in
** tests/e2e/tsort.sh; here, its known answers and its input errors.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "tp_test.h"

#define REQ TP_GRAPH_REQUIRED
#define OPT TP_GRAPH_OPTIONAL
#define DEV TP_GRAPH_DEV

static uint32_t node(tp_graph *g, const char *id) {
  uint32_t v = UINT32_MAX;
  int rc = tp_graph_intern(g, id, strlen(id), &v);
  TP_CHECKF(rc == 0, "intern %s: %d", id, rc);
  return v;
}

/* add "from" as a present node depending on each of the "to" ids, of type t */
static void dep(tp_graph *g, const char *from, const char *to, unsigned t) {
  uint32_t a = node(g, from), b = node(g, to);
  TP_CHECK(tp_graph_set_present(g, a, 1) == 0);
  TP_CHECK(tp_graph_add_edge(g, a, b, t) == 0);
}

static void add(tp_graph *g, const char *id) {
  TP_CHECK(tp_graph_set_present(g, node(g, id), 1) == 0);
}

/* The ids of a list joined by spaces, into buf. */
static const char *joined(const tp_graph *g, const uint32_t *v, uint32_t n, char *buf, size_t cap) {
  size_t at = 0;
  uint32_t i;
  buf[0] = '\0';
  for (i = 0; i < n && at + 1 < cap; i++) {
    size_t len;
    const char *id = tp_graph_id(g, v[i], &len);
    at += (size_t)snprintf(buf + at, cap - at, "%s%.*s", i ? " " : "", (int)len, id);
  }
  return buf;
}

static void check_order(tp_graph *g, unsigned mask, int reverse, const char *want) {
  tp_graph_list out = {0};
  char buf[512];
  int rc = tp_graph_order(g, mask, reverse, &out);
  TP_CHECKF(rc == 0, "order: %d", rc);
  joined(g, out.item, out.n, buf, sizeof buf);
  TP_CHECKF(strcmp(buf, want) == 0, "order (mask %u%s): want \"%s\", got \"%s\"", mask,
            reverse ? ", reverse" : "", want, buf);
  tp_graph_list_free(&out);
}

/* cycles joined as "a b a | c c" */
static void check_cycles(tp_graph *g, unsigned mask, const char *want) {
  tp_graph_list nodes = {0}, ends = {0};
  char buf[512], one[256];
  uint32_t i, start = 0;
  size_t at = 0;
  int rc = tp_graph_cycles(g, mask, &nodes, &ends);
  TP_CHECKF(rc == 0, "cycles: %d", rc);
  buf[0] = '\0';
  for (i = 0; i < ends.n; i++) {
    joined(g, nodes.item + start, ends.item[i] - start, one, sizeof one);
    at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", i ? " | " : "", one);
    start = ends.item[i];
  }
  TP_CHECKF(strcmp(buf, want) == 0, "cycles (mask %u): want \"%s\", got \"%s\"", mask, want, buf);
  tp_graph_list_free(&nodes);
  tp_graph_list_free(&ends);
}

static void check_reach(tp_graph *g, const char *id, unsigned mask, int dir, int rec, const char *want) {
  tp_graph_list out = {0};
  char buf[512];
  int rc = tp_graph_reach(g, node(g, id), mask, dir, rec, &out);
  TP_CHECKF(rc == 0, "reach: %d", rc);
  joined(g, out.item, out.n, buf, sizeof buf);
  TP_CHECKF(strcmp(buf, want) == 0, "reach %s (%s, %s): want \"%s\", got \"%s\"", id,
            dir == TP_GRAPH_DEPENDENTS ? "dependents" : "dependencies",
            rec ? "recursive" : "direct", want, buf);
  tp_graph_list_free(&out);
}

/* ---------------------------------------------------------------------- */

static void interning(void) {
  tp_graph *g = tp_graph_new();
  uint32_t a = node(g, "alpha"), b = node(g, "beta"), again = 99, found = 99;
  size_t len;
  const char *id;
  char nul[3] = {'a', '\0', 'b'};
  TP_CHECK(a != b);
  TP_CHECK(node(g, "alpha") == a);
  TP_CHECK(tp_graph_find(g, "beta", 4, &found) == 0 && found == b);
  TP_CHECK(tp_graph_find(g, "gamma", 5, &found) == TP_GRAPH_ENOENT);
  id = tp_graph_id(g, b, &len);
  TP_CHECK(len == 4 && memcmp(id, "beta", 4) == 0);
  /* ids are byte strings: a NUL inside is part of the id */
  TP_CHECK(tp_graph_intern(g, nul, 3, &again) == 0 && again != a);
  TP_CHECK(tp_graph_size(g) == 3);
  {
    tp_graph *h = tp_graph_new();   /* the empty id is an id, even first */
    uint32_t e1 = 9, e2 = 9;
    TP_CHECK(tp_graph_intern(h, "", 0, &e1) == 0 && tp_graph_find(h, "", 0, &e2) == 0 && e1 == e2);
    TP_CHECK(tp_graph_id(h, e1, &len) != NULL && len == 0);
    tp_graph_free(h);
  }
  TP_CHECK(tp_graph_present_count(g) == 0 && !tp_graph_present(g, a));
  TP_CHECK(tp_graph_set_present(g, a, 1) == 0 && tp_graph_present(g, a));
  TP_CHECK(tp_graph_set_present(g, a, 1) == 0 && tp_graph_present_count(g) == 1);
  TP_CHECK(tp_graph_set_present(g, 77, 1) == TP_GRAPH_EINVAL);
  TP_CHECK(tp_graph_add_edge(g, a, 77, REQ) == TP_GRAPH_EINVAL);
  TP_CHECK(tp_graph_add_edge(g, a, b, 0) == TP_GRAPH_EINVAL);
  TP_CHECK(tp_graph_add_edge(g, a, b, 8) == TP_GRAPH_EINVAL);
  TP_CHECK(tp_graph_clear_edges(g, 77) == TP_GRAPH_EINVAL);
  /* many ids: the table grows and every id is still found */
  {
    char name[32];
    int i, all = 1;
    for (i = 0; i < 5000; i++) { snprintf(name, sizeof name, "n%d", i); node(g, name); }
    for (i = 0; i < 5000; i++) {
      snprintf(name, sizeof name, "n%d", i);
      all &= tp_graph_find(g, name, strlen(name), &found) == 0;
      id = tp_graph_id(g, found, &len);
      all &= len == strlen(name) && memcmp(id, name, len) == 0;
    }
    TP_CHECK(all);
  }
  tp_graph_free(g);
}

static void load_order(void) {
  tp_graph *g = tp_graph_new();
  /* app -> json, log; log -> json; ties: cli and zlib free from the start */
  dep(g, "app", "log", REQ);
  dep(g, "app", "json", REQ);
  dep(g, "log", "json", REQ);
  add(g, "zlib");
  add(g, "json");
  add(g, "cli");
  check_order(g, REQ, 0, "cli json log app zlib");
  check_order(g, REQ, 1, "app cli log json zlib");
  /* a dependency added after its dependent counts */
  dep(g, "zlib", "cli", REQ);
  dep(g, "cli", "app", REQ);
  check_order(g, REQ, 0, "json log app cli zlib");
  tp_graph_free(g);
}

static void edge_types(void) {
  tp_graph *g = tp_graph_new();
  dep(g, "a", "b", OPT);
  dep(g, "b", "c", DEV);
  add(g, "c");
  check_order(g, REQ, 0, "a b c");
  check_order(g, REQ | OPT, 0, "b a c");
  check_order(g, REQ | OPT | DEV, 0, "c b a");
  /* a dev edge closing a loop matters only when dev edges are followed */
  dep(g, "c", "a", DEV);
  check_cycles(g, REQ | OPT, "");
  check_cycles(g, REQ | OPT | DEV, "a b c a");
  tp_graph_free(g);
}

static void missing(void) {
  tp_graph *g = tp_graph_new();
  tp_graph_list pairs = {0};
  char buf[256];
  dep(g, "web", "tls", REQ);
  dep(g, "web", "tls", REQ);     /* a parallel edge is reported once */
  dep(g, "web", "cache", OPT);
  dep(g, "api", "auth", REQ);
  dep(g, "api", "web", REQ);
  TP_CHECK(tp_graph_missing(g, REQ, &pairs) == 0);
  TP_CHECKF(strcmp(joined(g, pairs.item, pairs.n, buf, sizeof buf), "api auth web tls") == 0,
            "missing: %s", buf);
  TP_CHECK(tp_graph_missing(g, REQ | OPT, &pairs) == 0);
  TP_CHECKF(strcmp(joined(g, pairs.item, pairs.n, buf, sizeof buf), "api auth web cache web tls") == 0,
            "missing with optional: %s", buf);
  /* absent nodes are not ordered; edges to them do not hold anyone back */
  check_order(g, REQ | OPT, 0, "web api");
  tp_graph_list_free(&pairs);
  tp_graph_free(g);
}

static void cycles(void) {
  tp_graph *g = tp_graph_new();
  /* component {b, c, d, e}: b -> c -> d -> b and d -> e -> b; the witness
  ** starts at the smallest id, b, and is the shortest: b c d b */
  dep(g, "e", "b", REQ);
  dep(g, "d", "e", REQ);
  dep(g, "d", "b", REQ);
  dep(g, "c", "d", REQ);
  dep(g, "b", "c", REQ);
  dep(g, "a", "b", REQ);       /* a is behind the cycle, not on it */
  dep(g, "z", "z", REQ);       /* a node on its own with a self-edge */
  dep(g, "x", "x", REQ);       /* self-edge inside a bigger component */
  dep(g, "x", "y", REQ);
  dep(g, "y", "x", REQ);
  check_cycles(g, REQ, "b c d b | x y x | z z");
  /* the order leaves out the cycles and whatever waits on them */
  check_order(g, REQ, 0, "");
  add(g, "free");
  check_order(g, REQ, 0, "free");
  /* the witness is the shortest: a long way round and a short cut */
  {
    tp_graph *h = tp_graph_new();
    dep(h, "p1", "p2", REQ); dep(h, "p2", "p3", REQ); dep(h, "p3", "p4", REQ);
    dep(h, "p4", "p1", REQ); dep(h, "p1", "p3", REQ);
    check_cycles(h, REQ, "p1 p3 p4 p1");
    tp_graph_free(h);
  }
  tp_graph_free(g);
}

static void reach(void) {
  tp_graph *g = tp_graph_new();
  dep(g, "app", "web", REQ);
  dep(g, "app", "metrics", OPT);
  dep(g, "app", "testkit", DEV);
  dep(g, "web", "tls", REQ);
  dep(g, "web", "gone", REQ);     /* absent */
  dep(g, "metrics", "tls", REQ);
  add(g, "tls");
  add(g, "testkit");
  check_reach(g, "app", REQ, TP_GRAPH_DEPENDENCIES, 0, "web");
  check_reach(g, "app", REQ, TP_GRAPH_DEPENDENCIES, 1, "gone tls web");
  check_reach(g, "app", REQ | OPT, TP_GRAPH_DEPENDENCIES, 1, "gone metrics tls web");
  check_reach(g, "app", TP_GRAPH_ALL, TP_GRAPH_DEPENDENCIES, 0, "metrics testkit web");
  check_reach(g, "tls", REQ, TP_GRAPH_DEPENDENTS, 0, "metrics web");
  check_reach(g, "tls", REQ, TP_GRAPH_DEPENDENTS, 1, "app metrics web");
  check_reach(g, "tls", REQ | OPT, TP_GRAPH_DEPENDENTS, 1, "app metrics web");
  check_reach(g, "gone", REQ, TP_GRAPH_DEPENDENTS, 0, "web");   /* who misses it */
  check_reach(g, "gone", REQ, TP_GRAPH_DEPENDENTS, 1, "app web");
  check_reach(g, "gone", REQ, TP_GRAPH_DEPENDENCIES, 1, "");
  /* a node on a cycle reaches itself */
  dep(g, "tls", "app", REQ);
  check_reach(g, "tls", REQ, TP_GRAPH_DEPENDENCIES, 1, "app gone tls web");
  tp_graph_free(g);
}

static void replace_and_remove(void) {
  tp_graph *g = tp_graph_new();
  tp_graph_list pairs = {0};
  char buf[128];
  uint32_t b;
  dep(g, "a", "b", REQ);
  dep(g, "b", "c", REQ);
  add(g, "c");
  check_order(g, REQ, 0, "c b a");
  /* replace b's dependencies: b now depends on nothing */
  b = node(g, "b");
  TP_CHECK(tp_graph_clear_edges(g, b) == 0);
  check_order(g, REQ, 0, "b a c");
  dep(g, "c", "b", REQ);
  check_order(g, REQ, 0, "b a c");
  check_order(g, REQ, 1, "a c b");
  /* remove b: a and c now miss it */
  TP_CHECK(tp_graph_set_present(g, b, 0) == 0 && tp_graph_clear_edges(g, b) == 0);
  TP_CHECK(tp_graph_missing(g, REQ, &pairs) == 0);
  TP_CHECKF(strcmp(joined(g, pairs.item, pairs.n, buf, sizeof buf), "a b c b") == 0, "missing: %s", buf);
  check_order(g, REQ, 0, "a c");
  /* clearing many times compacts rather than keeping dead edges alive */
  {
    int i;
    for (i = 0; i < 1000; i++) {
      TP_CHECK(tp_graph_clear_edges(g, node(g, "a")) == 0);
      dep(g, "a", "c", REQ);
      if (i % 100 == 0) check_order(g, REQ, 0, "c a");
    }
  }
  tp_graph_list_free(&pairs);
  tp_graph_free(g);
}

/* ---------------------------------------------------------------------- */
/* Properties on random graphs                                             */
/* ---------------------------------------------------------------------- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state % n);
}

typedef struct pair { uint32_t from, to; unsigned type; } pair;

/* Build a graph from nodes 0..n-1 ("k<i>") and edges, inserting in the
** order perm gives (nodes) and edge order reversed when flip. */
static tp_graph *build(uint32_t n, const uint32_t *perm, const pair *e, uint32_t ne, int flip) {
  tp_graph *g = tp_graph_new();
  uint32_t i;
  char a[16], b[16];
  for (i = 0; i < n; i++) { snprintf(a, sizeof a, "k%u", perm[i]); add(g, a); }
  for (i = 0; i < ne; i++) {
    const pair *p = &e[flip ? ne - 1 - i : i];
    snprintf(a, sizeof a, "k%u", p->from);
    snprintf(b, sizeof b, "k%u", p->to);
    TP_CHECK(tp_graph_add_edge(g, node(g, a), node(g, b), p->type) == 0);
  }
  return g;
}

static void shuffle(uint32_t *p, uint32_t n) {
  uint32_t i;
  for (i = n; i > 1; i--) { uint32_t j = rnd(i), t = p[i - 1]; p[i - 1] = p[j]; p[j] = t; }
}

static int id_less(const tp_graph *g, uint32_t x, uint32_t y) {
  size_t lx, ly;
  const char *a = tp_graph_id(g, x, &lx), *b = tp_graph_id(g, y, &ly);
  int c = memcmp(a, b, lx < ly ? lx : ly);
  return c ? c < 0 : lx < ly;
}

/* Every edge between present nodes goes forward, and at every step the
** node taken is the smallest id among those whose dependencies are done. */
static int order_is_min_topological(tp_graph *g, const tp_graph_list *o, const pair *e,
                                    uint32_t ne, unsigned mask) {
  uint32_t n = tp_graph_size(g), i, j, *pos = malloc(n * sizeof *pos);
  int ok = 1;
  char a[16];
  for (i = 0; i < n; i++) pos[i] = UINT32_MAX;
  for (i = 0; i < o->n; i++) pos[o->item[i]] = i;
  for (i = 0; i < ne && ok; i++) {
    uint32_t f, t;
    if (!(e[i].type & mask)) continue;
    snprintf(a, sizeof a, "k%u", e[i].from); f = node(g, a);
    snprintf(a, sizeof a, "k%u", e[i].to); t = node(g, a);
    if (f != t) ok &= pos[t] < pos[f];
  }
  /* minimality: when o->item[i] was taken, no later node was ready and smaller */
  for (i = 0; i < o->n && ok; i++) {
    for (j = i + 1; j < o->n && ok; j++) {
      uint32_t cand = o->item[j], k;
      int ready = 1;
      if (!id_less(g, cand, o->item[i])) continue;
      for (k = 0; k < ne && ready; k++) {
        uint32_t f, t;
        if (!(e[k].type & mask)) continue;
        snprintf(a, sizeof a, "k%u", e[k].from); f = node(g, a);
        snprintf(a, sizeof a, "k%u", e[k].to); t = node(g, a);
        if (f == cand && pos[t] >= i) ready = 0;
      }
      if (ready) ok = 0;
    }
  }
  free(pos);
  return ok;
}

static void random_dags(void) {
  int round;
  rng_state = 0x2545f4914f6cdd1dULL;
  for (round = 0; round < 200; round++) {
    uint32_t n = 1 + rnd(40), ne = rnd(n * 3 + 1), i, *perm = malloc(n * sizeof *perm);
    uint32_t *label = malloc(n * sizeof *label);
    pair *e = malloc((ne + 1) * sizeof *e);
    tp_graph_list o1 = {0}, o2 = {0}, c = {0}, ce = {0};
    tp_graph *g1, *g2;
    unsigned mask = (round % 3 == 0) ? (REQ | OPT) : REQ;
    /* a DAG: edges go from a later to an earlier node of a random labelling */
    for (i = 0; i < n; i++) label[i] = perm[i] = i;
    shuffle(label, n);
    for (i = 0; i < ne; i++) {
      uint32_t x = rnd(n), y = rnd(n);
      if (x == y) y = (y + 1) % n;
      if (x < y) { uint32_t t = x; x = y; y = t; }
      e[i].from = label[x]; e[i].to = label[y];
      e[i].type = rnd(3) == 0 ? OPT : REQ;
      if (n == 1) e[i].from = e[i].to = label[0], e[i].type = DEV;   /* never followed */
    }
    if (n == 1) mask = REQ;
    g1 = build(n, perm, e, ne, 0);
    shuffle(perm, n);
    g2 = build(n, perm, e, ne, 1);
    TP_CHECK(tp_graph_order(g1, mask, 0, &o1) == 0 && tp_graph_order(g2, mask, 0, &o2) == 0);
    TP_CHECKF(o1.n == n && o2.n == n, "round %d: a DAG orders all %u nodes (%u, %u)", round, n, o1.n, o2.n);
    for (i = 0; i < o1.n && i < o2.n; i++) {
      size_t l1, l2;
      const char *a = tp_graph_id(g1, o1.item[i], &l1), *b = tp_graph_id(g2, o2.item[i], &l2);
      if (l1 != l2 || memcmp(a, b, l1) != 0) {
        TP_CHECKF(0, "round %d: insertion order changed position %u", round, i);
        break;
      }
    }
    TP_CHECKF(order_is_min_topological(g1, &o1, e, ne, mask), "round %d: order respects edges, smallest id first", round);
    TP_CHECK(tp_graph_cycles(g1, mask, &c, &ce) == 0 && ce.n == 0);
    tp_graph_list_free(&o1); tp_graph_list_free(&o2); tp_graph_list_free(&c); tp_graph_list_free(&ce);
    tp_graph_free(g1); tp_graph_free(g2);
    free(perm); free(label); free(e);
  }
}

/* With cycles: the same cycles whatever the insertion order; each witness
** is a real cycle of edges; the order is short exactly when there is one. */
static void random_cyclic(void) {
  int round;
  rng_state = 0x9e3779b97f4a7c15ULL;
  for (round = 0; round < 200; round++) {
    uint32_t n = 1 + rnd(25), ne = rnd(n * 2 + 2), i, *perm = malloc(n * sizeof *perm);
    pair *e = malloc((ne + 1) * sizeof *e);
    tp_graph_list c1 = {0}, e1 = {0}, c2 = {0}, e2 = {0}, o = {0};
    tp_graph *g1, *g2;
    for (i = 0; i < n; i++) perm[i] = i;
    for (i = 0; i < ne; i++) { e[i].from = rnd(n); e[i].to = rnd(n); e[i].type = REQ; }
    g1 = build(n, perm, e, ne, 0);
    shuffle(perm, n);
    g2 = build(n, perm, e, ne, 1);
    TP_CHECK(tp_graph_cycles(g1, REQ, &c1, &e1) == 0 && tp_graph_cycles(g2, REQ, &c2, &e2) == 0);
    TP_CHECK(tp_graph_order(g1, REQ, 0, &o) == 0);
    TP_CHECKF((o.n < n) == (e1.n > 0), "round %d: short order (%u of %u) iff cycles (%u)", round, o.n, n, e1.n);
    TP_CHECKF(c1.n == c2.n && e1.n == e2.n, "round %d: same cycles both ways", round);
    for (i = 0; i < c1.n && i < c2.n; i++) {
      size_t l1, l2;
      const char *a = tp_graph_id(g1, c1.item[i], &l1), *b = tp_graph_id(g2, c2.item[i], &l2);
      if (l1 != l2 || memcmp(a, b, l1) != 0) { TP_CHECKF(0, "round %d: witness differs at %u", round, i); break; }
    }
    /* every step of every witness is an edge */
    for (i = 0; i + 1 < c1.n; i++) {
      uint32_t k, found = 0, j;
      int boundary = 0;
      for (j = 0; j < e1.n; j++) if (e1.item[j] == i + 1) boundary = 1;
      if (boundary) continue;
      for (k = 0; k < ne && !found; k++) {
        char a[16], b[16];
        snprintf(a, sizeof a, "k%u", e[k].from); snprintf(b, sizeof b, "k%u", e[k].to);
        found = node(g1, a) == c1.item[i] && node(g1, b) == c1.item[i + 1];
      }
      TP_CHECKF(found, "round %d: witness step %u is an edge", round, i);
    }
    tp_graph_list_free(&c1); tp_graph_list_free(&e1); tp_graph_list_free(&c2);
    tp_graph_list_free(&e2); tp_graph_list_free(&o);
    tp_graph_free(g1); tp_graph_free(g2);
    free(perm); free(e);
  }
}

/* 100,000 nodes in a chain, then closed into one cycle: no recursion, so
** no stack to overflow. */
static void deep(void) {
  enum { N = 100000 };
  tp_graph *g = tp_graph_new();
  tp_graph_list o = {0}, c = {0}, ce = {0}, r = {0};
  uint32_t *v = malloc(N * sizeof *v), i;
  char name[16];
  for (i = 0; i < N; i++) {
    snprintf(name, sizeof name, "n%06u", i);
    v[i] = node(g, name);
    tp_graph_set_present(g, v[i], 1);
  }
  /* n000000 depends on n000001 ... so the order is reversed */
  for (i = 0; i + 1 < N; i++) tp_graph_add_edge(g, v[i], v[i + 1], REQ);
  TP_CHECK(tp_graph_order(g, REQ, 0, &o) == 0 && o.n == N);
  TP_CHECK(o.n == N && o.item[0] == v[N - 1] && o.item[N - 1] == v[0]);
  TP_CHECK(tp_graph_reach(g, v[0], REQ, TP_GRAPH_DEPENDENCIES, 1, &r) == 0 && r.n == N - 1);
  TP_CHECK(tp_graph_reach(g, v[N - 1], REQ, TP_GRAPH_DEPENDENTS, 1, &r) == 0 && r.n == N - 1);
  TP_CHECK(tp_graph_cycles(g, REQ, &c, &ce) == 0 && ce.n == 0);
  tp_graph_add_edge(g, v[N - 1], v[0], REQ);
  TP_CHECK(tp_graph_cycles(g, REQ, &c, &ce) == 0);
  TP_CHECKF(ce.n == 1 && c.n == N + 1 && c.item[0] == v[0] && c.item[N] == v[0],
            "one cycle through all %d nodes (%u cycles, %u nodes)", N, ce.n, c.n);
  TP_CHECK(tp_graph_order(g, REQ, 0, &o) == 0 && o.n == 0);
  tp_graph_list_free(&o); tp_graph_list_free(&c); tp_graph_list_free(&ce); tp_graph_list_free(&r);
  tp_graph_free(g);
  free(v);
}

/* ---------------------------------------------------------------------- */
/* tsort                                                                   */
/* ---------------------------------------------------------------------- */

static void tsort_case(const char *in, const char *want_order, const char *want_loops, int want_n) {
  tp_graph *g = tp_graph_new();
  tp_graph_list o = {0}, l = {0}, le = {0};
  tp_graph_error e;
  char buf[512], loops[512], one[256];
  uint32_t i, start = 0;
  size_t at = 0;
  int rc = tp_graph_tsort_read(g, in, strlen(in), &e);
  TP_CHECKF(rc == 0, "read \"%s\": %d", in, rc);
  rc = tp_graph_tsort(g, &o, &l, &le);
  TP_CHECKF(rc == want_n, "\"%s\": %d loops, want %d", in, rc, want_n);
  joined(g, o.item, o.n, buf, sizeof buf);
  TP_CHECKF(strcmp(buf, want_order) == 0, "\"%s\": order \"%s\", want \"%s\"", in, buf, want_order);
  loops[0] = '\0';
  for (i = 0; i < le.n; i++) {
    joined(g, l.item + start, le.item[i] - start, one, sizeof one);
    at += (size_t)snprintf(loops + at, sizeof loops - at, "%s%s", i ? " | " : "", one);
    start = le.item[i];
  }
  TP_CHECKF(strcmp(loops, want_loops) == 0, "\"%s\": loops \"%s\", want \"%s\"", in, loops, want_loops);
  tp_graph_list_free(&o); tp_graph_list_free(&l); tp_graph_list_free(&le);
  tp_graph_free(g);
}

static void tsort_known(void) {
  /* answers checked against GNU tsort 9.1 (loops); our order breaks ties by id */
  tsort_case("", "", "", 0);
  tsort_case("a a", "a", "", 0);
  tsort_case("b a\n", "b a", "", 0);
  tsort_case("c d a b\n\tb c", "a b c d", "", 0);
  tsort_case("a b b c c a c d", "a b c d", "a b c", 1);
  tsort_case("b a a b", "a b", "a b", 1);
  /* two loops through one node: GNU reports both, breaking one edge each */
  tsort_case("a b b a a c c a", "a b c", "a b | a c", 2);
  /* a doubled edge is a doubled relation: the loop is reported twice */
  tsort_case("x y y x y x", "x y", "x y | x y", 2);
  /* carriage returns, vertical tabs and form feeds are token bytes */
  tsort_case("a\rb c", "a\rb c", "", 0);
}

static void tsort_errors(void) {
  tp_graph *g = tp_graph_new();
  tp_graph_error e;
  const char *in = "a b\n  c d\n e";
  int rc = tp_graph_tsort_read(g, in, strlen(in), &e);
  TP_CHECK(rc == TP_GRAPH_ESYNTAX && e.code == rc);
  TP_CHECKF(e.line == 3 && e.column == 2 && e.pos == 11 && e.len == 1,
            "line %zu column %zu pos %zu len %zu", e.line, e.column, e.pos, e.len);
  TP_CHECK(e.expected && e.expected[0]);
  tp_graph_free(g);
  g = tp_graph_new();
  rc = tp_graph_tsort_read(g, "lonely", 6, &e);
  TP_CHECK(rc == TP_GRAPH_ESYNTAX && e.line == 1 && e.column == 1 && e.len == 6);
  tp_graph_free(g);
}

int main(void) {
  TP_RUN(interning);
  TP_RUN(load_order);
  TP_RUN(edge_types);
  TP_RUN(missing);
  TP_RUN(cycles);
  TP_RUN(reach);
  TP_RUN(replace_and_remove);
  TP_RUN(random_dags);
  TP_RUN(random_cyclic);
  TP_RUN(deep);
  TP_RUN(tsort_known);
  TP_RUN(tsort_errors);
  return tp_done();
}
