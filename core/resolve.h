/*
** resolve.h: choose one version of each plugin so that every dependency
** holds, or prove that no choice does. The algorithm is PubGrub (Natalie
** Weizenbaum's, as in Dart's pub and uv); docs/dependencies.md has it on
** one page, with the format of the explanation built from the proof.
**
** Every candidate version is known before solving starts (every plugin
** directory found, every version of a registry), so the version set of a
** term is a bitset over its package's candidates, sorted ascending, plus
** one last bit that stands for "not selected". Intersection, union and
** complement are word operations; a constraint becomes a bitset by testing
** each candidate with core/semver.
**
** Use: tp_resolve_new; tp_resolve_add_version for each candidate, each
** followed by its dependencies (tp_resolve_add_dep); the root requirements
** (tp_resolve_add_requirement) and the versions already loaded
** (tp_resolve_prefer); then tp_resolve_solve once. Afterwards read the
** selection, or the incompatibilities of the proof that there is none.
** Names, versions and constraints are copied. Errors are negative codes.
*/
#ifndef TP_RESOLVE_H
#define TP_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "semver.h"

/* Error codes (negative, libuv style). */
#define TP_RESOLVE_ENOMEM     (-1)  /* out of memory */
#define TP_RESOLVE_EVERSION   (-2)  /* a version does not parse (see err) */
#define TP_RESOLVE_ECONSTRAINT (-3) /* a constraint does not parse (see err) */
#define TP_RESOLVE_ENAME      (-4)  /* an empty or over-long package name */
#define TP_RESOLVE_ESTATE     (-5)  /* out of order: a dependency before any
                                       version, input after solving, a
                                       second solve, a query before it */
#define TP_RESOLVE_ESTEPS     (-6)  /* the step budget ran out */
#define TP_RESOLVE_EINTERNAL  (-7)  /* an invariant broke (a bug) */
#define TP_RESOLVE_ERANGE     (-8)  /* an index out of range in a query */

#define TP_RESOLVE_MAX_NAME 4096    /* bytes in a package name */

/* Dependency kinds. An optional dependency constrains the version of its
** target only when the target is selected. */
#define TP_RESOLVE_REQUIRED 0
#define TP_RESOLVE_OPTIONAL 1

/* Solve flags. IGNORE_MISSING drops required dependencies (and
** requirements) on a package that has no candidate at all, instead of
** forbidding the versions that have them. REQUIRE_FOUND requires every
** package that has a candidate (any version, prereleases included), in
** name order, after the requirements added. */
#define TP_RESOLVE_IGNORE_MISSING 1
#define TP_RESOLVE_REQUIRE_FOUND  2

/* Results of tp_resolve_solve. */
#define TP_RESOLVE_SOLVED   1
#define TP_RESOLVE_CONFLICT 0

/* Kinds of incompatibility: the external facts, and the derived ones. */
enum {
  TP_RESOLVE_REQUIREMENT,  /* {root, not B S}: the caller requires B S */
  TP_RESOLVE_DEPENDENCY,   /* {A R, not B S} (required) or {A R, B outside S}
                              (optional): A R depends on B S */
  TP_RESOLVE_NO_VERSIONS,  /* {A R}: A R depends on B S, no candidate of B is in S */
  TP_RESOLVE_MISSING,      /* {A R}: A R depends on B, which has no candidate */
  TP_RESOLVE_DERIVED       /* from two causes by resolution */
};

typedef struct tp_resolve tp_resolve;

/* An incompatibility as the queries show it. For the external kinds,
** depender is the package whose versions the first term names (0, the
** root, for requirements), target the package depended on, constraint
** the id of its text (-1: any version), dep_kind one of the dependency
** kinds and tag the caller's own number for the dependency. */
typedef struct tp_resolve_incompat {
  int kind;
  uint32_t nterms;
  int32_t cause1, cause2;            /* DERIVED: the two causes, else -1 */
  int32_t depender, target, constraint;
  int dep_kind, tag;
} tp_resolve_incompat;

/* A term: package pkg selected with a version in the set (positive), or
** not selected or selected outside the set (negative). label is the id of
** a constraint whose candidates are exactly the versions the term names
** (the set when positive, its complement when negative), or -1. */
typedef struct tp_resolve_term {
  uint32_t pkg;
  int positive;
  int32_t label;
} tp_resolve_term;

typedef struct tp_resolve_stats {
  uint64_t steps;          /* decisions + derivations + resolution steps */
  uint32_t decisions, conflicts, incompats, learned;
} tp_resolve_stats;

tp_resolve *tp_resolve_new(void);
void tp_resolve_free(tp_resolve *r);

/* Input. add_version returns the candidate's handle (0, 1, ... in the
** order of the calls) or an error; a version equal in precedence to an
** earlier candidate of the same package is kept but never chosen (see
** tp_resolve_duplicate_of). add_dep attaches to the latest version. kind
** is a dependency kind; tag is stored for the caller. A NULL constraint
** means any candidate, prereleases included. */
int tp_resolve_add_version(tp_resolve *r, const char *name, size_t nlen,
                           const char *version, size_t vlen, tp_semver_error *err);
int tp_resolve_add_dep(tp_resolve *r, const char *name, size_t nlen,
                       const char *constraint, size_t clen, int kind, int tag,
                       tp_semver_error *err);
int tp_resolve_add_requirement(tp_resolve *r, const char *name, size_t nlen,
                               const char *constraint, size_t clen,
                               tp_semver_error *err);
int tp_resolve_prefer(tp_resolve *r, const char *name, size_t nlen,
                      const char *version, size_t vlen, tp_semver_error *err);

/* Solve once: TP_RESOLVE_SOLVED, TP_RESOLVE_CONFLICT or an error. The
** budget counts decisions, derivations and resolution steps, a step on a
** package of more than 63 candidates counting once per 64 of them. */
int tp_resolve_solve(tp_resolve *r, int flags, uint64_t max_steps);
void tp_resolve_get_stats(const tp_resolve *r, tp_resolve_stats *st);

/* Packages after solving: 0 is the root, then every name in byte order.
** Candidates are ascending; a candidate is named by (pkg, index). */
uint32_t tp_resolve_npackages(const tp_resolve *r);
const char *tp_resolve_name(const tp_resolve *r, uint32_t pkg, size_t *len);
int32_t tp_resolve_find(const tp_resolve *r, const char *name, size_t len);
uint32_t tp_resolve_ncandidates(const tp_resolve *r, uint32_t pkg);
const char *tp_resolve_version(const tp_resolve *r, uint32_t pkg, uint32_t i, size_t *len);
int32_t tp_resolve_handle(const tp_resolve *r, uint32_t pkg, uint32_t i);
int32_t tp_resolve_selected(const tp_resolve *r, uint32_t pkg);   /* index or -1 */
int32_t tp_resolve_preferred(const tp_resolve *r, uint32_t pkg);  /* index or -1 */
int32_t tp_resolve_duplicate_of(const tp_resolve *r, int32_t handle); /* kept handle or -1 */

/* The packages decided, in the order of the decisions of the solution. */
uint32_t tp_resolve_ndecided(const tp_resolve *r);
uint32_t tp_resolve_decided(const tp_resolve *r, uint32_t i);

/* The proof, after TP_RESOLVE_CONFLICT: the id of the incompatibility that
** says the root cannot be selected; its causes lead to the external facts. */
int32_t tp_resolve_failure(const tp_resolve *r);
int tp_resolve_get_incompat(const tp_resolve *r, int32_t id, tp_resolve_incompat *out);
int tp_resolve_get_term(const tp_resolve *r, int32_t id, uint32_t k, tp_resolve_term *out);
/* Whether term k of incompatibility id names candidate i (the versions the
** term names: its set when positive, the complement when negative). */
int tp_resolve_term_names(const tp_resolve *r, int32_t id, uint32_t k, uint32_t i);
const char *tp_resolve_constraint(const tp_resolve *r, int32_t cid, size_t *len);

#endif
