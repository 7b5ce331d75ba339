/*
** l_graph.c: Lua binding of core/graph.c (core.graph).
**
**   core.graph.new() -> Graph
**   G:set_node(id, deps)    id becomes present; its dependencies are
**                           replaced by deps = {name = "required" | "optional" | "dev"}
**   G:remove_node(id)       -> whether it was present (edges into it stay:
**                           it is now a missing dependency of its dependents)
**   G:order(mask [, reverse])      -> ids, number of present nodes
**   G:missing(mask)                -> {{dependent, dependency}, ...}
**   G:cycles(mask)                 -> {{a, b, a}, ...}
**   G:reach(id, mask, "dependencies" | "dependents" [, recursive]) -> ids
**   G:count()                      -> number of present nodes
**   core.graph.tsort(text [, source]) -> order ("a\nb\n"), loops {{...}, ...}
**   core.graph.REQUIRED, .OPTIONAL, .DEV   the bits of a mask
**
** The Lua layer (truthound.dependencies.graph) decides what the masks are;
** this file only converts.
*/
#include <string.h>

#include "graph.h"
#include "lua/l_core.h"

#define GRAPH_MT "truthound.Graph"

typedef struct l_graph {
  tp_graph *g;
  tp_graph_list a, b, c;   /* query results, freed with the userdata */
} l_graph;

static l_graph *check_graph(lua_State *L, int idx) {
  l_graph *lg = luaL_checkudata(L, idx, GRAPH_MT);
  if (!lg->g) luaL_error(L, "graph is closed");
  return lg;
}

/* The core's error codes as Lua errors. */
static int fail(lua_State *L, int rc) {
  if (rc == TP_GRAPH_ENOMEM) return luaL_error(L, "not enough memory");
  if (rc == TP_GRAPH_ETOOBIG) return luaL_error(L, "graph too large (2^32 - 2 nodes, edges or id bytes at most)");
  return luaL_error(L, "graph: internal error %d", rc);
}

static l_graph *new_graph(lua_State *L) {
  l_graph *lg = lua_newuserdatauv(L, sizeof *lg, 0);
  memset(lg, 0, sizeof *lg);
  luaL_setmetatable(L, GRAPH_MT);
  if (!(lg->g = tp_graph_new())) fail(L, TP_GRAPH_ENOMEM);
  return lg;
}

/* __gc and __close: idempotent. */
static int graph_gc(lua_State *L) {
  l_graph *lg = luaL_checkudata(L, 1, GRAPH_MT);
  tp_graph_free(lg->g);
  lg->g = NULL;
  tp_graph_list_free(&lg->a);
  tp_graph_list_free(&lg->b);
  tp_graph_list_free(&lg->c);
  return 0;
}

static int graph_new(lua_State *L) {
  new_graph(L);
  return 1;
}

static uint32_t intern(lua_State *L, l_graph *lg, int idx) {
  size_t len;
  const char *id = lua_tolstring(L, idx, &len);
  uint32_t v;
  int rc = tp_graph_intern(lg->g, id, len, &v);
  if (rc) fail(L, rc);
  return v;
}

static void push_id(lua_State *L, const tp_graph *g, uint32_t v) {
  size_t len;
  const char *id = tp_graph_id(g, v, &len);
  lua_pushlstring(L, id, len);
}

/* An id argument: a non-empty string. */
static void check_id(lua_State *L, int idx, const char *what) {
  if (lua_type(L, idx) != LUA_TSTRING || lua_rawlen(L, idx) == 0)
    tpL_raisef(L, "UsageError", 0, "%s: expected a non-empty string, got %s", what,
               lua_type(L, idx) == LUA_TSTRING ? "an empty string" : luaL_typename(L, idx));
}

static unsigned type_bits(const char *s) {
  if (strcmp(s, "required") == 0) return TP_GRAPH_REQUIRED;
  if (strcmp(s, "optional") == 0) return TP_GRAPH_OPTIONAL;
  if (strcmp(s, "dev") == 0) return TP_GRAPH_DEV;
  return 0;
}

/* Check every entry of deps before changing anything, so that a bad one
** leaves the graph as it was. */
static void check_deps(lua_State *L, int idx) {
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_rawlen(L, -2) == 0)
      tpL_raisef(L, "UsageError", 0, "set_node: dependency names must be non-empty strings, got %s",
                 luaL_typename(L, -2));
    if (lua_type(L, -1) != LUA_TSTRING || !type_bits(lua_tostring(L, -1)))
      tpL_raisef(L, "UsageError", 0, "set_node: dependency '%s': expected \"required\", \"optional\" or \"dev\"",
                 lua_tostring(L, -2));
    lua_pop(L, 1);
  }
}

static int graph_set_node(lua_State *L) {
  l_graph *lg = check_graph(L, 1);
  uint32_t v, w;
  int rc;
  check_id(L, 2, "set_node: id");
  luaL_checktype(L, 3, LUA_TTABLE);
  check_deps(L, 3);
  v = intern(L, lg, 2);
  if ((rc = tp_graph_set_present(lg->g, v, 1)) || (rc = tp_graph_clear_edges(lg->g, v))) fail(L, rc);
  lua_pushnil(L);
  while (lua_next(L, 3)) {
    w = intern(L, lg, -2);
    if ((rc = tp_graph_add_edge(lg->g, v, w, type_bits(lua_tostring(L, -1))))) fail(L, rc);
    lua_pop(L, 1);
  }
  return 0;
}

static int graph_remove_node(lua_State *L) {
  l_graph *lg = check_graph(L, 1);
  size_t len;
  const char *id = luaL_checklstring(L, 2, &len);
  uint32_t v;
  int was = tp_graph_find(lg->g, id, len, &v) == 0 && tp_graph_present(lg->g, v);
  if (was) {
    int rc;
    if ((rc = tp_graph_set_present(lg->g, v, 0)) || (rc = tp_graph_clear_edges(lg->g, v))) fail(L, rc);
  }
  lua_pushboolean(L, was);
  return 1;
}

static unsigned check_mask(lua_State *L, int idx) {
  lua_Integer m = luaL_checkinteger(L, idx);
  if (m < 0 || m > (lua_Integer)TP_GRAPH_ALL) luaL_argerror(L, idx, "mask out of range");
  return (unsigned)m;
}

static void push_ids(lua_State *L, const tp_graph *g, const uint32_t *v, uint32_t n) {
  uint32_t i;
  lua_createtable(L, (int)(n < 0x7fffffff ? n : 0), 0);
  for (i = 0; i < n; i++) {
    push_id(L, g, v[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int graph_order(lua_State *L) {
  l_graph *lg = check_graph(L, 1);
  unsigned mask = check_mask(L, 2);
  int rc = tp_graph_order(lg->g, mask, lua_toboolean(L, 3), &lg->a);
  if (rc) fail(L, rc);
  push_ids(L, lg->g, lg->a.item, lg->a.n);
  lua_pushinteger(L, tp_graph_present_count(lg->g));
  return 2;
}

static int graph_missing(lua_State *L) {
  l_graph *lg = check_graph(L, 1);
  uint32_t i;
  int rc = tp_graph_missing(lg->g, check_mask(L, 2), &lg->a);
  if (rc) fail(L, rc);
  lua_createtable(L, (int)(lg->a.n / 2), 0);
  for (i = 0; i + 1 < lg->a.n; i += 2) {
    push_ids(L, lg->g, lg->a.item + i, 2);
    lua_rawseti(L, -2, (lua_Integer)i / 2 + 1);
  }
  return 1;
}

/* A flat list of groups (nodes) with their end offsets (ends), as a list
** of lists. */
static void push_groups(lua_State *L, const tp_graph *g, const tp_graph_list *nodes,
                        const tp_graph_list *ends) {
  uint32_t i, start = 0;
  lua_createtable(L, (int)ends->n, 0);
  for (i = 0; i < ends->n; i++) {
    push_ids(L, g, nodes->item + start, ends->item[i] - start);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
    start = ends->item[i];
  }
}

static int graph_cycles(lua_State *L) {
  l_graph *lg = check_graph(L, 1);
  int rc = tp_graph_cycles(lg->g, check_mask(L, 2), &lg->a, &lg->b);
  if (rc) fail(L, rc);
  push_groups(L, lg->g, &lg->a, &lg->b);
  return 1;
}

static int graph_reach(lua_State *L) {
  static const char *const dirs[] = {"dependencies", "dependents", NULL};
  l_graph *lg = check_graph(L, 1);
  size_t len;
  const char *id = luaL_checklstring(L, 2, &len);
  unsigned mask = check_mask(L, 3);
  int dir = luaL_checkoption(L, 4, NULL, dirs), rc;
  uint32_t v;
  if (tp_graph_find(lg->g, id, len, &v) != 0) {   /* never named: nothing */
    lua_newtable(L);
    return 1;
  }
  rc = tp_graph_reach(lg->g, v, mask, dir == 0 ? TP_GRAPH_DEPENDENCIES : TP_GRAPH_DEPENDENTS,
                      lua_toboolean(L, 5), &lg->a);
  if (rc) fail(L, rc);
  push_ids(L, lg->g, lg->a.item, lg->a.n);
  return 1;
}

static int graph_count(lua_State *L) {
  lua_pushinteger(L, tp_graph_present_count(check_graph(L, 1)->g));
  return 1;
}

/* ---------------------------------------------------------------------- */
/* tsort                                                                   */
/* ---------------------------------------------------------------------- */

/* The odd-token error: names the source, line, column and the token. */
static int raise_odd(lua_State *L, const char *source, const char *s, const tp_graph_error *e) {
  int shown = e->len > 40 ? 37 : (int)e->len;
  lua_createtable(L, 0, 6);
  lua_pushstring(L, source);
  lua_setfield(L, -2, "source");
  lua_pushinteger(L, (lua_Integer)e->line);
  lua_setfield(L, -2, "line");
  lua_pushinteger(L, (lua_Integer)e->column);
  lua_setfield(L, -2, "position");
  lua_pushstring(L, e->expected);
  lua_setfield(L, -2, "expected");
  lua_pushlstring(L, s + e->pos, e->len);
  lua_setfield(L, -2, "found");
  lua_pushstring(L, source);
  lua_setfield(L, -2, "input");
  lua_pushlstring(L, s + e->pos, (size_t)shown);
  return tpL_raisef(L, "InputError", -2,
                    "%s:%d:%d: input contains an odd number of tokens: the last token \"%s%s\" has no partner; expected %s",
                    source, (int)e->line, (int)e->column, lua_tostring(L, -1),
                    e->len > 40 ? "..." : "", e->expected);
}

static int graph_tsort(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  const char *source = luaL_optstring(L, 2, "-");
  l_graph *lg = new_graph(L);   /* collected with the stack on any error */
  tp_graph_error e;
  luaL_Buffer b;
  uint32_t i;
  int rc = tp_graph_tsort_read(lg->g, s, len, &e);
  if (rc == TP_GRAPH_ESYNTAX) return raise_odd(L, source, s, &e);
  if (rc) fail(L, rc);
  rc = tp_graph_tsort(lg->g, &lg->a, &lg->b, &lg->c);
  if (rc < 0) fail(L, rc);
  luaL_buffinit(L, &b);
  for (i = 0; i < lg->a.n; i++) {
    size_t n;
    const char *id = tp_graph_id(lg->g, lg->a.item[i], &n);
    luaL_addlstring(&b, id, n);
    luaL_addchar(&b, '\n');
  }
  luaL_pushresult(&b);
  push_groups(L, lg->g, &lg->b, &lg->c);
  return 2;
}

static const luaL_Reg graph_methods[] = {
  {"set_node", graph_set_node},
  {"remove_node", graph_remove_node},
  {"order", graph_order},
  {"missing", graph_missing},
  {"cycles", graph_cycles},
  {"reach", graph_reach},
  {"count", graph_count},
  {"close", graph_gc},
  {NULL, NULL}
};

static const luaL_Reg graph_funcs[] = {
  {"new", graph_new},
  {"tsort", graph_tsort},
  {NULL, NULL}
};

void tpL_open_graph(lua_State *L) {
  if (luaL_newmetatable(L, GRAPH_MT)) {
    luaL_newlib(L, graph_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, graph_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, graph_gc);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  luaL_newlib(L, graph_funcs);
  lua_pushinteger(L, TP_GRAPH_REQUIRED);
  lua_setfield(L, -2, "REQUIRED");
  lua_pushinteger(L, TP_GRAPH_OPTIONAL);
  lua_setfield(L, -2, "OPTIONAL");
  lua_pushinteger(L, TP_GRAPH_DEV);
  lua_setfield(L, -2, "DEV");
  lua_setfield(L, -2, "graph");
}
