/*
** fuzz_wire.c: libFuzzer harness for the worker wire format (core/wire.c,
** core/lua/l_wire.c; docs/formats.md, "Worker wire format").
**
** The input is a payload. It goes through the C tokenizer (validate) and
** into a Lua state (tpL_wire_decode); both must agree on the verdict, the
** error code and its offset, and an offset lies within the input. What
** decodes is encoded again and must give back exactly the input bytes:
** the format has one canonical encoding per value (keys sorted by their
** encoded bytes, the array part exactly 1..n, one NaN), and the decoder
** accepts nothing else, so any difference is a bug on one side. The same
** input is also read as a stream of frames (tp_wire_frame_split), whose
** sizes must stay within the input, and a second time with tight limits
** (depth 4, 64 values) where the verdicts must again agree.
**
** One lua_State serves the whole process; its stack is emptied after each
** input and a full collection runs every 256 inputs.
**
**   make fuzz-build && build/fuzz/fuzz_wire tests/fuzz/seeds/fuzz_wire
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "wire.h"
#include "lua/l_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lua_State *L;
static tp_wire_buf out;
static unsigned runs;

static void die(const char *why, const uint8_t *data, size_t size, int a, int b) {
  fprintf(stderr, "fuzz_wire: %s (%d vs %d), input of %zu bytes\n", why, a, b, size);
  for (size_t i = 0; i < size && i < 256; i++) fprintf(stderr, "%02x", data[i]);
  fprintf(stderr, "\n");
  abort();
}

static void check(const uint8_t *data, size_t size, const tp_wire_limits *lim) {
  char msg[200], err[200];
  size_t cpos = 0, lpos = 0;
  int crc, lrc;
  crc = tp_wire_validate(data, size, lim, &cpos, msg, sizeof msg);
  lrc = tpL_wire_decode_pos(L, (const char *)data, size, lim, err, sizeof err, &lpos);
  if (crc > 0 || lrc > 0) die("positive code", data, size, crc, lrc);
  if (lrc == TP_WIRE_ENOMEM) { lua_settop(L, 0); return; }
  if (crc != lrc) die("tokenizer and decoder disagree", data, size, crc, lrc);
  if (crc < 0) {
    if (cpos != lpos) die("positions differ", data, size, (int)cpos, (int)lpos);
    if (cpos > size) die("position past the end", data, size, (int)cpos, (int)size);
    if (lua_gettop(L) != 0) die("decoder left values behind", data, size, lua_gettop(L), 0);
    return;
  }
  if (lua_gettop(L) != 1) die("decoder did not push one value", data, size, lua_gettop(L), 1);
  tp_wire_buf_reset(&out);
  lrc = tpL_wire_encode(L, -1, &out, lim, err, sizeof err);
  if (lrc) die("a decoded value does not encode", data, size, lrc, 0);
  if (out.len != size || memcmp(out.data, data, size) != 0)
    die("re-encoding differs from the input", data, size, (int)out.len, (int)size);
  lua_settop(L, 0);
}

static void frames(const uint8_t *data, size_t size) {
  tp_wire_header h;
  size_t at = 0;
  while (at < size) {
    long long n = tp_wire_frame_split(data + at, size - at, NULL, &h);
    if (n <= 0) return;
    if ((size_t)n > size - at || (size_t)n != TP_WIRE_HEADER_SIZE + (size_t)h.length)
      die("frame size outside the input", data, size, (int)n, (int)(size - at));
    at += (size_t)n;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tp_wire_limits lim;
  if (!L) {
    L = luaL_newstate();
    if (!L) abort();
    tp_wire_buf_init(&out);
  }
  check(data, size, NULL);
  tp_wire_limits_default(&lim);
  lim.max_depth = 4;
  lim.max_values = 64;
  check(data, size, &lim);
  frames(data, size);
  if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
