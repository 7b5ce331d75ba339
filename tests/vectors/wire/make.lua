-- tests/vectors/wire/make.lua: writes the malformed-payload corpus of the
-- worker wire format (docs/formats.md, "Worker wire format") into this
-- directory, and expect.txt. Deterministic; run from anywhere with
--   lua5.4 tests/vectors/wire/make.lua tests/vectors/wire
-- Written by hand from the format's rules, not by the encoder under test.
local dir = assert(arg[1], "usage: make.lua DIR")

local function T(a, p) return string.pack("<BI4I4", 6, a, p) end
local function I(v) return string.pack("<Bi8", 3, v) end
local function F(v) return string.pack("<Bd", 4, v) end
local function S(s) return string.pack("<Bs4", 5, s) end
local NIL, FALSE, TRUE = "\0", "\1", "\2"
local function frame(ty, payload, flags, reserved, len)
  return "TPW1" .. string.pack("<BBI2I4", ty, flags or 0, reserved or 0, len or #payload) .. payload
end

-- name, kind ("payload" or "frame"), bytes, code, offset (0-based)
local cases = {
  {"empty", "payload", "", "truncated", 0},
  {"tag-07", "payload", "\7", "tag", 0},
  {"tag-ff", "payload", "\255", "tag", 0},
  {"tag-in-table", "payload", T(1, 0) .. "\9", "tag", 9},
  {"int-cut", "payload", I(5):sub(1, 6), "truncated", 0},
  {"float-cut", "payload", F(0.5):sub(1, 8), "truncated", 0},
  {"string-length-cut", "payload", "\5\3\0", "truncated", 0},
  {"string-body-cut", "payload", S("hello"):sub(1, 8), "truncated", 0},
  {"string-over-max", "payload", "\5\255\255\255\255abc", "bytes", 0},
  {"table-header-cut", "payload", T(1, 0):sub(1, 5), "truncated", 0},
  {"array-count-huge", "payload", T(0xffffffff, 0), "count", 0},
  {"pair-count-huge", "payload", T(0, 0x7fffffff) .. TRUE .. TRUE, "count", 0},
  {"array-one-short", "payload", T(2, 0) .. TRUE, "count", 0},
  {"inner-steals-sibling", "payload", T(2, 0) .. T(1, 0) .. TRUE, "count", 9},
  {"string-steals-sibling", "payload", T(2, 0) .. "\5\2\0\0\0" .. "x" .. "\2", "count", 9},
  {"nil-item", "payload", T(1, 0) .. NIL, "nil", 9},
  {"nil-value", "payload", T(0, 1) .. S("a") .. NIL, "nil", 15},
  {"nil-key", "payload", T(0, 1) .. NIL .. TRUE, "key", 9},
  {"table-key", "payload", T(0, 1) .. T(0, 0) .. TRUE, "key", 9},
  {"nan-key", "payload", T(0, 1) .. "\4" .. string.pack("<I8", 0x7ff8000000000000) .. TRUE, "key", 9},
  {"integral-float-key", "payload", T(0, 1) .. F(2.0) .. TRUE, "key", 9},
  {"negative-zero-key", "payload", T(0, 1) .. F(-0.0) .. TRUE, "key", 9},
  {"array-key-as-pair", "payload", T(1, 1) .. TRUE .. I(1) .. TRUE, "key", 10},
  {"next-array-key-as-pair", "payload", T(1, 1) .. TRUE .. I(2) .. TRUE, "key", 10},
  {"duplicate-string-key", "payload", T(0, 2) .. S("a") .. TRUE .. S("a") .. FALSE, "duplicate", 16},
  {"duplicate-bool-key", "payload", T(0, 2) .. TRUE .. TRUE .. TRUE .. FALSE, "duplicate", 11},
  {"keys-out-of-order", "payload", T(0, 2) .. S("b") .. TRUE .. S("a") .. TRUE, "order", 16},
  {"string-before-int", "payload", T(0, 2) .. S("a") .. TRUE .. I(7) .. TRUE, "order", 16},
  {"longer-string-first", "payload", T(0, 2) .. S("ab") .. TRUE .. S("z") .. TRUE, "order", 17},
  {"trailing-byte", "payload", TRUE .. "\0", "trailing", 1},
  {"trailing-after-table", "payload", T(0, 0) .. TRUE, "trailing", 9},
  {"nan-negative", "payload", "\4" .. string.pack("<I8", 0xfff8000000000000), "nan", 0},
  {"nan-payload-bits", "payload", "\4" .. string.pack("<I8", 0x7ff8000000000001), "nan", 0},
  {"depth-65", "payload", T(1, 0):rep(64) .. T(0, 0), "depth", 64 * 9},
  {"frame-magic", "frame", "TPW2" .. string.pack("<BBI2I4", 3, 0, 0, 1) .. NIL, "magic", 0},
  {"frame-type-0", "frame", frame(0, NIL), "type", 0},
  {"frame-type-9", "frame", frame(9, NIL), "type", 0},
  {"frame-flags", "frame", frame(3, NIL, 1), "header", 0},
  {"frame-reserved", "frame", frame(3, NIL, 0, 256), "header", 0},
  {"frame-over-16mib", "frame", frame(3, NIL, 0, 0, (16 << 20) + 1), "bytes", 0},
  {"frame-header-cut", "frame", frame(3, NIL):sub(1, 7), "truncated", 7},
  {"frame-payload-cut", "frame", frame(4, S("hello")):sub(1, 15), "truncated", 15},
  {"frame-bad-payload", "frame", frame(4, T(0, 1) .. NIL .. TRUE), "key", 21},
  {"frame-payload-trailing", "frame", frame(4, TRUE .. TRUE), "trailing", 13},
}

local ex = assert(io.open(dir .. "/expect.txt", "w"))
ex:write("# name kind code offset (0-based: payload offset, or frame offset for kind frame)\n")
for _, c in ipairs(cases) do
  local f = assert(io.open(dir .. "/" .. c[1] .. ".bin", "wb"))
  f:write(c[3])
  f:close()
  ex:write(("%s %s %s %d\n"):format(c[1], c[2], c[4], c[5]))
end
ex:close()
