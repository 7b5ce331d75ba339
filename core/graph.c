/*
** graph.c: the dependency graph's topology (see graph.h, docs/graph.md).
**
** Ids are interned in an open-addressing hash table; edges are kept in one
** array in insertion order. Queries work on a snapshot built on demand
** after any change: every node's rank in bytewise id order, and the edges
** as two compressed adjacency arrays (dependencies of each node sorted by
** the target's rank, dependents sorted by the source's rank), built with
** counting sorts in O(V + E). Walking adjacency in rank order is what makes
** every result independent of insertion order.
**
** Algorithms, none recursive: Kahn's topological sort with a min-heap of
** ranks (so ties go to the smallest id), Tarjan's strongly connected
** components with an explicit frame stack, breadth-first search for the
** shortest witness cycle and for reachability; and for tsort, Kahn's sort
** plus a re-enactment of GNU tsort's loop finder, so that the loops we
** report, and the edges we break, are the ones GNU reports and breaks.
*/
#include <stdlib.h>
#include <string.h>

#include "graph.h"

#define NONE UINT32_MAX
#define MAX_ITEMS (UINT32_MAX - 1)   /* nodes, edges and id bytes */

typedef struct node {
  uint32_t off, len;    /* the id's bytes in g->text */
  uint32_t hash;
  uint32_t epoch;       /* bumped by clear_edges: edges out of it made at an
                        ** older epoch are dead */
  uint8_t present;
} node;

/* A slot of the hash table keeps the hash and the id's first bytes and
** length, so that a probe rarely has to look at a node: ids of up to 7
** bytes (most tsort tokens, many plugin ids) compare within the slot. */
typedef struct slot {
  uint32_t node;        /* node index + 1; 0 when empty */
  uint32_t hash;
  uint64_t head;        /* see key_head */
} slot;

#define HEAD_BYTES 7

typedef struct edge {
  uint32_t from, to, epoch;
  uint8_t type;
} edge;

struct tp_graph {
  node *node;
  uint32_t n, ncap, npresent;
  char *text;
  size_t tlen, tcap;
  struct slot *slot;   /* the hash table */
  uint32_t smask;       /* slots - 1 (a power of two less one), 0 before any */
  edge *edge;
  uint32_t ne, ecap;
  /* The snapshot queries read; rebuilt when stale. */
  int stale;
  uint32_t ranked;      /* how many nodes rank/byrank cover */
  uint32_t *rank;       /* node -> its position in id order */
  uint32_t *byrank;     /* position in id order -> node */
  uint32_t *ooff, *oadj;   /* dependencies: node v's are oadj[ooff[v] .. ooff[v+1]) */
  uint8_t *otype;
  uint32_t *ioff, *iadj;   /* dependents, likewise */
  uint8_t *itype;
  uint32_t *stamp;      /* per node, for visited marks without clearing */
  uint32_t gen;
};

/* ---------------------------------------------------------------------- */
/* Memory                                                                  */
/* ---------------------------------------------------------------------- */

/* Make *p hold at least need elements of size elem (capacity doubles). */
static int reserve(void *pp, uint32_t *cap, size_t need, size_t elem) {
  void **p = pp;
  size_t c = *cap ? *cap : 16;
  void *q;
  if (need <= *cap) return 0;
  if (need > MAX_ITEMS) return TP_GRAPH_ETOOBIG;
  while (c < need) c = c > MAX_ITEMS / 2 ? MAX_ITEMS : c * 2;
  q = realloc(*p, c * elem);
  if (!q) return TP_GRAPH_ENOMEM;
  *p = q;
  *cap = (uint32_t)c;
  return 0;
}

/* Resize a snapshot array to exactly n elements (at least one). */
static int resize(void *pp, size_t n, size_t elem) {
  void **p = pp;
  void *q = realloc(*p, (n ? n : 1) * elem);
  if (!q) return TP_GRAPH_ENOMEM;
  *p = q;
  return 0;
}

void tp_graph_list_free(tp_graph_list *l) {
  free(l->item);
  l->item = NULL;
  l->n = l->cap = 0;
}

static int list_push(tp_graph_list *l, uint32_t v) {
  if (l->n == l->cap) {
    int rc = reserve(&l->item, &l->cap, (size_t)l->n + 1, sizeof *l->item);
    if (rc) return rc;
  }
  l->item[l->n++] = v;
  return 0;
}

tp_graph *tp_graph_new(void) {
  return calloc(1, sizeof(tp_graph));
}

void tp_graph_free(tp_graph *g) {
  if (!g) return;
  free(g->node); free(g->text); free(g->slot); free(g->edge);
  free(g->rank); free(g->byrank);
  free(g->ooff); free(g->oadj); free(g->otype);
  free(g->ioff); free(g->iadj); free(g->itype);
  free(g->stamp);
  free(g);
}

/* ---------------------------------------------------------------------- */
/* Interning                                                               */
/* ---------------------------------------------------------------------- */

/* A hash over 8-byte words, finished with MurmurHash3's 64-bit mixer so
** that every input bit reaches the low bits the table uses. */
static uint32_t hash_id(const char *s, size_t len) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;
  while (len >= 8) {
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    s += 8;
    len -= 8;
  }
  w = 0;
  if (len) memcpy(&w, s, len);
  h ^= w;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return (uint32_t)h;
}

/* The first HEAD_BYTES bytes of an id and its length (255 for longer). */
static uint64_t key_head(const char *s, size_t len) {
  uint64_t head = 0;
  unsigned char b[8] = {0};
  if (len) memcpy(b, s, len < HEAD_BYTES ? len : HEAD_BYTES);
  b[7] = (unsigned char)(len < 255 ? len : 255);
  memcpy(&head, b, 8);
  return head;
}

static int same_id(const tp_graph *g, uint32_t v, const char *id, size_t len) {
  const node *x = &g->node[v];
  return x->len == len && (len == 0 || memcmp(g->text + x->off, id, len) == 0);
}

/* The slot where id is, or the empty slot where it would go. */
static uint32_t probe(const tp_graph *g, const char *id, size_t len, uint32_t h, uint64_t head) {
  uint32_t i = h & g->smask;
  for (;; i = (i + 1) & g->smask) {
    const slot *x = &g->slot[i];
    if (!x->node) return i;
    if (x->hash == h && x->head == head && (len <= HEAD_BYTES || same_id(g, x->node - 1, id, len)))
      return i;
  }
}

/* Double the table (keeping it at most half full). */
static int rehash(tp_graph *g) {
  size_t slots = g->smask ? ((size_t)g->smask + 1) * 2 : 64;
  slot *s;
  uint32_t v;
  if (slots > ((size_t)1 << 31)) return TP_GRAPH_ETOOBIG;
  s = calloc(slots, sizeof *s);
  if (!s) return TP_GRAPH_ENOMEM;
  free(g->slot);
  g->slot = s;
  g->smask = (uint32_t)(slots - 1);
  for (v = 0; v < g->n; v++) {
    uint32_t i = g->node[v].hash & g->smask;
    while (s[i].node) i = (i + 1) & g->smask;
    s[i].hash = g->node[v].hash;
    s[i].head = key_head(g->text + g->node[v].off, g->node[v].len);
    s[i].node = v + 1;
  }
  return 0;
}

int tp_graph_find(const tp_graph *g, const char *id, size_t len, uint32_t *out) {
  uint32_t i;
  if (!g->slot || len > MAX_ITEMS) return TP_GRAPH_ENOENT;
  i = probe(g, id, len, hash_id(id, len), key_head(id, len));
  if (!g->slot[i].node) return TP_GRAPH_ENOENT;
  *out = g->slot[i].node - 1;
  return 0;
}

int tp_graph_intern(tp_graph *g, const char *id, size_t len, uint32_t *out) {
  uint32_t h = hash_id(id, len), i;
  uint64_t head = key_head(id, len);
  int rc;
  node *x;
  if (len > MAX_ITEMS || g->tlen + len > MAX_ITEMS) return TP_GRAPH_ETOOBIG;
  if (g->slot) {
    i = probe(g, id, len, h, head);
    if (g->slot[i].node) { *out = g->slot[i].node - 1; return 0; }
  }
  if ((size_t)(g->n + 1) * 2 > (size_t)g->smask + 1 && (rc = rehash(g))) return rc;
  if ((rc = reserve(&g->node, &g->ncap, (size_t)g->n + 1, sizeof *g->node))) return rc;
  if (!g->text || g->tlen + len > g->tcap) {
    size_t c = g->tcap ? g->tcap : 256;
    char *t;
    while (c < g->tlen + len) c *= 2;
    if (!(t = realloc(g->text, c))) return TP_GRAPH_ENOMEM;
    g->text = t;
    g->tcap = c;
  }
  if (len) memcpy(g->text + g->tlen, id, len);
  x = &g->node[g->n];
  x->off = (uint32_t)g->tlen;
  x->len = (uint32_t)len;
  x->hash = h;
  x->epoch = 0;
  x->present = 0;
  g->tlen += len;
  i = probe(g, id, len, h, head);
  g->slot[i].head = head;
  g->slot[i].hash = h;
  g->slot[i].node = g->n + 1;
  *out = g->n++;
  g->stale = 1;
  return 0;
}

const char *tp_graph_id(const tp_graph *g, uint32_t v, size_t *len) {
  if (v >= g->n) { *len = 0; return NULL; }
  *len = g->node[v].len;
  return g->text + g->node[v].off;
}

uint32_t tp_graph_size(const tp_graph *g) { return g->n; }
uint32_t tp_graph_present_count(const tp_graph *g) { return g->npresent; }

int tp_graph_present(const tp_graph *g, uint32_t v) {
  return v < g->n && g->node[v].present;
}

int tp_graph_set_present(tp_graph *g, uint32_t v, int present) {
  if (v >= g->n) return TP_GRAPH_EINVAL;
  present = present != 0;
  if (g->node[v].present != present) {
    g->node[v].present = (uint8_t)present;
    if (present) g->npresent++; else g->npresent--;
    g->stale = 1;
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Edges                                                                   */
/* ---------------------------------------------------------------------- */

static int edge_live(const tp_graph *g, const edge *e) {
  return e->epoch == g->node[e->from].epoch;
}

/* Drop dead edges (and, unless drop is NONE, every edge out of drop),
** keeping the order of the others. */
static void compact_edges(tp_graph *g, uint32_t drop) {
  uint32_t i, j = 0;
  for (i = 0; i < g->ne; i++) {
    if (!edge_live(g, &g->edge[i]) || g->edge[i].from == drop) continue;
    g->edge[j++] = g->edge[i];
  }
  g->ne = j;
}

int tp_graph_add_edge(tp_graph *g, uint32_t from, uint32_t to, unsigned type) {
  int rc;
  if (from >= g->n || to >= g->n || type == 0 || (type & ~TP_GRAPH_ALL)) return TP_GRAPH_EINVAL;
  if ((rc = reserve(&g->edge, &g->ecap, (size_t)g->ne + 1, sizeof *g->edge))) return rc;
  g->edge[g->ne].from = from;
  g->edge[g->ne].to = to;
  g->edge[g->ne].epoch = g->node[from].epoch;
  g->edge[g->ne].type = (uint8_t)type;
  g->ne++;
  g->stale = 1;
  return 0;
}

int tp_graph_clear_edges(tp_graph *g, uint32_t v) {
  if (v >= g->n) return TP_GRAPH_EINVAL;
  if (g->node[v].epoch == UINT32_MAX) {
    /* the epoch would wrap and revive old edges: drop them for real */
    compact_edges(g, v);
    g->node[v].epoch = 0;
  } else {
    g->node[v].epoch++;
  }
  g->stale = 1;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* The snapshot                                                            */
/* ---------------------------------------------------------------------- */

static int compare_ids(const void *a, const void *b, void *ctx) {
  const tp_graph *g = ctx;
  const node *x = &g->node[*(const uint32_t *)a], *y = &g->node[*(const uint32_t *)b];
  int c = memcmp(g->text + x->off, g->text + y->off, x->len < y->len ? x->len : y->len);
  if (c) return c;
  return (x->len > y->len) - (x->len < y->len);
}

/* Ranks change only when nodes are interned (never removed). */
static int rank_nodes(tp_graph *g) {
  uint32_t v;
  int rc;
  if (g->ranked == g->n && g->rank) return 0;
  if ((rc = resize(&g->rank, g->n, sizeof *g->rank))) return rc;
  if ((rc = resize(&g->byrank, g->n, sizeof *g->byrank))) return rc;
  if ((rc = resize(&g->stamp, g->n, sizeof *g->stamp))) return rc;
  for (v = 0; v < g->n; v++) g->byrank[v] = v;
  qsort_r(g->byrank, g->n, sizeof *g->byrank, compare_ids, g);
  for (v = 0; v < g->n; v++) g->rank[g->byrank[v]] = v;
  memset(g->stamp, 0, (g->n ? g->n : 1) * sizeof *g->stamp);
  g->gen = 0;
  g->ranked = g->n;
  return 0;
}

/* Stable counting sort of the edges by key(edge) in [0, n): perm gets
** edge indices. cnt has n + 1 entries. */
static void sort_edges(const tp_graph *g, const uint32_t *key_of_node, int by_from,
                       uint32_t *cnt, uint32_t *perm) {
  uint32_t i, sum = 0;
  memset(cnt, 0, ((size_t)g->n + 1) * sizeof *cnt);
  for (i = 0; i < g->ne; i++)
    cnt[key_of_node[by_from ? g->edge[i].from : g->edge[i].to]]++;
  for (i = 0; i < g->n; i++) { uint32_t c = cnt[i]; cnt[i] = sum; sum += c; }
  for (i = 0; i < g->ne; i++)
    perm[cnt[key_of_node[by_from ? g->edge[i].from : g->edge[i].to]]++] = i;
}

/* Distribute the edges, taken in perm's order, into the adjacency of
** their source (dependencies) or target (dependents). */
static void fill_adjacency(const tp_graph *g, const uint32_t *perm, int dependents,
                           uint32_t *off, uint32_t *adj, uint8_t *type, uint32_t *cursor) {
  uint32_t i, sum = 0;
  memset(off, 0, ((size_t)g->n + 1) * sizeof *off);
  for (i = 0; i < g->ne; i++) off[dependents ? g->edge[i].to : g->edge[i].from]++;
  for (i = 0; i <= g->n; i++) { uint32_t c = off[i]; off[i] = sum; sum += c; }
  memcpy(cursor, off, ((size_t)g->n + 1) * sizeof *off);
  for (i = 0; i < g->ne; i++) {
    const edge *e = &g->edge[perm[i]];
    uint32_t at = cursor[dependents ? e->to : e->from]++;
    adj[at] = dependents ? e->from : e->to;
    type[at] = e->type;
  }
}

static int build_adjacency(tp_graph *g) {
  size_t n1 = (size_t)g->n + 1;
  uint32_t *cnt = NULL, *perm = NULL;
  int rc = 0;
  if ((rc = resize(&g->ooff, n1, sizeof *g->ooff)) || (rc = resize(&g->ioff, n1, sizeof *g->ioff)) ||
      (rc = resize(&g->oadj, g->ne, sizeof *g->oadj)) || (rc = resize(&g->iadj, g->ne, sizeof *g->iadj)) ||
      (rc = resize(&g->otype, g->ne, 1)) || (rc = resize(&g->itype, g->ne, 1)))
    return rc;
  cnt = malloc(n1 * sizeof *cnt);
  perm = malloc((g->ne ? g->ne : 1) * sizeof *perm);
  if (!cnt || !perm) { rc = TP_GRAPH_ENOMEM; goto done; }
  /* dependencies by the target's rank, dependents by the source's */
  sort_edges(g, g->rank, 0, cnt, perm);
  fill_adjacency(g, perm, 0, g->ooff, g->oadj, g->otype, cnt);
  sort_edges(g, g->rank, 1, cnt, perm);
  fill_adjacency(g, perm, 1, g->ioff, g->iadj, g->itype, cnt);
done:
  free(cnt);
  free(perm);
  return rc;
}

static int refresh(tp_graph *g) {
  int rc;
  if (!g->stale && g->ooff) return 0;
  compact_edges(g, NONE);
  if ((rc = rank_nodes(g)) || (rc = build_adjacency(g))) return rc;
  g->stale = 0;
  return 0;
}

/* A fresh visited mark: stamp[v] == gen means visited in this query. */
static uint32_t next_gen(tp_graph *g) {
  if (++g->gen == 0) {
    memset(g->stamp, 0, (g->n ? g->n : 1) * sizeof *g->stamp);
    g->gen = 1;
  }
  return g->gen;
}

/* ---------------------------------------------------------------------- */
/* A min-heap of ranks                                                     */
/* ---------------------------------------------------------------------- */

static void heap_push(uint32_t *h, uint32_t *n, uint32_t r) {
  uint32_t i = (*n)++;
  while (i > 0 && h[(i - 1) / 2] > r) { h[i] = h[(i - 1) / 2]; i = (i - 1) / 2; }
  h[i] = r;
}

static uint32_t heap_pop(uint32_t *h, uint32_t *n) {
  uint32_t top = h[0], last = h[--(*n)], i = 0;
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && h[c + 1] < h[c]) c++;
    if (h[c] >= last) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = last;
  return top;
}

/* ---------------------------------------------------------------------- */
/* Queries                                                                 */
/* ---------------------------------------------------------------------- */

/* Does adjacency entry j (of kind dependents or dependencies) count? */
#define FOLLOW(type, mask, other) (((type) & (mask)) && g->node[other].present)

int tp_graph_order(tp_graph *g, unsigned mask, int reverse, tp_graph_list *out) {
  uint32_t *cnt = NULL, *heap = NULL, nheap = 0, r, v, j;
  /* before: the edges that must be done first; after: whom they free */
  const uint32_t *boff, *badj, *aoff, *aadj;
  const uint8_t *btype, *atype;
  int rc;
  out->n = 0;
  if ((rc = refresh(g))) return rc;
  if ((rc = reserve(&out->item, &out->cap, g->npresent, sizeof *out->item))) return rc;
  boff = reverse ? g->ioff : g->ooff; badj = reverse ? g->iadj : g->oadj; btype = reverse ? g->itype : g->otype;
  aoff = reverse ? g->ooff : g->ioff; aadj = reverse ? g->oadj : g->iadj; atype = reverse ? g->otype : g->itype;
  cnt = calloc(g->n ? g->n : 1, sizeof *cnt);
  heap = malloc((g->n ? g->n : 1) * sizeof *heap);
  if (!cnt || !heap) { rc = TP_GRAPH_ENOMEM; goto done; }
  /* Pushed in rank order, the initial heap is a sorted array: a heap. */
  for (r = 0; r < g->n; r++) {
    v = g->byrank[r];
    if (!g->node[v].present) continue;
    for (j = boff[v]; j < boff[v + 1]; j++) cnt[v] += FOLLOW(btype[j], mask, badj[j]);
    if (cnt[v] == 0) heap[nheap++] = r;
  }
  while (nheap) {
    v = g->byrank[heap_pop(heap, &nheap)];
    out->item[out->n++] = v;
    for (j = aoff[v]; j < aoff[v + 1]; j++)
      if (FOLLOW(atype[j], mask, aadj[j]) && --cnt[aadj[j]] == 0)
        heap_push(heap, &nheap, g->rank[aadj[j]]);
  }
done:
  free(cnt);
  free(heap);
  return rc;
}

int tp_graph_missing(tp_graph *g, unsigned mask, tp_graph_list *pairs) {
  uint32_t r, v, j;
  int rc;
  pairs->n = 0;
  if ((rc = refresh(g))) return rc;
  for (r = 0; r < g->n; r++) {
    v = g->byrank[r];
    if (!g->node[v].present) continue;
    for (j = g->ooff[v]; j < g->ooff[v + 1]; j++) {
      uint32_t w = g->oadj[j];
      if (!(g->otype[j] & mask) || g->node[w].present) continue;
      if (pairs->n >= 2 && pairs->item[pairs->n - 2] == v && pairs->item[pairs->n - 1] == w)
        continue;   /* a parallel edge: adjacency is sorted, so they are neighbours */
      if ((rc = list_push(pairs, v)) || (rc = list_push(pairs, w))) return rc;
    }
  }
  return 0;
}

/* Working memory of Tarjan's algorithm and the witness search. */
typedef struct scc {
  uint32_t *index, *low, *comp, *stack, *fv, *fpos, *parent, *queue;
  uint32_t ncomp;
} scc;

static void scc_free(scc *s) {
  free(s->index); free(s->low); free(s->comp); free(s->stack);
  free(s->fv); free(s->fpos); free(s->parent); free(s->queue);
}

static int scc_alloc(scc *s, uint32_t n) {
  size_t sz = (n ? n : 1) * sizeof(uint32_t);
  memset(s, 0, sizeof *s);
  s->index = calloc(1, sz); s->low = malloc(sz); s->comp = malloc(sz);
  s->stack = malloc(sz); s->fv = malloc(sz); s->fpos = malloc(sz);
  s->parent = malloc(sz); s->queue = malloc(sz);
  if (!s->index || !s->low || !s->comp || !s->stack || !s->fv || !s->fpos ||
      !s->parent || !s->queue)
    return TP_GRAPH_ENOMEM;
  memset(s->comp, 0xff, sz);     /* NONE: not yet in a component */
  memset(s->parent, 0xff, sz);   /* NONE: not reached by a witness search */
  return 0;
}

/* Pop the component rooted at v off the Tarjan stack; return its node of
** smallest rank, or NONE when it holds no cycle (one node, no self-edge). */
static uint32_t pop_component(tp_graph *g, scc *s, uint32_t *sp, uint32_t v, unsigned mask) {
  uint32_t c = s->ncomp++, best = NONE, size = 0, w, j;
  do {
    w = s->stack[--(*sp)];
    s->comp[w] = c;
    if (best == NONE || g->rank[w] < g->rank[best]) best = w;
    size++;
  } while (w != v);
  if (size > 1) return best;
  for (j = g->ooff[v]; j < g->ooff[v + 1]; j++)
    if (g->oadj[j] == v && (g->otype[j] & mask)) return v;
  return NONE;
}

/* Tarjan from root, iteratively: frame k is (fv[k], fpos[k]), the node and
** its next adjacency entry. Cyclic components' smallest nodes go to starts. */
static int tarjan(tp_graph *g, scc *s, uint32_t root, unsigned mask, uint32_t *counter,
                  tp_graph_list *starts) {
  uint32_t fp = 0, sp = 0;
  s->index[root] = s->low[root] = ++*counter;
  s->stack[sp++] = root;
  s->fv[fp] = root; s->fpos[fp++] = g->ooff[root];
  while (fp) {
    uint32_t v = s->fv[fp - 1];
    if (s->fpos[fp - 1] < g->ooff[v + 1]) {
      uint32_t j = s->fpos[fp - 1]++, w = g->oadj[j];
      if (!FOLLOW(g->otype[j], mask, w)) continue;
      if (!s->index[w]) {
        s->index[w] = s->low[w] = ++*counter;
        s->stack[sp++] = w;
        s->fv[fp] = w; s->fpos[fp++] = g->ooff[w];
      } else if (s->comp[w] == NONE && s->index[w] < s->low[v]) {
        s->low[v] = s->index[w];   /* w is still on the stack */
      }
      continue;
    }
    fp--;
    if (s->low[v] == s->index[v]) {
      uint32_t best = pop_component(g, s, &sp, v, mask);
      int rc;
      if (best != NONE && (rc = list_push(starts, best))) return rc;
    }
    if (fp && s->low[v] < s->low[s->fv[fp - 1]]) s->low[s->fv[fp - 1]] = s->low[v];
  }
  return 0;
}

/* The shortest cycle through start inside its component, by breadth-first
** search in rank order; appended to nodes closed (start ... start). Edges
** from a node to itself are not followed: in a component of several nodes
** the witness shows how they depend on each other, and a component of one
** node (which has a self-edge, or it would hold no cycle) gives start, start. */
static int witness(tp_graph *g, scc *s, uint32_t start, unsigned mask, tp_graph_list *nodes) {
  uint32_t c = s->comp[start], qh = 0, qt = 0, last = NONE, n0 = nodes->n, i, j;
  int rc;
  s->queue[qt++] = start;
  s->parent[start] = start;
  while (qh < qt && last == NONE) {
    uint32_t u = s->queue[qh++];
    for (j = g->ooff[u]; j < g->ooff[u + 1]; j++) {
      uint32_t w = g->oadj[j];
      if (!(g->otype[j] & mask) || s->comp[w] != c || w == u) continue;
      if (w == start) { last = u; break; }
      if (s->parent[w] == NONE) { s->parent[w] = u; s->queue[qt++] = w; }
    }
  }
  if ((rc = list_push(nodes, start))) return rc;
  if (last == NONE) return list_push(nodes, start);   /* a self-edge alone */
  /* last -> ... -> start by parents, written backwards, then reversed */
  for (i = last; i != start; i = s->parent[i])
    if ((rc = list_push(nodes, i))) return rc;
  for (i = n0 + 1, j = nodes->n - 1; i < j; i++, j--) {
    uint32_t t = nodes->item[i];
    nodes->item[i] = nodes->item[j];
    nodes->item[j] = t;
  }
  return list_push(nodes, start);
}

static int compare_ranks(const void *a, const void *b, void *ctx) {
  const uint32_t *rank = ctx;
  uint32_t x = rank[*(const uint32_t *)a], y = rank[*(const uint32_t *)b];
  return (x > y) - (x < y);
}

int tp_graph_cycles(tp_graph *g, unsigned mask, tp_graph_list *nodes, tp_graph_list *ends) {
  scc s;
  tp_graph_list starts = {0};
  uint32_t r, counter = 0;
  int rc;
  nodes->n = ends->n = 0;
  if ((rc = refresh(g))) return rc;
  if ((rc = scc_alloc(&s, g->n))) goto done;
  for (r = 0; r < g->n && !rc; r++) {
    uint32_t v = g->byrank[r];
    if (g->node[v].present && !s.index[v]) rc = tarjan(g, &s, v, mask, &counter, &starts);
  }
  if (rc) goto done;
  if (starts.n) qsort_r(starts.item, starts.n, sizeof *starts.item, compare_ranks, g->rank);
  for (r = 0; r < starts.n; r++) {
    if ((rc = witness(g, &s, starts.item[r], mask, nodes))) goto done;
    if ((rc = list_push(ends, nodes->n))) goto done;
  }
done:
  scc_free(&s);
  tp_graph_list_free(&starts);
  return rc;
}

int tp_graph_reach(tp_graph *g, uint32_t v, unsigned mask, int direction, int recursive,
                   tp_graph_list *out) {
  const uint32_t *off, *adj;
  const uint8_t *type;
  tp_graph_list queue = {0};
  uint32_t gen, qh = 0, j;
  int rc;
  out->n = 0;
  if (v >= g->n) return TP_GRAPH_EINVAL;
  if ((rc = refresh(g))) return rc;
  off = direction == TP_GRAPH_DEPENDENTS ? g->ioff : g->ooff;
  adj = direction == TP_GRAPH_DEPENDENTS ? g->iadj : g->oadj;
  type = direction == TP_GRAPH_DEPENDENTS ? g->itype : g->otype;
  gen = next_gen(g);
  if ((rc = list_push(&queue, v))) goto done;
  while (qh < queue.n) {
    uint32_t u = queue.item[qh++];
    /* only present nodes have dependencies; dependents are always present */
    if (direction == TP_GRAPH_DEPENDENCIES && !g->node[u].present) continue;
    for (j = off[u]; j < off[u + 1]; j++) {
      uint32_t w = adj[j];
      if (!(type[j] & mask) || g->stamp[w] == gen) continue;
      if (direction == TP_GRAPH_DEPENDENTS && !g->node[w].present) continue;
      g->stamp[w] = gen;
      if ((rc = list_push(out, w))) goto done;
      if (recursive && (rc = list_push(&queue, w))) goto done;
    }
  }
  if (out->n) qsort_r(out->item, out->n, sizeof *out->item, compare_ranks, g->rank);
done:
  tp_graph_list_free(&queue);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* tsort                                                                   */
/* ---------------------------------------------------------------------- */

/* GNU tsort splits its input at spaces, tabs and newlines only. */
static int tsort_blank(int c) { return c == ' ' || c == '\t' || c == '\n'; }

int tp_graph_tsort_read(tp_graph *g, const char *s, size_t len, tp_graph_error *err) {
  size_t i = 0, line = 1, bol = 0, first_pos = 0, first_line = 0, first_col = 0, first_len = 0;
  uint32_t first = NONE, v;
  int rc;
  for (;;) {
    size_t start;
    while (i < len && tsort_blank((unsigned char)s[i])) {
      if (s[i] == '\n') { line++; bol = i + 1; }
      i++;
    }
    if (i >= len) break;
    start = i;
    while (i < len && !tsort_blank((unsigned char)s[i])) i++;
    if ((rc = tp_graph_intern(g, s + start, i - start, &v))) goto fail;
    if ((rc = tp_graph_set_present(g, v, 1))) goto fail;
    if (first == NONE) {
      first = v;
      first_pos = start; first_line = line; first_col = start - bol + 1; first_len = i - start;
      continue;
    }
    /* "a b": a comes before b, so b depends on a; "a a" only names a */
    if (first != v && (rc = tp_graph_add_edge(g, v, first, TP_GRAPH_REQUIRED))) goto fail;
    first = NONE;
  }
  if (first == NONE) return 0;
  rc = TP_GRAPH_ESYNTAX;
  if (err) {
    err->code = rc;
    err->pos = first_pos; err->len = first_len;
    err->line = first_line; err->column = first_col;
    err->expected = "a second token to pair with it (tsort input is pairs \"BEFORE AFTER\")";
  }
  return rc;
fail:
  if (err) {
    memset(err, 0, sizeof *err);
    err->code = rc;
    err->pos = i;
    err->expected = rc == TP_GRAPH_ENOMEM ? "enough memory" : "fewer than 2^32 - 1 tokens and bytes";
  }
  return rc;
}

/* tsort's working state. succ lists each node's successors (the nodes that
** must come after it) in input order, as in-edges; dead marks the entries
** removed to break loops; cnt counts each node's live predecessors. */
typedef struct tsort_state {
  uint32_t *off, *succ, *cnt, *link, *heap, *rem;
  uint8_t *dead;
  uint32_t nheap;
} tsort_state;

static void tsort_free(tsort_state *t) {
  free(t->off); free(t->succ); free(t->cnt); free(t->link);
  free(t->heap); free(t->rem); free(t->dead);
}

static int tsort_init(tp_graph *g, tsort_state *t) {
  size_t n = g->n ? g->n : 1, e = g->ne ? g->ne : 1;
  uint32_t i, sum = 0;
  memset(t, 0, sizeof *t);
  t->off = calloc((size_t)g->n + 1, sizeof *t->off);
  t->succ = malloc(e * sizeof *t->succ);
  t->dead = calloc(e, 1);
  t->cnt = calloc(n, sizeof *t->cnt);
  t->link = malloc(n * sizeof *t->link);
  t->heap = malloc(n * sizeof *t->heap);
  t->rem = malloc(n * sizeof *t->rem);
  if (!t->off || !t->succ || !t->dead || !t->cnt || !t->link || !t->heap || !t->rem)
    return TP_GRAPH_ENOMEM;
  memset(t->link, 0xff, n * sizeof *t->link);   /* NONE: in no chain */
  for (i = 0; i < g->ne; i++) {
    const edge *x = &g->edge[i];
    if (!g->node[x->from].present || !g->node[x->to].present) continue;
    t->off[x->to]++;
    t->cnt[x->from]++;
  }
  for (i = 0; i <= g->n; i++) { uint32_t c = t->off[i]; t->off[i] = sum; sum += c; }
  /* rem serves as the fill cursor; filling in input order keeps each
  ** successor list in input order */
  memcpy(t->rem, t->off, g->n * sizeof *t->off);
  for (i = 0; i < g->ne; i++) {
    const edge *x = &g->edge[i];
    if (!g->node[x->from].present || !g->node[x->to].present) continue;
    t->succ[t->rem[x->to]++] = x->from;
  }
  return 0;
}

/* One loop, found the way GNU tsort finds it (its observable behaviour,
** re-implemented): walk the remaining nodes in id order, again and again,
** growing a chain backwards from the first one. A node whose successor
** list (GNU keeps it newest first) reaches the chain's head at some entry
** joins the chain as its new head, unless it is in the chain already: then
** the chain from the head to that node is the loop, reported in that order,
** and that one successor entry is removed. Returns, in *freed, the node
** whose predecessor count dropped. */
static int tsort_loop(tp_graph *g, tsort_state *t, tp_graph_list *loops, uint32_t *freed) {
  uint32_t nrem = 0, r, i, head = NONE, x;
  int rc, grew = 1;
  for (r = 0; r < g->n; r++) {
    uint32_t v = g->byrank[r];
    if (g->node[v].present && t->cnt[v] > 0) t->rem[nrem++] = v;
  }
  while (grew) {
    grew = 0;
    for (i = 0; i < nrem; i++) {
      uint32_t k = t->rem[i], j;
      if (t->cnt[k] == 0) continue;
      if (head == NONE) { head = k; grew = 1; continue; }
      for (j = t->off[k + 1]; j-- > t->off[k];) {
        if (t->dead[j] || t->succ[j] != head) continue;
        if (t->link[k] == NONE) {      /* joins: the chain grows backwards */
          t->link[k] = head;
          head = k;
          grew = 1;
          break;
        }
        for (x = head;; x = t->link[x]) {   /* the loop: head ... k */
          if ((rc = list_push(loops, x))) return rc;
          if (x == k) break;
        }
        t->dead[j] = 1;
        t->cnt[head]--;
        *freed = head;
        for (x = head; x != NONE;) {         /* forget the chain */
          uint32_t next = t->link[x];
          t->link[x] = NONE;
          x = next;
        }
        return 0;
      }
    }
  }
  /* Every remaining node has a remaining predecessor, so each walk grows
  ** the chain until a loop closes; not growing would be a bug here. */
  return TP_GRAPH_EINVAL;
}

int tp_graph_tsort(tp_graph *g, tp_graph_list *order, tp_graph_list *loops,
                   tp_graph_list *loop_ends) {
  tsort_state t;
  uint32_t r, v, j, nloops = 0;
  int rc;
  order->n = loops->n = loop_ends->n = 0;
  compact_edges(g, NONE);
  if ((rc = rank_nodes(g))) return rc;
  if ((rc = tsort_init(g, &t))) goto done;
  if ((rc = reserve(&order->item, &order->cap, g->npresent, sizeof *order->item))) goto done;
  for (r = 0; r < g->n; r++) {
    v = g->byrank[r];
    if (g->node[v].present && t.cnt[v] == 0) t.heap[t.nheap++] = r;
  }
  while (order->n < g->npresent) {
    if (t.nheap == 0) {   /* stuck: every node left waits for another */
      uint32_t freed;
      if ((rc = tsort_loop(g, &t, loops, &freed))) goto done;
      if ((rc = list_push(loop_ends, loops->n))) goto done;
      nloops++;
      if (t.cnt[freed] == 0) heap_push(t.heap, &t.nheap, g->rank[freed]);
      continue;
    }
    v = g->byrank[heap_pop(t.heap, &t.nheap)];
    order->item[order->n++] = v;
    for (j = t.off[v]; j < t.off[v + 1]; j++)
      if (!t.dead[j] && --t.cnt[t.succ[j]] == 0) heap_push(t.heap, &t.nheap, g->rank[t.succ[j]]);
  }
  rc = nloops > 0x7fffffff ? 0x7fffffff : (int)nloops;
done:
  tsort_free(&t);
  return rc;
}
