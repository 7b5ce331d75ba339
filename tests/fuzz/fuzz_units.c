/*
** fuzz_units.c: libFuzzer harness for lua/truthound/units.lua (the lpeg
** grammars of sizes, durations and percentages; docs/units.md).
**
** The input, as one Lua string, goes to parse_size, parse_duration and
** parse_percent. None may raise. A success must be a non-negative number
** (an integer for sizes) whose format_* text parses back to the same
** value and formats to the same text again, and which blanks around the
** input do not change. A refusal must be an error table whose position
** lies in 1..#input+1 and which names what was expected and what was
** found. A number instead of a string must be refused at column 1. Any
** violated invariant aborts with the input and the reason.
**
** Coverage: the Lua interpreter is not instrumented, so libFuzzer alone
** would see only this file. A line hook turns each (previous line, line)
** pair of the Lua code run into one of libFuzzer's extra counters (fuzz_lua.h), so the
** fuzzer is guided by which branches of units.lua an input reaches.
**
** One lua_State serves the whole process: the checker lives in the
** registry, the stack is emptied after each input and a full collection
** runs every 256 inputs, so memory stays flat.
**
**   make fuzz-build && build/fuzz/fuzz_units tests/fuzz/seeds/fuzz_units
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "fuzz_lua.h"

#ifndef TP_SOURCE_DIR
#define TP_SOURCE_DIR "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The invariants, in Lua: returns a function(s) -> nil or what went wrong. */
static const char CHECKER[] =
  "local units = require('truthound.units')\n"
  "local kinds = {\n"
  "  {'size', units.parse_size, units.format_size},\n"
  "  {'duration', units.parse_duration, units.format_duration},\n"
  "  {'percent', units.parse_percent, units.format_percent},\n"
  "}\n"
  "local function bad_error(s, e)\n"
  "  if type(e) ~= 'table' then return 'a refusal without an error table' end\n"
  "  if math.type(e.position) ~= 'integer' or e.position < 1 or e.position > #s + 1 then\n"
  "    return ('error position %s outside 1..%d'):format(tostring(e.position), #s + 1)\n"
  "  end\n"
  "  if type(e.expected) ~= 'string' or e.expected == '' then return 'error lacks expected' end\n"
  "  if type(e.found) ~= 'string' or e.found == '' then return 'error lacks found' end\n"
  "  if type(e.message) ~= 'string' or e.message == '' then return 'error lacks a message' end\n"
  "end\n"
  "local function bad_value(name, v)\n"
  "  if math.type(v) == nil then return 'a success that is not a number: ' .. type(v) end\n"
  "  if v ~= v or v < 0 or v == math.huge then return 'a success out of range: ' .. tostring(v) end\n"
  "  if name == 'size' and math.type(v) ~= 'integer' then return 'a size that is not an integer' end\n"
  "end\n"
  "return function(s)\n"
  "  for _, k in ipairs(kinds) do\n"
  "    local name, parse, format = k[1], k[2], k[3]\n"
  "    local v, e = parse(s)\n"
  "    local why\n"
  "    if v == nil then\n"
  "      why = bad_error(s, e)\n"
  "    else\n"
  "      why = bad_value(name, v)\n"
  "      if not why then\n"
  "        local text = format(v)\n"
  "        local back, e2 = parse(text)\n"
  "        if back ~= v then\n"
  "          why = ('%.17g formats as %q, which parses to %s'):format(v, text,\n"
  "                tostring(back or e2 and e2.message))\n"
  "        elseif format(back) ~= text then\n"
  "          why = ('%q is not a fixed point: it formats as %q'):format(text, format(back))\n"
  "        elseif parse(' \\t' .. s .. ' ') ~= v then\n"
  "          why = 'blanks around the input change its value'\n"
  "        end\n"
  "      end\n"
  "    end\n"
  "    if why then return name .. ': ' .. why end\n"
  "    local nv, ne = parse(#s)\n"
  "    if nv ~= nil or type(ne) ~= 'table' or ne.position ~= 1 then\n"
  "      return name .. ': a number was not refused at column 1'\n"
  "    end\n"
  "  end\n"
  "end\n";

static void fail(const char *what, const uint8_t *data, size_t size) {
  size_t i, n = size > 300 ? 300 : size;
  fprintf(stderr, "fuzz_units: invariant violated: %s\n  input (%zu bytes): \"", what, size);
  for (i = 0; i < n; i++) {
    if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '"' && data[i] != '\\')
      fputc(data[i], stderr);
    else
      fprintf(stderr, "\\x%02X", data[i]);
  }
  fprintf(stderr, "\"%s\n", n < size ? "..." : "");
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lua_State *L;
  static int checker;
  static unsigned runs;
  const char *msg;
  int st;
  if (L == NULL) L = fuzz_lua_open("fuzz_units", CHECKER, sizeof CHECKER - 1, &checker);
  st = fuzz_lua_check(L, checker, data, size, &msg);
  if (st == FUZZ_LUA_RAISED) {
    fprintf(stderr, "fuzz_units: raised: %s\n", msg);
    fail("a parser or formatter raised instead of returning", data, size);
  }
  if (st == FUZZ_LUA_BROKEN) fail(msg, data, size);
  if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
