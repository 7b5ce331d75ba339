/*
** fuzz_envelope.c: libFuzzer harness for the signature envelope parser
** (lua/truthound/security/signing/envelope.lua) and the strict JSON under
** it (signing/json.lua). docs/formats.md, "Signature envelope".
**
** The input, as one Lua string, goes to json.decode and envelope.parse.
** Neither may raise anything but what it promises: json.decode returns a
** value or nil and a message; envelope.parse returns an Envelope or raises
** InvalidSignatureError. What json.decode accepts must encode, and its
** canonical text must decode to a value that encodes the same (a fixed
** point). What envelope.parse accepts must rebuild every signed payload,
** and its encoding must parse back to the same encoding, with the same
** payloads. Any violated invariant aborts with the reason.
**
** As in every Lua-driven harness (fuzz_lua.h), a line hook turns the Lua lines run into libFuzzer
** extra counters, so the fuzzer is guided by the Lua branches it reaches.
**
**   make fuzz-build && build/fuzz/fuzz_envelope -runs=0 tests/fuzz/seeds/fuzz_envelope
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua/l_core.h"
#include "fuzz_lua.h"

#ifndef TP_SOURCE_DIR
#define TP_SOURCE_DIR "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char DRIVER[] =
  "local envelope = require('truthound.security.signing.envelope')\n"
  "local json = require('truthound.security.signing.json')\n"
  "local errors = require('truthound.errors')\n"
  "local function check_json(s)\n"
  "  local ok, v, err = pcall(json.decode, s)\n"
  "  if not ok then return 'json.decode raised: ' .. tostring(v) end\n"
  "  if v == nil then\n"
  "    if type(err) ~= 'string' or not err:find('^at byte %d+: ') then\n"
  "      return 'json.decode refused without a message naming the byte'\n"
  "    end\n"
  "    return\n"
  "  end\n"
  "  local text, e2 = json.encode(v)\n"
  "  if not text then return 'decoded a value that does not encode: ' .. tostring(e2) end\n"
  "  local back = json.decode(text)\n"
  "  if back == nil then return 'canonical text does not decode: ' .. text end\n"
  "  if json.encode(back) ~= text then return 'canonical text is not a fixed point: ' .. text end\n"
  "end\n"
  "local function payloads(env)\n"
  "  local out = {}\n"
  "  for i, s in ipairs(env.signatures) do out[i] = s:payload() end\n"
  "  return table.concat(out, '\\0')\n"
  "end\n"
  "return function(s)\n"
  "  local why = check_json(s)\n"
  "  if why then return why end\n"
  "  local ok, env = pcall(envelope.parse, s, 'fuzz.sig')\n"
  "  if not ok then\n"
  "    if errors.kind(env) ~= 'InvalidSignatureError' then\n"
  "      return 'envelope.parse raised something else: ' .. tostring(env)\n"
  "    end\n"
  "    if env.source ~= 'fuzz.sig' or env.reason ~= 'malformed envelope' then\n"
  "      return 'a refusal without its source or reason'\n"
  "    end\n"
  "    return\n"
  "  end\n"
  "  local okp, p1 = pcall(payloads, env)\n"
  "  if not okp then return 'an accepted envelope has a payload that cannot be built: ' .. tostring(p1) end\n"
  "  local text = env:encode()\n"
  "  local ok2, env2 = pcall(envelope.parse, text, 'again')\n"
  "  if not ok2 then return 'the encoding of an accepted envelope is refused: ' .. tostring(env2) end\n"
  "  if env2:encode() ~= text then return 'the encoding is not a fixed point' end\n"
  "  if payloads(env2) ~= p1 then return 'payloads changed through an encoding' end\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lua_State *L;
  static int check_ref;
  static unsigned runs;
  const char *msg;
  if (L == NULL) L = fuzz_lua_open("fuzz_envelope", DRIVER, sizeof DRIVER - 1, &check_ref);
  if (fuzz_lua_check(L, check_ref, data, size, &msg) != FUZZ_LUA_HOLDS) {
    fprintf(stderr, "fuzz_envelope: invariant violated: %s\n", msg);
    abort();
  }
  if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
