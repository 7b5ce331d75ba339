/*
** l_probe.c: Lua binding of core/sandbox/probe.c (core.probe).
**
**   core.probe.host([opts]) -> table      every probe (see docs/host.md)
**       opts.runs = false                 find container runtimes, do not run them
**       opts.timeout_ms = n               per runtime command (default 5000)
**       opts.path = "..."                 PATH to search instead of $PATH
**   core.probe.parse_mountinfo(text) -> array of cgroup mounts
**   core.probe.parse_proc_cgroup(text) -> array of {id, controllers, path}
**   core.probe.landlock_rights() -> array of {category, name, abi}
**
** The probe blocks for as long as it takes (forks, a few runtime commands
** with timeouts); truthound.security.host caches its answer.
*/
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sandbox/probe.h"
#include "lua/l_core.h"

static void set_bool(lua_State *L, const char *k, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

/* {available =, reason =, tried =} for a check, left on the stack. */
static void push_check(lua_State *L, const tp_probe_check *c) {
  lua_createtable(L, 0, 3);
  set_bool(L, "available", c->state == TP_PROBE_YES);
  set_bool(L, "tried", c->state != TP_PROBE_UNTRIED);
  set_str(L, "reason", c->reason);
}

/* A comma list as an array of strings. */
static void push_list(lua_State *L, const char *list) {
  int n = 0;
  lua_newtable(L);
  while (list && *list) {
    const char *end = strchr(list, ',');
    size_t len = end ? (size_t)(end - list) : strlen(list);
    if (len > 0) {
      lua_pushlstring(L, list, len);
      lua_rawseti(L, -2, ++n);
    }
    list = end ? end + 1 : NULL;
  }
}

/* An rlimit value: an integer, or math.huge for unlimited. */
static void push_limit(lua_State *L, uint64_t v) {
  if (v == TP_PROBE_UNLIMITED || v > (uint64_t)INT64_MAX) lua_pushnumber(L, HUGE_VAL);
  else lua_pushinteger(L, (lua_Integer)v);
}

static void push_mount(lua_State *L, const tp_probe_cgmount *m) {
  lua_createtable(L, 0, 5);
  set_int(L, "version", m->version);
  set_str(L, "mountpoint", m->mountpoint);
  set_str(L, "root", m->root);
  push_list(L, m->controllers);
  lua_setfield(L, -2, "controllers");
  if (m->name[0]) set_str(L, "name", m->name);
}

static void push_cgpath(lua_State *L, const tp_probe_cgpath *p) {
  lua_createtable(L, 0, 3);
  set_int(L, "id", p->id);
  push_list(L, p->controllers);
  lua_setfield(L, -2, "controllers");
  set_str(L, "path", p->path);
}

static void push_namespaces(lua_State *L, const tp_probe_host *h) {
  int i;
  lua_createtable(L, 0, TP_PROBE_NS_COUNT + 2);
  if (h->max_user_namespaces >= 0) set_int(L, "max_user_namespaces", h->max_user_namespaces);
  if (h->unprivileged_userns_clone >= 0)
    set_int(L, "unprivileged_userns_clone", h->unprivileged_userns_clone);
  for (i = 0; i < TP_PROBE_NS_COUNT; i++) {
    push_check(L, &h->ns[i]);
    push_check(L, &h->ns_unpriv[i]);
    lua_setfield(L, -2, "unprivileged");
    lua_setfield(L, -2, tp_probe_ns_names[i]);
  }
}

static void push_seccomp(lua_State *L, const tp_probe_host *h) {
  int i;
  push_check(L, &h->seccomp_filter);
  set_int(L, "mode", h->seccomp_mode);
  lua_createtable(L, 0, TP_PROBE_SECCOMP_ACTIONS);
  for (i = 0; i < TP_PROBE_SECCOMP_ACTIONS; i++) {
    push_check(L, &h->seccomp_action[i]);
    lua_setfield(L, -2, tp_probe_seccomp_actions[i].name);
  }
  lua_setfield(L, -2, "actions");
  lua_createtable(L, 0, 2);
  if (h->libseccomp_version[0]) set_str(L, "version", h->libseccomp_version);
  set_int(L, "api", h->libseccomp_api);
  lua_setfield(L, -2, "libseccomp");
}

static void push_landlock(lua_State *L, const tp_probe_host *h) {
  static const char *const cats[] = {"fs", "net", "scope", "restrict_flag"};
  static const char *const keys[] = {"fs", "net", "scope", "restrict_flags"};
  int c, i;
  push_check(L, &h->landlock);
  set_int(L, "abi", h->landlock_abi);
  set_int(L, "known_abi", TP_PROBE_LANDLOCK_KNOWN_ABI);
  push_check(L, &h->landlock_restrict);
  lua_setfield(L, -2, "restrict");
  if (h->lsm_known) {
    set_str(L, "lsm", h->lsm);
    push_list(L, h->lsm);
    lua_setfield(L, -2, "lsms");
  }
  for (c = 0; c < 4; c++) {
    int n = 0;
    lua_newtable(L);
    for (i = 0; i < tp_probe_landlock_nrights; i++) {
      const tp_probe_landlock_right *r = &tp_probe_landlock_rights[i];
      if (strcmp(r->category, cats[c]) != 0 || r->abi > h->landlock_abi) continue;
      lua_pushstring(L, r->name);
      lua_rawseti(L, -2, ++n);
    }
    lua_setfield(L, -2, keys[c]);
  }
}

static void push_cgroups(lua_State *L, const tp_probe_host *h) {
  int i, v;
  lua_createtable(L, 0, 8);
  if (h->cgmount_read.state != TP_PROBE_YES) set_str(L, "error", h->cgmount_read.reason);
  lua_createtable(L, h->ncgmounts, 0);
  for (i = 0; i < h->ncgmounts; i++) {
    push_mount(L, &h->cgmounts[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "mounts");
  lua_createtable(L, h->ncgpaths, 0);
  for (i = 0; i < h->ncgpaths; i++) {
    push_cgpath(L, &h->cgpaths[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "paths");
  lua_createtable(L, 0, 2);
  push_list(L, h->cg2_controllers);
  lua_setfield(L, -2, "controllers");
  push_list(L, h->cg2_subtree);
  lua_setfield(L, -2, "subtree_control");
  lua_setfield(L, -2, "v2");
  for (i = 0; i < TP_PROBE_CG_COUNT; i++) {
    lua_createtable(L, 0, 2);
    for (v = 0; v < 2; v++) {
      const tp_probe_cgcontrol *c = &h->cg[i][v];
      push_check(L, &c->create);
      set_int(L, "version", v == 0 ? 2 : 1);
      if (c->dir[0]) set_str(L, "dir", c->dir);
      if (c->file) set_str(L, "file", c->file);
      lua_setfield(L, -2, v == 0 ? "v2" : "v1");
    }
    lua_setfield(L, -2, tp_probe_cg_names[i]);
  }
}

static void push_rlimits(lua_State *L, const tp_probe_host *h) {
  int i;
  lua_createtable(L, 0, TP_PROBE_RLIMIT_COUNT + 1);
  for (i = 0; i < TP_PROBE_RLIMIT_COUNT; i++) {
    const tp_probe_rlimit *r = &h->rlimits[i];
    lua_createtable(L, 0, 2);
    if (r->error) {
      set_str(L, "error", strerror(r->error));
    } else {
      push_limit(L, r->soft);
      lua_setfield(L, -2, "soft");
      push_limit(L, r->hard);
      lua_setfield(L, -2, "hard");
    }
    lua_setfield(L, -2, r->name);
  }
  set_bool(L, "cap_sys_resource", h->cap_sys_resource);
}

static void push_runtimes(lua_State *L, const tp_probe_host *h) {
  int i;
  lua_createtable(L, 0, TP_PROBE_RT_COUNT);
  for (i = 0; i < TP_PROBE_RT_COUNT; i++) {
    const tp_probe_runtime *rt = &h->runtimes[i];
    push_check(L, &rt->run);
    set_bool(L, "found", rt->path[0] != '\0');
    if (rt->path[0]) set_str(L, "path", rt->path);
    if (rt->version[0]) set_str(L, "version", rt->version);
    set_str(L, "command", rt->command);
    if (rt->exit_status >= 0) set_int(L, "exit_status", rt->exit_status);
    set_bool(L, "timed_out", rt->timed_out);
    lua_setfield(L, -2, rt->name);
  }
}

static int probe_host(lua_State *L) {
  tp_probe_opts opts;
  tp_probe_host *h;
  memset(&opts, 0, sizeof opts);
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getfield(L, 1, "runs") != LUA_TNIL) opts.skip_runs = !lua_toboolean(L, -1);
    if (lua_getfield(L, 1, "timeout_ms") != LUA_TNIL) {
      lua_Integer ms = luaL_checkinteger(L, -1);
      luaL_argcheck(L, ms > 0 && ms <= 600000, 1, "timeout_ms must be 1..600000");
      opts.run_timeout_ms = (int)ms;
    }
    if (lua_getfield(L, 1, "path") != LUA_TNIL) opts.path = luaL_checkstring(L, -1);
  }
  /* The result is large (cgroup paths): a userdata the GC frees, so that
  ** an error while building the table cannot leak it. */
  h = lua_newuserdatauv(L, sizeof *h, 0);
  tp_probe_host_run(h, &opts);

  lua_createtable(L, 0, 10);
  lua_createtable(L, 0, 2);
  set_str(L, "release", h->kernel_release);
  set_str(L, "machine", h->machine);
  lua_setfield(L, -2, "kernel");
  set_int(L, "uid", h->uid);
  set_int(L, "euid", h->euid);
  push_namespaces(L, h);
  lua_setfield(L, -2, "namespaces");
  push_check(L, &h->no_new_privs_set);
  set_bool(L, "set", h->no_new_privs == 1);
  lua_setfield(L, -2, "no_new_privs");
  push_seccomp(L, h);
  lua_setfield(L, -2, "seccomp");
  push_landlock(L, h);
  lua_setfield(L, -2, "landlock");
  push_cgroups(L, h);
  lua_setfield(L, -2, "cgroups");
  push_rlimits(L, h);
  lua_setfield(L, -2, "rlimits");
  push_runtimes(L, h);
  lua_setfield(L, -2, "runtimes");
  return 1;
}

static int probe_parse_mountinfo(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  int n = tp_probe_parse_mountinfo(text, len, NULL, 0), i;
  tp_probe_cgmount *m;
  if (n > 4096) n = 4096;
  m = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *m, 0);
  n = tp_probe_parse_mountinfo(text, len, m, n);
  lua_createtable(L, n, 0);
  for (i = 0; i < n && i < 4096; i++) {
    push_mount(L, &m[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int probe_parse_proc_cgroup(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  int n = tp_probe_parse_proc_cgroup(text, len, NULL, 0), i;
  tp_probe_cgpath *p;
  if (n > 4096) n = 4096;
  p = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *p, 0);
  n = tp_probe_parse_proc_cgroup(text, len, p, n);
  lua_createtable(L, n, 0);
  for (i = 0; i < n && i < 4096; i++) {
    push_cgpath(L, &p[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int probe_landlock_rights(lua_State *L) {
  int i;
  lua_createtable(L, tp_probe_landlock_nrights, 0);
  for (i = 0; i < tp_probe_landlock_nrights; i++) {
    lua_createtable(L, 0, 3);
    set_str(L, "category", tp_probe_landlock_rights[i].category);
    set_str(L, "name", tp_probe_landlock_rights[i].name);
    set_int(L, "abi", tp_probe_landlock_rights[i].abi);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

void tpL_open_probe(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"host", probe_host},
    {"parse_mountinfo", probe_parse_mountinfo},
    {"parse_proc_cgroup", probe_parse_proc_cgroup},
    {"landlock_rights", probe_landlock_rights},
    {NULL, NULL},
  };
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "probe");
}
