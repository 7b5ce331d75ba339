/*
** l_sbstate.c: the sandboxed Lua runtime (see l_sbstate.h, docs/worker.md).
**
** One struct sb per state, reached through the allocator's userdata so that
** the hook, the allocator and every C function of the sandbox find it
** without touching anything a plugin can see. The limits of a call live in
** it, and so does which limit tripped: the error value a plugin sees is
** only a message, and what the host is told is decided here, in C.
*/
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/l_sbstate.h"
#include "lua/l_wire.h"

#define TRIP_NONE 0
#define TRIP_TIME 1
#define TRIP_INSTR 2

#define MAX_MODULE_BYTES (8u << 20)   /* a plugin source file */
#define MAX_MODULE_NAME 200
#define REG_LOADED "truthound.sbstate.loaded"

typedef struct sb {
  /* the allocator */
  size_t used, limit, peak;
  int lifted;                 /* building an error report: the cap is off */
  int refused;                /* an allocation was refused during this call */
  int starve;                 /* a limit tripped: refuse every allocation */
  size_t refused_actual;      /* what the state would have used */
  /* configuration (owned copies) */
  int64_t instructions;
  double timeout_ms;
  char *plugin_dir;
  char **allowed, **blocked;
  int io, os, no_subprocess, in_process;
  tp_sbstate_print_fn print;
  void *print_ud;
  /* the call running */
  int in_call;
  int tripped;
  int64_t budget, spent;
  double t0, deadline;        /* seconds, CLOCK_MONOTONIC; deadline 0 = none */
  double call_timeout_ms;
  int violation;
  char attempted[MAX_MODULE_NAME + 16];
  /* statistics */
  uint64_t calls;
  double last_ms;
  int64_t last_instr;
} sb;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static sb *get_sb(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return ud;
}

/* ---------------------------------------------------------------------- */
/* Allocator and hook                                                      */
/* ---------------------------------------------------------------------- */

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  sb *s = ud;
  void *p;
  if (ptr == NULL) osize = 0;   /* then osize only tells the object's type */
  if (nsize == 0) {
    free(ptr);
    s->used -= osize;
    return NULL;
  }
  if (s->starve && s->in_call && !s->lifted && nsize > osize) return NULL;
  /* used may exceed the limit after a report was built with the cap off */
  if (s->limit && !s->lifted && nsize > osize &&
      (s->used >= s->limit || nsize - osize > s->limit - s->used)) {
    if (s->in_call && !s->refused) {
      s->refused = 1;
      s->refused_actual = s->used + (nsize - osize);
    }
    return NULL;
  }
  p = realloc(ptr, nsize);
  if (p == NULL) return NULL;
  s->used = s->used - osize + nsize;
  if (s->used > s->peak) s->peak = s->used;
  return p;
}

/* Runs every TP_SB_HOOK_STEP instructions of every thread (threads inherit
** the hook of the thread that creates them; the main thread has it from
** the start). Once a limit has tripped it runs on every instruction and
** raises each time, so the call unwinds whatever catches the error. */
static void sb_hook(lua_State *L, lua_Debug *ar) {
  sb *s = get_sb(L);
  int n = lua_gethookcount(L);
  (void)ar;
  if (!s->in_call) {
    if (n != TP_SB_HOOK_STEP) lua_sethook(L, sb_hook, LUA_MASKCOUNT, TP_SB_HOOK_STEP);
    return;
  }
  if (!s->tripped) {
    s->spent += n;
    if (s->budget > 0 && s->spent >= s->budget) s->tripped = TRIP_INSTR;
    else if (s->deadline > 0 && now_s() >= s->deadline) s->tripped = TRIP_TIME;
    if (!s->tripped) {
      if (n != TP_SB_HOOK_STEP) lua_sethook(L, sb_hook, LUA_MASKCOUNT, TP_SB_HOOK_STEP);
      return;
    }
  }
  if (n != 1) lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
  /* Raise a memory error, not lua_error: an error raised inside a hook
  ** runs xpcall's message handler with hooks off, where a loop would be
  ** out of reach; memory errors never call a message handler. Once
  ** starved, the state allocates nothing until the call has unwound. */
  s->starve = 1;
  lua_newuserdatauv(L, 64, 0);
  luaL_error(L, s->tripped == TRIP_INSTR ? "sandbox: instruction budget exhausted"
                                         : "sandbox: time limit exceeded");
}

/* ---------------------------------------------------------------------- */
/* The environment                                                         */
/* ---------------------------------------------------------------------- */

static int sb_print(lua_State *L) {
  sb *s = get_sb(L);
  int i, n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, '\n');
  luaL_pushresult(&b);
  if (s->print) {
    size_t len;
    const char *str = lua_tolstring(L, -1, &len);
    s->print(s->print_ud, str, len);
  }
  return 0;
}

/* load(chunk [, name [, mode [, env]]]): text only, whatever mode says. */
static int sb_load(lua_State *L) {
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  if (n < 2) { lua_settop(L, 2); lua_pushnil(L); }   /* fn, chunk, name */
  lua_settop(L, n < 4 ? 4 : 5);
  lua_pushliteral(L, "t");
  lua_replace(L, 4);
  if (n < 4) lua_settop(L, 4);   /* no env: load's default, the sandbox's globals */
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

static int sb_collectgarbage(lua_State *L) {
  const char *opt = luaL_optstring(L, 1, "collect");
  if (strcmp(opt, "count") != 0)
    return luaL_error(L, "collectgarbage('%s') is not available in the sandbox", opt);
  lua_pushnumber(L, (lua_Number)get_sb(L)->used / 1024.0);
  return 1;
}

static int sb_getmetatable(lua_State *L) {
  luaL_checkany(L, 1);
  if (lua_type(L, 1) == LUA_TSTRING) { lua_pushnil(L); return 1; }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

/* Finalizers run with hooks off: a __gc could loop for ever unseen. Lua
** marks an object for finalization only if its metatable has __gc when it
** is set, so refusing it here is enough. */
static int sb_setmetatable(lua_State *L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");   /* raw, as Lua itself looks for it */
    if (lua_rawget(L, 2) != LUA_TNIL)
      return luaL_error(L, "__gc metamethods are not allowed in the sandbox");
    lua_pop(L, 1);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

static void del_field(lua_State *L, int idx, const char *name) {
  lua_pushnil(L);
  lua_setfield(L, idx < 0 ? idx - 1 : idx, name);
}

/* Replace global `name` by C function f with the original as upvalue. */
static void wrap_global(lua_State *L, const char *name, lua_CFunction f) {
  lua_getglobal(L, name);
  lua_pushcclosure(L, f, 1);
  lua_setglobal(L, name);
}

static const char *const BASE_KEEP[] = {
  "_G", "_VERSION", "assert", "error", "getmetatable", "ipairs", "load", "next",
  "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset", "select",
  "setmetatable", "tonumber", "tostring", "type", "xpcall", "collectgarbage",
  "coroutine", "math", "string", "table", "utf8", NULL
};

static int in_list(const char *const *list, const char *name) {
  for (; list && *list; list++)
    if (strcmp(*list, name) == 0) return 1;
  return 0;
}

/* Keep only the listed fields of the table at idx. */
static void keep_only(lua_State *L, int idx, const char *const *keep) {
  idx = lua_absindex(L, idx);
  lua_newtable(L);                       /* the names to drop */
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING || !in_list(keep, lua_tostring(L, -1))) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, -3, (lua_Integer)lua_rawlen(L, -3) + 1);
    }
  }
  while (lua_rawlen(L, -1) > 0) {
    lua_Integer i = (lua_Integer)lua_rawlen(L, -1);
    lua_rawgeti(L, -1, i);
    lua_pushnil(L);
    lua_rawset(L, idx);
    lua_pushnil(L);
    lua_rawseti(L, -2, i);
  }
  lua_pop(L, 1);
}

static const char *const OS_SAFE[] = {"clock", "date", "difftime", "time", NULL};

static int sb_require(lua_State *L);

/* Build the globals (runs protected, from tpL_sbstate_new). */
static int build_env(lua_State *L) {
  sb *s = get_sb(L);
  luaL_requiref(L, "_G", luaopen_base, 1);
  luaL_requiref(L, "coroutine", luaopen_coroutine, 1);
  luaL_requiref(L, "table", luaopen_table, 1);
  luaL_requiref(L, "string", luaopen_string, 1);
  luaL_requiref(L, "math", luaopen_math, 1);
  luaL_requiref(L, "utf8", luaopen_utf8, 1);
  luaL_requiref(L, "os", luaopen_os, 0);
  if (s->io) luaL_requiref(L, "io", luaopen_io, 0);
  lua_settop(L, 0);
  lua_pushglobaltable(L);
  keep_only(L, 1, BASE_KEEP);

  /* string: no dump; the metatable's __index is a copy of the library,
  ** and getmetatable never returns the metatable of strings. */
  lua_getglobal(L, "string");
  del_field(L, -1, "dump");
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, -3)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "__index");
  lua_settop(L, 1);

  wrap_global(L, "load", sb_load);
  wrap_global(L, "getmetatable", sb_getmetatable);
  wrap_global(L, "setmetatable", sb_setmetatable);
  lua_pushcfunction(L, sb_collectgarbage);
  lua_setglobal(L, "collectgarbage");
  lua_pushcfunction(L, sb_print);
  lua_setglobal(L, "print");
  lua_pushcfunction(L, sb_require);
  lua_setglobal(L, "require");

  /* os: the real library only when exposed, else a clock subset. */
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "os");
  if (!s->os) keep_only(L, -1, OS_SAFE);
  else {
    if (s->no_subprocess) del_field(L, -1, "execute");
    if (s->in_process) { del_field(L, -1, "exit"); del_field(L, -1, "setlocale"); }
  }
  lua_setglobal(L, "os");
  if (s->io) {
    lua_getfield(L, -1, "io");
    if (s->no_subprocess) del_field(L, -1, "popen");
    lua_setglobal(L, "io");
  }
  lua_settop(L, 0);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, REG_LOADED);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* The module gate                                                         */
/* ---------------------------------------------------------------------- */

/* Length of the longest entry of list covering name (itself or a parent
** module: "socket" covers "socket.http"); 0 when none. As
** truthound.security.policy's allows_module. */
static size_t covers(char **list, const char *name) {
  size_t best = 0;
  for (; list && *list; list++) {
    size_t n = strlen(*list);
    if (strncmp(name, *list, n) == 0 && (name[n] == '\0' || name[n] == '.') && n > best)
      best = n;
  }
  return best;
}

/* Whether the policy admits a system module (allowlist wins). */
static int policy_admits(sb *s, const char *name) {
  size_t a = covers(s->allowed, name), b = covers(s->blocked, name);
  if (s->allowed && s->allowed[0] && a == 0) return 0;
  return b <= a;
}

static int deny(lua_State *L, const char *name, const char *why) {
  sb *s = get_sb(L);
  s->violation = 1;
  snprintf(s->attempted, sizeof s->attempted, "require '%s'", name);
  return luaL_error(L, "module '%s' is not allowed in the sandbox (%s)", name, why);
}

static int valid_name(const char *name, size_t len) {
  size_t i;
  if (len == 0 || len > MAX_MODULE_NAME || name[0] == '.' || name[len - 1] == '.') return 0;
  for (i = 0; i < len; i++) {
    char c = name[i];
    if (c == '.' && name[i + 1] == '.') return 0;
    if (!(c == '_' || c == '.' || c == '-' || (c >= '0' && c <= '9') ||
          ((c | 32) >= 'a' && (c | 32) <= 'z')))
      return 0;
  }
  return 1;
}

/* Open rel beneath dir: no "..", no absolute paths, no symbolic links. */
static int open_beneath(const char *dir, const char *rel) {
  struct open_how how;
  int dfd, fd;
  dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return -1;
  memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof how);
  close(dfd);
  return fd;
}

/* Read a regular file into a Lua string (pushed). 0, or -1. */
static int push_file(lua_State *L, int fd) {
  struct stat st;
  luaL_Buffer b;
  char *p;
  size_t got = 0;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)MAX_MODULE_BYTES)
    return -1;
  p = luaL_buffinitsize(L, &b, (size_t)st.st_size + 1);
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, p + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  luaL_pushresultsize(&b, got);
  return 0;
}

/* Load plugin module name from the plugin directory: pushes the chunk,
** or returns 0 when there is no such file. */
static int load_plugin_module(lua_State *L, const char *name) {
  sb *s = get_sb(L);
  char rel[MAX_MODULE_NAME + 16], chunk[MAX_MODULE_NAME + 20];
  int pass;
  if (!s->plugin_dir) return 0;
  for (pass = 0; pass < 2; pass++) {
    size_t i, n = strlen(name);
    int fd, st;
    for (i = 0; i < n; i++) rel[i] = name[i] == '.' ? '/' : name[i];
    snprintf(rel + n, sizeof rel - n, pass == 0 ? ".lua" : "/init.lua");
    fd = open_beneath(s->plugin_dir, rel);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      return luaL_error(L, "module '%s': cannot open %s: %s", name, rel, strerror(errno));
    }
    st = push_file(L, fd);
    close(fd);
    if (st != 0) return luaL_error(L, "module '%s': %s is not a readable file", name, rel);
    {
      size_t len;
      const char *src = lua_tolstring(L, -1, &len);
      snprintf(chunk, sizeof chunk, "@%s", rel);
      if (luaL_loadbufferx(L, src, len, chunk, "t") != LUA_OK) return lua_error(L);
    }
    lua_remove(L, -2);
    return 1;
  }
  return 0;
}

/* System modules: C libraries found in the usual places, loaded only when
** allowed_modules and blocked_modules admit them. own_malloc marks a library
** that allocates with malloc, outside the capped Lua allocator: in a worker
** the cgroup holds it, but in-process (NONE) nothing would, so there it is
** refused. (LPeg allocates through the Lua allocator.) */
static const struct { const char *name, *file, *open; int own_malloc; } SYSMODS[] = {
  {"lpeg", "lpeg.so", "luaopen_lpeg", 0},
  {"cjson", "cjson.so", "luaopen_cjson", 1},
  {"cjson.safe", "cjson.so", "luaopen_cjson_safe", 1},
  {NULL, NULL, NULL, 0}
};
static const char *const SYSDIRS[] = {
  "/usr/local/lib/lua/5.4", "/usr/lib/x86_64-linux-gnu/lua/5.4",
  "/usr/lib/aarch64-linux-gnu/lua/5.4", "/usr/lib/lua/5.4", NULL
};

static int load_system_module(lua_State *L, int i) {
  int d;
  for (d = 0; SYSDIRS[d]; d++) {
    char path[256];
    void *h;
    lua_CFunction f;
    snprintf(path, sizeof path, "%s/%s", SYSDIRS[d], SYSMODS[i].file);
    if (access(path, R_OK) != 0) continue;
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) continue;
    f = (lua_CFunction)(uintptr_t)dlsym(h, SYSMODS[i].open);
    if (!f) continue;   /* the handle stays: it may be shared */
    lua_pushcfunction(L, f);
    return 1;
  }
  return luaL_error(L, "module '%s' is not installed on this host", SYSMODS[i].name);
}

static int sb_require(lua_State *L) {
  sb *s = get_sb(L);
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  int i;
  lua_settop(L, 1);
  if (!valid_name(name, len)) return luaL_error(L, "require: bad module name");
  lua_getfield(L, LUA_REGISTRYINDEX, REG_LOADED);          /* 2 */
  if (lua_getfield(L, 2, name) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  if (strcmp(name, "io") == 0 || strcmp(name, "os") == 0) {
    if (!(name[0] == 'i' ? s->io : s->os)) return deny(L, name, "not exposed by the policy");
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, name);
    return 1;
  }
  for (i = 0; SYSMODS[i].name; i++) {
    if (strcmp(name, SYSMODS[i].name) != 0) continue;
    if (!policy_admits(s, name)) return deny(L, name, "not admitted by allowed_modules/blocked_modules");
    if (SYSMODS[i].own_malloc && s->in_process)
      return deny(L, name, "it allocates outside the memory cap; in-process (NONE) "
                           "it is not offered, use PROCESS");
    load_system_module(L, i);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    goto store;
  }
  if (covers(s->blocked, name) > covers(s->allowed, name))
    return deny(L, name, "blocked_modules");
  if (!load_plugin_module(L, name)) {
    if (!s->plugin_dir) return deny(L, name, "not a module the sandbox offers");
    return luaL_error(L, "module '%s' not found in the plugin directory", name);
  }
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
store:
  if (lua_isnil(L, -1)) { lua_pop(L, 1); lua_pushboolean(L, 1); }
  lua_pushvalue(L, -1);
  lua_setfield(L, 2, name);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* Configuration                                                           */
/* ---------------------------------------------------------------------- */

static char **copy_list(const char *const *list) {
  size_t n = 0, i;
  char **out;
  if (!list) return NULL;
  while (list[n]) n++;
  out = calloc(n + 1, sizeof *out);
  if (!out) return NULL;
  for (i = 0; i < n; i++)
    if (!(out[i] = strdup(list[i]))) break;
  return out;
}

static void free_list(char **list) {
  char **p;
  if (!list) return;
  for (p = list; *p; p++) free(*p);
  free(list);
}

static void sb_free(sb *s) {
  free(s->plugin_dir);
  free_list(s->allowed);
  free_list(s->blocked);
  free(s);
}

static int list_complete(const char *const *src, char **dst) {
  size_t i;
  if (!src) return 1;
  if (!dst) return 0;
  for (i = 0; src[i]; i++)
    if (!dst[i]) return 0;
  return 1;
}

lua_State *tpL_sbstate_new(const tp_sbstate_config *cfg, char *err, size_t errlen) {
  sb *s = calloc(1, sizeof *s);
  lua_State *S;
  if (!s) { snprintf(err, errlen, "out of memory"); return NULL; }
  s->limit = cfg->memory_bytes;
  s->instructions = cfg->instructions;
  s->timeout_ms = cfg->timeout_ms;
  s->io = cfg->io;
  s->os = cfg->os;
  s->no_subprocess = cfg->no_subprocess;
  s->in_process = cfg->in_process;
  s->print = cfg->print;
  s->print_ud = cfg->print_ud;
  s->plugin_dir = cfg->plugin_dir ? strdup(cfg->plugin_dir) : NULL;
  s->allowed = copy_list(cfg->allowed_modules);
  s->blocked = copy_list(cfg->blocked_modules);
  if ((cfg->plugin_dir && !s->plugin_dir) || !list_complete(cfg->allowed_modules, s->allowed) ||
      !list_complete(cfg->blocked_modules, s->blocked)) {
    sb_free(s);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  S = lua_newstate(sb_alloc, s);
  if (!S) {
    sb_free(s);
    snprintf(err, errlen, "not enough memory for a Lua state (memory cap %zu bytes)", cfg->memory_bytes);
    return NULL;
  }
  lua_sethook(S, sb_hook, LUA_MASKCOUNT, TP_SB_HOOK_STEP);
  lua_pushcfunction(S, build_env);
  if (lua_pcall(S, 0, 0, 0) != LUA_OK) {
    snprintf(err, errlen, "cannot build the sandbox environment: %s",
             lua_type(S, -1) == LUA_TSTRING ? lua_tostring(S, -1) : "not enough memory");
    tpL_sbstate_close(S);
    return NULL;
  }
  s->peak = s->used;
  return S;
}

void tpL_sbstate_close(lua_State *S) {
  sb *s;
  if (!S) return;
  s = get_sb(S);
  s->in_call = 0;
  s->lifted = 1;          /* closing must not fail for want of memory */
  lua_close(S);
  sb_free(s);
}

/* Fields of a SETUP table ------------------------------------------------ */

typedef struct owned {
  char *plugin_dir;
  char **allowed, **blocked;
} owned;

static int field_number(lua_State *L, int t, const char *k, double *out, char *err,
                        size_t errlen, const char *path) {
  int ty = lua_getfield(L, t, k);
  if (ty == LUA_TNIL) { lua_pop(L, 1); return 0; }
  if (ty != LUA_TNUMBER || !(lua_tonumber(L, -1) >= 0)) {   /* NaN too */
    lua_pop(L, 1);
    snprintf(err, errlen, "%s%s: expected a non-negative number", path, k);
    return -1;
  }
  *out = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return 0;
}

static int field_bool(lua_State *L, int t, const char *k, int *out, char *err, size_t errlen,
                      const char *path) {
  int ty = lua_getfield(L, t, k);
  if (ty == LUA_TNIL) { lua_pop(L, 1); return 0; }
  if (ty != LUA_TBOOLEAN) {
    lua_pop(L, 1);
    snprintf(err, errlen, "%s%s: expected a boolean", path, k);
    return -1;
  }
  *out = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return 0;
}

static int field_list(lua_State *L, int t, const char *k, char ***out, char *err,
                      size_t errlen) {
  lua_Integer i, n;
  int ty = lua_getfield(L, t, k);
  if (ty == LUA_TNIL) { lua_pop(L, 1); return 0; }
  if (ty != LUA_TTABLE) goto bad;
  n = (lua_Integer)lua_rawlen(L, -1);
  if (n > 4096) goto bad;
  *out = calloc((size_t)n + 1, sizeof **out);
  if (!*out) goto bad;
  for (i = 1; i <= n; i++) {
    size_t len;
    const char *v;
    if (lua_rawgeti(L, -1, i) != LUA_TSTRING) { lua_pop(L, 1); goto bad; }
    v = lua_tolstring(L, -1, &len);
    if (!valid_name(v, len) || !((*out)[i - 1] = strdup(v))) { lua_pop(L, 1); goto bad; }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 0;
bad:
  lua_pop(L, 1);
  snprintf(err, errlen, "modules.%s: expected a list of module names", k);
  return -1;
}

int tpL_sbstate_config_read(lua_State *L, int idx, tp_sbstate_config *cfg, char *err,
                            size_t errlen) {
  owned *o;
  double v;
  memset(cfg, 0, sizeof *cfg);
  idx = lua_absindex(L, idx);
  if (!lua_checkstack(L, 6)) { snprintf(err, errlen, "stack overflow"); return -1; }
  if (lua_type(L, idx) != LUA_TTABLE) { snprintf(err, errlen, "SETUP: expected a table"); return -1; }
  o = calloc(1, sizeof *o);
  if (!o) { snprintf(err, errlen, "out of memory"); return -1; }
  cfg->owned_ = o;
  if (lua_getfield(L, idx, "plugin_dir") == LUA_TSTRING) {
    if (!(o->plugin_dir = strdup(lua_tostring(L, -1)))) goto nomem;
    cfg->plugin_dir = o->plugin_dir;
  } else if (!lua_isnil(L, -1)) {
    lua_pop(L, 1);
    snprintf(err, errlen, "plugin_dir: expected a string");
    goto fail;
  }
  lua_pop(L, 1);
  v = 0;
  if (field_number(L, idx, "memory_bytes", &v, err, errlen, "") != 0) goto fail;
  cfg->memory_bytes = v > (double)SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)v;
  v = 0;
  if (field_number(L, idx, "instructions", &v, err, errlen, "") != 0) goto fail;
  cfg->instructions = v > 9e18 ? INT64_MAX : (int64_t)v;
  if (field_number(L, idx, "timeout_ms", &cfg->timeout_ms, err, errlen, "") != 0) goto fail;
  if (lua_getfield(L, idx, "modules") == LUA_TTABLE) {
    int t = lua_gettop(L);
    if (field_list(L, t, "allowed", &o->allowed, err, errlen) != 0 ||
        field_list(L, t, "blocked", &o->blocked, err, errlen) != 0 ||
        field_bool(L, t, "io", &cfg->io, err, errlen, "modules.") != 0 ||
        field_bool(L, t, "os", &cfg->os, err, errlen, "modules.") != 0 ||
        field_bool(L, t, "no_subprocess", &cfg->no_subprocess, err, errlen, "modules.") != 0) {
      lua_pop(L, 1);
      goto fail;
    }
  } else if (!lua_isnil(L, -1)) {
    lua_pop(L, 1);
    snprintf(err, errlen, "modules: expected a table");
    goto fail;
  }
  lua_pop(L, 1);
  cfg->allowed_modules = (const char *const *)o->allowed;
  cfg->blocked_modules = (const char *const *)o->blocked;
  return 0;
nomem:
  lua_pop(L, 1);
  snprintf(err, errlen, "out of memory");
fail:
  tpL_sbstate_config_free(cfg);
  return -1;
}

void tpL_sbstate_config_free(tp_sbstate_config *cfg) {
  owned *o = cfg->owned_;
  if (o) {
    free(o->plugin_dir);
    free_list(o->allowed);
    free_list(o->blocked);
    free(o);
  }
  memset(cfg, 0, sizeof *cfg);
}

/* ---------------------------------------------------------------------- */
/* Calls                                                                   */
/* ---------------------------------------------------------------------- */

const char *tpL_sbstate_kind(int status) {
  switch (status) {
  case TP_SB_OK: return "ok";
  case TP_SB_ETIMEOUT: return "SandboxTimeoutError";
  case TP_SB_EMEMORY: return "SandboxResourceError";
  case TP_SB_EVIOLATION: return "SandboxSecurityViolation";
  default: return "SandboxError";
  }
}

static const char *reason_of(int status) {
  switch (status) {
  case TP_SB_ERUNTIME: return "runtime";
  case TP_SB_ETIMEOUT: return "timeout";
  case TP_SB_EMEMORY: return "memory";
  case TP_SB_EVIOLATION: return "module";
  case TP_SB_EREQUEST: return "request";
  case TP_SB_ENOTFOUND: return "not_found";
  case TP_SB_ERESULT: return "result";
  default: return "state";
  }
}

/* The message handler: the error value as text (no metamethod runs) and a
** traceback, as {message, traceback}. */
static int msgh(lua_State *L) {
  const char *msg;
  if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER)
    msg = lua_tostring(L, 1);
  else
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  lua_createtable(L, 2, 0);
  lua_pushstring(L, msg);
  lua_rawseti(L, -2, 1);
  luaL_traceback(L, L, NULL, 1);
  lua_rawseti(L, -2, 2);
  return 1;
}

typedef struct report {
  int status;
  const char *message;    /* when the error value is not used */
  double elapsed;
} report;

/* Replace the error value on top (a msgh table, or anything) by the error
** table. Runs protected with the cap lifted. */
static int build_error(lua_State *L) {
  report *r = lua_touserdata(L, 1);
  sb *s = get_sb(L);
  const char *msg = r->message;
  int err = 2;   /* the error value */
  lua_createtable(L, 0, 3);
  lua_pushstring(L, tpL_sbstate_kind(r->status));
  lua_setfield(L, -2, "kind");
  lua_createtable(L, 0, 4);                      /* fields */
  lua_pushstring(L, reason_of(r->status));
  lua_setfield(L, -2, "reason");
  if (!msg && lua_type(L, err) == LUA_TTABLE) {
    lua_rawgeti(L, err, 1);
    msg = lua_tostring(L, -1);
    lua_pop(L, 1);
  } else if (!msg && lua_type(L, err) == LUA_TSTRING) {
    msg = lua_tostring(L, err);
  }
  switch (r->status) {
  case TP_SB_ETIMEOUT:
    if (s->tripped == TRIP_INSTR) {
      lua_pushinteger(L, (lua_Integer)s->budget);
      lua_setfield(L, -2, "instructions");
      msg = "instruction budget exhausted";
      lua_pushliteral(L, "instructions");
      lua_setfield(L, -2, "reason");
    } else {
      msg = "time limit exceeded";
    }
    if (s->call_timeout_ms > 0) {
      lua_pushnumber(L, s->call_timeout_ms / 1000.0);
      lua_setfield(L, -2, "timeout_seconds");
    }
    lua_pushnumber(L, r->elapsed);
    lua_setfield(L, -2, "execution_time");
    break;
  case TP_SB_EMEMORY:
    lua_pushliteral(L, "memory");
    lua_setfield(L, -2, "resource_type");
    lua_pushinteger(L, (lua_Integer)s->limit);
    lua_setfield(L, -2, "limit");
    lua_pushinteger(L, (lua_Integer)(s->refused ? s->refused_actual : s->peak));
    lua_setfield(L, -2, "actual");
    msg = "memory limit exceeded";
    break;
  case TP_SB_EVIOLATION:
    lua_pushliteral(L, "module");
    lua_setfield(L, -2, "violation_type");
    lua_pushstring(L, s->attempted);
    lua_setfield(L, -2, "attempted_action");
    break;
  case TP_SB_ERUNTIME:
    if (lua_type(L, err) == LUA_TTABLE) {
      lua_rawgeti(L, err, 1);
      lua_setfield(L, -2, "value");
      lua_rawgeti(L, err, 2);
      lua_setfield(L, -2, "traceback");
    }
    break;
  default:
    break;
  }
  lua_setfield(L, -2, "fields");
  lua_pushstring(L, msg ? msg : "sandbox error");
  lua_setfield(L, -2, "message");
  return 1;
}

/* Leave the error table for status on top of S, the error value (if any)
** being on top now. Returns the status (ESTATE if even that failed). */
static int push_error(lua_State *S, int status, const char *message, double elapsed) {
  sb *s = get_sb(S);
  report r;
  int st, saved_in_call = s->in_call;
  r.status = status;
  r.message = message;
  r.elapsed = elapsed;
  if (lua_gettop(S) == 0 || !lua_checkstack(S, 8)) lua_pushnil(S);
  s->lifted = 1;
  s->in_call = 0;
  lua_pushcfunction(S, build_error);
  lua_insert(S, -2);
  lua_pushlightuserdata(S, &r);
  lua_insert(S, -2);
  st = lua_pcall(S, 2, 1, 0);
  s->lifted = 0;
  s->in_call = saved_in_call;
  if (st != LUA_OK) {
    lua_pop(S, 1);
    lua_pushnil(S);   /* the caller sees a non-table: ESTATE */
    return TP_SB_ESTATE;
  }
  return status;
}

static void call_begin(sb *s, const tp_sbstate_limits *lim) {
  int64_t budget = lim && lim->instructions > 0 ? lim->instructions : s->instructions;
  double ms = lim && lim->timeout_ms > 0 ? lim->timeout_ms : s->timeout_ms;
  s->tripped = TRIP_NONE;
  s->starve = 0;
  s->refused = 0;
  s->violation = 0;
  s->attempted[0] = '\0';
  s->spent = 0;
  s->budget = budget;
  s->call_timeout_ms = ms;
  s->t0 = now_s();
  s->deadline = ms > 0 ? s->t0 + ms / 1000.0 : 0;
  s->peak = s->used;
  s->in_call = 1;
}

/* Run the function below nargs arguments at the top, protected, under the
** limits. */
static int run(lua_State *S, int nargs, const tp_sbstate_limits *lim) {
  sb *s = get_sb(S);
  int base = lua_gettop(S) - nargs, st, status;
  double elapsed;
  if (!lua_checkstack(S, 8)) return TP_SB_ESTATE;
  lua_pushcfunction(S, msgh);
  lua_insert(S, base);
  call_begin(s, lim);
  lua_sethook(S, sb_hook, LUA_MASKCOUNT,
              s->budget > 0 && s->budget < TP_SB_HOOK_STEP ? (int)s->budget : TP_SB_HOOK_STEP);
  st = lua_pcall(S, nargs, LUA_MULTRET, base);
  s->in_call = 0;
  s->starve = 0;
  lua_sethook(S, sb_hook, LUA_MASKCOUNT, TP_SB_HOOK_STEP);
  elapsed = now_s() - s->t0;
  s->calls++;
  s->last_ms = elapsed * 1000.0;
  s->last_instr = s->spent;
  lua_remove(S, base);
  if (s->tripped) status = TP_SB_ETIMEOUT;
  else if (st == LUA_OK) return TP_SB_OK;
  else if (s->refused || st == LUA_ERRMEM) status = TP_SB_EMEMORY;
  else if (s->violation) status = TP_SB_EVIOLATION;
  else status = TP_SB_ERUNTIME;
  if (st == LUA_OK) lua_settop(S, base - 1);   /* tripped yet returned: drop results */
  else {
    lua_settop(S, base);                        /* the error value */
  }
  if (lua_gettop(S) < base) lua_pushnil(S);
  return push_error(S, status, NULL, elapsed);
}

int tpL_sbstate_pcall(lua_State *S, int nargs, const tp_sbstate_limits *lim) {
  return run(S, nargs, lim);
}

int tpL_sbstate_require(lua_State *S, const char *name, const tp_sbstate_limits *lim) {
  if (!lua_checkstack(S, 4)) return TP_SB_ESTATE;
  lua_pushcfunction(S, sb_require);
  lua_pushstring(S, name);
  return run(S, 1, lim);
}

int tpL_sbstate_load(lua_State *S, const char *bytecode, size_t len, int upvalues) {
  sb *s = get_sb(S);
  int i, st;
  if (upvalues) upvalues = lua_absindex(S, upvalues);
  if (!lua_checkstack(S, 6)) return TP_SB_ESTATE;
  s->lifted = 0;
  st = luaL_loadbufferx(S, bytecode, len, "=host", "b");
  if (st != LUA_OK)
    return push_error(S, TP_SB_EREQUEST, "the host's function does not load", 0);
  for (i = 1;; i++) {
    const char *name = lua_getupvalue(S, -1, i);
    if (!name) break;
    lua_pop(S, 1);
    if (strcmp(name, "_ENV") == 0) lua_pushglobaltable(S);
    else if (upvalues && lua_type(S, upvalues) == LUA_TTABLE) lua_rawgeti(S, upvalues, i);
    else lua_pushnil(S);
    lua_setupvalue(S, -2, i);
  }
  return TP_SB_OK;
}

/* Resolve "module.function" (runs protected, under the limits): the
** module through the gate, then the field. */
static int resolve_ref(lua_State *L) {
  size_t len;
  const char *ref = lua_tolstring(L, lua_upvalueindex(1), &len);
  const char *dot = strrchr(ref, '.');
  int nargs = lua_gettop(L);
  if (!dot || dot == ref || dot[1] == '\0') return luaL_error(L, "bad reference '%s'", ref);
  lua_pushcfunction(L, sb_require);
  lua_pushlstring(L, ref, (size_t)(dot - ref));
  lua_call(L, 1, 1);
  if (lua_type(L, -1) != LUA_TTABLE) {
    lua_pushfstring(L, "reference '%s': the module does not return a table", ref);
    lua_setfield(L, LUA_REGISTRYINDEX, "truthound.sbstate.notfound");
    return luaL_error(L, "reference '%s': the module does not return a table", ref);
  }
  lua_getfield(L, -1, dot + 1);
  if (lua_type(L, -1) != LUA_TFUNCTION) {
    lua_pushfstring(L, "reference '%s' names no function", ref);
    lua_setfield(L, LUA_REGISTRYINDEX, "truthound.sbstate.notfound");
    return luaL_error(L, "reference '%s' names no function", ref);
  }
  lua_replace(L, -2);
  lua_insert(L, 1);
  lua_call(L, nargs, LUA_MULTRET);
  return lua_gettop(L);
}

int tpL_sbstate_pcall_ref(lua_State *S, const char *ref, int nargs,
                          const tp_sbstate_limits *lim) {
  int status, base;
  if (!lua_checkstack(S, 4)) return TP_SB_ESTATE;
  base = lua_gettop(S) - nargs;
  lua_pushnil(S);
  lua_setfield(S, LUA_REGISTRYINDEX, "truthound.sbstate.notfound");
  lua_pushstring(S, ref);
  lua_pushcclosure(S, resolve_ref, 1);
  lua_insert(S, base + 1);
  status = run(S, nargs, lim);
  if (status == TP_SB_ERUNTIME) {
    int nf = lua_getfield(S, LUA_REGISTRYINDEX, "truthound.sbstate.notfound") == LUA_TSTRING;
    lua_pop(S, 1);
    if (nf && lua_type(S, -1) == LUA_TTABLE) {
      if (lua_getfield(S, -1, "fields") == LUA_TTABLE) {
        lua_pushliteral(S, "not_found");
        lua_setfield(S, -2, "reason");
      }
      lua_pop(S, 1);
      status = TP_SB_ENOTFOUND;
    }
  }
  return status;
}

/* ---------------------------------------------------------------------- */
/* Serving one CALL payload                                               */
/* ---------------------------------------------------------------------- */

typedef struct serve_ctx {
  int64_t id;
  int has_id;
} serve_ctx;

/* Push the stats table of S (tpL_sbstate_stats as documented in
** docs/formats.md) onto L, which may be S itself. */
void tpL_sbstate_push_stats(lua_State *L, lua_State *S) {
  tp_sbstate_stats st;
  tpL_sbstate_stats(S, &st);
  lua_createtable(L, 0, 8);
  lua_pushinteger(L, (lua_Integer)st.calls);
  lua_setfield(L, -2, "calls");
  lua_pushnumber(L, st.time_ms);
  lua_setfield(L, -2, "time_ms");
  lua_pushinteger(L, (lua_Integer)st.memory_bytes);
  lua_setfield(L, -2, "memory_bytes");
  lua_pushinteger(L, (lua_Integer)st.memory_limit);
  lua_setfield(L, -2, "memory_limit");
  lua_pushinteger(L, (lua_Integer)st.peak_memory_bytes);
  lua_setfield(L, -2, "peak_memory_bytes");
  lua_pushinteger(L, (lua_Integer)st.instructions);
  lua_setfield(L, -2, "instructions");
}

/* Wrap n results on top into RESULT {id, results = {n=, ...}, stats}.
** Protected, cap lifted. */
static int build_result(lua_State *S) {
  serve_ctx *c = lua_touserdata(S, 1);
  int n = lua_gettop(S) - 1, i;
  lua_createtable(S, 0, 3);
  lua_pushinteger(S, (lua_Integer)c->id);
  lua_setfield(S, -2, "id");
  lua_createtable(S, n, 1);
  for (i = 1; i <= n; i++) {
    lua_pushvalue(S, i + 1);
    lua_rawseti(S, -2, i);
  }
  lua_pushinteger(S, n);
  lua_setfield(S, -2, "n");
  lua_setfield(S, -2, "results");
  tpL_sbstate_push_stats(S, S);
  lua_setfield(S, -2, "stats");
  return 1;
}

static int add_id(lua_State *S) {
  serve_ctx *c = lua_touserdata(S, 2);
  if (c->has_id) {
    lua_pushinteger(S, (lua_Integer)c->id);
    lua_setfield(S, 1, "id");
  }
  tpL_sbstate_push_stats(S, S);
  lua_setfield(S, 1, "stats");
  lua_settop(S, 1);
  return 1;
}

/* Encode the error table on top of S as an ERROR payload into out. */
static int encode_error(lua_State *S, serve_ctx *c, const tp_wire_limits *lim,
                        tp_wire_buf *out, int status) {
  sb *s = get_sb(S);
  char err[200];
  size_t start;
  int st;
  if (lua_type(S, -1) == LUA_TTABLE) {
    s->lifted = 1;
    lua_pushcfunction(S, add_id);
    lua_insert(S, -2);
    lua_pushlightuserdata(S, c);
    st = lua_pcall(S, 2, 1, 0);
    s->lifted = 0;
    if (st == LUA_OK && tp_wire_frame_begin(out, TP_WIRE_ERROR, &start) == 0) {
      if (tpL_wire_encode(S, -1, out, lim, err, sizeof err) == 0 &&
          tp_wire_frame_end(out, start, lim) == 0) {
        lua_pop(S, 1);
        return TP_WIRE_ERROR;
      }
      out->len = start;
    }
  }
  lua_pop(S, 1);
  tpL_sbstate_error_payload(out, c->has_id ? c->id : -1, tpL_sbstate_kind(status),
                            reason_of(status), "the error could not be reported");
  return TP_WIRE_ERROR;
}

/* Decode the CALL payload into a table on top of S. */
static int decode_call(lua_State *S, const char *payload, size_t len,
                       const tp_wire_limits *lim, serve_ctx *c, char *err, size_t errlen) {
  if (tpL_wire_decode(S, payload, len, lim, err, errlen) != 0) return -1;
  if (lua_type(S, -1) != LUA_TTABLE) {
    snprintf(err, errlen, "CALL: expected a table");
    return -1;
  }
  if (lua_getfield(S, -1, "id") == LUA_TNUMBER && lua_isinteger(S, -1)) {
    c->id = (int64_t)lua_tointeger(S, -1);
    c->has_id = 1;
  }
  lua_pop(S, 1);
  if (!c->has_id) {
    snprintf(err, errlen, "CALL.id: expected an integer");
    return -1;
  }
  return 0;
}

/* Push the arguments of CALL table t: returns their count, or -1. */
static int push_args(lua_State *S, int t, char *err, size_t errlen) {
  lua_Integer n, i;
  int ty = lua_getfield(S, t, "args"), a;
  if (ty == LUA_TNIL) { lua_pop(S, 1); return 0; }
  if (ty != LUA_TTABLE) goto bad;
  a = lua_gettop(S);
  if (lua_getfield(S, a, "n") == LUA_TNIL) {
    lua_pop(S, 1);
    n = (lua_Integer)lua_rawlen(S, a);
  } else {
    if (!lua_isinteger(S, -1)) { lua_pop(S, 1); goto bad; }
    n = lua_tointeger(S, -1);
    lua_pop(S, 1);
  }
  if (n < 0 || n > 250 || !lua_checkstack(S, (int)n + 8)) goto bad;
  for (i = 1; i <= n; i++) lua_rawgeti(S, a, i);
  lua_remove(S, a);
  return (int)n;
bad:
  lua_pop(S, 1);
  snprintf(err, errlen, "CALL.args: expected {n = count (0..250), ...}");
  return -1;
}

int tpL_sbstate_serve(lua_State *S, const char *payload, size_t len,
                      const tp_wire_limits *lim, tp_wire_buf *out, int *status) {
  sb *s = get_sb(S);
  serve_ctx c = {0, 0};
  char err[240];
  tp_sbstate_limits cl = {0, 0};
  int top = lua_gettop(S), t, nargs, st, ty;
  size_t start;
  double v;
  if (status) *status = TP_SB_ESTATE;
  if (!lua_checkstack(S, 16)) goto state;
  s->refused = 0;
  if (decode_call(S, payload, len, lim, &c, err, sizeof err) != 0) {
    lua_settop(S, top);
    if (status) *status = TP_SB_EREQUEST;
    tpL_sbstate_error_payload(out, c.has_id ? c.id : -1, "SandboxError", "request", err);
    return TP_WIRE_ERROR;
  }
  t = lua_gettop(S);
  v = 0;
  if (lua_getfield(S, t, "timeout_ms") == LUA_TNUMBER) cl.timeout_ms = lua_tonumber(S, -1);
  if (lua_getfield(S, t, "instructions") == LUA_TNUMBER) {
    v = lua_tonumber(S, -1);
    cl.instructions = v > 9e18 ? INT64_MAX : v < 0 ? 0 : (int64_t)v;
  }
  lua_pop(S, 2);
  ty = lua_getfield(S, t, "fn");
  if (ty == LUA_TSTRING) {
    size_t blen;
    const char *bc = lua_tolstring(S, -1, &blen);
    lua_getfield(S, t, "upvalues");
    st = tpL_sbstate_load(S, bc, blen, lua_gettop(S));
    if (st != TP_SB_OK) {
      if (status) *status = st;
      {
        int r = encode_error(S, &c, lim, out, st);
        lua_settop(S, top);
        return r;
      }
    }
    lua_replace(S, -3);   /* fn over the bytecode; drop upvalues */
    lua_pop(S, 1);
    nargs = push_args(S, t, err, sizeof err);
    if (nargs < 0) goto request;
    st = tpL_sbstate_pcall(S, nargs, &cl);
  } else if (ty == LUA_TNIL) {
    lua_pop(S, 1);
    if (lua_getfield(S, t, "ref") != LUA_TSTRING) {
      snprintf(err, sizeof err, "CALL: needs fn (bytecode) or ref (\"module.function\")");
      goto request;
    }
    {
      char ref[MAX_MODULE_NAME + 8];
      size_t rlen;
      const char *r = lua_tolstring(S, -1, &rlen);
      if (rlen >= sizeof ref || !valid_name(r, rlen)) {
        snprintf(err, sizeof err, "CALL.ref: expected \"module.function\"");
        goto request;
      }
      memcpy(ref, r, rlen + 1);
      lua_pop(S, 1);
      nargs = push_args(S, t, err, sizeof err);
      if (nargs < 0) goto request;
      st = tpL_sbstate_pcall_ref(S, ref, nargs, &cl);
    }
  } else {
    snprintf(err, sizeof err, "CALL.fn: expected bytecode (a string)");
    goto request;
  }
  if (status) *status = st;
  if (st != TP_SB_OK) {
    int r = encode_error(S, &c, lim, out, st);
    lua_settop(S, top);
    return r;
  }
  /* results: t+1 .. top */
  {
    int nres = lua_gettop(S) - t;
    char path[120];
    s->lifted = 1;
    lua_pushcfunction(S, build_result);
    lua_insert(S, t + 1);
    lua_pushlightuserdata(S, &c);
    lua_insert(S, t + 2);
    st = lua_pcall(S, nres + 1, 1, 0);
    s->lifted = 0;
    if (st != LUA_OK) goto state;
    if (tp_wire_frame_begin(out, TP_WIRE_RESULT, &start) != 0) goto state;
    if (tpL_wire_encode_path(S, -1, out, lim, err, sizeof err, path, sizeof path) != 0 ||
        (st = tp_wire_frame_end(out, start, lim)) != 0) {
      char msg[300];
      out->len = start;
      if (st != 0) snprintf(err, sizeof err, "%s", tp_wire_strerror(st));
      snprintf(msg, sizeof msg, "results cannot cross the wire: %s", err);
      lua_settop(S, top);
      if (status) *status = TP_SB_ERESULT;
      tpL_sbstate_error_payload(out, c.id, "SandboxError", "result", msg);
      return TP_WIRE_ERROR;
    }
    lua_settop(S, top);
    return TP_WIRE_RESULT;
  }
request:
  lua_settop(S, top);
  if (status) *status = TP_SB_EREQUEST;
  tpL_sbstate_error_payload(out, c.id, "SandboxError", "request", err);
  return TP_WIRE_ERROR;
state:
  lua_settop(S, top);
  if (status) *status = TP_SB_ESTATE;
  tpL_sbstate_error_payload(out, c.has_id ? c.id : -1, "SandboxError", "state",
                            "the sandbox runtime failed (out of memory?)");
  return TP_WIRE_ERROR;
}

/* An ERROR frame without a Lua state: keys in canonical order (encoded
** bytes compared: every key here is a string, so by length then bytes:
** "id" < "kind" < "fields" < "message"). */
int tpL_sbstate_error_payload(tp_wire_buf *out, int64_t id, const char *kind,
                              const char *reason, const char *message) {
  size_t start;
  int rc;
  if ((rc = tp_wire_frame_begin(out, TP_WIRE_ERROR, &start)) != 0) return rc;
  rc = tp_wire_put_table(out, 0, id >= 0 ? 4 : 3);
  if (!rc && id >= 0) {
    rc = tp_wire_put_string(out, "id", 2);
    if (!rc) rc = tp_wire_put_int(out, id);
  }
  if (!rc) rc = tp_wire_put_string(out, "kind", 4);
  if (!rc) rc = tp_wire_put_string(out, kind, strlen(kind));
  if (!rc) rc = tp_wire_put_string(out, "fields", 6);
  if (!rc) rc = tp_wire_put_table(out, 0, 1);
  if (!rc) rc = tp_wire_put_string(out, "reason", 6);
  if (!rc) rc = tp_wire_put_string(out, reason, strlen(reason));
  if (!rc) rc = tp_wire_put_string(out, "message", 7);
  if (!rc) rc = tp_wire_put_string(out, message, strlen(message));
  if (!rc) rc = tp_wire_frame_end(out, start, NULL);
  if (rc) out->len = start;
  return rc;
}

void tpL_sbstate_stats(lua_State *S, tp_sbstate_stats *out) {
  sb *s = get_sb(S);
  out->calls = s->calls;
  out->memory_bytes = s->used;
  out->memory_limit = s->limit;
  out->peak_memory_bytes = s->peak;
  out->instructions = s->last_instr;
  out->time_ms = s->last_ms;
}
