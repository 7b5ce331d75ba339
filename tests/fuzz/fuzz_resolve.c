/*
** fuzz_resolve.c: libFuzzer harness for the resolver's input and search.
**
** An input starting with "return" is a registry data file: it goes to
** truthound.dependencies.resolver's eval_registry and, when it loads, to
** DependencyResolver:resolve; only typed errors may come out (InputError
** for the file, DependencyError for the step budget).
**
** Any other input is a problem for core/resolve.c, one call per line:
**   v NAME VERSION        a candidate
**   d NAME CONSTRAINT     a required dependency of the latest candidate
**   o NAME CONSTRAINT     an optional one ("-" for no constraint)
**   r NAME CONSTRAINT     a requirement
**   p NAME VERSION        a preferred (loaded) version
**   f DIGIT               solve flags
** It is solved under a step budget. A selection must meet every
** requirement and every dependency of every selected version (checked
** here with core/semver, not with the resolver's sets); a failure must
** come with a proof whose root forbids the root and whose derived
** incompatibilities come after their causes.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "resolve.h"
#include "semver.h"
#include "lua/l_core.h"
#include "fuzz_lua.h"

/* ---------------------------------------------------------------------- */
/* The core                                                                */
/* ---------------------------------------------------------------------- */

#define MAXREC 256

typedef struct rec {          /* one accepted call, kept for the check */
  char op;
  const char *name, *arg;     /* into the input copy */
  size_t nlen, alen;
  int owner;                  /* for d/o: the index of its v record */
} rec;

static rec recs[MAXREC];
static int nrec;

/* Whether the constraint text c admits version text v (NULL: any). */
static int admits(const char *c, size_t clen, const char *v, size_t vlen) {
  tp_semver ver;
  tp_semver_range r;
  uint32_t capcmp, capset;
  int ok;
  if (!c) return 1;
  if (tp_semver_parse(&ver, v, vlen, NULL)) abort();     /* the resolver took it */
  tp_semver_range_bound(clen, &capcmp, &capset);
  r.cmp = malloc(capcmp * sizeof *r.cmp);
  r.end = malloc(capset * sizeof *r.end);
  r.capcmp = capcmp;
  r.capset = capset;
  if (!r.cmp || !r.end || tp_semver_range_parse(&r, c, clen, 0, NULL)) abort();
  ok = tp_semver_range_test(&r, &ver, 0);
  free(r.cmp);
  free(r.end);
  return ok;
}

/* The selected version text of name, or NULL. */
static const char *selected(tp_resolve *r, const char *name, size_t len, size_t *vlen) {
  int32_t p = tp_resolve_find(r, name, len), i;
  if (p <= 0 || (i = tp_resolve_selected(r, (uint32_t)p)) < 0) return NULL;
  return tp_resolve_version(r, (uint32_t)p, (uint32_t)i, vlen);
}

static void check_solution(tp_resolve *r, int flags) {
  int k;
  for (k = 0; k < nrec; k++) {
    const rec *x = &recs[k];
    size_t vlen;
    const char *v;
    if (x->op == 'v' && (flags & TP_RESOLVE_REQUIRE_FOUND)) {
      if (!selected(r, x->name, x->nlen, &vlen)) abort();      /* every package found */
    } else if (x->op == 'r') {
      v = selected(r, x->name, x->nlen, &vlen);
      if (!v) {
        int32_t p = tp_resolve_find(r, x->name, x->nlen);
        if ((flags & TP_RESOLVE_IGNORE_MISSING) && (p <= 0 || tp_resolve_ncandidates(r, (uint32_t)p) == 0)) continue;
        abort();                                   /* a requirement not selected */
      }
      if (!admits(x->arg, x->alen, v, vlen)) abort();
    } else if (x->op == 'd' || x->op == 'o') {
      const rec *owner = &recs[x->owner];
      size_t ovlen;
      const char *ov = selected(r, owner->name, owner->nlen, &ovlen);
      int32_t p, h;
      if (!ov) continue;
      /* is the owner's version the one selected (not a duplicate of it)? */
      p = tp_resolve_find(r, owner->name, owner->nlen);
      h = tp_resolve_handle(r, (uint32_t)p, (uint32_t)tp_resolve_selected(r, (uint32_t)p));
      if (h != owner->owner) continue;
      v = selected(r, x->name, x->nlen, &vlen);
      if (!v) {
        int32_t q = tp_resolve_find(r, x->name, x->nlen);
        if (x->op == 'o') continue;
        if ((flags & TP_RESOLVE_IGNORE_MISSING) && (q <= 0 || tp_resolve_ncandidates(r, (uint32_t)q) == 0)) continue;
        abort();                                   /* a required dependency not selected */
      }
      if (!admits(x->arg, x->alen, v, vlen)) abort();
    }
  }
}

static void check_proof(tp_resolve *r) {
  int32_t root = tp_resolve_failure(r), id;
  tp_resolve_incompat in;
  tp_resolve_term t;
  if (root < 0 || tp_resolve_get_incompat(r, root, &in)) abort();
  if (in.nterms > 1) abort();
  if (in.nterms == 1 && (tp_resolve_get_term(r, root, 0, &t) || t.pkg != 0 || !t.positive)) abort();
  for (id = 0; id <= root; id++) {
    uint32_t k;
    if (tp_resolve_get_incompat(r, id, &in)) abort();
    if (in.kind == TP_RESOLVE_DERIVED && (in.cause1 < 0 || in.cause2 < 0 || in.cause1 >= id || in.cause2 >= id))
      abort();
    for (k = 0; k < in.nterms; k++) {
      if (tp_resolve_get_term(r, id, k, &t) || t.pkg >= tp_resolve_npackages(r)) abort();
    }
  }
}

/* Split "X NAME REST" at the first two blanks. */
static int split(char *line, rec *x) {
  char *sp;
  if (line[0] == '\0' || line[1] != ' ') return 0;
  sp = strchr(line + 2, ' ');
  x->op = line[0];
  x->name = line + 2;
  if (!sp) { x->nlen = strlen(x->name); x->arg = NULL; x->alen = 0; return 1; }
  x->nlen = (size_t)(sp - x->name);
  x->arg = sp + 1;
  x->alen = strlen(x->arg);
  if (x->alen == 1 && x->arg[0] == '-') x->arg = NULL;
  return 1;
}

static void run_core(const uint8_t *data, size_t size) {
  char *copy = malloc(size + 1), *line, *next;
  tp_resolve *r = tp_resolve_new();
  int flags = 0, rc, owner = -1;
  if (!copy || !r) abort();
  memcpy(copy, data, size);
  copy[size] = '\0';
  nrec = 0;
  for (line = copy; line && nrec < MAXREC; line = next) {
    rec x;
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    if (!split(line, &x)) continue;
    switch (x.op) {
    case 'v':
      if (!x.arg) break;
      rc = tp_resolve_add_version(r, x.name, x.nlen, x.arg, x.alen, NULL);
      if (rc >= 0) { x.owner = rc; owner = nrec; recs[nrec++] = x; }
      break;
    case 'd': case 'o':
      rc = tp_resolve_add_dep(r, x.name, x.nlen, x.arg, x.alen,
                              x.op == 'o' ? TP_RESOLVE_OPTIONAL : TP_RESOLVE_REQUIRED, 1, NULL);
      if (rc == 0) { x.owner = owner; recs[nrec++] = x; }
      break;
    case 'r':
      rc = tp_resolve_add_requirement(r, x.name, x.nlen, x.arg, x.alen, NULL);
      if (rc == 0) recs[nrec++] = x;
      break;
    case 'p':
      if (x.arg) tp_resolve_prefer(r, x.name, x.nlen, x.arg, x.alen, NULL);
      break;
    case 'f':
      if (x.nlen > 0) flags = (x.name[0] - '0') & 3;
      break;
    }
  }
  rc = tp_resolve_solve(r, flags, 5000);
  if (rc == TP_RESOLVE_SOLVED) check_solution(r, flags);
  else if (rc == TP_RESOLVE_CONFLICT) check_proof(r);
  else if (rc != TP_RESOLVE_ESTEPS) abort();       /* ENOMEM or a broken invariant */
  tp_resolve_free(r);
  free(copy);
}

/* ---------------------------------------------------------------------- */
/* The registry path (Lua)                                                 */
/* ---------------------------------------------------------------------- */

static const char DRIVER[] =
  "local resolver = require('truthound.dependencies.resolver')\n"
  "local errors = require('truthound.errors')\n"
  "local R = resolver.DependencyResolver.new{max_steps = 5000}\n"
  "local opts = {instructions = 20000, memory = 1 << 20}\n"
  "return function(src)\n"
  "  local ok, infos = pcall(resolver.eval_registry, src, 'fuzz.lua', opts)\n"
  "  if not ok then\n"
  "    if errors.kind(infos) ~= 'InputError' then return 'eval_registry raised ' .. tostring(infos) end\n"
  "    return nil\n"
  "  end\n"
  "  local ok2, r = pcall(R.resolve, R, infos)\n"
  "  if not ok2 then\n"
  "    if errors.kind(r) ~= 'DependencyError' then return 'resolve raised ' .. tostring(r) end\n"
  "    return nil\n"
  "  end\n"
  "  if type(r.explanation) ~= 'string' or (not r.success and r.explanation == '') then\n"
  "    return 'a failure without an explanation'\n"
  "  end\n"
  "end\n";

static void run_registry(const uint8_t *data, size_t size) {
  static lua_State *L;
  static int check_ref;
  const char *msg;
  if (L == NULL) L = fuzz_lua_open("fuzz_resolve", DRIVER, sizeof DRIVER - 1, &check_ref);
  if (fuzz_lua_check(L, check_ref, data, size, &msg) != FUZZ_LUA_HOLDS) {
    fprintf(stderr, "fuzz_resolve: %s\n", msg);
    abort();
  }
  lua_gc(L, LUA_GCSTEP, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 6 && memcmp(data, "return", 6) == 0) run_registry(data, size);
  else run_core(data, size);
  return 0;
}
