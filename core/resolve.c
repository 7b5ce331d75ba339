/*
** resolve.c: PubGrub version selection over bitsets of known candidates.
**
** Vocabulary (docs/dependencies.md): a term says something about one
** package; an incompatibility is a set of terms that must not all hold; the
** partial solution is a list of assignments (decisions pick one version,
** derivations narrow a set), each at a decision level. Unit propagation
** derives what the incompatibilities force; a satisfied incompatibility is
** a conflict, which resolution turns into a learned incompatibility and a
** backjump; decisions pick the highest allowed version of the package with
** the fewest left. When resolution reaches an incompatibility that only the
** root's selection satisfies, there is no solution and its causes are the
** proof.
**
** A set has one bit per candidate (ascending versions) and a last bit for
** "not selected", so positive terms lack that bit and negative terms have
** it, and every operation is a loop over words. Sets live in pools and
** are named by offsets, because the pools grow.
*/
#include <stdlib.h>
#include <string.h>

#include "resolve.h"

typedef uint64_t word;

enum { REL_SATISFIED, REL_ALMOST, REL_CONTRADICTED, REL_INCONCLUSIVE };
enum { MERGE_AND, MERGE_OR };

/* ---------------------------------------------------------------------- */
/* Storage                                                                 */
/* ---------------------------------------------------------------------- */

typedef struct chunk {
  struct chunk *next;
  size_t used, cap;
} chunk;

#define CHUNK_HEAD ((sizeof(chunk) + 15) & ~(size_t)15)
#define CHUNK_SIZE 65536

typedef struct inpkg {        /* a name, in the order first mentioned */
  const char *name;
  uint32_t len, hash, sorted;
  int32_t head, tail;         /* its versions, in the order added */
} inpkg;

typedef struct inver {        /* a candidate as added; [0] is the root's */
  const char *text;
  uint32_t len, pkg;
  tp_semver v;
  int32_t next, dep_head, dep_tail;
  int32_t cand, dup_of;       /* index among the candidates, or -1 */
} inver;

typedef struct indep {
  uint32_t target;            /* inpkg */
  int32_t cid, next;
  int tag;
  uint8_t kind, added;        /* added: turned into an incompatibility */
} indep;

typedef struct cons {         /* an interned constraint text */
  const char *text;
  uint32_t len, hash;
  tp_semver_range range;
} cons;

typedef struct pref {
  uint32_t pkg;
  tp_semver v;
} pref;

typedef struct pkg {
  const char *name;
  uint32_t len, n, w;         /* candidates; words per set (n + 1 bits) */
  int32_t *cands;             /* inver indices, ascending */
  size_t full, some;          /* sets: everything; every candidate */
  int32_t prefer, selected;
  int32_t last, decision;     /* latest assignment; the decision */
  size_t acc;                 /* its intersection (apool offset), when last >= 0 */
  int32_t watch;              /* newest term naming it (linked by term.next) */
  int32_t slot;               /* builder slot while merging terms */
  uint32_t dependents;        /* packages with a version depending on it */
  uint32_t in;                /* its inpkg */
  int32_t hpos;               /* position in the heap, or -1 */
  uint8_t queued;
} pkg;

typedef struct incomp {
  uint8_t kind, dep_kind, learned;
  int tag;
  uint32_t first, nterms;
  int32_t cause1, cause2, depender, target, cid;
} incomp;

typedef struct term {
  uint32_t pkg;
  int32_t label, next, inc;
  size_t set;
} term;

typedef struct assign {
  uint32_t pkg, level;
  int32_t cause, prev;        /* cause -1: a decision; prev: same package */
  size_t set, acc;            /* its own set; intersection up to here */
} assign;

typedef struct bterm {        /* a term being merged (builder) */
  uint32_t pkg;
  int32_t label;
  size_t set;                 /* offset in bpool */
} bterm;

typedef struct hentry {       /* a package in the decision heap */
  uint64_t key;               /* versions left << 32 | dependents */
  uint32_t pkg;
} hentry;

typedef struct pcache {       /* a recently seen string -> its index */
  const char *ptr;
  size_t len;
  int32_t index;
} pcache;

#define PCACHE_SIZE 256

typedef struct centry {       /* (package, constraint) -> set */
  uint64_t key;
  size_t set;
} centry;

enum { STATE_INPUT, STATE_DONE, STATE_BROKEN };

struct tp_resolve {
  chunk *chunks;
  inpkg *inpkgs; size_t ninpkg, capinpkg;
  int32_t *names; size_t namecap;          /* open addressing over inpkgs */
  inver *vers; size_t nver, capver;
  indep *deps; size_t ndep, capdep;
  cons *conss; size_t ncons, capcons;
  int32_t *consmap; size_t conscap;
  pref *prefs; size_t npref, cappref;
  int32_t cur;                             /* version deps attach to */
  pcache name_cache[PCACHE_SIZE], cons_cache[PCACHE_SIZE];
  int state;

  pkg *pkgs; uint32_t npkg, maxw;
  word *sets; size_t nsets, capsets;
  incomp *incs; size_t ninc, capinc;
  term *terms; size_t nterm, capterm;
  assign *as; size_t nas, capas;
  word *apool; size_t napool, capapool;
  bterm *bt; size_t nbt, capbt;
  word *bpool; size_t nbpool, capbpool;
  centry *cache; size_t ncache, capcache;
  hentry *heap; size_t nheap;               /* packages to decide */
  uint32_t *queue; size_t qhead, qlen;
  uint32_t *decided; size_t ndecided;
  uint32_t *order; size_t caporder;         /* scratch: one version's dependencies */
  word *t0, *t1, *t2;                      /* scratch sets of maxw words */

  int flags;
  uint32_t level;
  uint64_t steps, max_steps;
  uint32_t ndecisions, nconflicts, nlearned;
  int32_t failure;
};

/* Grow *pp (an array of size-byte elements) to hold need of them. The
** pointer goes through memcpy so that one function serves every type. */
static int grow_to(void *pp, size_t *cap, size_t need, size_t size) {
  void *p, *q;
  size_t c = *cap ? *cap : 16;
  while (c < need) {
    if (c > SIZE_MAX / 2 / size) return TP_RESOLVE_ENOMEM;
    c *= 2;
  }
  memcpy(&p, pp, sizeof p);
  q = realloc(p, c * size);
  if (!q) return TP_RESOLVE_ENOMEM;
  memcpy(pp, &q, sizeof q);
  *cap = c;
  return 0;
}

#define RESERVE(arr, cap, need) \
  ((need) <= (cap) ? 0 : grow_to(&(arr), &(cap), (need), sizeof *(arr)))

/* Bump allocation for what lives as long as the resolver: names, version
** and constraint texts, parsed ranges. Chunks never move. */
static void *arena(tp_resolve *r, size_t n) {
  chunk *c = r->chunks;
  n = (n + 15) & ~(size_t)15;
  if (!c || c->cap - c->used < n) {
    size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
    c = malloc(CHUNK_HEAD + cap);
    if (!c) return NULL;
    c->next = r->chunks;
    c->used = 0;
    c->cap = cap;
    r->chunks = c;
  }
  c->used += n;
  return (char *)c + CHUNK_HEAD + c->used - n;
}

static const char *copy_text(tp_resolve *r, const char *s, size_t len) {
  char *p = arena(r, len + 1);
  if (!p) return NULL;
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

static uint32_t hash_bytes(const char *s, size_t len) {
  uint32_t h = 2166136261u;
  size_t i;
  for (i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

/* ---------------------------------------------------------------------- */
/* Bitsets                                                                 */
/* ---------------------------------------------------------------------- */

static int bit(const word *s, uint32_t i) { return (int)((s[i >> 6] >> (i & 63)) & 1); }
static void setbit(word *s, uint32_t i) { s[i >> 6] |= (word)1 << (i & 63); }

static int subset(const word *a, const word *b, uint32_t w) {
  uint32_t i;
  for (i = 0; i < w; i++) if (a[i] & ~b[i]) return 0;
  return 1;
}

static int disjoint(const word *a, const word *b, uint32_t w) {
  uint32_t i;
  for (i = 0; i < w; i++) if (a[i] & b[i]) return 0;
  return 1;
}

static int equal(const word *a, const word *b, uint32_t w) {
  return memcmp(a, b, w * sizeof *a) == 0;
}

static int empty(const word *a, uint32_t w) {
  uint32_t i;
  for (i = 0; i < w; i++) if (a[i]) return 0;
  return 1;
}

static uint32_t popcount(const word *a, uint32_t w) {
  uint32_t i, c = 0;
  for (i = 0; i < w; i++) c += (uint32_t)__builtin_popcountll(a[i]);
  return c;
}

/* The highest candidate in s (the "not selected" bit n excluded), or -1. */
static int32_t highest(const word *s, uint32_t n) {
  int32_t i;
  for (i = (int32_t)n - 1; i >= 0; i--) if (bit(s, (uint32_t)i)) return i;
  return -1;
}

static void set_and(word *d, const word *a, const word *b, uint32_t w) {
  uint32_t i;
  for (i = 0; i < w; i++) d[i] = a[i] & b[i];
}

static void set_or(word *d, const word *a, const word *b, uint32_t w) {
  uint32_t i;
  for (i = 0; i < w; i++) d[i] = a[i] | b[i];
}

/* d = within \ a: the complement of a inside the package's universe. */
static void set_minus(word *d, const word *within, const word *a, uint32_t w) {
  uint32_t i;
  for (i = 0; i < w; i++) d[i] = within[i] & ~a[i];
}

/* A new set of w zero words in the pool; *off names it. */
static int pool_alloc(word **pool, size_t *n, size_t *cap, uint32_t w, size_t *off) {
  if (*n + w > *cap && grow_to(pool, cap, *n + w, sizeof **pool)) return TP_RESOLVE_ENOMEM;
  *off = *n;
  memset(*pool + *n, 0, w * sizeof **pool);
  *n += w;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Input                                                                   */
/* ---------------------------------------------------------------------- */

static int names_rehash(tp_resolve *r, size_t cap) {
  int32_t *t = malloc(cap * sizeof *t);
  size_t i;
  if (!t) return TP_RESOLVE_ENOMEM;
  for (i = 0; i < cap; i++) t[i] = -1;
  for (i = 0; i < r->ninpkg; i++) {
    size_t j = r->inpkgs[i].hash & (cap - 1);
    while (t[j] >= 0) j = (j + 1) & (cap - 1);
    t[j] = (int32_t)i;
  }
  free(r->names);
  r->names = t;
  r->namecap = cap;
  return 0;
}

static int32_t name_lookup(const tp_resolve *r, const char *name, size_t len, uint32_t h) {
  size_t j = h & (r->namecap - 1);
  for (; r->names[j] >= 0; j = (j + 1) & (r->namecap - 1)) {
    const inpkg *p = &r->inpkgs[r->names[j]];
    if (p->hash == h && p->len == len && memcmp(p->name, name, len) == 0) return r->names[j];
  }
  return -1;
}

/* Callers (the Lua binding) pass the same name or constraint again and
** again, usually at the same address: Lua interns short strings. A hit
** by address is still checked byte for byte. */
static pcache *pcache_slot(pcache *cache, const char *s) {
  uintptr_t a = (uintptr_t)s;
  return &cache[(a >> 4 ^ a >> 12) & (PCACHE_SIZE - 1)];
}

static int pcache_hit(const pcache *c, const char *s, size_t len, const char *text, uint32_t tlen) {
  return c->ptr == s && c->len == len && tlen == len && memcmp(text, s, len) == 0;
}

/* The inpkg named name, created on first mention. */
static int32_t intern_name(tp_resolve *r, const char *name, size_t len) {
  pcache *c = pcache_slot(r->name_cache, name);
  uint32_t h;
  int32_t i;
  inpkg *p;
  if (c->ptr == name && c->index >= 0 &&
      pcache_hit(c, name, len, r->inpkgs[c->index].name, r->inpkgs[c->index].len))
    return c->index;
  h = hash_bytes(name, len);
  i = name_lookup(r, name, len, h);
  if (i >= 0) {
    c->ptr = name;
    c->len = len;
    c->index = i;
    return i;
  }
  if ((r->ninpkg + 1) * 2 > r->namecap && names_rehash(r, r->namecap * 2)) return TP_RESOLVE_ENOMEM;
  if (RESERVE(r->inpkgs, r->capinpkg, r->ninpkg + 1)) return TP_RESOLVE_ENOMEM;
  p = &r->inpkgs[r->ninpkg];
  if (!(p->name = copy_text(r, name, len))) return TP_RESOLVE_ENOMEM;
  p->len = (uint32_t)len;
  p->hash = h;
  p->head = p->tail = -1;
  p->sorted = 0;
  i = (int32_t)r->ninpkg++;
  {
    size_t j = h & (r->namecap - 1);
    while (r->names[j] >= 0) j = (j + 1) & (r->namecap - 1);
    r->names[j] = i;
  }
  return i;
}

static int check_name(const char *name, size_t len) {
  return name && len > 0 && len <= TP_RESOLVE_MAX_NAME ? 0 : TP_RESOLVE_ENAME;
}

static int consmap_rehash(tp_resolve *r, size_t cap) {
  int32_t *t = malloc(cap * sizeof *t);
  size_t i;
  if (!t) return TP_RESOLVE_ENOMEM;
  for (i = 0; i < cap; i++) t[i] = -1;
  for (i = 0; i < r->ncons; i++) {
    size_t j = r->conss[i].hash & (cap - 1);
    while (t[j] >= 0) j = (j + 1) & (cap - 1);
    t[j] = (int32_t)i;
  }
  free(r->consmap);
  r->consmap = t;
  r->conscap = cap;
  return 0;
}

/* The id of constraint text s, parsed once: most versions of a registry
** repeat the same few texts. */
static int32_t intern_constraint(tp_resolve *r, const char *s, size_t len, tp_semver_error *err) {
  pcache *pc = pcache_slot(r->cons_cache, s);
  uint32_t h, capcmp, capset;
  size_t j;
  cons *c;
  int rc;
  if (pc->ptr == s && pc->index >= 0 &&
      pcache_hit(pc, s, len, r->conss[pc->index].text, r->conss[pc->index].len))
    return pc->index;
  h = hash_bytes(s, len);
  if (r->conscap == 0 || (r->ncons + 1) * 2 > r->conscap) {
    if (consmap_rehash(r, r->conscap ? r->conscap * 2 : 64)) return TP_RESOLVE_ENOMEM;
  }
  for (j = h & (r->conscap - 1); r->consmap[j] >= 0; j = (j + 1) & (r->conscap - 1)) {
    c = &r->conss[r->consmap[j]];
    if (c->hash == h && c->len == len && memcmp(c->text, s, len) == 0) {
      pc->ptr = s;
      pc->len = len;
      pc->index = r->consmap[j];
      return r->consmap[j];
    }
  }
  if (RESERVE(r->conss, r->capcons, r->ncons + 1)) return TP_RESOLVE_ENOMEM;
  c = &r->conss[r->ncons];
  if (!(c->text = copy_text(r, s, len))) return TP_RESOLVE_ENOMEM;
  c->len = (uint32_t)len;
  c->hash = h;
  tp_semver_range_bound(len, &capcmp, &capset);
  c->range.cmp = arena(r, capcmp * sizeof *c->range.cmp);
  c->range.end = arena(r, capset * sizeof *c->range.end);
  if (!c->range.cmp || !c->range.end) return TP_RESOLVE_ENOMEM;
  c->range.capcmp = capcmp;
  c->range.capset = capset;
  rc = tp_semver_range_parse(&c->range, c->text, len, 0, err);
  if (rc == TP_SEMVER_ENOSPC) return TP_RESOLVE_EINTERNAL;
  if (rc) return TP_RESOLVE_ECONSTRAINT;
  r->consmap[j] = (int32_t)r->ncons;
  return (int32_t)r->ncons++;
}

static int add_inver(tp_resolve *r, uint32_t pkgi, const char *text, size_t len) {
  inver *v;
  inpkg *p = &r->inpkgs[pkgi];
  if (RESERVE(r->vers, r->capver, r->nver + 1)) return TP_RESOLVE_ENOMEM;
  v = &r->vers[r->nver];
  memset(v, 0, sizeof *v);
  v->text = text;
  v->len = (uint32_t)len;
  v->pkg = pkgi;
  v->next = v->dep_head = v->dep_tail = -1;
  v->cand = v->dup_of = -1;
  if (p->tail >= 0) r->vers[p->tail].next = (int32_t)r->nver;
  else p->head = (int32_t)r->nver;
  p->tail = (int32_t)r->nver;
  return (int)r->nver++;
}

tp_resolve *tp_resolve_new(void) {
  tp_resolve *r = calloc(1, sizeof *r);
  size_t i;
  if (!r) return NULL;
  r->cur = -1;
  r->failure = -1;
  for (i = 0; i < PCACHE_SIZE; i++) r->name_cache[i].index = r->cons_cache[i].index = -1;
  /* The root: a package with the empty name (sorted first) and one
  ** version, whose dependencies are the requirements. */
  if (names_rehash(r, 64) || intern_name(r, "", 0) != 0 || add_inver(r, 0, "", 0) != 0) {
    tp_resolve_free(r);
    return NULL;
  }
  return r;
}

void tp_resolve_free(tp_resolve *r) {
  chunk *c;
  uint32_t i;
  if (!r) return;
  while ((c = r->chunks)) {
    r->chunks = c->next;
    free(c);
  }
  if (r->pkgs) for (i = 0; i < r->npkg; i++) free(r->pkgs[i].cands);
  free(r->inpkgs); free(r->names); free(r->vers); free(r->deps); free(r->conss);
  free(r->consmap); free(r->prefs); free(r->pkgs); free(r->sets); free(r->incs);
  free(r->terms); free(r->as); free(r->apool); free(r->bt); free(r->bpool);
  free(r->cache); free(r->heap); free(r->queue); free(r->decided); free(r->order);
  free(r->t0);
  free(r);
}

int tp_resolve_add_version(tp_resolve *r, const char *name, size_t nlen,
                           const char *version, size_t vlen, tp_semver_error *err) {
  const char *text;
  int32_t p;
  int h, rc;
  tp_semver v;
  if (r->state != STATE_INPUT) return TP_RESOLVE_ESTATE;
  if ((rc = check_name(name, nlen))) return rc;
  if (!(text = copy_text(r, version, vlen))) return TP_RESOLVE_ENOMEM;
  if (tp_semver_parse(&v, text, vlen, err)) return TP_RESOLVE_EVERSION;
  if ((p = intern_name(r, name, nlen)) < 0) return p;
  if ((h = add_inver(r, (uint32_t)p, text, vlen)) < 0) return h;
  r->vers[h].v = v;
  r->cur = h;
  return h - 1;          /* handles count the caller's versions from 0 */
}

static int add_dep_to(tp_resolve *r, int32_t ver, const char *name, size_t nlen,
                      const char *constraint, size_t clen, int kind, int tag,
                      tp_semver_error *err) {
  int32_t target, cid = -1;
  indep *d;
  inver *v;
  int rc;
  if (r->state != STATE_INPUT) return TP_RESOLVE_ESTATE;
  if ((rc = check_name(name, nlen))) return rc;
  if (constraint && (cid = intern_constraint(r, constraint, clen, err)) < 0) return cid;
  if ((target = intern_name(r, name, nlen)) < 0) return target;
  if (RESERVE(r->deps, r->capdep, r->ndep + 1)) return TP_RESOLVE_ENOMEM;
  d = &r->deps[r->ndep];
  d->target = (uint32_t)target;
  d->cid = cid;
  d->next = -1;
  d->tag = tag;
  d->kind = kind == TP_RESOLVE_OPTIONAL ? TP_RESOLVE_OPTIONAL : TP_RESOLVE_REQUIRED;
  d->added = 0;
  v = &r->vers[ver];
  if (v->dep_tail >= 0) r->deps[v->dep_tail].next = (int32_t)r->ndep;
  else v->dep_head = (int32_t)r->ndep;
  v->dep_tail = (int32_t)r->ndep++;
  return 0;
}

int tp_resolve_add_dep(tp_resolve *r, const char *name, size_t nlen,
                       const char *constraint, size_t clen, int kind, int tag,
                       tp_semver_error *err) {
  if (r->cur < 1) return TP_RESOLVE_ESTATE;
  return add_dep_to(r, r->cur, name, nlen, constraint, clen, kind, tag, err);
}

int tp_resolve_add_requirement(tp_resolve *r, const char *name, size_t nlen,
                               const char *constraint, size_t clen, tp_semver_error *err) {
  return add_dep_to(r, 0, name, nlen, constraint, clen, TP_RESOLVE_REQUIRED, 0, err);
}

int tp_resolve_prefer(tp_resolve *r, const char *name, size_t nlen,
                      const char *version, size_t vlen, tp_semver_error *err) {
  const char *text;
  int32_t p;
  int rc;
  if (r->state != STATE_INPUT) return TP_RESOLVE_ESTATE;
  if ((rc = check_name(name, nlen))) return rc;
  if (!(text = copy_text(r, version, vlen))) return TP_RESOLVE_ENOMEM;
  if (RESERVE(r->prefs, r->cappref, r->npref + 1)) return TP_RESOLVE_ENOMEM;
  if (tp_semver_parse(&r->prefs[r->npref].v, text, vlen, err)) return TP_RESOLVE_EVERSION;
  if ((p = intern_name(r, name, nlen)) < 0) return p;
  r->prefs[r->npref++].pkg = (uint32_t)p;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Finalizing the input: packages in name order, candidates ascending      */
/* ---------------------------------------------------------------------- */

typedef int (*cmp_fn)(const tp_resolve *r, uint32_t a, uint32_t b);

/* A stable merge sort with the resolver as context (qsort has none, and
** its instability would make equal versions come out in any order). */
static void msort(const tp_resolve *r, uint32_t *a, uint32_t *tmp, size_t n, cmp_fn cmp) {
  size_t width, i;
  for (width = 1; width < n; width *= 2) {
    for (i = 0; i < n; i += 2 * width) {
      size_t lo = i, mid = i + width < n ? i + width : n;
      size_t hi = i + 2 * width < n ? i + 2 * width : n, x = lo, y = mid, k = lo;
      while (x < mid && y < hi) tmp[k++] = cmp(r, a[y], a[x]) < 0 ? a[y++] : a[x++];
      while (x < mid) tmp[k++] = a[x++];
      while (y < hi) tmp[k++] = a[y++];
    }
    memcpy(a, tmp, n * sizeof *a);
  }
}

static int cmp_names(const tp_resolve *r, uint32_t a, uint32_t b) {
  const inpkg *x = &r->inpkgs[a], *y = &r->inpkgs[b];
  int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
  if (c) return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

static int cmp_versions(const tp_resolve *r, uint32_t a, uint32_t b) {
  return tp_semver_compare(&r->vers[a].v, &r->vers[b].v);
}

/* Sort one package's versions; a version equal in precedence to a kept
** one is dropped in favour of the one added first. */
static int finalize_pkg(tp_resolve *r, pkg *p, const inpkg *in, uint32_t *tmp, uint32_t *order) {
  size_t n = 0, i;
  int32_t h;
  for (h = in->head; h >= 0; h = r->vers[h].next) order[n++] = (uint32_t)h;
  msort(r, order, tmp, n, cmp_versions);
  p->cands = malloc((n ? n : 1) * sizeof *p->cands);
  if (!p->cands) return TP_RESOLVE_ENOMEM;
  p->n = 0;
  for (i = 0; i < n; i++) {
    inver *v = &r->vers[order[i]];
    if (p->n > 0 && cmp_versions(r, (uint32_t)p->cands[p->n - 1], order[i]) == 0) {
      v->dup_of = p->cands[p->n - 1];
      continue;
    }
    v->cand = (int32_t)p->n;
    p->cands[p->n++] = (int32_t)order[i];
  }
  p->w = (p->n + 1 + 63) / 64;
  if (pool_alloc(&r->sets, &r->nsets, &r->capsets, p->w, &p->full)) return TP_RESOLVE_ENOMEM;
  if (pool_alloc(&r->sets, &r->nsets, &r->capsets, p->w, &p->some)) return TP_RESOLVE_ENOMEM;
  for (i = 0; i <= p->n; i++) setbit(r->sets + p->full, (uint32_t)i);
  for (i = 0; i < p->n; i++) setbit(r->sets + p->some, (uint32_t)i);
  p->prefer = p->selected = p->last = p->decision = p->watch = p->slot = p->hpos = -1;
  return 0;
}

static void apply_prefs(tp_resolve *r) {
  size_t i;
  uint32_t k;
  for (i = 0; i < r->npref; i++) {
    pkg *p = &r->pkgs[r->inpkgs[r->prefs[i].pkg].sorted];
    for (k = 0; k < p->n; k++) {
      if (tp_semver_compare(&r->vers[p->cands[k]].v, &r->prefs[i].v) == 0) {
        p->prefer = (int32_t)k;
        break;
      }
    }
  }
}

/* For each package, how many packages have a version that depends on it
** (the root's requirements aside): the heap's tie-break. stamp is scratch
** of npkg entries. */
static void count_dependents(tp_resolve *r, uint32_t *stamp) {
  uint32_t p, i;
  int32_t d;
  for (p = 0; p < r->npkg; p++) stamp[p] = 0;
  for (p = 1; p < r->npkg; p++) {
    for (i = 0; i < r->pkgs[p].n; i++) {
      for (d = r->vers[r->pkgs[p].cands[i]].dep_head; d >= 0; d = r->deps[d].next) {
        uint32_t t = r->inpkgs[r->deps[d].target].sorted;
        if (stamp[t] == p) continue;
        stamp[t] = p;
        r->pkgs[t].dependents++;
      }
    }
  }
}

static int finalize(tp_resolve *r) {
  size_t n = r->ninpkg, nv = r->nver, i;
  uint32_t *order = malloc(n * sizeof *order), *tmp = malloc(n * sizeof *tmp);
  uint32_t *vorder = malloc(nv * sizeof *vorder), *vtmp = malloc(nv * sizeof *vtmp);
  int rc = TP_RESOLVE_ENOMEM;
  if (!order || !tmp || !vorder || !vtmp) goto done;
  if (!(r->pkgs = calloc(n, sizeof *r->pkgs))) goto done;
  r->npkg = (uint32_t)n;
  for (i = 0; i < n; i++) order[i] = (uint32_t)i;
  msort(r, order, tmp, n, cmp_names);     /* the root's "" comes first */
  for (i = 0; i < n; i++) r->inpkgs[order[i]].sorted = (uint32_t)i;
  r->maxw = 1;
  for (i = 0; i < n; i++) {
    inpkg *in = &r->inpkgs[order[i]];
    pkg *p = &r->pkgs[i];
    p->name = in->name;
    p->len = in->len;
    p->in = order[i];
    if ((rc = finalize_pkg(r, p, in, vtmp, vorder))) goto done;
    if (p->w > r->maxw) r->maxw = p->w;
  }
  apply_prefs(r);
  count_dependents(r, order);
  rc = TP_RESOLVE_ENOMEM;
  if (!(r->t0 = malloc(3 * (size_t)r->maxw * sizeof *r->t0))) goto done;
  r->t1 = r->t0 + r->maxw;
  r->t2 = r->t1 + r->maxw;
  if (!(r->queue = malloc(n * sizeof *r->queue))) goto done;
  if (!(r->decided = malloc(n * sizeof *r->decided))) goto done;
  if (!(r->heap = malloc(n * sizeof *r->heap))) goto done;
  rc = 0;
done:
  free(order);
  free(tmp);
  free(vorder);
  free(vtmp);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Incompatibilities: a builder that merges terms by package               */
/* ---------------------------------------------------------------------- */

static void b_reset(tp_resolve *r) {
  size_t i;
  for (i = 0; i < r->nbt; i++) r->pkgs[r->bt[i].pkg].slot = -1;
  r->nbt = 0;
  r->nbpool = 0;
}

/* Add the term (pkg, set, label), intersecting (MERGE_AND) or uniting
** (MERGE_OR) it with a term already there for pkg. A label survives when
** the result equals the set it described. set must not point into bpool. */
static int b_add(tp_resolve *r, uint32_t pkgi, const word *set, int32_t label, int how) {
  pkg *p = &r->pkgs[pkgi];
  uint32_t w = p->w;
  word *d;
  if (p->slot < 0) {
    size_t off;
    if (RESERVE(r->bt, r->capbt, r->nbt + 1)) return TP_RESOLVE_ENOMEM;
    if (pool_alloc(&r->bpool, &r->nbpool, &r->capbpool, w, &off)) return TP_RESOLVE_ENOMEM;
    memcpy(r->bpool + off, set, w * sizeof *set);
    r->bt[r->nbt].pkg = pkgi;
    r->bt[r->nbt].label = label;
    r->bt[r->nbt].set = off;
    p->slot = (int32_t)r->nbt++;
    return 0;
  }
  d = r->bpool + r->bt[p->slot].set;
  memcpy(r->t1, d, w * sizeof *d);
  if (how == MERGE_AND) set_and(d, d, set, w);
  else set_or(d, d, set, w);
  if (!equal(d, r->t1, w)) r->bt[p->slot].label = equal(d, set, w) ? label : -1;
  return 0;
}

static int is_root_positive(const tp_resolve *r, uint32_t pkgi, const word *s) {
  return pkgi == 0 && bit(s, 0) && !bit(s, 1);
}

/* Store the builder's terms as a new incompatibility. Terms that every
** assignment satisfies say nothing and go; so do the positive root terms
** of a derived incompatibility when others remain (the root is always
** selected; a requirement keeps its root term, which makes propagation
** from the root find it). */
static int b_commit(tp_resolve *r, const incomp *proto, int32_t *id) {
  size_t i, keep = 0;
  incomp *inc;
  for (i = 0; i < r->nbt; i++) {
    const bterm *b = &r->bt[i];
    const pkg *p = &r->pkgs[b->pkg];
    if (!equal(r->bpool + b->set, r->sets + p->full, p->w)) r->bt[keep++] = *b;
    else r->pkgs[b->pkg].slot = -1;
  }
  if (keep > 1 && proto->kind == TP_RESOLVE_DERIVED) {
    size_t k = 0;
    for (i = 0; i < keep; i++) {
      if (is_root_positive(r, r->bt[i].pkg, r->bpool + r->bt[i].set)) r->pkgs[0].slot = -1;
      else r->bt[k++] = r->bt[i];
    }
    keep = k;
  }
  r->nbt = keep;
  if (r->ninc >= INT32_MAX - 1 || r->nterm + keep >= INT32_MAX) return TP_RESOLVE_ENOMEM;
  if (RESERVE(r->incs, r->capinc, r->ninc + 1)) return TP_RESOLVE_ENOMEM;
  if (RESERVE(r->terms, r->capterm, r->nterm + keep)) return TP_RESOLVE_ENOMEM;
  inc = &r->incs[r->ninc];
  *inc = *proto;
  inc->first = (uint32_t)r->nterm;
  inc->nterms = (uint32_t)keep;
  inc->learned = 0;
  for (i = 0; i < keep; i++) {
    const bterm *b = &r->bt[i];
    uint32_t w = r->pkgs[b->pkg].w;
    term *t = &r->terms[r->nterm++];
    size_t off;
    if (pool_alloc(&r->sets, &r->nsets, &r->capsets, w, &off)) return TP_RESOLVE_ENOMEM;
    memcpy(r->sets + off, r->bpool + b->set, w * sizeof(word));
    t = &r->terms[r->nterm - 1];
    t->pkg = b->pkg;
    t->label = b->label;
    t->set = off;
    t->next = -1;
    t->inc = (int32_t)r->ninc;
  }
  *id = (int32_t)r->ninc++;
  b_reset(r);
  return 0;
}

/* Make incompatibility id visible to unit propagation: its terms go to
** the front of their packages' lists (newest first, as pub iterates). */
static void watch(tp_resolve *r, int32_t id) {
  incomp *inc = &r->incs[id];
  uint32_t k;
  inc->learned = 1;
  for (k = 0; k < inc->nterms; k++) {
    term *t = &r->terms[inc->first + k];
    t->next = r->pkgs[t->pkg].watch;
    r->pkgs[t->pkg].watch = (int32_t)(inc->first + k);
  }
}

/* ---------------------------------------------------------------------- */
/* Dependencies become incompatibilities when a version is considered      */
/* ---------------------------------------------------------------------- */

/* The set of target's candidates that constraint cid admits, cached per
** (package, constraint). Prereleases follow node-semver's rule. */
static int constraint_set(tp_resolve *r, uint32_t target, int32_t cid, size_t *out) {
  pkg *p = &r->pkgs[target];
  uint64_t key = ((uint64_t)target << 32 | (uint32_t)cid) + 1;
  size_t j, off;
  uint32_t i;
  if (cid < 0) {
    *out = p->some;
    return 0;
  }
  if ((r->ncache + 1) * 2 > r->capcache) {
    size_t cap = r->capcache ? r->capcache * 2 : 256;
    centry *t = calloc(cap, sizeof *t);
    if (!t) return TP_RESOLVE_ENOMEM;
    for (j = 0; j < r->capcache; j++) {
      if (r->cache[j].key) {
        size_t k = (size_t)(r->cache[j].key * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
        while (t[k].key) k = (k + 1) & (cap - 1);
        t[k] = r->cache[j];
      }
    }
    free(r->cache);
    r->cache = t;
    r->capcache = cap;
  }
  j = (size_t)(key * 0x9E3779B97F4A7C15ull >> 20) & (r->capcache - 1);
  for (; r->cache[j].key; j = (j + 1) & (r->capcache - 1)) {
    if (r->cache[j].key == key) {
      *out = r->cache[j].set;
      return 0;
    }
  }
  if (pool_alloc(&r->sets, &r->nsets, &r->capsets, p->w, &off)) return TP_RESOLVE_ENOMEM;
  for (i = 0; i < p->n; i++) {
    if (tp_semver_range_test(&r->conss[cid].range, &r->vers[p->cands[i]].v, 0))
      setbit(r->sets + off, i);
  }
  r->cache[j].key = key;
  r->cache[j].set = off;
  r->ncache++;
  *out = off;
  return 0;
}

/* The incompatibility for dependency d of the versions lo..hi of package
** pkgi (a run of neighbours that all have it), watched at once. */
static int dep_incompat(tp_resolve *r, uint32_t pkgi, uint32_t lo, uint32_t hi, const indep *d) {
  uint32_t target = r->inpkgs[d->target].sorted, i;
  pkg *p = &r->pkgs[pkgi], *t = &r->pkgs[target];
  int required = d->kind == TP_RESOLVE_REQUIRED;
  incomp proto;
  int32_t id, label = -1;
  size_t s;
  int rc;
  memset(&proto, 0, sizeof proto);
  proto.kind = pkgi == 0 ? TP_RESOLVE_REQUIREMENT : TP_RESOLVE_DEPENDENCY;
  proto.dep_kind = d->kind;
  proto.tag = d->tag;
  proto.cause1 = proto.cause2 = -1;
  proto.depender = (int32_t)pkgi;
  proto.target = (int32_t)target;
  proto.cid = d->cid;
  memset(r->t0, 0, p->w * sizeof(word));
  for (i = lo; i <= hi; i++) setbit(r->t0, i);
  if ((rc = b_add(r, pkgi, r->t0, -1, MERGE_AND))) return rc;
  if (t->n == 0) {                            /* nothing of that name */
    if (!required || (r->flags & TP_RESOLVE_IGNORE_MISSING)) {
      b_reset(r);
      return 0;
    }
    proto.kind = TP_RESOLVE_MISSING;
  } else if ((rc = constraint_set(r, target, d->cid, &s))) {
    return rc;
  } else if (empty(r->sets + s, t->w) && required) {
    proto.kind = TP_RESOLVE_NO_VERSIONS;
  } else {
    /* required: {A R, not B S}; optional: {A R, B selected outside S} */
    set_minus(r->t2, r->sets + (required ? t->full : t->some), r->sets + s, t->w);
    if (empty(r->t2, t->w)) {                 /* optional, S admits all */
      b_reset(r);
      return 0;
    }
    label = required ? d->cid : -1;
    if ((rc = b_add(r, target, r->t2, label, MERGE_AND))) return rc;
  }
  if (r->nbt == 1 && empty(r->bpool + r->bt[0].set, r->pkgs[r->bt[0].pkg].w)) {
    b_reset(r);                               /* a self-dependency all R meets */
    return 0;
  }
  if ((rc = b_commit(r, &proto, &id))) return rc;
  watch(r, id);
  return 0;
}

/* Dependency e of version h that is the same as d (target, constraint,
** kind, tag) and not turned into an incompatibility yet, or -1. */
static int32_t same_dep(const tp_resolve *r, int32_t h, const indep *d) {
  int32_t e;
  for (e = r->vers[h].dep_head; e >= 0; e = r->deps[e].next) {
    const indep *x = &r->deps[e];
    if (!x->added && x->target == d->target && x->cid == d->cid && x->kind == d->kind &&
        x->tag == d->tag)
      return e;
  }
  return -1;
}

/* Dependencies in a fixed order: by target (names are sorted), then
** constraint text, kind and tag. The order they were added in (a Lua
** table's pairs() order, which changes from run to run) must not reach
** the search. */
static int cmp_deps(const tp_resolve *r, uint32_t a, uint32_t b) {
  const indep *x = &r->deps[a], *y = &r->deps[b];
  uint32_t tx = r->inpkgs[x->target].sorted, ty = r->inpkgs[y->target].sorted;
  if (tx != ty) return tx < ty ? -1 : 1;
  if (x->cid != y->cid) {
    const cons *cx, *cy;
    int c;
    if (x->cid < 0 || y->cid < 0) return x->cid < 0 ? -1 : 1;
    cx = &r->conss[x->cid];
    cy = &r->conss[y->cid];
    c = memcmp(cx->text, cy->text, cx->len < cy->len ? cx->len : cy->len);
    if (c) return c;
    if (cx->len != cy->len) return cx->len < cy->len ? -1 : 1;
  }
  if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
  return x->tag < y->tag ? -1 : x->tag > y->tag;
}

/* Turn the dependencies of candidate i of pkgi into incompatibilities,
** each covering the run of neighbouring versions with the same dependency
** (pub's collapsing: "foo >=1.1.0 depends on bar ^2.0.0", not one line per
** version). */
static int add_deps(tp_resolve *r, uint32_t pkgi, uint32_t i) {
  pkg *p = &r->pkgs[pkgi];
  int32_t d, e;
  size_t n = 0, k;
  int rc;
  for (d = r->vers[p->cands[i]].dep_head; d >= 0; d = r->deps[d].next) {
    if (r->deps[d].added) continue;
    if (RESERVE(r->order, r->caporder, 2 * (n + 1))) return TP_RESOLVE_ENOMEM;
    r->order[n++] = (uint32_t)d;
  }
  if (n == 0) return 0;
  msort(r, r->order, r->order + n, n, cmp_deps);
  for (k = 0; k < n; k++) {
    uint32_t lo = i, hi = i;
    d = (int32_t)r->order[k];
    if (r->deps[d].added) continue;
    r->deps[d].added = 1;
    while (lo > 0 && (e = same_dep(r, p->cands[lo - 1], &r->deps[d])) >= 0) {
      r->deps[e].added = 1;
      lo--;
    }
    while (hi + 1 < p->n && (e = same_dep(r, p->cands[hi + 1], &r->deps[d])) >= 0) {
      r->deps[e].added = 1;
      hi++;
    }
    if ((rc = dep_incompat(r, pkgi, lo, hi, &r->deps[d]))) return rc;
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* The partial solution                                                    */
/* ---------------------------------------------------------------------- */

static const word *acc_of(const tp_resolve *r, uint32_t pkgi) {
  const pkg *p = &r->pkgs[pkgi];
  return p->last >= 0 ? r->apool + p->acc : NULL;
}

/* Selected for sure, not decided yet: a candidate for decision making. */
static int undecided_positive(const tp_resolve *r, uint32_t pkgi) {
  const pkg *p = &r->pkgs[pkgi];
  return p->last >= 0 && p->decision < 0 && !bit(r->apool + p->acc, p->n);
}

/* The packages to decide (selected for sure, undecided) are kept in a
** binary heap indexed by package, so each is there once and its key
** changes in place. Order: fewest versions left, then fewest dependents
** (a plugin nothing depends on constrains others and is best decided
** before them), then the first name. */
static int heap_less(const hentry *a, const hentry *b) {
  return a->key != b->key ? a->key < b->key : a->pkg < b->pkg;
}

static void heap_set(tp_resolve *r, size_t i, hentry e) {
  r->heap[i] = e;
  r->pkgs[e.pkg].hpos = (int32_t)i;
}

static void heap_up(tp_resolve *r, size_t i) {
  hentry x = r->heap[i];
  while (i > 0 && heap_less(&x, &r->heap[(i - 1) / 2])) {
    heap_set(r, i, r->heap[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  heap_set(r, i, x);
}

static void heap_down(tp_resolve *r, size_t i) {
  hentry x = r->heap[i];
  size_t c;
  while ((c = 2 * i + 1) < r->nheap) {
    if (c + 1 < r->nheap && heap_less(&r->heap[c + 1], &r->heap[c])) c++;
    if (!heap_less(&r->heap[c], &x)) break;
    heap_set(r, i, r->heap[c]);
    i = c;
  }
  heap_set(r, i, x);
}

/* Put pkgi where it now belongs: in the heap with its current count when
** it is selected for sure and undecided, out of it otherwise. */
static void heap_update(tp_resolve *r, uint32_t pkgi) {
  pkg *p = &r->pkgs[pkgi];
  hentry e;
  if (!undecided_positive(r, pkgi)) {
    size_t i = (size_t)p->hpos;
    hentry moved;
    if (p->hpos < 0) return;
    p->hpos = -1;
    if (i == --r->nheap) return;
    moved = r->heap[r->nheap];       /* the last one fills the hole */
    heap_set(r, i, moved);
    heap_up(r, i);
    heap_down(r, (size_t)r->pkgs[moved.pkg].hpos);
    return;
  }
  e.key = (uint64_t)popcount(acc_of(r, pkgi), p->w) << 32 | p->dependents;
  e.pkg = pkgi;
  if (p->hpos < 0) {
    heap_set(r, r->nheap++, e);
    heap_up(r, r->nheap - 1);
  } else if (r->heap[p->hpos].key != e.key) {
    size_t i = (size_t)p->hpos;
    heap_set(r, i, e);
    heap_up(r, i);
    heap_down(r, (size_t)p->hpos);
  }
}

/* Charge one step on a package (one per 64 of its candidates). */
static int step(tp_resolve *r, uint32_t pkgi) {
  r->steps += r->pkgs[pkgi].w;
  return r->steps > r->max_steps ? TP_RESOLVE_ESTEPS : 0;
}

/* Append an assignment of set (not in apool) to pkgi; cause -1 makes it a
** decision at a new level. */
static int assign_set(tp_resolve *r, uint32_t pkgi, const word *set, int32_t cause) {
  pkg *p = &r->pkgs[pkgi];
  assign *a;
  size_t off;
  if (r->nas >= INT32_MAX || RESERVE(r->as, r->capas, r->nas + 1)) return TP_RESOLVE_ENOMEM;
  if (pool_alloc(&r->apool, &r->napool, &r->capapool, 2 * p->w, &off)) return TP_RESOLVE_ENOMEM;
  if (cause < 0) r->level++;
  a = &r->as[r->nas];
  a->pkg = pkgi;
  a->level = r->level;
  a->cause = cause;
  a->prev = p->last;
  a->set = off;
  a->acc = off + p->w;
  memcpy(r->apool + a->set, set, p->w * sizeof *set);
  if (p->last >= 0) set_and(r->apool + a->acc, r->apool + r->as[p->last].acc, set, p->w);
  else memcpy(r->apool + a->acc, set, p->w * sizeof *set);
  p->last = (int32_t)r->nas;
  p->acc = a->acc;
  if (cause < 0) p->decision = (int32_t)r->nas;
  r->nas++;
  heap_update(r, pkgi);
  return step(r, pkgi);
}

/* Undo every assignment above level; the packages they narrowed are
** offered for decision again as they now stand. */
static void backtrack(tp_resolve *r, uint32_t level) {
  while (r->nas > 0 && r->as[r->nas - 1].level > level) {
    assign *a = &r->as[--r->nas];
    pkg *p = &r->pkgs[a->pkg];
    p->last = a->prev;
    if (a->prev >= 0) p->acc = r->as[a->prev].acc;
    if (p->decision == (int32_t)r->nas) p->decision = -1;
    r->napool = a->set;
    heap_update(r, a->pkg);
  }
  r->level = level;
}

/* How the partial solution stands to incompatibility id: satisfied (a
** conflict), almost satisfied (*unsat is the one inconclusive term),
** contradicted, or inconclusive. */
static int relation(const tp_resolve *r, int32_t id, uint32_t *unsat) {
  const incomp *inc = &r->incs[id];
  uint32_t k, open = 0;
  for (k = 0; k < inc->nterms; k++) {
    const term *t = &r->terms[inc->first + k];
    const word *acc = acc_of(r, t->pkg), *s = r->sets + t->set;
    uint32_t w = r->pkgs[t->pkg].w;
    if (acc && subset(acc, s, w)) continue;
    if (acc ? disjoint(acc, s, w) : empty(s, w)) return REL_CONTRADICTED;
    *unsat = k;
    if (++open > 1) return REL_INCONCLUSIVE;
  }
  return open ? REL_ALMOST : REL_SATISFIED;
}

/* Add "not t" for term k of id, with id as its cause. */
static int derive(tp_resolve *r, int32_t id, uint32_t k) {
  const term *t = &r->terms[r->incs[id].first + k];
  const pkg *p = &r->pkgs[t->pkg];
  set_minus(r->t0, r->sets + p->full, r->sets + t->set, p->w);
  return assign_set(r, t->pkg, r->t0, id);
}

/* ---------------------------------------------------------------------- */
/* Conflict resolution                                                     */
/* ---------------------------------------------------------------------- */

static int terminal(const tp_resolve *r, int32_t id) {
  const incomp *inc = &r->incs[id];
  if (inc->nterms == 0) return 1;
  return inc->nterms == 1 && is_root_positive(r, r->terms[inc->first].pkg,
                                              r->sets + r->terms[inc->first].set);
}

/* The earliest assignment of pkgi from which on the package's
** intersection lies inside s, or -1. Intersections only shrink, so the
** satisfying assignments are the newest ones. */
static int32_t earliest(const tp_resolve *r, uint32_t pkgi, const word *s) {
  int32_t a = r->pkgs[pkgi].last, found = -1;
  uint32_t w = r->pkgs[pkgi].w;
  while (a >= 0 && subset(r->apool + r->as[a].acc, s, w)) {
    found = a;
    a = r->as[a].prev;
  }
  return found;
}

/* The earliest assignment of the satisfier's own package that, together
** with the satisfier alone, satisfies s (-1 when the satisfier needs no
** help). */
static int32_t earliest_with(tp_resolve *r, int32_t sat, const word *s) {
  const assign *sa = &r->as[sat];
  uint32_t w = r->pkgs[sa->pkg].w;
  int32_t a = sa->prev, found = -1;
  if (subset(r->apool + sa->set, s, w)) return -1;
  while (a >= 0) {
    set_and(r->t2, r->apool + r->as[a].acc, r->apool + sa->set, w);
    if (!subset(r->t2, s, w)) break;
    found = a;
    a = r->as[a].prev;
  }
  return found;
}

/* The prior cause of id: id and the satisfier's cause resolved on pkgi
** (their terms for pkgi united, all others intersected). */
static int prior_cause(tp_resolve *r, int32_t id, int32_t cause, uint32_t pkgi, int32_t *out) {
  int32_t ids[2];
  incomp proto;
  int j, rc;
  uint32_t k;
  ids[0] = id;
  ids[1] = cause;
  for (j = 0; j < 2; j++) {
    const incomp *inc = &r->incs[ids[j]];
    for (k = 0; k < inc->nterms; k++) {
      const term *t = &r->terms[inc->first + k];
      int how = j == 1 && t->pkg == pkgi ? MERGE_OR : MERGE_AND;
      if ((rc = b_add(r, t->pkg, r->sets + t->set, t->label, how))) return rc;
    }
  }
  memset(&proto, 0, sizeof proto);
  proto.kind = TP_RESOLVE_DERIVED;
  proto.cause1 = id;
  proto.cause2 = cause;
  proto.depender = proto.target = proto.cid = -1;
  return b_commit(r, &proto, out);
}

/* Resolve the conflict on id: walk back to its root cause, learn it and
** backjump. Returns 0 with the learned incompatibility in *out, 1 when
** the root cannot be selected (r->failure holds the proof), or an error. */
static int resolve_conflict(tp_resolve *r, int32_t id, int32_t *out) {
  int32_t orig = id;
  int rc;
  r->nconflicts++;
  for (;;) {
    const incomp *inc = &r->incs[id];
    int32_t sat = -1, prev = -1, a;
    uint32_t k, satk = 0, prev_level;
    if (terminal(r, id)) {
      r->failure = id;
      return 1;
    }
    for (k = 0; k < inc->nterms; k++) {
      const term *t = &r->terms[inc->first + k];
      if ((a = earliest(r, t->pkg, r->sets + t->set)) < 0) return TP_RESOLVE_EINTERNAL;
      if (a > sat) {
        if (sat >= 0 && sat > prev) prev = sat;
        sat = a;
        satk = k;
      } else if (a > prev) {
        prev = a;
      }
    }
    a = earliest_with(r, sat, r->sets + r->terms[inc->first + satk].set);
    if (a > prev) prev = a;
    prev_level = prev >= 0 && r->as[prev].level > 1 ? r->as[prev].level : 1;
    if (r->as[sat].cause < 0 || prev_level != r->as[sat].level) {
      if (id != orig) {
        watch(r, id);
        r->nlearned++;
      }
      backtrack(r, prev_level);
      *out = id;
      return 0;
    }
    if ((rc = step(r, r->as[sat].pkg))) return rc;
    if ((rc = prior_cause(r, id, r->as[sat].cause, r->as[sat].pkg, &id))) return rc;
  }
}

/* ---------------------------------------------------------------------- */
/* Unit propagation and decisions                                          */
/* ---------------------------------------------------------------------- */

static void enqueue(tp_resolve *r, uint32_t pkgi) {
  if (r->pkgs[pkgi].queued) return;
  r->pkgs[pkgi].queued = 1;
  r->queue[(r->qhead + r->qlen++) % r->npkg] = pkgi;
}

static void clear_queue(tp_resolve *r) {
  while (r->qlen) {
    r->pkgs[r->queue[r->qhead]].queued = 0;
    r->qhead = (r->qhead + 1) % r->npkg;
    r->qlen--;
  }
}

/* Derive everything the incompatibilities naming the changed packages
** force, starting from pkgi. Returns 0, 1 (no solution) or an error. */
static int propagate(tp_resolve *r, uint32_t pkgi) {
  int rc;
  clear_queue(r);
  enqueue(r, pkgi);
  while (r->qlen) {
    uint32_t q = r->queue[r->qhead], k;
    int32_t t, learned;
    r->qhead = (r->qhead + 1) % r->npkg;
    r->qlen--;
    r->pkgs[q].queued = 0;
    for (t = r->pkgs[q].watch; t >= 0; t = r->terms[t].next) {
      int32_t id = r->terms[t].inc;
      int rel = relation(r, id, &k);
      if (rel == REL_ALMOST) {
        if ((rc = derive(r, id, k))) return rc;
        enqueue(r, r->terms[r->incs[id].first + k].pkg);
      } else if (rel == REL_SATISFIED) {
        if ((rc = resolve_conflict(r, id, &learned))) return rc;
        if (relation(r, learned, &k) != REL_ALMOST) return TP_RESOLVE_EINTERNAL;
        if ((rc = derive(r, learned, k))) return rc;
        clear_queue(r);
        enqueue(r, r->terms[r->incs[learned].first + k].pkg);
        break;
      }
    }
  }
  return 0;
}

/* Whether selecting candidate v of pkgi would satisfy incompatibility id
** (every other term already satisfied). */
static int would_conflict(const tp_resolve *r, int32_t id, uint32_t pkgi, uint32_t v) {
  const incomp *inc = &r->incs[id];
  uint32_t k;
  for (k = 0; k < inc->nterms; k++) {
    const term *t = &r->terms[inc->first + k];
    const word *acc;
    if (t->pkg == pkgi) {
      if (!bit(r->sets + t->set, v)) return 0;
      continue;
    }
    acc = acc_of(r, t->pkg);
    if (!acc || !subset(acc, r->sets + t->set, r->pkgs[t->pkg].w)) return 0;
  }
  return 1;
}

/* The package to decide: first in heap order, or -1. */
static int32_t choose(const tp_resolve *r) {
  return r->nheap > 0 ? (int32_t)r->heap[0].pkg : -1;
}

/* Make one decision. *next is the package to propagate from, or -1 when
** every selected package is decided (a solution). */
static int decide(tp_resolve *r, int32_t *next) {
  int32_t q = choose(r), v;
  size_t first;
  pkg *p;
  const word *acc;
  int rc;
  *next = q;
  if (q < 0) return 0;
  p = &r->pkgs[q];
  acc = acc_of(r, (uint32_t)q);
  v = p->prefer >= 0 && bit(acc, (uint32_t)p->prefer) ? p->prefer : highest(acc, p->n);
  if (v < 0) return TP_RESOLVE_EINTERNAL;
  first = r->ninc;
  if ((rc = add_deps(r, (uint32_t)q, (uint32_t)v))) return rc;
  for (; first < r->ninc; first++) {
    if (would_conflict(r, (int32_t)first, (uint32_t)q, (uint32_t)v)) return step(r, (uint32_t)q);
  }
  memset(r->t0, 0, p->w * sizeof(word));
  setbit(r->t0, (uint32_t)v);
  r->ndecisions++;
  return assign_set(r, (uint32_t)q, r->t0, -1);
}

/* The root is decided at level 1 and never undone; its dependencies are
** the requirements. One that names nothing selectable ends it at once. */
static int start(tp_resolve *r) {
  size_t first = r->ninc;
  uint32_t q;
  int rc;
  r->level = 0;
  memset(r->t0, 0, sizeof(word));
  setbit(r->t0, 0);
  if ((rc = assign_set(r, 0, r->t0, -1))) return rc;
  if ((rc = add_deps(r, 0, 0))) return rc;
  if (r->flags & TP_RESOLVE_REQUIRE_FOUND) {
    indep any;
    memset(&any, 0, sizeof any);
    any.cid = -1;
    for (q = 1; q < r->npkg; q++) {
      if (r->pkgs[q].n == 0) continue;
      any.target = r->pkgs[q].in;
      if ((rc = dep_incompat(r, 0, 0, 0, &any))) return rc;
    }
  }
  for (; first < r->ninc; first++) {
    if (terminal(r, (int32_t)first)) {
      r->failure = (int32_t)first;
      return 1;
    }
  }
  return 0;
}

static void record_solution(tp_resolve *r) {
  size_t i;
  for (i = 0; i < r->nas; i++) {
    const assign *a = &r->as[i];
    if (a->cause >= 0 || a->pkg == 0) continue;
    r->pkgs[a->pkg].selected = highest(r->apool + a->set, r->pkgs[a->pkg].n);
    r->decided[r->ndecided++] = a->pkg;
  }
}

int tp_resolve_solve(tp_resolve *r, int flags, uint64_t max_steps) {
  int32_t next = 0;
  int rc;
  if (r->state != STATE_INPUT) return TP_RESOLVE_ESTATE;
  r->state = STATE_BROKEN;        /* until it completes */
  r->flags = flags;
  r->max_steps = max_steps;
  if ((rc = finalize(r))) return rc;
  if ((rc = start(r)) == 0) {
    for (;;) {
      if ((rc = propagate(r, (uint32_t)next))) break;
      if ((rc = decide(r, &next))) break;
      if (next < 0) break;
    }
  }
  if (rc < 0) return rc;
  r->state = STATE_DONE;
  if (rc == 1) return TP_RESOLVE_CONFLICT;
  record_solution(r);
  return TP_RESOLVE_SOLVED;
}

/* ---------------------------------------------------------------------- */
/* Queries                                                                 */
/* ---------------------------------------------------------------------- */

void tp_resolve_get_stats(const tp_resolve *r, tp_resolve_stats *st) {
  st->steps = r->steps;
  st->decisions = r->ndecisions;
  st->conflicts = r->nconflicts;
  st->incompats = (uint32_t)r->ninc;
  st->learned = r->nlearned;
}

static int queryable(const tp_resolve *r) { return r->state == STATE_DONE; }

uint32_t tp_resolve_npackages(const tp_resolve *r) {
  return queryable(r) ? r->npkg : 0;
}

const char *tp_resolve_name(const tp_resolve *r, uint32_t pkgi, size_t *len) {
  if (!queryable(r) || pkgi >= r->npkg) return NULL;
  *len = r->pkgs[pkgi].len;
  return r->pkgs[pkgi].name;
}

int32_t tp_resolve_find(const tp_resolve *r, const char *name, size_t len) {
  int32_t i;
  if (!queryable(r)) return TP_RESOLVE_ESTATE;
  i = name_lookup(r, name, len, hash_bytes(name, len));
  return i < 0 ? -1 : (int32_t)r->inpkgs[i].sorted;
}

uint32_t tp_resolve_ncandidates(const tp_resolve *r, uint32_t pkgi) {
  return queryable(r) && pkgi < r->npkg ? r->pkgs[pkgi].n : 0;
}

const char *tp_resolve_version(const tp_resolve *r, uint32_t pkgi, uint32_t i, size_t *len) {
  const inver *v;
  if (!queryable(r) || pkgi >= r->npkg || i >= r->pkgs[pkgi].n) return NULL;
  v = &r->vers[r->pkgs[pkgi].cands[i]];
  *len = v->len;
  return v->text;
}

int32_t tp_resolve_handle(const tp_resolve *r, uint32_t pkgi, uint32_t i) {
  if (!queryable(r) || pkgi >= r->npkg || i >= r->pkgs[pkgi].n) return TP_RESOLVE_ERANGE;
  return r->pkgs[pkgi].cands[i] - 1;
}

int32_t tp_resolve_selected(const tp_resolve *r, uint32_t pkgi) {
  return queryable(r) && pkgi < r->npkg ? r->pkgs[pkgi].selected : -1;
}

int32_t tp_resolve_preferred(const tp_resolve *r, uint32_t pkgi) {
  return queryable(r) && pkgi < r->npkg ? r->pkgs[pkgi].prefer : -1;
}

int32_t tp_resolve_duplicate_of(const tp_resolve *r, int32_t handle) {
  if (!queryable(r) || handle < 0 || (size_t)handle + 1 >= r->nver) return TP_RESOLVE_ERANGE;
  return r->vers[handle + 1].dup_of >= 0 ? r->vers[handle + 1].dup_of - 1 : -1;
}

uint32_t tp_resolve_ndecided(const tp_resolve *r) { return (uint32_t)r->ndecided; }

uint32_t tp_resolve_decided(const tp_resolve *r, uint32_t i) {
  return i < r->ndecided ? r->decided[i] : 0;
}

int32_t tp_resolve_failure(const tp_resolve *r) { return r->failure; }

int tp_resolve_get_incompat(const tp_resolve *r, int32_t id, tp_resolve_incompat *out) {
  const incomp *inc;
  if (!queryable(r) || id < 0 || (size_t)id >= r->ninc) return TP_RESOLVE_ERANGE;
  inc = &r->incs[id];
  out->kind = inc->kind;
  out->nterms = inc->nterms;
  out->cause1 = inc->cause1;
  out->cause2 = inc->cause2;
  out->depender = inc->depender;
  out->target = inc->target;
  out->constraint = inc->cid;
  out->dep_kind = inc->dep_kind;
  out->tag = inc->tag;
  return 0;
}

int tp_resolve_get_term(const tp_resolve *r, int32_t id, uint32_t k, tp_resolve_term *out) {
  const term *t;
  if (!queryable(r) || id < 0 || (size_t)id >= r->ninc || k >= r->incs[id].nterms)
    return TP_RESOLVE_ERANGE;
  t = &r->terms[r->incs[id].first + k];
  out->pkg = t->pkg;
  out->positive = !bit(r->sets + t->set, r->pkgs[t->pkg].n);
  out->label = t->label;
  return 0;
}

int tp_resolve_term_names(const tp_resolve *r, int32_t id, uint32_t k, uint32_t i) {
  const term *t;
  const word *s;
  uint32_t n;
  if (!queryable(r) || id < 0 || (size_t)id >= r->ninc || k >= r->incs[id].nterms) return 0;
  t = &r->terms[r->incs[id].first + k];
  s = r->sets + t->set;
  n = r->pkgs[t->pkg].n;
  if (i >= n) return 0;
  return bit(s, n) ? !bit(s, i) : bit(s, i);
}

const char *tp_resolve_constraint(const tp_resolve *r, int32_t cid, size_t *len) {
  if (cid < 0 || (size_t)cid >= r->ncons) return NULL;
  *len = r->conss[cid].len;
  return r->conss[cid].text;
}
