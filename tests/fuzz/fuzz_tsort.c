/*
** fuzz_tsort.c: libFuzzer harness for the tsort parser and sorter, and the
** graph queries on what it builds (core/graph.h).
**
** The input is tsort input. The harness tokenizes it on its own (spaces,
** tabs, newlines) and aborts when: an odd token count is not refused, or
** a refusal lacks the ESYNTAX code, a position inside the input, a line and
** column, or an expectation, or names something other than the last token;
** an even input is refused; the order is not every token exactly once; a
** pair is out of order without having been broken at a reported loop (the
** edge from a loop's last node to its first); a reported loop is not a
** cycle of input pairs; a second run differs; the dependency queries
** disagree with each other (an order short exactly when there are cycles,
** each witness a cycle of edges).
**
**   make fuzz-build && build/fuzz/fuzz_tsort -max_total_time=60 /tmp/corpus tests/fuzz/seeds/fuzz_tsort
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *input;
static size_t input_len;

static void fail(const char *what) {
  fprintf(stderr, "fuzz_tsort: invariant violated: %s\n  input (%zu bytes): \"%.*s\"\n", what,
          input_len, (int)(input_len > 300 ? 300 : input_len), input);
  abort();
}

#define CHECK(cond, what) do { if (!(cond)) fail(what); } while (0)

static int blank(int c) { return c == ' ' || c == '\t' || c == '\n'; }

typedef struct token { size_t at, len; } token;

/* The harness's own tokenizer. */
static size_t tokenize(const char *s, size_t n, token *t) {
  size_t i = 0, k = 0;
  for (;;) {
    while (i < n && blank((unsigned char)s[i])) i++;
    if (i >= n) return k;
    t[k].at = i;
    while (i < n && !blank((unsigned char)s[i])) i++;
    t[k].len = i - t[k].at;
    k++;
  }
}

static uint32_t id_of(tp_graph *g, const token *t) {
  uint32_t v = UINT32_MAX;
  CHECK(tp_graph_find(g, input + t->at, t->len, &v) == 0, "every token is a node");
  return v;
}

/* Is there an input pair "a b" (a before b)? */
static int has_pair(tp_graph *g, const token *t, size_t nt, uint32_t a, uint32_t b) {
  size_t i;
  for (i = 0; i + 1 < nt; i += 2)
    if (id_of(g, &t[i]) == a && id_of(g, &t[i + 1]) == b) return 1;
  return 0;
}

static void check_error(const tp_graph_error *e, const token *t, size_t nt) {
  size_t line = 1, col = 1, i;
  CHECK(e->code == TP_GRAPH_ESYNTAX, "a refusal is ESYNTAX");
  CHECK(nt % 2 == 1, "only an odd token count is refused");
  CHECK(e->pos == t[nt - 1].at && e->len == t[nt - 1].len, "the refusal names the last token");
  CHECK(e->pos < input_len, "the position lies inside the input");
  for (i = 0; i < e->pos; i++) {
    if (input[i] == '\n') { line++; col = 1; } else col++;
  }
  CHECK(e->line == line && e->column == col, "line and column match the position");
  CHECK(e->expected && e->expected[0], "the refusal says what was expected");
}

static void check_sort(tp_graph *g, const token *t, size_t nt, const tp_graph_list *order,
                       const tp_graph_list *loops, const tp_graph_list *ends) {
  uint32_t n = tp_graph_size(g), i, start = 0;
  uint32_t *pos = malloc((n ? n : 1) * sizeof *pos);
  uint32_t *broken = calloc(ends->n ? ends->n * 2 : 2, sizeof *broken);
  size_t k;
  if (!pos || !broken) abort();
  CHECK(order->n == n && tp_graph_present_count(g) == n, "the order holds every token");
  for (i = 0; i < n; i++) pos[i] = UINT32_MAX;
  for (i = 0; i < order->n; i++) {
    CHECK(order->item[i] < n && pos[order->item[i]] == UINT32_MAX, "each token once");
    pos[order->item[i]] = i;
  }
  /* loops: cycles of input pairs; the pair from last to first is broken */
  for (i = 0; i < ends->n; i++) {
    uint32_t j, len = ends->item[i] - start;
    CHECK(len >= 2 && ends->item[i] <= loops->n, "a loop has two nodes or more");
    for (j = 0; j < len; j++) {
      uint32_t a = loops->item[start + j], b = loops->item[start + (j + 1) % len];
      CHECK(has_pair(g, t, nt, a, b), "each step of a loop is an input pair");
    }
    broken[2 * i] = loops->item[ends->item[i] - 1];
    broken[2 * i + 1] = loops->item[start];
    start = ends->item[i];
  }
  for (k = 0; k + 1 < nt; k += 2) {
    uint32_t a = id_of(g, &t[k]), b = id_of(g, &t[k + 1]);
    if (a == b || pos[a] < pos[b]) continue;
    for (i = 0; i < ends->n; i++) {
      if (broken[2 * i] == a && broken[2 * i + 1] == b) {
        broken[2 * i] = UINT32_MAX;     /* each broken pair excuses one */
        break;
      }
    }
    CHECK(i < ends->n, "a pair out of order was broken at a reported loop");
  }
  free(pos);
  free(broken);
}

/* The dependency queries on the same graph agree with each other. */
static void check_queries(tp_graph *g) {
  tp_graph_list o = {0}, c = {0}, ce = {0}, r = {0};
  uint32_t i, start = 0;
  CHECK(tp_graph_order(g, TP_GRAPH_ALL, 0, &o) == 0, "order runs");
  CHECK(tp_graph_cycles(g, TP_GRAPH_ALL, &c, &ce) == 0, "cycles run");
  CHECK((o.n < tp_graph_present_count(g)) == (ce.n > 0), "the order is short exactly when there are cycles");
  for (i = 0; i < ce.n; i++) {
    uint32_t j;
    CHECK(c.item[start] == c.item[ce.item[i] - 1], "a witness is closed");
    for (j = start; j + 1 < ce.item[i]; j++) {
      CHECK(tp_graph_reach(g, c.item[j], TP_GRAPH_ALL, TP_GRAPH_DEPENDENCIES, 0, &r) == 0, "reach runs");
      {
        uint32_t k, found = 0;
        for (k = 0; k < r.n; k++) found |= r.item[k] == c.item[j + 1];
        CHECK(found, "each witness step is an edge");
      }
    }
    start = ce.item[i];
  }
  CHECK(tp_graph_order(g, TP_GRAPH_ALL, 1, &o) == 0, "reverse order runs");
  CHECK(tp_graph_missing(g, TP_GRAPH_ALL, &r) == 0 && r.n == 0, "tsort nodes are all present");
  tp_graph_list_free(&o); tp_graph_list_free(&c); tp_graph_list_free(&ce); tp_graph_list_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tp_graph *g, *g2;
  tp_graph_error e;
  tp_graph_list order = {0}, loops = {0}, ends = {0}, order2 = {0}, loops2 = {0}, ends2 = {0};
  token *t;
  size_t nt;
  int rc, rc2;
  if (size > 4096) return 0;   /* loop finding is quadratic, as GNU's */
  input = (const char *)data;
  input_len = size;
  t = malloc((size / 2 + 1) * sizeof *t);
  g = tp_graph_new();
  if (!t || !g) abort();
  nt = tokenize(input, size, t);
  rc = tp_graph_tsort_read(g, input, size, &e);
  if (rc) {
    check_error(&e, t, nt);
  } else {
    CHECK(nt % 2 == 0, "an even token count is read");
    rc = tp_graph_tsort(g, &order, &loops, &ends);
    CHECK(rc >= 0 && (uint32_t)rc == ends.n, "tsort returns its loop count");
    check_sort(g, t, nt, &order, &loops, &ends);
    /* determinism: the same input again gives the same answers */
    g2 = tp_graph_new();
    if (!g2) abort();
    CHECK(tp_graph_tsort_read(g2, input, size, &e) == 0, "a second read succeeds");
    rc2 = tp_graph_tsort(g2, &order2, &loops2, &ends2);
    CHECK(rc2 == rc && order2.n == order.n && loops2.n == loops.n &&
          (order.n == 0 || memcmp(order2.item, order.item, order.n * sizeof *order.item) == 0) &&
          (loops.n == 0 || memcmp(loops2.item, loops.item, loops.n * sizeof *loops.item) == 0),
          "a second run agrees");
    tp_graph_free(g2);
    check_queries(g);
  }
  tp_graph_list_free(&order); tp_graph_list_free(&loops); tp_graph_list_free(&ends);
  tp_graph_list_free(&order2); tp_graph_list_free(&loops2); tp_graph_list_free(&ends2);
  tp_graph_free(g);
  free(t);
  return 0;
}
