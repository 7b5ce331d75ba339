/*
** l_cgroup.c: a worker's control group (core/sandbox/cgroup.c) as
** core.cgroup. Thin: which limits a policy gets is decided in
** truthound.security.sandbox.cgroup.
**
**   create{memory_bytes =, cpu_percent =, pids_max =} -> group | nil, msg
**       each limit a whole number, absent or 0 for none (cpu_percent: 100
**       is one CPU); msg names the controller and the file that refused
**   sweep() -> n | nil, msg     remove the groups of dead hosts
**   group:procs()    -> {path, ...}   each distinct cgroup.procs (what
**                                     core.sandbox.spawn's cgroups takes)
**   group:add(pid)   -> true | nil, msg
**   group:stats()    -> {memory_peak, memory_current, oom_kills,
**                        memory_events, pids_current, cpu_usage_ns,
**                        nr_periods, nr_throttled, throttled_ns}
**   group:kill()     -> how many processes were signalled
**   group:dir(ctl)   -> the directory for "memory" | "cpu" | "pids", or nil
**   group:version(ctl) -> 1 | 2 | 0 (not used)
**   group:destroy()  -> true | nil, msg  (kills what is left, removes the
**                       directories; idempotent; also __gc and __close, so
**                       a group is never leaked by a lost reference)
** Methods other than destroy raise UsageError on a destroyed group.
*/
#include <stdio.h>
#include <string.h>

#include "lua/l_core.h"
#include "sandbox/cgroup.h"

#define CGROUP_MT "truthound.cgroup"

static const char *const ctl_names[] = { "memory", "cpu", "pids", NULL };

static tp_cgroup **box(lua_State *L) {
  return luaL_checkudata(L, 1, CGROUP_MT);
}

static tp_cgroup *live(lua_State *L) {
  tp_cgroup **g = box(L);
  if (*g == NULL) tpL_raisef(L, "UsageError", 0, "this cgroup was destroyed");
  return *g;
}

/* A limit field: absent -> 0; else a whole number >= 0. */
static uint64_t limit_field(lua_State *L, const char *k) {
  lua_Integer v = 0;
  int isint = 1, t = lua_getfield(L, 1, k);
  if (t == LUA_TNUMBER) v = lua_tointegerx(L, -1, &isint);
  else if (t != LUA_TNIL) isint = 0;      /* no "8": a string is a caller's bug */
  lua_pop(L, 1);
  if (!isint || v < 0)
    tpL_raisef(L, "UsageError", 0, "cgroup.create: %s must be a whole number >= 0", k);
  return (uint64_t)v;
}

static int cg_create(lua_State *L) {
  tp_cgroup_limits lim;
  char err[512] = "";
  luaL_checktype(L, 1, LUA_TTABLE);
  /* a misspelt limit must not become no limit */
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    if (strcmp(k, "memory_bytes") && strcmp(k, "cpu_percent") && strcmp(k, "pids_max"))
      tpL_raisef(L, "UsageError", 0, "cgroup.create: unknown field %s",
                 lua_type(L, -2) == LUA_TSTRING ? k : luaL_typename(L, -2));
    lua_pop(L, 1);
  }
  lim.memory_bytes = limit_field(L, "memory_bytes");
  lim.pids_max = limit_field(L, "pids_max");
  uint64_t cpu = limit_field(L, "cpu_percent");
  if (cpu > 100000) tpL_raisef(L, "UsageError", 0, "cgroup.create: cpu_percent above 100000");
  lim.cpu_percent = (unsigned)cpu;
  /* the box first: a memory error after creation would leak the group */
  tp_cgroup **g = lua_newuserdatauv(L, sizeof *g, 0);
  *g = NULL;
  luaL_setmetatable(L, CGROUP_MT);
  if (tp_cgroup_create(&lim, g, err, sizeof err) != 0) {
    *g = NULL;
    lua_pushnil(L);
    lua_pushstring(L, err[0] ? err : "cgroup: cannot create a group");
    return 2;
  }
  return 1;
}

static int cg_sweep(lua_State *L) {
  int n = tp_cgroup_sweep();
  if (n < 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "cgroup: cannot read /proc/self/mountinfo or /proc/self/cgroup");
    return 2;
  }
  lua_pushinteger(L, n);
  return 1;
}

static int cg_procs(lua_State *L) {
  tp_cgroup *g = live(L);
  lua_Integer n = 0;
  lua_newtable(L);
  for (int c = 0; c < TP_CGROUP_NCTL; c++) {
    int dup = 0;
    if (!tp_cgroup_version(g, c)) continue;
    for (int i = 0; i < c; i++)
      dup |= tp_cgroup_version(g, i) && strcmp(tp_cgroup_dir(g, i), tp_cgroup_dir(g, c)) == 0;
    if (dup) continue;
    lua_pushfstring(L, "%s/cgroup.procs", tp_cgroup_dir(g, c));
    lua_rawseti(L, -2, ++n);
  }
  return 1;
}

static int cg_add(lua_State *L) {
  tp_cgroup *g = live(L);
  lua_Integer pid = luaL_checkinteger(L, 2);
  char err[512] = "";
  luaL_argcheck(L, pid > 0 && pid <= 0x7fffffff, 2, "a process id expected");
  if (tp_cgroup_add(g, (pid_t)pid, err, sizeof err) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

#define STAT(name) (lua_pushinteger(L, (lua_Integer)s.name), lua_setfield(L, -2, #name))

static int cg_stats(lua_State *L) {
  tp_cgroup_stats s;
  tp_cgroup_stats_read(live(L), &s);
  lua_createtable(L, 0, 9);
  STAT(memory_peak);
  STAT(memory_current);
  STAT(oom_kills);
  STAT(memory_events);
  STAT(pids_current);
  STAT(cpu_usage_ns);
  STAT(nr_periods);
  STAT(nr_throttled);
  STAT(throttled_ns);
  return 1;
}

static int cg_kill(lua_State *L) {
  lua_pushinteger(L, tp_cgroup_kill(live(L)));
  return 1;
}

static int cg_dir(lua_State *L) {
  tp_cgroup *g = live(L);
  int c = luaL_checkoption(L, 2, NULL, ctl_names);
  if (tp_cgroup_version(g, c)) lua_pushstring(L, tp_cgroup_dir(g, c));
  else lua_pushnil(L);
  return 1;
}

static int cg_version(lua_State *L) {
  tp_cgroup *g = live(L);
  lua_pushinteger(L, tp_cgroup_version(g, luaL_checkoption(L, 2, NULL, ctl_names)));
  return 1;
}

/* destroy, __gc and __close: the one way a group ends. */
static int cg_destroy(lua_State *L) {
  tp_cgroup **g = box(L);
  char dirs[512] = "";
  if (*g == NULL) { lua_pushboolean(L, 1); return 1; }
  for (int c = 0; c < TP_CGROUP_NCTL; c++)     /* for the message: it is freed */
    if (tp_cgroup_version(*g, c) && !strstr(dirs, tp_cgroup_dir(*g, c)))
      snprintf(dirs + strlen(dirs), sizeof dirs - strlen(dirs), "%s%s", dirs[0] ? " " : "",
               tp_cgroup_dir(*g, c));
  int rc = tp_cgroup_destroy(*g);
  *g = NULL;
  if (rc != 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "cgroup: could not remove every directory of %s (still busy)", dirs);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int cg_gc(lua_State *L) {
  cg_destroy(L);
  return 0;
}

static int cg_tostring(lua_State *L) {
  tp_cgroup **g = box(L);
  if (*g == NULL) lua_pushliteral(L, "cgroup (destroyed)");
  else {
    for (int c = 0; c < TP_CGROUP_NCTL; c++)
      if (tp_cgroup_version(*g, c)) {
        lua_pushfstring(L, "cgroup %s", tp_cgroup_dir(*g, c));
        return 1;
      }
    lua_pushliteral(L, "cgroup (no controllers)");
  }
  return 1;
}

static const luaL_Reg methods[] = {
  { "procs", cg_procs }, { "add", cg_add }, { "stats", cg_stats }, { "kill", cg_kill },
  { "dir", cg_dir }, { "version", cg_version }, { "destroy", cg_destroy }, { NULL, NULL }
};

void tpL_open_cgroup(lua_State *L) {
  luaL_newmetatable(L, CGROUP_MT);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, cg_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, cg_gc);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, cg_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushcfunction(L, cg_create);
  lua_setfield(L, -2, "create");
  lua_pushcfunction(L, cg_sweep);
  lua_setfield(L, -2, "sweep");
  lua_setfield(L, -2, "cgroup");
}
