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
** As in fuzz_units.c, a line hook turns the Lua lines run into libFuzzer
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

static lua_State *L;
static int check_ref;

/* libFuzzer reads this section as extra coverage counters. */
#define NCOUNTERS (1u << 16)
__attribute__((section("__libfuzzer_extra_counters"), used))
uint8_t fuzz_envelope_lua_counters[NCOUNTERS];
static uintptr_t prev_loc;

/* A chunk's source string lives as long as its function, so its address
** names the file; with the line it names a location. */
static void line_hook(lua_State *L_, lua_Debug *ar) {
  uintptr_t loc;
  if (!lua_getinfo(L_, "S", ar)) return;
  loc = ((uintptr_t)ar->source >> 4) * 0x9E3779B1u ^ (uintptr_t)ar->currentline * 0x85EBCA77u;
  fuzz_envelope_lua_counters[(loc ^ prev_loc) % NCOUNTERS]++;
  prev_loc = loc >> 1;
}

static void setup(void) {
  L = luaL_newstate();
  if (!L) abort();
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_truthound_core);
  lua_setfield(L, -2, "truthound.core");
  lua_pop(L, 1);
  lua_getglobal(L, "package");
  lua_pushstring(L, TP_SOURCE_DIR "/lua/?.lua;" TP_SOURCE_DIR "/lua/?/init.lua;");
  lua_getfield(L, -2, "path");
  lua_concat(L, 2);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  if (luaL_loadbuffer(L, DRIVER, sizeof DRIVER - 1, "=fuzz_envelope") != LUA_OK ||
      lua_pcall(L, 0, 1, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_envelope: setup failed: %s\n", lua_tostring(L, -1));
    abort();
  }
  check_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_sethook(L, line_hook, LUA_MASKLINE, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static unsigned runs;
  if (L == NULL) setup();
  prev_loc = 0;
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, check_ref);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isnil(L, -1)) {
    fprintf(stderr, "fuzz_envelope: invariant violated: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_settop(L, 0);
  if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
