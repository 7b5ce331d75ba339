/*
** tplua.c: the host program.
**
** C does only what Lua cannot: create the state, preload the statically
** linked core as "truthound.core", point package.path at the Lua modules
** that belong to this executable, interrupt a running chunk on Ctrl-C, and
** drive the line-editing REPL (libedit). Everything else (arguments,
** commands, help text, error reports, exit codes) is decided in Lua by
** require("truthound.cli").main(argv, host).
**
** The host table handed to cli.main is also package.loaded["tplua.host"],
** which gives its functions stable names in tracebacks ('tplua.host.docall');
** the message handler cuts tracebacks there so users see their own frames
** and not the CLI's.
*/
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "loopsig.h"
#include "lua/l_core.h"

#define HOST_MODULE   "tplua.host"
#define TRACEBACK_KEY "tplua.traceback"
#define HISTORY_MAX   1000

/* Exit status when even the Lua side could not report (cli.lua: EXIT_ERROR). */
#define EXIT_RUNTIME 3

/* ---------------------------------------------------------------------
** Ctrl-C: as lua.c does, the signal handler only installs a hook, and the
** hook raises the error at the next safe point of the interpreter. A second
** Ctrl-C before that point kills the process (default action restored).
** Around a chunk the handler goes in through tp_loopsig_action: while a
** tp.signal wait or watch has SIGINT, the loop keeps it and this handler
** only becomes what is restored when they stop (docs/loop.md, "Signals").
** At the prompt no Lua runs and the loop does not either: there Ctrl-C
** always cancels the line, and the loop's handler is put back after it.
*/

static lua_State *volatile signal_L;    /* the state a Ctrl-C interrupts */
static volatile sig_atomic_t interrupted; /* a Ctrl-C no hook consumed yet */

#define INTERRUPT_MASK (LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT)

static void interrupt_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  interrupted = 0;            /* this Ctrl-C is consumed */
  luaL_error(L, "interrupted!");
}

static void on_sigint(int sig) {
  signal(sig, SIG_DFL);
  interrupted = 1;
  if (signal_L != NULL) lua_sethook(signal_L, interrupt_hook, INTERRUPT_MASK, 1);
}

/* Arm the interrupting handler; *old keeps what to restore afterwards. */
static void sigint_arm(lua_State *L, struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  signal_L = L;
  tp_loopsig_action(SIGINT, &sa, old);
}

static void sigint_disarm(const struct sigaction *old) {
  tp_loopsig_action(SIGINT, old, NULL);
}

/* ---------------------------------------------------------------------
** Protected calls with a traceback. The handler leaves the error value
** untouched (typed truthound errors stay tables) and files the traceback in
** the registry, where host.docall and the REPL pick it up.
*/

static int msghandler(lua_State *L) {
  const char *tb, *cut;
  luaL_traceback(L, L, NULL, 1);
  tb = lua_tostring(L, -1);
  cut = tb ? strstr(tb, "\n\t[C]: in function '" HOST_MODULE ".") : NULL;
  if (cut != NULL) {
    lua_pushlstring(L, tb, (size_t)(cut - tb));
    lua_remove(L, -2);
  }
  lua_setfield(L, LUA_REGISTRYINDEX, TRACEBACK_KEY);
  return 1;
}

/* Call the function below its narg arguments, interruptible by Ctrl-C. */
static int docall(lua_State *L, int narg, int nres) {
  struct sigaction old;
  int status, base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  sigint_arm(L, &old);
  /* A Ctrl-C between the REPL's Enter and here had no state to hook. */
  if (interrupted) lua_sethook(L, interrupt_hook, INTERRUPT_MASK, 1);
  status = lua_pcall(L, narg, nres, base);
  sigint_disarm(&old);
  lua_remove(L, base);
  return status;
}

/* Push the traceback of the last failed docall (or nil) and forget it. */
static void push_traceback(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, TRACEBACK_KEY);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, TRACEBACK_KEY);
}

/* host.docall(f, ...) -> true, results... | false, err, traceback */
static int host_docall(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (docall(L, lua_gettop(L) - 1, LUA_MULTRET) == LUA_OK) {
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    return lua_gettop(L);
  }
  lua_pushboolean(L, 0);
  lua_insert(L, -2);
  push_traceback(L);
  return 3;
}

/* ---------------------------------------------------------------------
** The REPL. host.repl(opts) reads chunks with libedit until end of input.
** opts (stack index 1): prompt, prompt2 (defaults; the globals _PROMPT and
** _PROMPT2 win, as in lua.c), history (file path or nil), and
** report(err, traceback), the Lua function that shows an error.
** A chunk is tried first as an expression ("return " .. text) so that
** `1+1` prints 2; a leading '=' means "return". Input is incomplete, and
** another line is read, while either form fails only at "<eof>".
*/

#define OPTS 1

#define REPL_EOF    (-1)      /* Ctrl-D at a prompt */
#define REPL_CANCEL (-2)      /* Ctrl-C at a prompt */
#define REPL_MORE   (-3)      /* the chunk is incomplete */

static const char *opt_string(lua_State *L, const char *key) {
  const char *s;
  lua_getfield(L, OPTS, key);
  s = lua_tostring(L, -1);
  lua_pop(L, 1);              /* still referenced by opts: stays alive */
  return s;
}

/* Push the prompt to show: the global if it is set, else the option. */
static const char *repl_prompt(lua_State *L, int first) {
  const char *s;
  lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2");
  s = lua_tostring(L, -1);
  if (s == NULL) {
    lua_pop(L, 1);
    lua_getfield(L, OPTS, first ? "prompt" : "prompt2");
    s = lua_tostring(L, -1);
    if (s == NULL) s = first ? "> " : ">> ";
  }
  return s;
}

/* Read a line and push it. Else returns REPL_EOF, or REPL_CANCEL on Ctrl-C
** (libedit then returns no line, as at end of input). */
static int repl_readline(lua_State *L, int first) {
  struct sigaction sa, old;
  const char *prompt = repl_prompt(L, first);
  char *line;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  signal_L = NULL;            /* at the prompt nothing runs: no hook */
  interrupted = 0;
  sigaction(SIGINT, &sa, &old);
  fflush(stdout);
  line = readline(prompt);
  sigaction(SIGINT, &old, NULL);
  lua_pop(L, 1);              /* prompt */
  if (line == NULL) return interrupted ? REPL_CANCEL : REPL_EOF;
  lua_pushstring(L, line);
  free(line);
  return LUA_OK;
}

/* Does the syntax error on top of the stack end at "<eof>"? */
static int repl_incomplete(lua_State *L, int status) {
  static const char mark[] = "<eof>";
  size_t len, n = sizeof mark - 1;
  const char *msg;
  if (status != LUA_ERRSYNTAX) return 0;
  msg = lua_tolstring(L, -1, &len);
  return msg != NULL && len >= n && memcmp(msg + len - n, mark, n) == 0;
}

/* Replace the source on top with its function or its syntax error. */
static int repl_load(lua_State *L) {
  size_t len;
  const char *code = lua_tolstring(L, -1, &len);
  int status = luaL_loadbuffer(L, code, len, "=stdin");
  lua_remove(L, -2);
  return status;
}

/* Compile the chunk text on top: push its function or its error and
** return the status, or REPL_MORE when more lines could complete it. */
static int repl_compile(lua_State *L) {
  const char *text = lua_tostring(L, -1);
  int expr = text[0] == '=';  /* "=x" is only ever an expression */
  int more, status;
  lua_pushfstring(L, "return %s", text + expr);
  status = repl_load(L);
  more = repl_incomplete(L, status);
  if (status == LUA_OK || expr) return more ? REPL_MORE : status;
  lua_pop(L, 1);
  lua_pushvalue(L, -1);       /* as statements */
  status = repl_load(L);
  if (status != LUA_OK && (more || repl_incomplete(L, status))) return REPL_MORE;
  return status;
}

static void repl_history_add(const char *path, const char *chunk) {
  static int warned;
  if (chunk[0] == '\0') return;
  add_history(chunk);
  if (path != NULL && write_history(path) != 0 && !warned) {
    warned = 1;
    fprintf(stderr, "tplua: warning: cannot write history file %s\n", path);
  }
}

/* Read one chunk, asking for more lines while it is incomplete. Leaves
** [text, function-or-error] and returns the status, or REPL_EOF or
** REPL_CANCEL with nothing to run. */
static int repl_read(lua_State *L) {
  int status = repl_readline(L, 1);
  if (status != LUA_OK) return status;
  while ((status = repl_compile(L)) == REPL_MORE) {
    lua_pop(L, 1);            /* the "<eof>" error */
    status = repl_readline(L, 0);
    if (status == REPL_CANCEL) return status;
    if (status == REPL_EOF) { /* show why the chunk is incomplete */
      fputc('\n', stdout);
      repl_compile(L);
      return LUA_ERRSYNTAX;
    }
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
  return status;
}

/* Print the results on the stack above base with the global print. */
static void repl_print(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n == 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "print");
  lua_insert(L, base + 1);
  if (lua_pcall(L, n, 0, 0) != LUA_OK)
    fprintf(stderr, "error calling 'print' (%s)\n", luaL_tolstring(L, -1, NULL));
}

/* Hand the error on top (and its traceback) to opts.report. */
static void repl_report(lua_State *L, int with_traceback) {
  lua_getfield(L, OPTS, "report");
  lua_insert(L, -2);
  if (with_traceback) push_traceback(L); else lua_pushnil(L);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK)
    fprintf(stderr, "%s\n", luaL_tolstring(L, -1, NULL));
  fflush(stderr);
}

/* Run the chunk repl_read left (or show its syntax error); remember it. */
static void repl_eval(lua_State *L, const char *history, int status) {
  repl_history_add(history, lua_tostring(L, OPTS + 1));
  if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
  if (status == LUA_OK) repl_print(L, OPTS + 1);
  else repl_report(L, status != LUA_ERRSYNTAX);
}

static int host_repl(lua_State *L) {
  const char *history;
  int status;
  luaL_checktype(L, OPTS, LUA_TTABLE);
  lua_settop(L, OPTS);
  history = opt_string(L, "history");
  rl_readline_name = "tplua";
  using_history();
  stifle_history(HISTORY_MAX);
  if (history != NULL) read_history(history);
  while ((status = repl_read(L)) != REPL_EOF) {
    if (status == REPL_CANCEL) fputc('\n', stdout);  /* start over */
    else repl_eval(L, history, status);
    lua_settop(L, OPTS);
  }
  fputc('\n', stdout);
  fflush(stdout);
  return 0;
}

/* ---------------------------------------------------------------------
** Module lookup. The Lua modules that match this executable's statically
** linked core come first: <exe>/../lua in a build tree (build/tplua beside
** the repository's lua/), else <exe>/../share/lua/5.4 in an installed tree
** (make install, luarocks). The standard path (LUA_PATH) follows.
*/

static int exe_dir(char *buf, size_t size) {
  char *slash;
  ssize_t n = readlink("/proc/self/exe", buf, size - 1);
  if (n <= 0 || (size_t)n >= size - 1) return 0;
  buf[n] = '\0';
  slash = strrchr(buf, '/');
  if (slash == NULL) return 0;
  if (slash == buf) slash++;  /* a binary in "/" */
  *slash = '\0';
  return 1;
}

/* Push the module directory for an executable in exedir. */
static void push_lua_dir(lua_State *L, const char *exedir) {
  char probe[PATH_MAX + 64], real[PATH_MAX];
  const char *dir = "/../share/lua/" LUA_VERSION_MAJOR "." LUA_VERSION_MINOR;
  snprintf(probe, sizeof probe, "%s/../lua/truthound/init.lua", exedir);
  if (access(probe, F_OK) == 0) dir = "/../lua";
  snprintf(probe, sizeof probe, "%s%s", exedir, dir);
  /* A tidy path reads better in "module not found" messages. */
  lua_pushstring(L, realpath(probe, real) ? real : probe);
}

static void set_path(lua_State *L) {
  char exedir[PATH_MAX];
  if (!exe_dir(exedir, sizeof exedir)) return;
  lua_getglobal(L, "package");
  push_lua_dir(L, exedir);
  lua_getfield(L, -2, "path");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", lua_tostring(L, -2),
                  lua_tostring(L, -2), lua_tostring(L, -1));
  lua_setfield(L, -4, "path");
  lua_pop(L, 3);
}

static void preload_core(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_truthound_core);
  lua_setfield(L, -2, "truthound.core");
  lua_pop(L, 1);
}

/* ---------------------------------------------------------------------
** Entry: build the host table and argv, then let cli.main decide.
*/

static void push_host(lua_State *L) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  lua_newtable(L);
  lua_pushcfunction(L, host_docall);
  lua_setfield(L, -2, "docall");
  lua_pushcfunction(L, host_repl);
  lua_setfield(L, -2, "repl");
  lua_pushboolean(L, isatty(STDIN_FILENO));
  lua_setfield(L, -2, "stdin_tty");
  lua_pushboolean(L, isatty(STDERR_FILENO));
  lua_setfield(L, -2, "stderr_tty");
  lua_pushliteral(L, LUA_RELEASE);
  lua_setfield(L, -2, "lua_release");
  if (n > 0) {
    lua_pushlstring(L, exe, (size_t)n);
    lua_setfield(L, -2, "exe");
  }
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, HOST_MODULE);
  lua_pop(L, 1);
}

static void push_argv(lua_State *L, int argc, char **argv) {
  int i;
  lua_createtable(L, argc, 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i);
  }
}

/* pmain(argc, argv): everything that may raise runs here, protected. */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = lua_touserdata(L, 2);
  luaL_checkversion(L);
  luaL_openlibs(L);
  preload_core(L);
  set_path(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "truthound.cli");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "main");
  push_argv(L, argc, argv);
  push_host(L);
  lua_call(L, 2, 1);
  return 1;
}

int main(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  int status, ok = 0, code = EXIT_RUNTIME;
  if (L == NULL) {
    fputs("tplua: error: cannot create the Lua state: out of memory\n", stderr);
    return EXIT_RUNTIME;
  }
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  if (status == LUA_OK) code = (int)lua_tointegerx(L, -1, &ok);
  if (status != LUA_OK || !ok || code < 0 || code > 255) {
    fprintf(stderr, "tplua: error: %s\n", status != LUA_OK
            ? luaL_tolstring(L, -1, NULL) : "cli.main returned no exit code");
    code = EXIT_RUNTIME;
  }
  fflush(stdout);
  lua_close(L);
  return code;
}
