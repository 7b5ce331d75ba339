/*
** truthound-worker: the sandbox worker program (docs/worker.md).
**
** Started by the supervisor with the channel on fd 3 and nothing else open
** but 0/1/2. Its life:
**
**   1. read SETUP (bounded) from fd 3;
**   2. apply Landlock (when SETUP.landlock is given), then seccomp (when
**      SETUP.seccomp is given) -- seccomp last, since nothing after it may
**      need a call it denies;
**   3. build the sandboxed Lua state (core/lua/l_sbstate.c) and require
**      the plugin's entry module if SETUP names one;
**   4. answer READY {pid, rss_bytes, landlock_abi, seccomp};
**   5. serve CALL frames one at a time (RESULT or ERROR), STATS requests,
**      until BYE or end of file.
**
** Any step that fails answers ERROR {kind = "SandboxError", fields =
** {reason = ...}} and exits with a status other than 0: a worker never
** runs with less confinement than SETUP asked for. A call denied by the
** seccomp filter (SIGSYS) is reported by the signal handler in a
** VIOLATION frame, written from a fixed buffer, before _exit.
**
** The worker trusts the host (only the host can write to fd 3: it made
** the socketpair), but it still decodes SETUP and CALL with the bounded
** wire decoder so that a malformed frame is an ERROR, never a crash.
*/
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lua/l_sbstate.h"
#include "lua/l_wire.h"
#include "sandbox/landlock.h"
#include "sandbox/seccomp.h"
#include "wire.h"

#define CHAN 3
#define EXIT_PROTOCOL 2     /* a malformed or unexpected frame */
#define EXIT_VIOLATION 3    /* seccomp trapped a call */
#define EXIT_CONFINE 4      /* Landlock or seccomp could not be applied */
#define EXIT_STATE 5        /* the Lua state or the entry module failed */

#define SETUP_MAX_BYTES (1u << 20)
#define MAX_LIST 256

static tp_wire_limits g_lim;

/* ---------------------------------------------------------------------- */
/* SIGSYS: report the trapped call, then exit                              */
/* ---------------------------------------------------------------------- */

static unsigned char g_vbuf[512];

/* Only async-signal-safe work: the violation is decoded from a table
** filled before the filter was loaded, encoded into a fixed buffer and
** written with send(2). VIOLATION {kind, syscall, nr}: keys in canonical
** order (string keys by length, then bytes: "nr" < "kind" < "syscall"). */
static void on_sigsys(int sig, siginfo_t *si, void *uc) {
  tp_seccomp_violation v;
  tp_wire_buf b;
  size_t start;
  int e;
  (void)sig;
  if (tp_seccomp_violation_from(si, uc, &v) == 0) {
    tp_wire_buf_fixed(&b, g_vbuf, sizeof g_vbuf);
    if (tp_wire_frame_begin(&b, TP_WIRE_VIOLATION, &start) == 0 &&
        tp_wire_put_table(&b, 0, 3) == 0 &&
        tp_wire_put_string(&b, "nr", 2) == 0 && tp_wire_put_int(&b, v.nr) == 0 &&
        tp_wire_put_string(&b, "kind", 4) == 0 &&
        tp_wire_put_string(&b, v.kind, strlen(v.kind)) == 0 &&
        tp_wire_put_string(&b, "syscall", 7) == 0 &&
        tp_wire_put_string(&b, v.name, strlen(v.name)) == 0 &&
        tp_wire_frame_end(&b, start, NULL) == 0)
      tp_wire_send(CHAN, b.data, b.len, &e);
  }
  _exit(EXIT_VIOLATION);
}

static int install_sigsys(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  return sigaction(SIGSYS, &sa, NULL);
}

/* ---------------------------------------------------------------------- */
/* Frames                                                                  */
/* ---------------------------------------------------------------------- */

static int send_buf(tp_wire_buf *b) {
  int e = 0;
  int rc = tp_wire_send(CHAN, b->data, b->len, &e);
  tp_wire_buf_reset(b);
  return rc;
}

/* ERROR {kind = "SandboxError", fields = {reason}, message}, then exit. */
static void fail(int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
static void fail(int code, const char *reason, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  tp_wire_buf b;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  tp_wire_buf_init(&b);
  if (tpL_sbstate_error_payload(&b, -1, "SandboxError", reason, msg) == 0) send_buf(&b);
  tp_wire_buf_free(&b);
  _exit(code);
}

/* Encode the table on top of L as a frame of type and send it. */
static int send_table(lua_State *L, int type, tp_wire_buf *b) {
  char err[200];
  size_t start;
  if (tp_wire_frame_begin(b, (uint8_t)type, &start) != 0) return -1;
  if (tpL_wire_encode(L, -1, b, &g_lim, err, sizeof err) != 0 ||
      tp_wire_frame_end(b, start, &g_lim) != 0) {
    b->len = start;
    return -1;
  }
  return send_buf(b);
}

static long rss_bytes(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return ru.ru_maxrss * 1024L;
}

/* ---------------------------------------------------------------------- */
/* SETUP                                                                   */
/* ---------------------------------------------------------------------- */

typedef struct strlist {
  const char *v[MAX_LIST + 1];
  size_t n;
} strlist;

/* Strings of list t.k (strings stay alive in L's SETUP table). */
static int read_list(lua_State *L, int t, const char *k, strlist *out, const char *what) {
  lua_Integer i, n;
  out->n = 0;
  out->v[0] = NULL;
  if (lua_getfield(L, t, k) == LUA_TNIL) { lua_pop(L, 1); return 0; }
  if (!lua_istable(L, -1)) fail(EXIT_PROTOCOL, "setup", "%s.%s: expected a list of strings", what, k);
  n = (lua_Integer)lua_rawlen(L, -1);
  if (n > MAX_LIST) fail(EXIT_PROTOCOL, "setup", "%s.%s: more than %d entries", what, k, MAX_LIST);
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
      fail(EXIT_PROTOCOL, "setup", "%s.%s[%lld]: expected a string", what, k, (long long)i);
    out->v[out->n++] = lua_tostring(L, -1);
    lua_pop(L, 1);   /* the table keeps the string alive */
  }
  out->v[out->n] = NULL;
  lua_pop(L, 1);
  return 0;
}

static int read_bool(lua_State *L, int t, const char *k) {
  int v;
  lua_getfield(L, t, k);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static int read_opt_bool(lua_State *L, int t, const char *k, int dflt) {
  int v = dflt;
  if (lua_getfield(L, t, k) == LUA_TBOOLEAN) v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static int g_landlock_abi;   /* applied ABI, 0 none */
static int g_seccomp;        /* 1 once the filter is loaded */

static void apply_landlock(lua_State *L, int setup) {
  tp_landlock_config cfg;
  tp_landlock_result res;
  strlist rd, wr;
  char err[300];
  int t, rc;
  const char *dir;
  static const char *withdir[MAX_LIST + 2];
  size_t i;
  if (lua_getfield(L, setup, "landlock") == LUA_TNIL) { lua_pop(L, 1); return; }
  if (!lua_istable(L, -1)) fail(EXIT_PROTOCOL, "setup", "landlock: expected a table");
  t = lua_gettop(L);
  read_list(L, t, "read", &rd, "landlock");
  read_list(L, t, "write", &wr, "landlock");
  memset(&cfg, 0, sizeof cfg);
  /* the plugin directory is always readable: require reads it */
  lua_getfield(L, setup, "plugin_dir");
  dir = lua_tostring(L, -1);
  lua_pop(L, 1);   /* the SETUP table keeps it alive */
  for (i = 0; i < rd.n; i++) withdir[i] = rd.v[i];
  if (dir) withdir[i++] = dir;
  withdir[i] = NULL;
  cfg.read = withdir;
  cfg.nread = i;
  cfg.write = wr.v;
  cfg.nwrite = wr.n;
  cfg.defaults = 1;
  /* Unless SETUP says otherwise: TCP denied whenever seccomp denies the
  ** network, and the scoping (no signals to processes outside, no
  ** abstract unix sockets) always. */
  cfg.no_net = read_opt_bool(L, t, "no_net", -1);
  if (cfg.no_net < 0) {
    lua_getfield(L, setup, "seccomp");
    cfg.no_net = lua_istable(L, -1) ? read_bool(L, lua_gettop(L), "no_net") : 0;
    lua_pop(L, 1);
  }
  cfg.scope = read_opt_bool(L, t, "scope", 1);
  rc = tp_landlock_apply(&cfg, &res, err, sizeof err);
  if (rc != 0) fail(EXIT_CONFINE, "landlock", "Landlock: %s", err);
  g_landlock_abi = res.abi;
  lua_pop(L, 1);
}

static void apply_seccomp(lua_State *L, int setup) {
  tp_seccomp_config cfg;
  strlist deny;
  char err[300];
  int t;
  if (lua_getfield(L, setup, "seccomp") == LUA_TNIL) { lua_pop(L, 1); return; }
  if (!lua_istable(L, -1)) fail(EXIT_PROTOCOL, "setup", "seccomp: expected a table");
  t = lua_gettop(L);
  read_list(L, t, "deny", &deny, "seccomp");
  memset(&cfg, 0, sizeof cfg);
  cfg.deny = deny.v;
  cfg.ndeny = deny.n;
  cfg.no_exec = read_bool(L, t, "no_exec");
  cfg.no_net = read_bool(L, t, "no_net");
  cfg.kill = read_bool(L, t, "kill");
  if (install_sigsys() != 0) fail(EXIT_CONFINE, "seccomp", "cannot handle SIGSYS: %s", strerror(errno));
  if (tp_seccomp_apply(&cfg, err, sizeof err) != 0) fail(EXIT_CONFINE, "seccomp", "seccomp: %s", err);
  g_seccomp = 1;
  lua_pop(L, 1);
}

/* ---------------------------------------------------------------------- */
/* Main loop                                                               */
/* ---------------------------------------------------------------------- */

/* The runtime's stats plus what only the process knows. */
static void push_stats(lua_State *L, lua_State *S) {
  tpL_sbstate_push_stats(L, S);
  lua_pushinteger(L, rss_bytes());
  lua_setfield(L, -2, "rss_bytes");
  lua_pushinteger(L, (lua_Integer)getpid());
  lua_setfield(L, -2, "pid");
}

static void *plain_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud; (void)osize;
  if (nsize == 0) { free(ptr); return NULL; }
  return realloc(ptr, nsize);
}

int main(void) {
  tp_wire_buf in, out;
  tp_wire_header h;
  const uint8_t *payload;
  tp_wire_limits setup_lim;
  tp_sbstate_config cfg;
  lua_State *L, *S;
  char err[300];
  int e = 0, rc, setup;
  struct stat st;

  signal(SIGPIPE, SIG_IGN);
  if (fstat(CHAN, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    fprintf(stderr, "truthound-worker: fd 3 must be the channel to the host (a socket)\n");
    return EXIT_PROTOCOL;
  }
  tp_wire_limits_default(&g_lim);
  setup_lim = g_lim;
  setup_lim.max_bytes = SETUP_MAX_BYTES;
  tp_wire_buf_init(&in);
  tp_wire_buf_init(&out);

  /* 1. SETUP */
  rc = tp_wire_recv(CHAN, &in, &setup_lim, &h, &payload, &e);
  if (rc == TP_WIRE_EEOF) return 0;
  if (rc != 0) fail(EXIT_PROTOCOL, "setup", "reading SETUP: %s", tp_wire_strerror(rc));
  if (h.type != TP_WIRE_SETUP) fail(EXIT_PROTOCOL, "setup", "expected SETUP, got %s",
                                    tp_wire_type_name(h.type));
  L = lua_newstate(plain_alloc, NULL);   /* frames only: no library, no plugin code */
  if (!L) fail(EXIT_STATE, "state", "out of memory");
  if (tpL_wire_decode(L, (const char *)payload, h.length, &setup_lim, err, sizeof err) != 0)
    fail(EXIT_PROTOCOL, "setup", "SETUP: %s", err);
  if (!lua_istable(L, -1)) fail(EXIT_PROTOCOL, "setup", "SETUP: expected a table");
  setup = lua_gettop(L);
  if (tpL_sbstate_config_read(L, setup, &cfg, err, sizeof err) != 0)
    fail(EXIT_PROTOCOL, "setup", "SETUP.%s", err);

  /* 2. confinement: Landlock, then seccomp last */
  apply_landlock(L, setup);
  apply_seccomp(L, setup);

  /* 3. the sandboxed state and the entry module */
  S = tpL_sbstate_new(&cfg, err, sizeof err);
  if (!S) fail(EXIT_STATE, "state", "%s", err);
  if (lua_getfield(L, setup, "entry") == LUA_TSTRING) {
    tp_sbstate_limits lim = {0, 0};
    if (tpL_sbstate_require(S, lua_tostring(L, -1), &lim) != TP_SB_OK) {
      if (send_table(S, TP_WIRE_ERROR, &out) != 0)
        fail(EXIT_STATE, "entry", "the entry module failed");
      _exit(EXIT_STATE);
    }
    lua_settop(S, 0);
  }
  lua_pop(L, 1);

  /* 4. READY */
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, (lua_Integer)getpid());
  lua_setfield(L, -2, "pid");
  lua_pushinteger(L, rss_bytes());
  lua_setfield(L, -2, "rss_bytes");
  lua_pushinteger(L, g_landlock_abi);
  lua_setfield(L, -2, "landlock_abi");
  lua_pushboolean(L, g_seccomp);
  lua_setfield(L, -2, "seccomp");
  lua_pushliteral(L, "TPW1");
  lua_setfield(L, -2, "protocol");
  if (send_table(L, TP_WIRE_READY, &out) != 0) _exit(EXIT_PROTOCOL);
  lua_settop(L, 0);

  /* 5. serve */
  for (;;) {
    int status;
    rc = tp_wire_recv(CHAN, &in, &g_lim, &h, &payload, &e);
    if (rc == TP_WIRE_EEOF) break;
    if (rc != 0) fail(EXIT_PROTOCOL, "request", "reading a frame: %s", tp_wire_strerror(rc));
    switch (h.type) {
    case TP_WIRE_CALL:
      tpL_sbstate_serve(S, (const char *)payload, h.length, &g_lim, &out, &status);
      if (send_buf(&out) != 0) goto done;
      if (status == TP_SB_EREQUEST || status == TP_SB_ESTATE) _exit(EXIT_PROTOCOL);
      tp_wire_buf_shrink(&out, 1u << 16);
      break;
    case TP_WIRE_STATS:
      push_stats(L, S);
      if (send_table(L, TP_WIRE_STATS, &out) != 0) goto done;
      lua_settop(L, 0);
      break;
    case TP_WIRE_BYE:
      goto done;
    default:
      fail(EXIT_PROTOCOL, "request", "unexpected %s frame", tp_wire_type_name(h.type));
    }
  }
done:
  tpL_sbstate_close(S);
  tpL_sbstate_config_free(&cfg);
  lua_close(L);
  tp_wire_buf_free(&in);
  tp_wire_buf_free(&out);
  /* A confined worker skips exit handlers: a sanitizer's leak check at
  ** exit needs /proc and a tracer thread, which Landlock and seccomp deny. */
  if (g_landlock_abi || g_seccomp) _exit(0);
  return 0;
}
