/*
** fuzz_trust_store.c: libFuzzer harness for the trust store parser
** (lua/truthound/security/signing/trust_store.lua; docs/formats.md,
** "Trust store"): strict JSON, then every field checked, certificates and
** keys parsed by core.crypto and their ids recomputed.
**
** The input, as one Lua string, goes to trust_store.parse. It may only
** return a document or raise SecurityError naming the source (a corrupt
** store is refused, never emptied). An accepted document must make a
** working TrustStore: its encoding parses back to the same encoding, list()
** and get_trust_level() run, every key entry loads. Any violated invariant
** aborts with the reason. A line hook feeds the Lua lines run to libFuzzer
** as extra counters (fuzz_lua.h).
**
**   make fuzz-build && build/fuzz/fuzz_trust_store -runs=0 tests/fuzz/seeds/fuzz_trust_store
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
  "local ts = require('truthound.security.signing.trust_store')\n"
  "local errors = require('truthound.errors')\n"
  "return function(s)\n"
  "  local ok, doc = pcall(ts.parse, s, 'fuzz.json')\n"
  "  if not ok then\n"
  "    if errors.kind(doc) ~= 'SecurityError' then\n"
  "      return 'parse raised something else: ' .. tostring(doc)\n"
  "    end\n"
  "    if doc.source ~= 'fuzz.json' or not tostring(doc.message):find('fuzz.json', 1, true) then\n"
  "      return 'a refusal that does not name the file'\n"
  "    end\n"
  "    return\n"
  "  end\n"
  "  local store = ts.TrustStore.new()\n"
  "  store.doc = doc\n"
  "  local text = store:encode()\n"
  "  local ok2, doc2 = pcall(ts.parse, text, 'again')\n"
  "  if not ok2 then return 'the encoding of an accepted store is refused: ' .. tostring(doc2) end\n"
  "  local again = ts.TrustStore.new()\n"
  "  again.doc = doc2\n"
  "  if again:encode() ~= text then return 'the encoding is not a fixed point' end\n"
  "  for _, e in ipairs(store:list()) do\n"
  "    if e.kind == 'key' or e.kind == 'hmac_key' then\n"
  "      if not store:key_entry(e.id) then return 'a listed key does not load: ' .. e.id end\n"
  "    end\n"
  "    if e.kind ~= 'version' and not ts.RANK[store:get_trust_level(e.signer or e.id)] then\n"
  "      return 'a trust level outside the four'\n"
  "    end\n"
  "  end\n"
  "  store:anchors()\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lua_State *L;
  static int check_ref;
  static unsigned runs;
  const char *msg;
  if (L == NULL) L = fuzz_lua_open("fuzz_trust_store", DRIVER, sizeof DRIVER - 1, &check_ref);
  if (fuzz_lua_check(L, check_ref, data, size, &msg) != FUZZ_LUA_HOLDS) {
    fprintf(stderr, "fuzz_trust_store: invariant violated: %s\n", msg);
    abort();
  }
  if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
