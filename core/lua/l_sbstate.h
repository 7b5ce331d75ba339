/*
** l_sbstate.h: the sandboxed Lua runtime (docs/worker.md).
**
** One plugin runs in a lua_State of its own, made here. The same state is
** used by the worker process (core/worker/) and, in-process, by the NONE
** engine (core/lua/l_sandbox.c), so that a plugin sees the same globals and
** meets the same limits at every isolation level:
**
**   memory        the state's allocator refuses to grow past a cap; the
**                 peak is recorded. A refused allocation raises Lua's
**                 "not enough memory", which a plugin may catch; a call
**                 that fails after one was refused is a memory error.
**   instructions  a count hook charges every instruction run by any
**                 coroutine of the state against a budget per call, and
**   wall time     checks a deadline per call. Once either is spent the
**                 hook re-arms itself on every instruction of every thread
**                 it meets, raising again each time, until the call has
**                 unwound: pcall, xpcall, error handlers, coroutines and
**                 to-be-closed variables cannot swallow it. The hook raises
**                 a memory error (and the state then refuses every
**                 allocation until the call ends): an error raised from a
**                 hook would run xpcall's message handler with hooks off.
**                 Which limit tripped is kept in C, never read back from
**                 the error.
**   environment   an allowlist of globals (docs/worker.md lists them):
**                 no debug, no package, no dofile/loadfile, load of text
**                 only, no string.dump, collectgarbage("count") only, no
**                 __gc metamethods (finalizers run without hooks), a
**                 string metatable of the state's own that getmetatable
**                 cannot reach; io and os only when the configuration
**                 exposes them (else os is clock/date/difftime/time).
**   require       the module gate: plugin modules from the plugin
**                 directory (text only, opened beneath it without
**                 following links), a fixed list of system modules (lpeg,
**                 cjson, cjson.safe) when allowed_modules and
**                 blocked_modules admit them, io and os when exposed.
**
** A loop inside a C function (a pattern match, string.rep) does not run
** instructions, so nothing here stops it: a worker's supervisor kills it.
**
** All functions that run Lua code in the state do so protected; none of
** them raises into the caller. Failures leave an error table on the
** state's stack, shaped as the payload of an ERROR frame without its id:
**
**   {kind = "SandboxTimeoutError" | "SandboxResourceError" |
**           "SandboxSecurityViolation" | "SandboxError",
**    message = "...", fields = {reason = "...", ...}}
**
** fields by kind (docs/worker.md, "Errors"):
**   SandboxTimeoutError       reason "timeout" | "instructions",
**                             timeout_seconds, execution_time (s),
**                             instructions (the budget, when it tripped)
**   SandboxResourceError      reason "memory", resource_type = "memory",
**                             limit, actual (bytes)
**   SandboxSecurityViolation  reason "module", violation_type = "module",
**                             attempted_action = "require 'io'"
**   SandboxError              reason "runtime" (the plugin raised: value,
**                             traceback), "not_found" (a reference that
**                             names nothing), "request" (a malformed
**                             request from the host), "result" (results
**                             the wire format cannot carry), "state"
**                             (the runtime itself failed)
*/
#ifndef TP_L_SBSTATE_H
#define TP_L_SBSTATE_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "wire.h"

/* Status of a call. */
#define TP_SB_OK         0
#define TP_SB_ERUNTIME  (-1)   /* the plugin raised an error */
#define TP_SB_ETIMEOUT  (-2)   /* deadline or instruction budget */
#define TP_SB_EMEMORY   (-3)   /* an allocation was refused by the cap */
#define TP_SB_EVIOLATION (-4)  /* the module gate refused a require */
#define TP_SB_EREQUEST  (-5)   /* the host asked for something malformed */
#define TP_SB_ENOTFOUND (-6)   /* a reference "mod.fn" names nothing */
#define TP_SB_ERESULT   (-7)   /* results the wire format cannot carry */
#define TP_SB_ESTATE    (-8)   /* the runtime failed (out of memory while reporting...) */

#define TP_SB_HOOK_STEP 1000   /* instructions between two checks of the clock */

/* Receives what the plugin prints (one call per print, with a newline). */
typedef void (*tp_sbstate_print_fn)(void *ud, const char *s, size_t len);

typedef struct tp_sbstate_config {
  size_t memory_bytes;          /* cap of the allocator; 0 = none */
  int64_t instructions;         /* budget per call unless a call says; 0 = none */
  double timeout_ms;            /* wall time per call unless a call says; 0 = none */
  const char *plugin_dir;       /* where require finds plugin modules; NULL = none */
  const char *const *allowed_modules;   /* NULL-terminated; NULL = empty */
  const char *const *blocked_modules;   /* NULL-terminated; NULL = empty */
  int io;                       /* expose the real io library */
  int os;                       /* expose the real os library (else a clock subset) */
  int no_subprocess;            /* even so, remove io.popen and os.execute */
  int in_process;               /* NONE: remove os.exit and os.setlocale, which act
                                   on the whole host process */
  tp_sbstate_print_fn print;    /* NULL: print discards */
  void *print_ud;
  void *owned_;                 /* strings owned after tpL_sbstate_config_read */
} tp_sbstate_config;

/* Limits of one call; 0 fields fall back to the state's configuration. */
typedef struct tp_sbstate_limits {
  int64_t instructions;
  double timeout_ms;
} tp_sbstate_limits;

typedef struct tp_sbstate_stats {
  uint64_t calls;               /* calls run so far */
  size_t memory_bytes;          /* in use now */
  size_t memory_limit;          /* the cap (0: none) */
  size_t peak_memory_bytes;     /* highest use during the last call */
  int64_t instructions;         /* run by the last call, counted in hook steps */
  double time_ms;               /* wall time of the last call */
} tp_sbstate_stats;

/* A new sandboxed state, or NULL with a message in err. The configuration
** is copied: the caller may free it afterwards. */
lua_State *tpL_sbstate_new(const tp_sbstate_config *cfg, char *err, size_t errlen);

/* Close the state (NULL is fine). */
void tpL_sbstate_close(lua_State *S);

/* Read a configuration from the SETUP-shaped table at idx of L
** (docs/formats.md, "Worker wire format": plugin_dir, memory_bytes,
** instructions, timeout_ms, modules = {allowed, blocked, io, os,
** no_subprocess}). Strings are copied; free them with
** tpL_sbstate_config_free. Returns 0, or -1 with a message naming the field.
** Never raises; L needs a few free stack slots. */
int tpL_sbstate_config_read(lua_State *L, int idx, tp_sbstate_config *cfg,
                            char *err, size_t errlen);
void tpL_sbstate_config_free(tp_sbstate_config *cfg);

/* Require module `name` under the limits (the entry module at start-up).
** Returns TP_SB_OK with the module's value on S's stack, or a status with
** the error table there. */
int tpL_sbstate_require(lua_State *S, const char *name, const tp_sbstate_limits *lim);

/* Load bytecode the host made with string.dump (mode "b": only the host
** may give it) and push the function. Its upvalue named _ENV is the
** sandbox's environment; upvalue i takes value upvalues[i] of the table at
** S index `upvalues` (0: none; missing entries are nil). Returns TP_SB_OK,
** or TP_SB_EREQUEST with the error table pushed instead. */
int tpL_sbstate_load(lua_State *S, const char *bytecode, size_t len, int upvalues);

/* Call the function below the nargs arguments on top of S under the
** limits. TP_SB_OK: the function and arguments are replaced by the
** results (lua_gettop tells how many). Otherwise they are replaced by the
** error table and the status is returned. */
int tpL_sbstate_pcall(lua_State *S, int nargs, const tp_sbstate_limits *lim);

/* The same for a reference "module.function" (the last dot splits;
** "module" is required through the gate). */
int tpL_sbstate_pcall_ref(lua_State *S, const char *ref, int nargs,
                          const tp_sbstate_limits *lim);

/* Serve one CALL payload (docs/formats.md): decode it into S (under the
** memory cap), run it, and encode the RESULT or ERROR payload into out.
** Returns TP_WIRE_RESULT or TP_WIRE_ERROR, the type of the frame to send;
** *status (may be NULL) gets the call's status. Never raises. */
int tpL_sbstate_serve(lua_State *S, const char *payload, size_t len,
                      const tp_wire_limits *lim, tp_wire_buf *out, int *status);

/* Encode an ERROR payload {id = id (when >= 0), kind, message, fields =
** {reason = reason}} into out without a Lua state: for failures before
** there is one. Returns 0 or a negative wire code. */
int tpL_sbstate_error_payload(tp_wire_buf *out, int64_t id, const char *kind,
                              const char *reason, const char *message);

void tpL_sbstate_stats(lua_State *S, tp_sbstate_stats *out);

/* Push the same as a table onto L (which may be S): calls, time_ms,
** memory_bytes, memory_limit, peak_memory_bytes, instructions. */
void tpL_sbstate_push_stats(lua_State *L, lua_State *S);

/* The error table's kind for a status. */
const char *tpL_sbstate_kind(int status);

#endif
