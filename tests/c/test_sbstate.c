/*
** test_sbstate.c: the sandboxed Lua runtime (core/lua/l_sbstate.c) under
** attack: limits that pcall, xpcall, coroutines and error handlers cannot
** swallow, the memory cap, the exact environment, the module gate, no
** bytecode from the plugin side, and serving CALL payloads.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/l_sbstate.h"
#include "lua/l_wire.h"
#include "tp_test.h"

static char err[256];
static char plugdir[64];

static lua_State *new_state(size_t mem, int64_t instr, double ms) {
  tp_sbstate_config cfg;
  static const char *const allowed[] = {"lpeg", "helper", NULL};
  static const char *const blocked[] = {"secret", NULL};
  lua_State *S;
  memset(&cfg, 0, sizeof cfg);
  cfg.memory_bytes = mem;
  cfg.instructions = instr;
  cfg.timeout_ms = ms;
  cfg.plugin_dir = plugdir;
  cfg.allowed_modules = allowed;
  cfg.blocked_modules = blocked;
  S = tpL_sbstate_new(&cfg, err, sizeof err);
  TP_CHECKF(S != NULL, "%s", err);
  return S;
}

/* Run src (text, compiled by the sandbox's own load) as a call. */
static int run_src(lua_State *S, const char *src, const tp_sbstate_limits *lim) {
  lua_getglobal(S, "load");
  lua_pushstring(S, src);
  lua_call(S, 1, 2);
  if (lua_isnil(S, -2)) {
    printf("# load: %s\n", lua_tostring(S, -1));
    lua_pop(S, 2);
    return 99;
  }
  lua_pop(S, 1);
  return tpL_sbstate_pcall(S, 0, lim);
}

static const char *field(lua_State *S, const char *k) {
  static char buf[256];
  lua_getfield(S, -1, "fields");
  lua_getfield(S, -1, k);
  snprintf(buf, sizeof buf, "%s", lua_tostring(S, -1) ? lua_tostring(S, -1) : "(nil)");
  lua_pop(S, 2);
  return buf;
}

static const char *kind(lua_State *S) {
  static char buf[64];
  lua_getfield(S, -1, "kind");
  snprintf(buf, sizeof buf, "%s", lua_tostring(S, -1) ? lua_tostring(S, -1) : "(nil)");
  lua_pop(S, 1);
  return buf;
}

static void check_timeout(const char *src, int64_t instr, double ms) {
  lua_State *S = new_state(8 << 20, 0, 0);
  tp_sbstate_limits lim = {instr, ms};
  int st = run_src(S, src, &lim);
  TP_CHECKF(st == TP_SB_ETIMEOUT, "%s -> %d", src, st);
  if (st != 99) {
    TP_CHECK(strcmp(kind(S), "SandboxTimeoutError") == 0);
    if (ms > 0) TP_CHECK(strcmp(field(S, "timeout_seconds"), "") != 0);
    lua_settop(S, 0);
    /* the state stays usable for the next call */
    st = run_src(S, "return 1 + 1", NULL);
    TP_CHECK(st == TP_SB_OK && lua_tointeger(S, -1) == 2);
  }
  tpL_sbstate_close(S);
}

static const char *const LOOPS[] = {
  "while true do end",
  "while true do pcall(function() while true do end end) end",
  "while true do xpcall(function() while true do end end, function() while true do end end) end",
  "local co = coroutine.wrap(function() while true do end end) while true do pcall(co) end",
  "while true do pcall(coroutine.wrap(function() while true do pcall(error) end end)) end",
  "local function f() local x <close> = setmetatable({}, {__close = function() while true do end end}) error('x') end while true do pcall(f) end",
  "while true do pcall(string.gsub, 'aaaa', 'a', function() while true do end end) end",
  "local t = setmetatable({}, {__index = function() while true do end end}) while true do pcall(function() return t.x end) end",
  NULL
};

static void test_budget_cannot_be_swallowed(void) {
  int i;
  for (i = 0; LOOPS[i]; i++) check_timeout(LOOPS[i], 200000, 0);
}

static void test_deadline_cannot_be_swallowed(void) {
  int i;
  for (i = 0; LOOPS[i]; i++) check_timeout(LOOPS[i], 0, 30);
}

static void test_budget_exact_kind(void) {
  lua_State *S = new_state(8 << 20, 5000, 0);
  int st = run_src(S, "local n = 0 while true do n = n + 1 end", NULL);
  TP_CHECK(st == TP_SB_ETIMEOUT);
  TP_CHECK(strcmp(field(S, "reason"), "instructions") == 0);
  TP_CHECK(strcmp(field(S, "instructions"), "5000") == 0);
  lua_settop(S, 0);
  st = run_src(S, "local n = 0 for i = 1, 100 do n = n + i end return n", NULL);
  TP_CHECK(st == TP_SB_OK && lua_tointeger(S, -1) == 5050);
  lua_settop(S, 0);
  /* a coroutine made in one call, driven in the next: still counted */
  st = run_src(S, "co = coroutine.wrap(function() while true do pcall(function() while true do end end) end end)", NULL);
  TP_CHECK(st == TP_SB_OK);
  lua_settop(S, 0);
  st = run_src(S, "while true do pcall(co) end", NULL);
  TP_CHECK(st == TP_SB_ETIMEOUT);
  tpL_sbstate_close(S);
}

/* Limits inside a coroutine: memory and the instruction budget. */
static void test_limits_in_coroutines(void) {
  lua_State *S = new_state(2 << 20, 0, 0);
  tp_sbstate_limits lim = {100000, 0};
  int st = run_src(S, "return coroutine.wrap(function() local t = {} for i = 1, 1e9 do t[i] = {} end end)()", &lim);
  TP_CHECKF(st == TP_SB_EMEMORY || st == TP_SB_ETIMEOUT, "%d", st);
  lua_settop(S, 0);
  lim.instructions = 0;
  st = run_src(S, "return coroutine.wrap(function() local t = {} for i = 1, 1e9 do t[i] = {} end end)()", &lim);
  TP_CHECKF(st == TP_SB_EMEMORY, "%d", st);
  lua_settop(S, 0);
  lim.instructions = 100000;
  st = run_src(S, "local co = coroutine.create(function() while true do coroutine.yield() end end)"
                  " while true do coroutine.resume(co) end", &lim);
  TP_CHECK(st == TP_SB_ETIMEOUT);
  tpL_sbstate_close(S);
}

static void test_memory_cap(void) {
  lua_State *S = new_state(4 << 20, 0, 0);
  tp_sbstate_stats stats;
  int st = run_src(S, "local t = {} for i = 1, 1e8 do t[i] = ('x'):rep(100) .. i end", NULL);
  TP_CHECKF(st == TP_SB_EMEMORY, "%d", st);
  TP_CHECK(strcmp(kind(S), "SandboxResourceError") == 0);
  TP_CHECK(strcmp(field(S, "resource_type"), "memory") == 0);
  TP_CHECK(strcmp(field(S, "limit"), "4194304") == 0);
  TP_CHECK(atof(field(S, "actual")) > 4194304.0);
  lua_settop(S, 0);
  /* caught by the plugin: the call goes on, the peak is recorded */
  st = run_src(S, "local ok = pcall(string.rep, 'x', 1e8) return ok", NULL);
  TP_CHECKF(st == TP_SB_OK && lua_toboolean(S, -1) == 0, "%d %s", st,
            st ? kind(S) : "");
  tpL_sbstate_stats(S, &stats);
  TP_CHECK(stats.memory_limit == (4u << 20) && stats.peak_memory_bytes <= (4u << 20));
  lua_settop(S, 0);
  st = run_src(S, "return ('x'):rep(1000)", NULL);
  TP_CHECK(st == TP_SB_OK);
  tpL_sbstate_close(S);
}

static void test_environment_exact(void) {
  lua_State *S = new_state(8 << 20, 0, 0);
  int st = run_src(S,
    "local names = {} for k in pairs(_G) do names[#names + 1] = k end table.sort(names)"
    " local os_names = {} for k in pairs(os) do os_names[#os_names + 1] = k end table.sort(os_names)"
    " return table.concat(names, ' '), table.concat(os_names, ' ')", NULL);
  TP_CHECK(st == TP_SB_OK);
  if (st == TP_SB_OK) {
    TP_CHECKF(strcmp(lua_tostring(S, 1),
      "_G _VERSION assert collectgarbage coroutine error getmetatable ipairs load math next os "
      "pairs pcall print rawequal rawget rawlen rawset require select setmetatable string table "
      "tonumber tostring type utf8 xpcall") == 0, "%s", lua_tostring(S, 1));
    TP_CHECKF(strcmp(lua_tostring(S, 2), "clock date difftime time") == 0, "%s", lua_tostring(S, 2));
  }
  lua_settop(S, 0);
  st = run_src(S, "return string.dump, getmetatable(''), collectgarbage('count') > 0,"
                  " (pcall(collectgarbage)), (pcall(collectgarbage, 'stop'))", NULL);
  TP_CHECK(st == TP_SB_OK && lua_gettop(S) == 5);
  TP_CHECK(lua_isnil(S, 1) && lua_isnil(S, 2) && lua_toboolean(S, 3));
  TP_CHECK(!lua_toboolean(S, 4) && !lua_toboolean(S, 5));
  lua_settop(S, 0);
  st = run_src(S, "return pcall(setmetatable, {}, {__gc = function() while true do end end})", NULL);
  TP_CHECK(st == TP_SB_OK && !lua_toboolean(S, 1));
  tpL_sbstate_close(S);
}

static void test_string_metatable_patch(void) {
  lua_State *S = new_state(8 << 20, 0, 0);
  int st = run_src(S, "string.upper = function() return 'pwned' end return ('a'):upper()", NULL);
  TP_CHECK(st == TP_SB_OK && strcmp(lua_tostring(S, -1), "A") == 0);
  lua_settop(S, 0);
  /* the host's string metatable is untouched */
  {
    lua_State *H = luaL_newstate();
    luaL_openlibs(H);
    (void)luaL_dostring(H, "return ('a'):upper()");
    TP_CHECK(strcmp(lua_tostring(H, -1), "A") == 0);
    lua_close(H);
  }
  tpL_sbstate_close(S);
}

static void test_no_bytecode_from_plugin(void) {
  lua_State *S = new_state(8 << 20, 0, 0);
  int st = run_src(S, "return load('\\27Lua\\84\\0', 'x', 'b')", NULL);
  TP_CHECK(st == TP_SB_OK && lua_isnil(S, 1));
  TP_CHECK(lua_tostring(S, 2) && strstr(lua_tostring(S, 2), "binary") != NULL);
  lua_settop(S, 0);
  st = run_src(S, "return load(function() return nil end, 'x', 'bt') ~= nil", NULL);
  TP_CHECK(st == TP_SB_OK);
  tpL_sbstate_close(S);
}

static void write_file(const char *rel, const char *src) {
  char path[200];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", plugdir, rel);
  f = fopen(path, "w");
  fputs(src, f);
  fclose(f);
}

static void test_require_gate(void) {
  lua_State *S = new_state(8 << 20, 0, 0);
  int st;
  st = tpL_sbstate_require(S, "helper", NULL);
  TP_CHECKF(st == TP_SB_OK && lua_istable(S, -1), "%d", st);
  lua_settop(S, 0);
  st = run_src(S, "return require('helper').twice(21), require('helper') == require('helper')", NULL);
  TP_CHECK(st == TP_SB_OK && lua_tointeger(S, 1) == 42 && lua_toboolean(S, 2));
  lua_settop(S, 0);
  st = run_src(S, "return require('io')", NULL);
  TP_CHECK(st == TP_SB_EVIOLATION);
  if (st == TP_SB_EVIOLATION) {
    TP_CHECK(strcmp(kind(S), "SandboxSecurityViolation") == 0);
    TP_CHECK(strcmp(field(S, "attempted_action"), "require 'io'") == 0);
  }
  lua_settop(S, 0);
  TP_CHECK(run_src(S, "return require('secret')", NULL) == TP_SB_EVIOLATION);
  lua_settop(S, 0);
  TP_CHECK(run_src(S, "return require('cjson')", NULL) == TP_SB_EVIOLATION);
  lua_settop(S, 0);
  TP_CHECK(run_src(S, "return require('debug')", NULL) == TP_SB_ERUNTIME);
  lua_settop(S, 0);
  TP_CHECK(run_src(S, "return require('link')", NULL) == TP_SB_ERUNTIME);  /* a symlink */
  lua_settop(S, 0);
  TP_CHECK(run_src(S, "return require('..etc.passwd')", NULL) == TP_SB_ERUNTIME);
  lua_settop(S, 0);
  st = run_src(S, "return type(require('lpeg').P)", NULL);
  TP_CHECKF(st == TP_SB_OK && strcmp(lua_tostring(S, -1), "function") == 0, "%d", st);
  lua_settop(S, 0);
  st = tpL_sbstate_pcall_ref(S, "helper.twice", (lua_pushinteger(S, 5), 1), NULL);
  TP_CHECK(st == TP_SB_OK && lua_tointeger(S, -1) == 10);
  lua_settop(S, 0);
  st = tpL_sbstate_pcall_ref(S, "helper.nothing", 0, NULL);
  TP_CHECK(st == TP_SB_ENOTFOUND && strcmp(field(S, "reason"), "not_found") == 0);
  tpL_sbstate_close(S);
}

/* A host function as bytecode with a plain-data upvalue, served as CALL. */
static void test_serve(void) {
  lua_State *S = new_state(8 << 20, 0, 0);
  lua_State *H = luaL_newstate();
  tp_wire_buf out;
  tp_wire_header h;
  int type, status;
  luaL_openlibs(H);
  tp_wire_buf_init(&out);
  TP_CHECK(luaL_dostring(H,
    "local k = 10 local f = function(a, b) return a * k + b, type(io), {x = 'y'} end"
    " return {id = 7, fn = string.dump(f), upvalues = {[1] = k}, args = {n = 2, 3, 4}}") == 0);
  TP_CHECK(tpL_wire_encode(H, -1, &out, NULL, err, sizeof err) == 0);
  {
    tp_wire_buf res;
    tp_wire_buf_init(&res);
    type = tpL_sbstate_serve(S, (const char *)out.data, out.len, NULL, &res, &status);
    TP_CHECKF(type == TP_WIRE_RESULT && status == TP_SB_OK, "%d %d", type, status);
    TP_CHECK(tp_wire_header_decode(res.data, res.len, NULL, &h) == 0 && h.type == type);
    TP_CHECK(tpL_wire_decode(H, (const char *)res.data + 12, h.length, NULL, err, sizeof err) == 0);
    lua_setglobal(H, "R");
    TP_CHECK(luaL_dostring(H, "return R.id == 7 and R.results.n == 3 and R.results[1] == 34"
                              " and R.results[2] == 'nil' and R.results[3].x == 'y'"
                              " and R.stats.peak_memory_bytes > 0") == 0);
    TP_CHECK(lua_toboolean(H, -1));
    lua_settop(H, 0);
    /* a result that cannot cross: an ERROR, not a crash */
    tp_wire_buf_reset(&out);
    tp_wire_buf_reset(&res);
    (void)luaL_dostring(H, "return {id = 8, fn = string.dump(function() return print end)}");
    tpL_wire_encode(H, -1, &out, NULL, err, sizeof err);
    type = tpL_sbstate_serve(S, (const char *)out.data, out.len, NULL, &res, &status);
    TP_CHECK(type == TP_WIRE_ERROR && status == TP_SB_ERESULT);
    /* a result over the frame bound: an ERROR naming the bound */
    {
      tp_wire_limits small;
      tp_wire_limits_default(&small);
      small.max_bytes = 1000;
      tp_wire_buf_reset(&out);
      tp_wire_buf_reset(&res);
      (void)luaL_dostring(H, "return {id = 9, fn = string.dump(function() return ('x'):rep(5000) end)}");
      tpL_wire_encode(H, -1, &out, NULL, err, sizeof err);
      lua_settop(H, 0);
      type = tpL_sbstate_serve(S, (const char *)out.data, out.len, &small, &res, &status);
      TP_CHECK(type == TP_WIRE_ERROR && status == TP_SB_ERESULT);
    }
    /* a malformed request */
    tp_wire_buf_reset(&res);
    type = tpL_sbstate_serve(S, "\x06\x00", 2, NULL, &res, &status);
    TP_CHECK(type == TP_WIRE_ERROR && status == TP_SB_EREQUEST);
    TP_CHECK(tp_wire_header_decode(res.data, res.len, NULL, &h) == 0 && h.type == TP_WIRE_ERROR);
    TP_CHECK(tpL_wire_decode(H, (const char *)res.data + 12, h.length, NULL, err, sizeof err) == 0);
    tp_wire_buf_free(&res);
  }
  lua_close(H);
  tp_wire_buf_free(&out);
  tpL_sbstate_close(S);
}

/* ---------------------------------------------------------------------- */
/* The worker program: frames in, frames out                               */
/* ---------------------------------------------------------------------- */

static char worker_path[300];

static int find_worker(void) {
  const char *w = getenv("TRUTHOUND_WORKER"), *b = getenv("B");
  if (w) snprintf(worker_path, sizeof worker_path, "%s", w);
  else snprintf(worker_path, sizeof worker_path, "%s/asan/truthound/truthound-worker",
                b ? b : "build");
  return access(worker_path, X_OK) == 0;
}

typedef struct wk { pid_t pid; int fd; tp_wire_buf in; } wk;

static int wk_start(wk *w) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return -1;
  w->pid = fork();
  if (w->pid == 0) {
    int nul = open("/dev/null", O_RDWR);
    dup2(sv[1], 3);   /* dup2 clears CLOEXEC on the copy */
    dup2(nul, 0); dup2(nul, 1);
    execl(worker_path, "truthound-worker", (char *)NULL);
    _exit(127);
  }
  close(sv[1]);
  w->fd = sv[0];
  tp_wire_buf_init(&w->in);
  return w->pid > 0 ? 0 : -1;
}

/* Send the table that chunk src returns (in H) as a frame of type. */
static void wk_send(wk *w, lua_State *H, int type, const char *src) {
  tp_wire_buf b;
  size_t start;
  int e;
  tp_wire_buf_init(&b);
  TP_CHECKF(luaL_dostring(H, src) == 0, "%s", lua_tostring(H, -1));
  tp_wire_frame_begin(&b, (uint8_t)type, &start);
  TP_CHECK(tpL_wire_encode(H, -1, &b, NULL, err, sizeof err) == 0);
  tp_wire_frame_end(&b, start, NULL);
  tp_wire_send(w->fd, b.data, b.len, &e);
  lua_settop(H, 0);
  tp_wire_buf_free(&b);
}

/* Receive a frame; its payload becomes global F in H. Returns its type. */
static int wk_recv(wk *w, lua_State *H) {
  tp_wire_header h;
  const uint8_t *p;
  int e, rc = tp_wire_recv(w->fd, &w->in, NULL, &h, &p, &e);
  if (rc != 0) return rc;
  if (tpL_wire_decode(H, (const char *)p, h.length, NULL, err, sizeof err) != 0) return -100;
  lua_setglobal(H, "F");
  return h.type;
}

static int lua_true(lua_State *H, const char *expr) {
  int ok;
  char src[600];
  snprintf(src, sizeof src, "return %s", expr);
  if (luaL_dostring(H, src) != 0) { printf("# %s\n", lua_tostring(H, -1)); lua_settop(H, 0); return 0; }
  ok = lua_toboolean(H, -1);
  lua_settop(H, 0);
  if (!ok) {
    (void)luaL_dostring(H, "local t = {} for k, v in pairs(F or {}) do t[#t+1] = tostring(k) .. '=' .. tostring(v) end"
                          " for k, v in pairs(type(F) == 'table' and type(F.fields) == 'table' and F.fields or {}) do"
                          " t[#t+1] = 'fields.' .. tostring(k) .. '=' .. tostring(v) end return table.concat(t, ' ')");
    printf("# frame: %s\n", lua_tostring(H, -1));
    lua_settop(H, 0);
  }
  return ok;
}

static int wk_wait(wk *w) {
  int status = 0;
  close(w->fd);
  waitpid(w->pid, &status, 0);
  tp_wire_buf_free(&w->in);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static lua_State *host(void) {
  lua_State *H = luaL_newstate();
  luaL_openlibs(H);
  lua_pushstring(H, plugdir);
  lua_setglobal(H, "DIR");
  return H;
}

static void test_worker_calls(void) {
  lua_State *H = host();
  wk w;
  int code;
  if (wk_start(&w) != 0) { TP_CHECK(0); lua_close(H); return; }
  wk_send(&w, H, TP_WIRE_SETUP,
          "return {plugin_id = 'p', plugin_dir = DIR, entry = 'helper', memory_bytes = 16 << 20,"
          " instructions = 1000000, timeout_ms = 5000,"
          " modules = {allowed = {'helper'}, blocked = {}, io = false, os = false},"
          " landlock = {read = {}, write = {}, no_net = true, scope = true},"
          " seccomp = {deny = {'rename', 'renameat', 'renameat2'}, no_exec = true, no_net = true}}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_READY);
  TP_CHECK(lua_true(H, "F.pid > 0 and F.seccomp == true and F.landlock_abi >= 1"));
  wk_send(&w, H, TP_WIRE_CALL, "return {id = 1, ref = 'helper.twice', args = {n = 1, 21}}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_RESULT);
  TP_CHECK(lua_true(H, "F.id == 1 and F.results.n == 1 and F.results[1] == 42"));
  wk_send(&w, H, TP_WIRE_CALL,
          "local k = 'up' return {id = 2, fn = string.dump(function(x) return k .. x, io, os.execute end),"
          " upvalues = {[1] = k}, args = {n = 1, 'value'}}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_RESULT);
  TP_CHECK(lua_true(H, "F.id == 2 and F.results.n == 3 and F.results[1] == 'upvalue' and F.results[2] == nil"));
  wk_send(&w, H, TP_WIRE_CALL, "return {id = 3, fn = string.dump(function() while true do pcall(function() while true do end end) end end), timeout_ms = 50}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_ERROR);
  TP_CHECK(lua_true(H, "F.id == 3 and F.kind == 'SandboxTimeoutError' and F.fields.timeout_seconds == 0.05 and F.fields.execution_time > 0"));
  wk_send(&w, H, TP_WIRE_CALL, "return {id = 4, instructions = 1e12, fn = string.dump(function() local t = {} for i = 1, 1e9 do t[i] = i end end)}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_ERROR);
  TP_CHECK(lua_true(H, "F.id == 4 and F.kind == 'SandboxResourceError' and F.fields.resource_type == 'memory' and F.fields.limit == 16 << 20"));
  wk_send(&w, H, TP_WIRE_CALL, "return {id = 5, fn = string.dump(function() return require('io') end)}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_ERROR);
  TP_CHECK(lua_true(H, "F.kind == 'SandboxSecurityViolation' and F.fields.attempted_action == \"require 'io'\""));
  wk_send(&w, H, TP_WIRE_CALL, "return {id = 6, fn = string.dump(function() local t = {} t.t = t return t end)}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_ERROR);
  TP_CHECK(lua_true(H, "F.id == 6 and F.kind == 'SandboxError' and F.fields.reason == 'result'"));
  wk_send(&w, H, TP_WIRE_STATS, "return {}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_STATS);
  TP_CHECK(lua_true(H, "F.calls == 7 and F.rss_bytes > 0"));
  wk_send(&w, H, TP_WIRE_BYE, "return {}");
  code = wk_wait(&w);
  TP_CHECKF(code == 0, "exit %d", code);
  lua_close(H);
}

static void test_worker_violation(void) {
  lua_State *H = host();
  wk w;
  int code;
  if (wk_start(&w) != 0) { TP_CHECK(0); lua_close(H); return; }
  wk_send(&w, H, TP_WIRE_SETUP,
          "return {plugin_dir = DIR, memory_bytes = 16 << 20, modules = {allowed = {'os'}, os = true},"
          " seccomp = {deny = {'rename', 'renameat', 'renameat2'}, no_exec = true}}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_READY);
  wk_send(&w, H, TP_WIRE_CALL, "return {id = 1, fn = string.dump(function() return os.rename('/nonexistent/a', '/nonexistent/b') end)}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_VIOLATION);
  TP_CHECK(lua_true(H, "F.kind == 'denied_syscall' and F.syscall:match('^rename')"));
  code = wk_wait(&w);
  TP_CHECKF(code == 3, "exit %d", code);
  /* exec is trapped too */
  if (wk_start(&w) != 0) { TP_CHECK(0); lua_close(H); return; }
  wk_send(&w, H, TP_WIRE_SETUP,
          "return {memory_bytes = 16 << 20, modules = {allowed = {'os'}, os = true}, seccomp = {no_exec = true}}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_READY);
  wk_send(&w, H, TP_WIRE_CALL, "return {id = 1, fn = string.dump(function() return os.execute('true') end)}");
  /* glibc's posix_spawn blocks every signal around clone, and the kernel
  ** then delivers the trap's SIGSYS with the default action: the worker
  ** dies of SIGSYS without a frame. Either way nothing ran. */
  {
    int t = wk_recv(&w, H);
    TP_CHECKF(t == TP_WIRE_VIOLATION || t == TP_WIRE_EEOF, "%d", t);
    if (t == TP_WIRE_VIOLATION) TP_CHECK(lua_true(H, "F.kind == 'subprocess'"));
    code = wk_wait(&w);
    TP_CHECKF(t == TP_WIRE_VIOLATION ? code == 3 : code == 128 + SIGSYS, "exit %d", code);
  }
  lua_close(H);
}

static void test_worker_malformed(void) {
  lua_State *H = host();
  wk w;
  int code, e;
  /* a frame that is not SETUP first */
  if (wk_start(&w) != 0) { TP_CHECK(0); lua_close(H); return; }
  wk_send(&w, H, TP_WIRE_CALL, "return {id = 1, ref = 'a.b'}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_ERROR);
  TP_CHECK(lua_true(H, "F.kind == 'SandboxError' and F.fields.reason == 'setup'"));
  code = wk_wait(&w);
  TP_CHECK(code == 2);
  /* a malformed CALL payload after a good SETUP */
  if (wk_start(&w) != 0) { TP_CHECK(0); lua_close(H); return; }
  wk_send(&w, H, TP_WIRE_SETUP, "return {memory_bytes = 8 << 20}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_READY);
  {
    static const unsigned char bad[] = {'T','P','W','1', 3, 0, 0, 0, 3, 0, 0, 0, 0x06, 0xff, 0xff};
    tp_wire_send(w.fd, bad, sizeof bad, &e);
  }
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_ERROR);
  TP_CHECK(lua_true(H, "F.fields.reason == 'request'"));
  code = wk_wait(&w);
  TP_CHECK(code == 2);
  /* a bad magic */
  if (wk_start(&w) != 0) { TP_CHECK(0); lua_close(H); return; }
  tp_wire_send(w.fd, "XXXX\x01\0\0\0\0\0\0\0", 12, &e);
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_ERROR);
  TP_CHECK(wk_wait(&w) == 2);
  /* Landlock refuses a path that does not exist: ERROR, never a worker with less */
  if (wk_start(&w) != 0) { TP_CHECK(0); lua_close(H); return; }
  wk_send(&w, H, TP_WIRE_SETUP, "return {landlock = {read = {'/nonexistent/path'}}}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_ERROR);
  TP_CHECK(lua_true(H, "F.fields.reason == 'landlock'"));
  TP_CHECK(wk_wait(&w) == 4);
  /* an unknown syscall name */
  if (wk_start(&w) != 0) { TP_CHECK(0); lua_close(H); return; }
  wk_send(&w, H, TP_WIRE_SETUP, "return {seccomp = {deny = {'no_such_call'}}}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_ERROR);
  TP_CHECK(lua_true(H, "F.fields.reason == 'seccomp' and F.message:find('no_such_call')"));
  TP_CHECK(wk_wait(&w) == 4);
  /* an entry module that never returns: a timeout at start-up, exit 5 */
  if (wk_start(&w) != 0) { TP_CHECK(0); lua_close(H); return; }
  wk_send(&w, H, TP_WIRE_SETUP, "return {plugin_dir = DIR, entry = 'spin', timeout_ms = 50}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_ERROR);
  TP_CHECK(lua_true(H, "F.kind == 'SandboxTimeoutError'"));
  TP_CHECK(wk_wait(&w) == 5);
  lua_close(H);
}

/* Landlock holds a plugin that has io to its paths. */
static void test_worker_landlock(void) {
  lua_State *H = host();
  wk w;
  if (wk_start(&w) != 0) { TP_CHECK(0); lua_close(H); return; }
  wk_send(&w, H, TP_WIRE_SETUP,
          "return {plugin_dir = DIR, memory_bytes = 16 << 20, modules = {allowed = {'io', 'lpeg'}, io = true},"
          " landlock = {read = {}, write = {}, no_net = true, scope = true},"
          " seccomp = {deny = {}, no_exec = true, no_net = true}}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_READY);
  wk_send(&w, H, TP_WIRE_CALL, "return {id = 1, fn = string.dump(function(d)"
          " local a = io.open('/etc/hostname') local b = io.open(d .. '/helper.lua')"
          " local c = io.open(d .. '/new.txt', 'w') return a == nil, b ~= nil, c == nil end), args = {n = 1, DIR}}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_RESULT);
  TP_CHECK(lua_true(H, "F.results[1] == true and F.results[2] == true and F.results[3] == true"));
  /* a system C module still loads once confined (dlopen under Landlock and seccomp) */
  wk_send(&w, H, TP_WIRE_CALL, "return {id = 2, fn = string.dump(function()"
          " local lpeg = require('lpeg') return lpeg.match(lpeg.C(lpeg.R('az')^1), 'abc1') end)}");
  TP_CHECK(wk_recv(&w, H) == TP_WIRE_RESULT);
  TP_CHECK(lua_true(H, "F.results[1] == 'abc'"));
  TP_CHECK(wk_wait(&w) == 0);
  lua_close(H);
}

int main(void) {
  char link[200];
  snprintf(plugdir, sizeof plugdir, "/tmp/tp_sbstate_XXXXXX");
  if (!mkdtemp(plugdir)) return 2;
  write_file("helper.lua", "local M = {} function M.twice(x) return 2 * x end return M\n");
  write_file("secret.lua", "return 'secret'\n");
  snprintf(link, sizeof link, "%s/link.lua", plugdir);
  if (symlink("/etc/passwd", link) != 0) return 2;
  write_file("spin.lua", "while true do pcall(function() while true do end end) end\n");
  if (!getenv("TP_WORKER_ONLY")) {   /* tests/e2e/worker.sh: the worker alone */
    TP_RUN(test_budget_cannot_be_swallowed);
    TP_RUN(test_deadline_cannot_be_swallowed);
    TP_RUN(test_budget_exact_kind);
    TP_RUN(test_limits_in_coroutines);
    TP_RUN(test_memory_cap);
    TP_RUN(test_environment_exact);
    TP_RUN(test_string_metatable_patch);
    TP_RUN(test_no_bytecode_from_plugin);
    TP_RUN(test_require_gate);
    TP_RUN(test_serve);
  }
  if (find_worker()) {
    TP_RUN(test_worker_calls);
    TP_RUN(test_worker_violation);
    TP_RUN(test_worker_malformed);
    TP_RUN(test_worker_landlock);
  } else {
    printf("not ok - the worker program %s is missing (build it first)\n", worker_path);
    tp_test_failures++;
  }
  {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", plugdir);
    if (system(cmd) != 0) printf("# cleanup failed\n");
  }
  return tp_done();
}
