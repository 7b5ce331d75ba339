/*
** l_sandbox.c: what the sandbox engines (truthound.security.sandbox) need
** from C, as core.sandbox. Thin: decisions live in the Lua layer.
**
**   sbstate(setup) -> state       the NONE runtime (core/lua/l_sbstate.c): a
**                                 separate, capped lua_State in this process
**     state:call(fid, bytecode, upvalues, instructions, timeout_ms, ...)
**                                   -> true, results... | false, err
**     state:call_ref(ref, instructions, timeout_ms, ...)  -> the same
**     state:require(name, instructions, timeout_ms) -> true | false, err
**     state:stats() -> {calls, memory_bytes, memory_limit, peak_memory_bytes,
**                       instructions, time_ms}     (of the last call)
**     state:totals() -> calls, time_ms, peak_memory_bytes (over all calls)
**     state:close()
**       setup is the SETUP payload's shape (docs/formats.md); fid is the
**       host's id for the function (never reused), under which the loaded
**       bytecode is cached; nil limits are the state's own; err is the
**       error table {kind, message, fields}. Values are copied between the
**       two states: scalars and strings directly, tables through the wire
**       encoding, all under the wire's bounds (the same as a worker's
**       channel), so nothing of the sandbox's state ever reaches the host's
**       but copies of plain data.
**
**   syscall_resolve(name) -> number | nil, message   (libseccomp's table)
**   worker_candidates() -> {paths}   where the worker program may be
**
**   channel(fd) -> ch             the host end of a worker's socketpair
**     ch:request(frame|nil, timeout_ms|nil, max_bytes [, spin_us]) -> op
**       (awaitable; spin_us: poll the socket this long before sleeping)
**       writes the frame (if any), then reads exactly one frame back;
**       op:result() -> "frame", type, payload | "timeout" | "eof" |
**                      "error", message
**     ch:send(frame) -> true | nil, msg   (never blocks: for BYE)
**     ch:close()
**   spawn{exec, argv, prefix, env, netns, uid, gid, cpu, cgroups, rlimits}
**     -> pid, channel fd | nil, msg      (core/sandbox/spawn.c)
**   netns() -> fd | nil, msg             the shared empty network namespace
**   reap(pid) -> nil (running) | "exited", code | "signaled", signo | "gone"
**   kill(pid, signo [, group]) -> true | nil, msg
**   getpid(), getuid()   (cgroups are core.cgroup, core/lua/l_cgroup.c)
**
** The channel never interprets a payload: the Lua layer decodes it with
** core.wire.decode and its limits, as untrusted input. A frame header is
** checked here (magic, type, flags, reserved, length bound) because the
** reader must know how much to read.
*/
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "lua/l_core.h"
#include "lua/l_sbstate.h"
#include "lua/l_wire.h"
#include "loop.h"
#include "sandbox/netns.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawn.h"
#include "wire.h"

#define SBSTATE_MT "truthound.SandboxState"
#define CHANNEL_MT "truthound.SandboxChannel"
#define REQUEST_MT "truthound.SandboxRequest"

/* ---------------------------------------------------------------------- */
/* The NONE runtime                                                        */
/* ---------------------------------------------------------------------- */

typedef struct sbstate {
  lua_State *S;
  tp_wire_buf buf;     /* scratch for copies between the states */
  int cached;          /* entries in the function cache */
  /* totals over the calls made through state:call and state:call_ref */
  lua_Integer calls;
  double time_ms;
  lua_Integer peak;    /* highest per-call peak of Lua memory */
} sbstate;

/* The state's metatable is also filed under this address: checking a
** method's self by it spares the per-call hashing of the name. */
static const char state_mt_key = 0;

static sbstate *check_state(lua_State *L) {
  sbstate *st = lua_touserdata(L, 1);
  int ok = 0;
  if (st != NULL && lua_getmetatable(L, 1)) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &state_mt_key);
    ok = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  if (!ok) st = luaL_checkudata(L, 1, SBSTATE_MT);   /* raises the usual error */
  if (st->S == NULL) luaL_error(L, "sandbox state is closed");
  return st;
}

static int state_gc(lua_State *L) {
  sbstate *st = luaL_checkudata(L, 1, SBSTATE_MT);
  if (st->S) {
    tpL_sbstate_close(st->S);
    st->S = NULL;
    tp_wire_buf_free(&st->buf);
  }
  return 0;
}

/* core.sandbox.sbstate(setup) */
static int sb_new(lua_State *L) {
  tp_sbstate_config cfg;
  char err[256];
  sbstate *st;
  luaL_checktype(L, 1, LUA_TTABLE);
  memset(&cfg, 0, sizeof cfg);
  if (tpL_sbstate_config_read(L, 1, &cfg, err, sizeof err) != 0)
    return tpL_raisef(L, "UsageError", 0, "sandbox setup: %s", err);
  cfg.in_process = 1;        /* os.exit and os.setlocale act on the host */
  st = lua_newuserdatauv(L, sizeof *st, 0);
  memset(st, 0, sizeof *st);
  luaL_setmetatable(L, SBSTATE_MT);
  st->S = tpL_sbstate_new(&cfg, err, sizeof err);
  tpL_sbstate_config_free(&cfg);
  if (st->S == NULL) return tpL_raisef(L, "SandboxError", 0, "cannot make the sandbox state: %s", err);
  tp_wire_buf_init(&st->buf);
  return 1;
}

/* Copy the value at idx of `from` onto `to`'s stack through the wire
** encoding. 0, or -1 with err set (nothing pushed). */
static int copy_value(sbstate *st, lua_State *from, int idx, lua_State *to,
                      char *err, size_t errlen) {
  int rc;
  tp_wire_buf_reset(&st->buf);
  rc = tpL_wire_encode(from, idx, &st->buf, NULL, err, errlen);
  if (rc == 0)
    rc = tpL_wire_decode(to, (const char *)st->buf.data, st->buf.len, NULL, err, errlen);
  return rc == 0 ? 0 : -1;
}

/* An error table made on the host's side: {kind, message, fields = {reason}}. */
static void push_error(lua_State *L, const char *kind, const char *reason, const char *msg) {
  lua_createtable(L, 0, 3);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, msg);
  lua_setfield(L, -2, "message");
  lua_createtable(L, 0, 1);
  lua_pushstring(L, reason);
  lua_setfield(L, -2, "reason");
  lua_setfield(L, -2, "fields");
}

/* Read the limits at idx, idx+1: instructions, timeout_ms (nil: the
** state's own). */
static void check_limits(lua_State *L, int idx, tp_sbstate_limits *lim) {
  memset(lim, 0, sizeof *lim);
  lim->instructions = (int64_t)luaL_optinteger(L, idx, 0);
  lim->timeout_ms = luaL_optnumber(L, idx + 1, 0);
  if (lim->instructions < 0 || !(lim->timeout_ms >= 0)) luaL_argerror(L, idx, "negative limit");
}

/* At most this many arguments or results cross in one call, as in a
** worker's CALL frame (docs/formats.md). */
#define MAX_VALUES 250

/* Copy one value between the states. Scalars and strings go directly (a
** string counts against *bytes, the budget of the wire's max_bytes that
** the whole call shares); tables go through the wire encoding with its
** bounds, which also refuses every other type with its name. */
static int copy_one(sbstate *st, lua_State *from, int idx, lua_State *to, size_t *bytes,
                    char *err, size_t errlen) {
  size_t len;
  const char *s;
  switch (lua_type(from, idx)) {
  case LUA_TNIL: lua_pushnil(to); return 0;
  case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); return 0;
  case LUA_TNUMBER:
    if (lua_isinteger(from, idx)) lua_pushinteger(to, lua_tointeger(from, idx));
    else lua_pushnumber(to, lua_tonumber(from, idx));
    return 0;
  case LUA_TSTRING:
    s = lua_tolstring(from, idx, &len);
    if (len > *bytes) {
      snprintf(err, errlen, "a string of %zu bytes is over what one call may carry", len);
      return -1;
    }
    *bytes -= len;
    lua_pushlstring(to, s, len);
    return 0;
  default:
    return copy_value(st, from, idx, to, err, errlen);
  }
}

/* The arguments' trip into S: run protected in S, since S's allocator
** refuses what is over the plugin's memory cap. */
typedef struct argcopy {
  sbstate *st;
  lua_State *from;
  int first, n;
  char err[256];
} argcopy;

static int copy_args_p(lua_State *S) {
  argcopy *a = lua_touserdata(S, 1);
  tp_wire_limits wl;
  size_t bytes;
  int i;
  tp_wire_limits_default(&wl);
  bytes = wl.max_bytes;
  lua_pop(S, 1);
  luaL_checkstack(S, a->n + 4, "too many arguments");
  for (i = 0; i < a->n; i++)
    if (copy_one(a->st, a->from, a->first + i, S, &bytes, a->err, sizeof a->err) != 0)
      return luaL_error(S, "argument %d: %s", i + 1, a->err);
  return a->n;
}

/* Are the n values from index first all nil, booleans or numbers? */
static int all_scalars(lua_State *L, int first, int n) {
  for (int i = 0; i < n; i++) {
    int t = lua_type(L, first + i);
    if (t != LUA_TNIL && t != LUA_TBOOLEAN && t != LUA_TNUMBER) return 0;
  }
  return 1;
}

/* Push the n arguments of L from index first onto S. -1 on failure (the
** false, err pair pushed on L, S as it was). */
static int push_args(lua_State *L, sbstate *st, int first, int n) {
  lua_State *S = st->S;
  argcopy a;
  if (n > MAX_VALUES) {
    lua_pushboolean(L, 0);
    push_error(L, "SandboxError", "request", "more than 250 arguments");
    return -1;
  }
  a.st = st; a.from = L; a.first = first; a.n = n; a.err[0] = '\0';
  if (all_scalars(L, first, n) && lua_checkstack(S, n + 4)) {
    size_t unused = 0;       /* scalars allocate nothing: no protection needed */
    for (int i = 0; i < n; i++) copy_one(st, L, first + i, S, &unused, a.err, sizeof a.err);
    return n;
  }
  if (!lua_checkstack(S, 4)) {
    lua_pushboolean(L, 0);
    push_error(L, "SandboxResourceError", "memory", "the sandbox's stack is full");
    return -1;
  }
  lua_pushcfunction(S, copy_args_p);
  lua_pushlightuserdata(S, &a);
  if (lua_pcall(S, 1, n, 0) != LUA_OK) {
    const char *msg = lua_tostring(S, -1);
    lua_pushboolean(L, 0);
    push_error(L, "SandboxError", "request", msg ? msg : "the arguments do not fit the sandbox");
    lua_pop(S, 1);
    return -1;
  }
  return n;
}

/* After tpL_sbstate_pcall*: leave on L true, results... or false, err;
** returns their count. base is S's top below the function. The results
** are the plugin's values: copied under the wire's bounds, never shared. */
static int finish_call(lua_State *L, sbstate *st, int status, int base) {
  lua_State *S = st->S;
  int top = lua_gettop(L), n = lua_gettop(S) - base, i;
  char err[256];
  tp_wire_limits wl;
  size_t bytes;
  if (status != TP_SB_OK) {
    lua_pushboolean(L, 0);
    if (copy_value(st, S, -1, L, err, sizeof err) != 0)
      push_error(L, "SandboxError", "state", err);
    lua_settop(S, base);
    return 2;
  }
  tp_wire_limits_default(&wl);
  bytes = wl.max_bytes;
  if (n > MAX_VALUES || !lua_checkstack(L, n + 4)) {
    snprintf(err, sizeof err, "%d results: more than one call may return", n);
    goto fail;
  }
  lua_pushboolean(L, 1);
  for (i = 1; i <= n; i++)
    if (copy_one(st, S, base + i, L, &bytes, err, sizeof err) != 0) goto fail;
  lua_settop(S, base);
  return n + 1;
fail:
  lua_settop(S, base);
  lua_settop(L, top);
  lua_pushboolean(L, 0);
  push_error(L, "SandboxError", "result", err);
  return 2;
}

/* Loaded functions by the host's id for them, in a table of S's registry:
** a function sent again is not loaded again (its upvalues are set anew on
** every call, from the host's current values, so a call sees what a fresh
** load would). Ids are never reused (truthound.security.sandbox.transfer);
** at most CACHE_MAX entries, the table is dropped when full. The table is
** filed under the address of cache_key. */
static const char cache_key = 0;
#define CACHE_MAX 64

/* Push the function for fid with the upvalues at S index ups (0: none)
** set, loading code when it is not cached. TP_SB_OK, or the status of a
** failed load (its error pushed). */
static int cached_function(sbstate *st, lua_Integer fid, const char *code, size_t len,
                           int ups) {
  lua_State *S = st->S;
  const char *name;
  int i, status;
  if (!lua_checkstack(S, 6)) return TP_SB_ESTATE;
  if (lua_rawgetp(S, LUA_REGISTRYINDEX, &cache_key) != LUA_TTABLE || st->cached >= CACHE_MAX) {
    lua_pop(S, 1);
    lua_createtable(S, CACHE_MAX, 0);
    lua_pushvalue(S, -1);
    lua_rawsetp(S, LUA_REGISTRYINDEX, &cache_key);
    st->cached = 0;
  }
  if (lua_rawgeti(S, -1, fid) == LUA_TFUNCTION) {
    lua_remove(S, -2);
    for (i = 1; (name = lua_getupvalue(S, -1, i)) != NULL; i++) {
      lua_pop(S, 1);
      if (strcmp(name, "_ENV") == 0) continue;
      if (ups) lua_rawgeti(S, ups, i);
      else lua_pushnil(S);
      lua_setupvalue(S, -2, i);
    }
    return TP_SB_OK;
  }
  lua_pop(S, 1);
  status = tpL_sbstate_load(S, code, len, ups);
  if (status != TP_SB_OK) {
    lua_remove(S, -2);
    return status;
  }
  lua_pushvalue(S, -1);
  lua_rawseti(S, -3, fid);
  st->cached++;
  lua_remove(S, -2);
  return TP_SB_OK;
}

/* Fold the call just made into the totals. */
static void account(sbstate *st) {
  tp_sbstate_stats s;
  tpL_sbstate_stats(st->S, &s);
  st->calls++;
  st->time_ms += s.time_ms;
  if ((lua_Integer)s.peak_memory_bytes > st->peak) st->peak = (lua_Integer)s.peak_memory_bytes;
}

/* state:call(fid, bytecode, upvalues|nil, instructions, timeout_ms, ...)
** -> true, results... | false, err */
static int state_call(lua_State *L) {
  sbstate *st = check_state(L);
  lua_State *S = st->S;
  lua_Integer fid = luaL_checkinteger(L, 2);
  size_t len;
  const char *code = luaL_checklstring(L, 3, &len);
  tp_sbstate_limits lim;
  int base = lua_gettop(S), ups = 0, status, n = lua_gettop(L) - 6;
  char err[256];
  check_limits(L, 5, &lim);
  if (n < 0) n = 0;
  if (!lua_isnil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    if (copy_value(st, L, 4, S, err, sizeof err) != 0) {
      lua_pushboolean(L, 0);
      push_error(L, "SandboxError", "request", err);
      return 2;
    }
    ups = lua_gettop(S);
  }
  status = cached_function(st, fid, code, len, ups);
  if (ups) lua_remove(S, ups);
  if (status != TP_SB_OK) return finish_call(L, st, status, base);
  if (push_args(L, st, 7, n) < 0) { lua_settop(S, base); return 2; }
  status = tpL_sbstate_pcall(S, n, &lim);
  account(st);
  return finish_call(L, st, status, base);
}

/* state:call_ref(ref, instructions, timeout_ms, ...) -> as state:call */
static int state_call_ref(lua_State *L) {
  sbstate *st = check_state(L);
  const char *ref = luaL_checkstring(L, 2);
  tp_sbstate_limits lim;
  int base = lua_gettop(st->S), n = lua_gettop(L) - 4, status;
  check_limits(L, 3, &lim);
  if (n < 0) n = 0;
  if (push_args(L, st, 5, n) < 0) { lua_settop(st->S, base); return 2; }
  status = tpL_sbstate_pcall_ref(st->S, ref, n, &lim);
  account(st);
  return finish_call(L, st, status, base);
}

static int state_require(lua_State *L) {
  sbstate *st = check_state(L);
  const char *name = luaL_checkstring(L, 2);
  tp_sbstate_limits lim;
  int base = lua_gettop(st->S), status;
  char err[256];
  check_limits(L, 3, &lim);
  status = tpL_sbstate_require(st->S, name, &lim);
  if (status == TP_SB_OK) {
    lua_settop(st->S, base);
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushboolean(L, 0);
  if (copy_value(st, st->S, -1, L, err, sizeof err) != 0)
    push_error(L, "SandboxError", "state", err);
  lua_settop(st->S, base);
  return 2;
}

static int state_stats(lua_State *L) {
  sbstate *st = check_state(L);
  tpL_sbstate_push_stats(L, st->S);
  return 1;
}

/* state:totals() -> calls, time_ms, peak_memory_bytes over all calls */
static int state_totals(lua_State *L) {
  sbstate *st = check_state(L);
  lua_pushinteger(L, st->calls);
  lua_pushnumber(L, st->time_ms);
  lua_pushinteger(L, st->peak);
  return 3;
}

static const luaL_Reg state_methods[] = {
  {"totals", state_totals},
  {"call", state_call},
  {"call_ref", state_call_ref},
  {"require", state_require},
  {"stats", state_stats},
  {"close", state_gc},
  {NULL, NULL}
};

/* ---------------------------------------------------------------------- */
/* System call names, the worker program                                   */
/* ---------------------------------------------------------------------- */

static int sb_syscall_resolve(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  int nr = tp_seccomp_resolve(name);
  if (nr >= 0) {
    lua_pushinteger(L, nr);
    return 1;
  }
  lua_pushnil(L);
  if (nr == TP_SECCOMP_EABSENT)
    lua_pushfstring(L, "system call '%s' does not exist on this architecture", name);
  else if (nr == TP_SECCOMP_EINVAL)
    lua_pushfstring(L, "'%s' is not a system call name", name);
  else
    lua_pushfstring(L, "unknown system call '%s'", name);
  return 2;
}

static void push_joined(lua_State *L, int t, const char *dir, size_t dlen, const char *rest) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, dir, dlen);
  luaL_addstring(&b, rest);
  luaL_pushresult(&b);
  lua_rawseti(L, t, (lua_Integer)lua_rawlen(L, t) + 1);
}

/* worker_candidates() -> {paths}: $TRUTHOUND_WORKER, next to core.so,
** next to the running program (tplua, core linked in). */
static int sb_worker_candidates(lua_State *L) {
  Dl_info info;
  char exe[PATH_MAX];
  const char *env = getenv("TRUTHOUND_WORKER");
  ssize_t n;
  int t;
  lua_newtable(L);
  t = lua_gettop(L);
  if (env && *env) {
    lua_pushstring(L, env);
    lua_rawseti(L, t, 1);
    return 1;                  /* an explicit choice: nothing else */
  }
  if (dladdr((void *)sb_worker_candidates, &info) && info.dli_fname) {
    const char *slash = strrchr(info.dli_fname, '/');
    if (slash) push_joined(L, t, info.dli_fname, (size_t)(slash - info.dli_fname), "/truthound-worker");
  }
  n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    const char *slash;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash) {
      push_joined(L, t, exe, (size_t)(slash - exe), "/truthound/truthound-worker");
      push_joined(L, t, exe, (size_t)(slash - exe), "/../lib/lua/5.4/truthound/truthound-worker");
    }
  }
  return 1;
}

/* ---------------------------------------------------------------------- */
/* The channel                                                             */
/* ---------------------------------------------------------------------- */

typedef struct request request;

typedef struct channel {
  int fd;
  request *busy;        /* the pending request, if any */
} channel;

enum { R_WRITING, R_READING, R_FRAME, R_TIMEOUT, R_EOF, R_ERROR };

struct request {
  tp_loop_op_t op;      /* first: the loop casts */
  channel *ch;          /* valid while the request's userdata lives */
  int fd;
  uv_poll_t poll;
  uv_timer_t timer;
  int poll_open, timer_open;
  int phase;
  char *out;            /* the frame to write */
  size_t outlen, outpos;
  uint8_t *in;          /* what was read */
  size_t inlen, incap, want;
  size_t max_bytes;
  char msg[128];
};

typedef struct request_ud {
  request *r;
} request_ud;

static void req_close(tp_loop_op_t *op) {
  request *r = (request *)op;
  if (r->poll_open && !uv_is_closing((uv_handle_t *)&r->poll))
    uv_close((uv_handle_t *)&r->poll, tp_loop_op_close_cb);
  if (r->timer_open && !uv_is_closing((uv_handle_t *)&r->timer))
    uv_close((uv_handle_t *)&r->timer, tp_loop_op_close_cb);
}

static void req_free(tp_loop_op_t *op) {
  request *r = (request *)op;
  free(r->out);
  free(r->in);
  free(r);
}

static const tp_loop_op_type_t request_type = {"sandbox request", req_close, req_free};

/* The request is over: stop watching (handles close), record the phase. */
static void req_finish(request *r, int phase) {
  r->phase = phase;
  if (r->ch && r->ch->busy == r) r->ch->busy = NULL;
  req_close(&r->op);
  tp_loop_op_done(&r->op, 0);
}

static void req_fail(request *r, const char *what, int err) {
  snprintf(r->msg, sizeof r->msg, "%s: %s", what, strerror(err));
  req_finish(r, R_ERROR);
}

/* A frame header: magic, type 1..8, flags and reserved 0, a bounded length. */
static int header_check(request *r) {
  const uint8_t *p = r->in;
  uint32_t len = (uint32_t)p[8] | (uint32_t)p[9] << 8 | (uint32_t)p[10] << 16 |
                 (uint32_t)p[11] << 24;
  if (memcmp(p, "TPW1", 4) != 0) { snprintf(r->msg, sizeof r->msg, "bad frame magic"); return -1; }
  if (p[4] < 1 || p[4] > 8) { snprintf(r->msg, sizeof r->msg, "unknown frame type %u", p[4]); return -1; }
  if (p[5] || p[6] || p[7]) { snprintf(r->msg, sizeof r->msg, "frame flags or reserved bits set"); return -1; }
  if (len > r->max_bytes) {
    snprintf(r->msg, sizeof r->msg, "frame of %lu bytes exceeds the limit of %lu",
             (unsigned long)len, (unsigned long)r->max_bytes);
    return -1;
  }
  r->want = 12 + (size_t)len;
  return 0;
}

static void req_read(request *r) {
  for (;;) {
    ssize_t n;
    size_t room;
    if (r->inlen == r->incap) {
      size_t cap = r->incap ? r->incap * 2 : 4096;
      uint8_t *p;
      if (r->want && cap > r->want + 1) cap = r->want + 1;   /* +1: to see a trailing byte */
      p = realloc(r->in, cap);
      if (p == NULL) { req_fail(r, "read", ENOMEM); return; }
      r->in = p;
      r->incap = cap;
    }
    room = r->incap - r->inlen;
    n = recv(r->fd, r->in + r->inlen, room, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == ECONNRESET) { req_finish(r, R_EOF); return; }
      req_fail(r, "read", errno);
      return;
    }
    if (n == 0) {
      if (r->inlen == 0) req_finish(r, R_EOF);
      else {
        snprintf(r->msg, sizeof r->msg, "the worker closed the channel inside a frame");
        req_finish(r, R_ERROR);
      }
      return;
    }
    r->inlen += (size_t)n;
    if (r->want == 0 && r->inlen >= 12 && header_check(r) != 0) { req_finish(r, R_ERROR); return; }
    if (r->want && r->inlen >= r->want) {
      if (r->inlen > r->want) {
        snprintf(r->msg, sizeof r->msg, "the worker sent bytes after its answer");
        req_finish(r, R_ERROR);
      } else {
        req_finish(r, R_FRAME);
      }
      return;
    }
  }
}

static void req_poll_cb(uv_poll_t *h, int status, int events);

static void req_write(request *r) {
  while (r->outpos < r->outlen) {
    ssize_t n = send(r->fd, r->out + r->outpos, r->outlen - r->outpos, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EPIPE || errno == ECONNRESET) { req_finish(r, R_EOF); return; }
      req_fail(r, "write", errno);
      return;
    }
    r->outpos += (size_t)n;
  }
  r->phase = R_READING;
  uv_poll_start(&r->poll, UV_READABLE | UV_DISCONNECT, req_poll_cb);
}

static void req_poll_cb(uv_poll_t *h, int status, int events) {
  request *r = h->data;
  if (r->op.state != TP_LOOP_OP_PENDING) return;
  if (status < 0) {
    /* libuv stops the handle and says EBADF when the socket has an error
    ** (POLLERR): a worker that died with our bytes unread (ECONNRESET).
    ** Read what is there; whatever is left is the end of the channel. */
    if (r->phase == R_READING) req_read(r);
    if (r->op.state == TP_LOOP_OP_PENDING) {
      if (status == UV_EBADF) req_finish(r, R_EOF);
      else req_fail(r, "poll", -status);
    }
    return;
  }
  if (r->phase == R_WRITING) {
    req_write(r);
    if (r->op.state != TP_LOOP_OP_PENDING) return;
  }
  if (r->phase == R_READING && (events & (UV_READABLE | UV_DISCONNECT))) req_read(r);
}

static void req_timer_cb(uv_timer_t *h) {
  request *r = h->data;
  if (r->op.state == TP_LOOP_OP_PENDING) req_finish(r, R_TIMEOUT);
}

static int channel_gc(lua_State *L) {
  channel *ch = luaL_checkudata(L, 1, CHANNEL_MT);
  if (ch->busy) {
    request *r = ch->busy;
    ch->busy = NULL;
    r->ch = NULL;
    tp_loop_op_cancel(&r->op);
  }
  if (ch->fd >= 0) {
    close(ch->fd);
    ch->fd = -1;
  }
  return 0;
}

/* core.sandbox.channel(fd): takes ownership of fd. */
static int sb_channel(lua_State *L) {
  int fd = (int)luaL_checkinteger(L, 1);
  channel *ch;
  luaL_argcheck(L, fd >= 0, 1, "a descriptor expected");
  ch = lua_newuserdatauv(L, sizeof *ch, 0);
  ch->fd = fd;
  ch->busy = NULL;
  luaL_setmetatable(L, CHANNEL_MT);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return 1;
}

static channel *check_channel(lua_State *L) {
  channel *ch = luaL_checkudata(L, 1, CHANNEL_MT);
  if (ch->fd < 0) luaL_error(L, "channel is closed");
  return ch;
}

static int request_gc(lua_State *L) {
  request_ud *u = luaL_checkudata(L, 1, REQUEST_MT);
  if (u->r) {
    request *r = u->r;
    u->r = NULL;
    if (r->ch && r->ch->busy == r) r->ch->busy = NULL;
    r->ch = NULL;
    tpL_loop_unanchor(L, &r->op);
    tp_loop_op_release(&r->op);
  }
  return 0;
}

/* Write the whole frame now if the socket takes it: 1, with the request
** reading; 0 when it would block (the poll finishes the write) or failed
** (finished). */
static int spin_write(request *r) {
  while (r->outpos < r->outlen) {
    ssize_t n = send(r->fd, r->out + r->outpos, r->outlen - r->outpos, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      if (errno == EPIPE || errno == ECONNRESET) req_finish(r, R_EOF);
      else req_fail(r, "write", errno);
      return 0;
    }
    r->outpos += (size_t)n;
  }
  r->phase = R_READING;
  return 1;
}

/* ch:request(frame|nil, timeout_ms|nil, max_bytes [, spin_us]) -> op */
static int channel_request(lua_State *L) {
  channel *ch = check_channel(L);
  size_t flen = 0;
  const char *frame = luaL_optlstring(L, 2, NULL, &flen);
  double timeout = luaL_optnumber(L, 3, 0);
  lua_Integer max = luaL_optinteger(L, 4, TP_WIRE_MAX_BYTES);
  double spin_us = luaL_optnumber(L, 5, 0);
  tp_loop_t *lp = tpL_loop(L);
  request_ud *u;
  request *r;
  int rc;
  if (ch->busy) return luaL_error(L, "a request is already under way on this channel");
  luaL_argcheck(L, timeout >= 0 && timeout < 1e12, 3, "timeout in ms expected");
  luaL_argcheck(L, max > 0 && max <= (lua_Integer)TP_WIRE_BYTES_CAP, 4, "byte limit expected");
  u = lua_newuserdatauv(L, sizeof *u, 1);
  u->r = NULL;
  luaL_setmetatable(L, REQUEST_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);          /* the channel lives as long as the request */
  r = calloc(1, sizeof *r);
  if (r == NULL || (flen && (r->out = malloc(flen)) == NULL)) {
    free(r);
    return luaL_error(L, "out of memory");
  }
  tp_loop_op_init(&r->op, &request_type);
  u->r = r;
  r->ch = ch;
  r->fd = ch->fd;
  r->max_bytes = (size_t)max;
  if (flen) memcpy(r->out, frame, flen);
  r->outlen = flen;
  r->phase = flen ? R_WRITING : R_READING;
  ch->busy = r;
  tp_loop_op_start(lp, &r->op);
  if (spin_us > 0) {
    if (spin_write(r)) {
      /* The answer of a warm worker often comes within microseconds: wait
      ** for it here rather than through epoll, which saves this side's
      ** wake-up (the cost that dominates across CPUs). */
      double until = tp_loop_now() + spin_us / 1000.0;
      do req_read(r); while (r->op.state == TP_LOOP_OP_PENDING && tp_loop_now() < until);
    }
    if (r->op.state != TP_LOOP_OP_PENDING) {
      tpL_loop_anchor(L, -1, &r->op);
      return 1;
    }
  }
  if ((rc = uv_poll_init(&lp->uv, &r->poll, r->fd)) != 0) {
    req_fail(r, "poll", -rc);
    tpL_loop_anchor(L, -1, &r->op);
    return 1;
  }
  r->poll.data = r;
  r->poll_open = 1;
  tp_loop_op_ref(&r->op);
  if (timeout > 0) {
    uv_timer_init(&lp->uv, &r->timer);
    r->timer.data = r;
    r->timer_open = 1;
    tp_loop_op_ref(&r->op);
    /* libuv counts from its cached time, which is stale when the loop has
    ** not run for a while (a long computation between calls): without the
    ** update the timer would be due at once. */
    uv_update_time(&lp->uv);
    uv_timer_start(&r->timer, req_timer_cb, (uint64_t)(timeout + 0.999), 0);
  }
  uv_poll_start(&r->poll, r->phase == R_WRITING ? UV_WRITABLE : (UV_READABLE | UV_DISCONNECT),
                req_poll_cb);
  tpL_loop_anchor(L, -1, &r->op);
  return 1;
}

static request *check_request(lua_State *L) {
  request_ud *u = luaL_checkudata(L, 1, REQUEST_MT);
  if (u->r == NULL) luaL_error(L, "request is closed");
  return u->r;
}

static int request_status(lua_State *L) {
  request *r = check_request(L);
  static const char *const names[] = {"new", "pending", "done", "cancelled"};
  lua_pushstring(L, names[r->op.state]);
  return 1;
}

static int request_cancel(lua_State *L) {
  request *r = check_request(L);
  if (r->ch && r->ch->busy == r) r->ch->busy = NULL;
  lua_pushboolean(L, tp_loop_op_cancel(&r->op));
  tpL_loop_unanchor(L, &r->op);
  return 1;
}

/* op:result() -> "frame", type, payload | "timeout" | "eof" | "error", msg */
static int request_result(lua_State *L) {
  request *r = check_request(L);
  if (r->op.state != TP_LOOP_OP_DONE) return luaL_error(L, "request is not finished");
  switch (r->phase) {
  case R_FRAME:
    lua_pushliteral(L, "frame");
    lua_pushinteger(L, r->in[4]);
    lua_pushlstring(L, (const char *)r->in + 12, r->want - 12);
    return 3;
  case R_TIMEOUT: lua_pushliteral(L, "timeout"); return 1;
  case R_EOF: lua_pushliteral(L, "eof"); return 1;
  default:
    lua_pushliteral(L, "error");
    lua_pushstring(L, r->msg);
    return 2;
  }
}

static const luaL_Reg request_methods[] = {
  {"status", request_status},
  {"cancel", request_cancel},
  {"result", request_result},
  {NULL, NULL}
};

/* ch:send(frame): what the socket takes now; never blocks. */
static int channel_send(lua_State *L) {
  channel *ch = check_channel(L);
  size_t len;
  const char *p = luaL_checklstring(L, 2, &len);
  ssize_t n = send(ch->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n == (ssize_t)len) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushnil(L);
  lua_pushstring(L, n < 0 ? strerror(errno) : "short write");
  return 2;
}

static int channel_fd(lua_State *L) {
  channel *ch = luaL_checkudata(L, 1, CHANNEL_MT);
  lua_pushinteger(L, ch->fd);
  return 1;
}

static const luaL_Reg channel_methods[] = {
  {"request", channel_request},
  {"send", channel_send},
  {"fd", channel_fd},
  {"close", channel_gc},
  {NULL, NULL}
};

/* ---------------------------------------------------------------------- */
/* Processes                                                               */
/* ---------------------------------------------------------------------- */

/* reap(pid): nil while it runs; how it ended once (and only once). */
static int sb_reap(lua_State *L) {
  pid_t pid = (pid_t)luaL_checkinteger(L, 1), r;
  int st;
  luaL_argcheck(L, pid > 0, 1, "a process id expected");
  do r = waitpid(pid, &st, WNOHANG); while (r < 0 && errno == EINTR);
  if (r == 0) return 0;
  if (r < 0) {
    lua_pushliteral(L, "gone");
    return 1;
  }
  if (WIFEXITED(st)) {
    lua_pushliteral(L, "exited");
    lua_pushinteger(L, WEXITSTATUS(st));
  } else {
    lua_pushliteral(L, "signaled");
    lua_pushinteger(L, WTERMSIG(st));
  }
  return 2;
}

/* kill(pid, signo [, group]) */
static int sb_kill(lua_State *L) {
  pid_t pid = (pid_t)luaL_checkinteger(L, 1);
  int sig = (int)luaL_checkinteger(L, 2);
  int group = lua_toboolean(L, 3);
  luaL_argcheck(L, pid > 1, 1, "a process id expected");
  if (kill(group ? -pid : pid, sig) == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushnil(L);
  lua_pushstring(L, strerror(errno));
  return 2;
}


/* ---------------------------------------------------------------------- */
/* Starting a worker                                                       */
/* ---------------------------------------------------------------------- */

/* netns() -> fd | nil, msg: the shared empty network namespace
** (core/sandbox/netns.c: made once per host process and held by an fd;
** workers setns into it, a fresh namespace per worker would cost
** milliseconds each). */
static int sb_netns(lua_State *L) {
  char err[256];
  int fd = tp_netns_fd(err, sizeof err);
  if (fd < 0) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushinteger(L, fd);
  return 1;
}

/* A NULL-terminated array of the strings of list field `field` of the
** table at t, in a userdata left on the stack (the strings stay alive in
** the table). NULL when the field is absent. */
static char **string_list(lua_State *L, int t, const char *field) {
  int n, i;
  char **v;
  lua_getfield(L, t, field);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);          /* keep the stack shape */
    return NULL;
  }
  luaL_checktype(L, -1, LUA_TTABLE);
  n = (int)lua_rawlen(L, -1);
  luaL_argcheck(L, n < 4096, t, "list too long");
  v = lua_newuserdatauv(L, sizeof(char *) * (size_t)(n + 1), 0);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, -2, i + 1);
    v[i] = (char *)luaL_checkstring(L, -1);
    lua_pop(L, 1);
  }
  v[n] = NULL;
  lua_remove(L, -2);          /* the table stays referenced by the argument */
  return v;
}

static lua_Integer opt_field(lua_State *L, int t, const char *k, lua_Integer dflt) {
  lua_Integer v;
  lua_getfield(L, t, k);
  v = lua_isnil(L, -1) ? dflt : luaL_checkinteger(L, -1);
  lua_pop(L, 1);
  return v;
}

/* spawn{exec =, argv = {...}, prefix = {...}, env = {...}, netns = fd,
**       uid =, gid =, cpu =, cgroups = {cgroup.procs paths},
**       rlimits = {data =, nofile =, fsize =, cpu =}}
** -> pid, channel fd | nil, message. core/sandbox/spawn.c does the work;
** uid/gid absent: keep ours (no drop). */
static int sb_spawn(lua_State *L) {
  tp_spawn_opts o;
  tp_spawn_result r;
  char err[256];
  int rc, i;
  luaL_checktype(L, 1, LUA_TTABLE);
  tp_spawn_opts_init(&o);
  lua_getfield(L, 1, "exec");
  o.path = luaL_checkstring(L, -1);
  lua_pop(L, 1);
  o.argv = string_list(L, 1, "argv");
  o.prefix = string_list(L, 1, "prefix");
  o.envp = string_list(L, 1, "env");
  o.netns_fd = (int)opt_field(L, 1, "netns", -1);
  o.cpu = (int)opt_field(L, 1, "cpu", -1);
  o.uid = (uid_t)opt_field(L, 1, "uid", TP_SPAWN_NOBODY);
  o.gid = (gid_t)opt_field(L, 1, "gid", TP_SPAWN_NOBODY);
  o.drop_uid = !lua_isnil(L, (lua_getfield(L, 1, "uid"), -1));
  lua_pop(L, 1);
  lua_getfield(L, 1, "rlimits");
  if (lua_istable(L, -1)) {
    int t = lua_gettop(L);
    o.rlimit_data = (uint64_t)opt_field(L, t, "data", 0);
    o.rlimit_nofile = (uint64_t)opt_field(L, t, "nofile", 0);
    o.rlimit_fsize = (uint64_t)opt_field(L, t, "fsize", 0);
    o.rlimit_cpu = (uint64_t)opt_field(L, t, "cpu", 0);
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "cgroups");
  if (lua_istable(L, -1)) {
    int m = (int)lua_rawlen(L, -1);
    luaL_argcheck(L, m <= TP_SPAWN_MAX_CGROUPS, 1, "too many cgroups");
    for (i = 1; i <= m; i++) {
      lua_rawgeti(L, -1, i);
      o.cgroup_fds[o.ncgroup_fds] = open(luaL_checkstring(L, -1), O_WRONLY | O_CLOEXEC);
      lua_pop(L, 1);
      if (o.cgroup_fds[o.ncgroup_fds] < 0) {
        int e = errno;
        while (o.ncgroup_fds > 0) close(o.cgroup_fds[--o.ncgroup_fds]);
        lua_pushnil(L);
        lua_pushfstring(L, "cannot open a cgroup: %s", strerror(e));
        return 2;
      }
      o.ncgroup_fds++;
    }
  }
  lua_pop(L, 1);
  rc = tp_spawn(&o, &r, err, sizeof err);
  while (o.ncgroup_fds > 0) close(o.cgroup_fds[--o.ncgroup_fds]);
  if (rc != 0) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushinteger(L, r.pid);
  lua_pushinteger(L, r.fd);
  return 2;
}

static int sb_getpid(lua_State *L) { lua_pushinteger(L, getpid()); return 1; }
static int sb_getuid(lua_State *L) { lua_pushinteger(L, geteuid()); return 1; }

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}

void tpL_open_sandbox(lua_State *L) {
  new_class(L, SBSTATE_MT, state_methods, state_gc);
  luaL_getmetatable(L, SBSTATE_MT);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &state_mt_key);
  new_class(L, CHANNEL_MT, channel_methods, channel_gc);
  new_class(L, REQUEST_MT, request_methods, request_gc);
  lua_newtable(L);
  lua_pushcfunction(L, sb_new);
  lua_setfield(L, -2, "sbstate");
  lua_pushcfunction(L, sb_syscall_resolve);
  lua_setfield(L, -2, "syscall_resolve");
  lua_pushcfunction(L, sb_worker_candidates);
  lua_setfield(L, -2, "worker_candidates");
  lua_pushcfunction(L, sb_channel);
  lua_setfield(L, -2, "channel");
  lua_pushcfunction(L, sb_reap);
  lua_setfield(L, -2, "reap");
  lua_pushcfunction(L, sb_kill);
  lua_setfield(L, -2, "kill");
  lua_pushcfunction(L, sb_spawn);
  lua_setfield(L, -2, "spawn");
  lua_pushcfunction(L, sb_netns);
  lua_setfield(L, -2, "netns");
  lua_pushcfunction(L, sb_getpid);
  lua_setfield(L, -2, "getpid");
  lua_pushcfunction(L, sb_getuid);
  lua_setfield(L, -2, "getuid");
  lua_setfield(L, -2, "sandbox");
}
