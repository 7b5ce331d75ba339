/*
** fuzz_datafile.c: libFuzzer harness for untrusted data files: the data
** state (core/lua/l_datafile.c: capped allocator, budget hook, the copy
** out), the key-lines lexer (lpeg), and the two validators built on them,
** policy files (truthound.security.policies) and manifests
** (truthound.manifest). Any input may fail, but only with the typed error
** it was asked to raise; key_lines never raises. A line hook feeds the Lua
** side's line transitions to libFuzzer as extra counters (fuzz_lua.h).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lua/l_core.h"
#include "fuzz_lua.h"

static const char DRIVER[] =
  "local datafile = require('truthound.datafile')\n"
  "local errors = require('truthound.errors')\n"
  "local policies = require('truthound.security').policies\n"
  "local manifest = require('truthound.manifest')\n"
  "local opts = {kind = 'PolicyError', instructions = 20000, memory = 1 << 20}\n"
  "return function(src)\n"
  "  local ok, e = pcall(datafile.eval, src, 'fuzz.lua', opts)\n"
  "  if not ok and errors.kind(e) ~= 'PolicyError' then\n"
  "    return 'eval raised something else: ' .. tostring(e)\n"
  "  end\n"
  "  local ok2, lines = pcall(datafile.key_lines, src)\n"
  "  if not ok2 then return 'key_lines raised: ' .. tostring(lines) end\n"
  "  for k, v in pairs(lines) do\n"
  "    if type(k) ~= 'string' or math.type(v) ~= 'integer' or v < 1 then\n"
  "      return 'key_lines gave a bad entry'\n"
  "    end\n"
  "  end\n"
  "  local okp, ep = pcall(policies.eval, src, 'fuzz.lua')\n"
  "  if not okp and errors.kind(ep) ~= 'PolicyError' then\n"
  "    return 'policies.eval raised something else: ' .. tostring(ep)\n"
  "  end\n"
  "  if ok then\n"
  "    local okm, em = pcall(manifest.validate, e, 'fuzz.lua')\n"
  "    if not okm and errors.kind(em) ~= 'ManifestError' then\n"
  "      return 'manifest.validate raised something else: ' .. tostring(em)\n"
  "    end\n"
  "  end\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lua_State *L;
  static int check_ref;
  const char *msg;
  if (L == NULL) L = fuzz_lua_open("fuzz_datafile", DRIVER, sizeof DRIVER - 1, &check_ref);
  if (fuzz_lua_check(L, check_ref, data, size, &msg) != FUZZ_LUA_HOLDS) {
    fprintf(stderr, "fuzz_datafile: %s\n", msg);
    abort();
  }
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
