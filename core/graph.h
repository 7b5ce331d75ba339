/*
** graph.h: a directed graph of string ids with typed edges, and what a
** plugin engine asks of it: a topological order with ties broken by id,
** the strongly connected components that are cycles (each with one
** shortest witness), reachability, and a GNU tsort compatible mode.
** See docs/graph.md.
**
** An edge from -> to means "from depends on to": to comes first in a load
** order. Ids are byte strings (any bytes, NUL included), interned once;
** a node is "present" when it was added as a node, and "absent" when it is
** only named as the target of an edge (a missing dependency).
**
** Nothing here recurses, so depth is bounded by memory only. Every query
** result is independent of the order in which nodes and edges were added
** (adjacency is walked in id order); the one exception is tp_graph_tsort's
** loop reports, which follow GNU tsort and so depend on the input order as
** GNU's do. Errors are negative codes.
*/
#ifndef TP_GRAPH_H
#define TP_GRAPH_H

#include <stddef.h>
#include <stdint.h>

/* Edge types, as bits: a query takes a mask of the types it follows. */
#define TP_GRAPH_REQUIRED 1u
#define TP_GRAPH_OPTIONAL 2u
#define TP_GRAPH_DEV      4u
#define TP_GRAPH_ALL      7u

/* Error codes (negative, libuv style). */
#define TP_GRAPH_ENOMEM  (-1)   /* out of memory */
#define TP_GRAPH_ESYNTAX (-2)   /* tsort input with an odd number of tokens */
#define TP_GRAPH_ETOOBIG (-3)   /* more than 2^32 - 2 nodes, edges or id bytes */
#define TP_GRAPH_ENOENT  (-4)   /* no node with that id */
#define TP_GRAPH_EINVAL  (-5)   /* a node index or edge type out of range */

/* Directions for tp_graph_reach. */
#define TP_GRAPH_DEPENDENCIES 0
#define TP_GRAPH_DEPENDENTS   1

typedef struct tp_graph tp_graph;

/* A growable list of node indices that queries fill in; the caller owns it
** (start from {0}) and releases it with tp_graph_list_free. */
typedef struct tp_graph_list {
  uint32_t *item;
  uint32_t n, cap;
} tp_graph_list;

void tp_graph_list_free(tp_graph_list *l);

/* Where tsort input went wrong: 0-based byte offset of the offending
** token, its 1-based line and column (in bytes), its length. */
typedef struct tp_graph_error {
  int code;
  size_t pos, len;
  size_t line, column;
  const char *expected;
} tp_graph_error;

tp_graph *tp_graph_new(void);
void tp_graph_free(tp_graph *g);

/* Nodes. intern finds or creates (as absent) the node named id. */
int tp_graph_intern(tp_graph *g, const char *id, size_t len, uint32_t *node);
int tp_graph_find(const tp_graph *g, const char *id, size_t len, uint32_t *node);
const char *tp_graph_id(const tp_graph *g, uint32_t node, size_t *len);
uint32_t tp_graph_size(const tp_graph *g);          /* nodes interned */
uint32_t tp_graph_present_count(const tp_graph *g);
int tp_graph_present(const tp_graph *g, uint32_t node);
int tp_graph_set_present(tp_graph *g, uint32_t node, int present);

/* Edges. clear_edges drops every edge out of node (its dependencies);
** edges into it stay, so a removed node becomes a missing dependency of
** whoever still names it. Parallel edges are allowed and counted. */
int tp_graph_add_edge(tp_graph *g, uint32_t from, uint32_t to, unsigned type);
int tp_graph_clear_edges(tp_graph *g, uint32_t node);

/* Queries. They follow edges whose type is in mask between present nodes.
**
** order: the present nodes, dependencies first (dependents first when
** reverse), ties broken by id (bytewise); nodes on or behind a cycle are
** left out, so out->n < tp_graph_present_count() means there is a cycle.
**
** missing: pairs (dependent, dependency) of edges in mask from a present
** node to an absent one, by dependent id, then dependency id.
**
** cycles: for each strongly connected component that holds a cycle (two
** or more nodes, or one with an edge to itself), one shortest cycle through
** its smallest id, closed: nodes lists a, b, ..., a; ends gets the end
** offset of each cycle in nodes. Components come by their smallest id.
**
** reach: the direct (or, when recursive, all transitive) dependencies or
** dependents of node, by id; dependencies include absent nodes, and node
** itself when it lies on a cycle. */
int tp_graph_order(tp_graph *g, unsigned mask, int reverse, tp_graph_list *out);
int tp_graph_missing(tp_graph *g, unsigned mask, tp_graph_list *pairs);
int tp_graph_cycles(tp_graph *g, unsigned mask, tp_graph_list *nodes,
                    tp_graph_list *ends);
int tp_graph_reach(tp_graph *g, uint32_t node, unsigned mask, int direction,
                   int recursive, tp_graph_list *out);

/* GNU tsort. read adds the pairs of s: tokens separated by spaces, tabs
** and newlines; "a b" puts a before b (the edge b -> a), "a a" only names
** a. tsort then orders every node (ties by id) and, whenever none is free,
** finds and reports a loop and removes one of its edges exactly as GNU
** tsort does, then goes on: loops gets the nodes of each loop in GNU's
** order, loop_ends the end offset of each. Returns the number of loops. */
int tp_graph_tsort_read(tp_graph *g, const char *s, size_t len, tp_graph_error *err);
int tp_graph_tsort(tp_graph *g, tp_graph_list *order, tp_graph_list *loops,
                   tp_graph_list *loop_ends);

#endif
