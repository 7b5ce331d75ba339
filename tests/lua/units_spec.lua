-- truthound.units: sizes, durations and percentages written as text
-- (docs/units.md). tests/fuzz/fuzz_units.c checks the same invariants on
-- random input.

local units = require("truthound.units")
local errors = require("truthound.errors")

local KiB, MiB, GiB, TiB, PiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40, 1 << 50
local MAX = 1 << 53

local SIZE_UNIT = "a size unit (B, K, KB, KiB, M, MB, MiB, ...)"
local DUR_UNIT = "a duration unit (d, h, m, s, ms)"
local NUMBER = "a number (such as 512 or 1.5)"

-- refused(parse, input) -> the error value, after checking its shape.
local function refused(parse, input)
  local v, e = parse(input)
  assert.is_nil(v, "expected a refusal of " .. tostring(input))
  assert.are.equal("table", type(e))
  assert.are.equal("integer", math.type(e.position))
  assert.are.equal("string", type(e.expected))
  assert.are.equal("string", type(e.found))
  assert.are.equal("string", type(e.message))
  if type(input) == "string" then
    assert.is_true(e.position >= 1 and e.position <= #input + 1)
    assert.are.equal(input, e.input)
  else
    assert.are.equal(1, e.position)
  end
  return e
end

-- err(parse, input, position, expected, found): the refusal's fields.
local function err(parse, input, position, expected, found)
  local e = refused(parse, input)
  assert.are.same({position, expected, found}, {e.position, e.expected, e.found},
                  "for " .. tostring(input))
  return e
end

local function equal_typed(want, got, what)
  assert.are.equal(want, got, what)
  assert.are.equal(math.type(want), math.type(got), what)
end

describe("parse_size", function()
  it("reads every unit, binary: K = KB = KiB = Ki = 1024", function()
    local per = {B = 1, K = KiB, M = MiB, G = GiB, T = TiB, P = PiB}
    for letter, bytes in pairs(per) do
      local spellings = letter == "B" and {"B"} or
                        {letter, letter .. "B", letter .. "iB", letter .. "i"}
      for _, u in ipairs(spellings) do
        equal_typed(3 * bytes, units.parse_size("3" .. u), "3" .. u)
      end
    end
  end)

  it("takes size units in any case ('mb' and 'Mb' are MiB too)", function()
    for _, u in ipairs{"MB", "mb", "Mb", "mB", "MiB", "mib", "MIB", "mIb", "m", "M", "Mi", "mi"} do
      equal_typed(512 * MiB, units.parse_size("512" .. u), u)
    end
    equal_typed(7, units.parse_size("7b"))
    equal_typed(GiB, units.parse_size("1gib"))
  end)

  it("reads decimals when the result is a whole number of bytes", function()
    equal_typed(1610612736, units.parse_size("1.5GiB"))
    equal_typed(512, units.parse_size("0.5KiB"))
    equal_typed(256, units.parse_size("0.25K"))
    equal_typed(1025, units.parse_size("1.0009765625KiB"))   -- 10 decimals, still whole
    equal_typed(3 * MiB // 2, units.parse_size("1.50000MB"))
    equal_typed(7 * MiB, units.parse_size("007MB"))
    equal_typed(0, units.parse_size("0B"))
    equal_typed(0, units.parse_size("0.000KiB"))
    equal_typed(PiB + 1, units.parse_size("1.00000000000000088817841970012523233890533447265625PiB"))
  end)

  it("allows blanks (spaces, tabs) around the quantity and before the unit", function()
    for _, s in ipairs{"512 MB", " 512MB", "512MB ", "512\tMB", "\t 512  MiB \t"} do
      equal_typed(512 * MiB, units.parse_size(s), s)
    end
  end)

  it("reaches 2^53 bytes exactly, and no further", function()
    equal_typed(MAX, units.parse_size("8PiB"))
    equal_typed(MAX, units.parse_size("8192TiB"))
    equal_typed(MAX, units.parse_size("9007199254740992B"))
    equal_typed(MAX - 1, units.parse_size("9007199254740991B"))
    equal_typed(1, units.parse_size(("0"):rep(40) .. "1B"))   -- leading zeros are free
    local over = "a size of at most 8PiB (2^53 bytes)"
    err(units.parse_size, "9007199254740993B", 1, over, "'9007199254740993B'")
    err(units.parse_size, "8.5PiB", 1, over, "'8.5PiB'")
    err(units.parse_size, "8388608.001GiB", 1, over, "'8388608.001GiB'")
    err(units.parse_size, "99999999999999999999K", 1, over, "'99999999999999999999K'")
    err(units.parse_size, " 1" .. ("0"):rep(40) .. "B", 2, over,
        "'1" .. ("0"):rep(31) .. "...'")
  end)

  it("refuses a fraction of a byte", function()
    local whole = "a whole number of bytes"
    err(units.parse_size, "1.5B", 1, whole, "'1.5B'")
    err(units.parse_size, "0.1KiB", 1, whole, "'0.1KiB'")
    err(units.parse_size, "  1.1 GiB", 3, whole, "'1.1 GiB'")
    err(units.parse_size, "1.00000000000000000000000000000000000000000000000000001PiB", 1,
        whole, "'1.000000000000000000000000000000...'")
  end)

  it("names the column, the expectation and what it found", function()
    local e = err(units.parse_size, "512 XB", 5, SIZE_UNIT, "'XB'")
    assert.are.equal('invalid size "512 XB" at column 5: expected a size unit ' ..
                     "(B, K, KB, KiB, M, MB, MiB, ...), found 'XB'", e.message)
    err(units.parse_size, "512", 4, SIZE_UNIT, "the end")
    err(units.parse_size, "512 ", 5, SIZE_UNIT, "the end")
    err(units.parse_size, "512MBx", 4, SIZE_UNIT, "'MBx'")
    err(units.parse_size, "512 bytes", 5, SIZE_UNIT, "'bytes'")
    err(units.parse_size, "1e6B", 2, SIZE_UNIT, "'e'")
    err(units.parse_size, "1,5MB", 2, SIZE_UNIT, "','")
    err(units.parse_size, "0x10MB", 2, SIZE_UNIT, "'x'")
    err(units.parse_size, "1_000MB", 2, SIZE_UNIT, "'_'")
    err(units.parse_size, "50%", 3, SIZE_UNIT, "'%'")
    err(units.parse_size, "512MB 2", 7, "the end", "'2'")
    err(units.parse_size, "1GiB512MiB", 5, "the end", "'5'")
    err(units.parse_size, "512M B", 6, "the end", "'B'")
    err(units.parse_size, "", 1, NUMBER, "an empty string")
    err(units.parse_size, "   ", 4, NUMBER, "the end")
    err(units.parse_size, "MB", 1, NUMBER, "'MB'")
    err(units.parse_size, ".5MB", 1, NUMBER, "'.'")
    err(units.parse_size, "+5MB", 1, NUMBER, "'+'")
    err(units.parse_size, "-5MB", 1,
        "a number (such as 512 or 1.5; a quantity is never negative)", "'-'")
    err(units.parse_size, "1.MB", 3, "a digit after the decimal point", "'MB'")
    err(units.parse_size, "1.", 3, "a digit after the decimal point", "the end")
    err(units.parse_size, "1..5MB", 3, "a digit after the decimal point", "'.'")
    err(units.parse_size, "1.5.5MB", 4, SIZE_UNIT, "'.'")
  end)

  it("describes bytes that are not letters: blanks, UTF-8, control bytes", function()
    err(units.parse_size, "512\nMB", 4, SIZE_UNIT, "byte 0x0A")
    err(units.parse_size, "512\0MB", 4, SIZE_UNIT, "byte 0x00")
    err(units.parse_size, "512\194\160MB", 4, SIZE_UNIT, "'\194\160' (U+00A0)")  -- no-break space
    err(units.parse_size, "５MB", 1, NUMBER, "'５' (U+FF15)")                  -- fullwidth 5
    err(units.parse_size, "5\255", 2, SIZE_UNIT, "byte 0xFF")
    err(units.parse_size, "5\192\128", 2, SIZE_UNIT, "byte 0xC0")               -- overlong NUL
    local e = refused(units.parse_size, "5\n\"\\X")
    assert.are.equal('invalid size "5\\x0A\\"\\\\X" at column 2: expected ' .. SIZE_UNIT ..
                     ", found byte 0x0A", e.message)
  end)

  it("refuses what is not a string, at column 1", function()
    for _, v in ipairs{{512, "a number (512)"}, {1.5, "a number (1.5)"}, {true, "a boolean (true)"},
                       {{}, "a table"}, {print, "a function"}} do
      local e = err(units.parse_size, v[1], 1, 'a string such as "512MB"', v[2])
      assert.are.equal('invalid size: expected a string such as "512MB", found ' .. v[2], e.message)
    end
    err(units.parse_size, nil, 1, 'a string such as "512MB"', "nil")
  end)
end)

describe("parse_duration", function()
  it("reads d, h, m, s and ms, in seconds; an integer when whole", function()
    equal_typed(86400, units.parse_duration("1d"))
    equal_typed(7200, units.parse_duration("2h"))
    equal_typed(120, units.parse_duration("2m"))
    equal_typed(30, units.parse_duration("30s"))
    equal_typed(0.5, units.parse_duration("500ms"))
    equal_typed(1, units.parse_duration("1000ms"))
    equal_typed(0, units.parse_duration("0s"))
    equal_typed(0.001, units.parse_duration("1ms"))
  end)

  it("reads compounds in descending order, with or without blanks", function()
    equal_typed(90, units.parse_duration("1m30s"))
    equal_typed(5400, units.parse_duration("1h30m"))
    equal_typed(5400, units.parse_duration("1h 30m"))
    equal_typed(5400, units.parse_duration(" 1 h\t30 m "))
    equal_typed(93784.005, units.parse_duration("1d2h3m4s5ms"))
    equal_typed(3600.25, units.parse_duration("1h250ms"))
    equal_typed(90.5, units.parse_duration("1m30.5s"))
    equal_typed(5400, units.parse_duration("1.5h"))
    equal_typed(1.5, units.parse_duration("1.5s"))
    equal_typed(36, units.parse_duration("0.01h"))
    equal_typed(0.123, units.parse_duration("0.123s"))
  end)

  it("takes lowercase units only ('M' is a month to systemd)", function()
    local lower = "a duration unit in lowercase (d, h, m, s, ms)"
    err(units.parse_duration, "30S", 3, lower, "'S'")
    err(units.parse_duration, "2M", 2, lower, "'M'")
    err(units.parse_duration, "500MS", 4, lower, "'MS'")
    err(units.parse_duration, "1H30m", 2, lower, "'H'")
  end)

  it("wants each unit at most once, from d down to ms", function()
    err(units.parse_duration, "30m1h", 5,
        "a unit smaller than m (s, ms): units go from d down to ms, each once", "'h'")
    err(units.parse_duration, "1m1m", 4,
        "a unit smaller than m (s, ms): units go from d down to ms, each once", "'m'")
    err(units.parse_duration, "1s 2d", 5,
        "a unit smaller than s (ms): units go from d down to ms, each once", "'d'")
    err(units.parse_duration, "1d1d", 4,
        "a unit smaller than d (h, m, s, ms): units go from d down to ms, each once", "'d'")
    err(units.parse_duration, "1ms1s", 4, "the end (ms is the smallest unit and comes last)", "'1'")
  end)

  it("counts whole milliseconds", function()
    local whole = "a whole number of milliseconds"
    err(units.parse_duration, "1.5ms", 1, whole, "'1.5ms'")
    err(units.parse_duration, "0.0001s", 1, whole, "'0.0001s'")
    err(units.parse_duration, "1m0.0005s", 3, whole, "'0.0005s'")
    err(units.parse_duration, "0.0000001m", 1, whole, "'0.0000001m'")
    err(units.parse_duration, "0.000001h", 1, whole, "'0.000001h'")   -- 3.6 ms
    equal_typed(0.036, units.parse_duration("0.00001h"))
  end)

  it("reaches 2^53 milliseconds, and no further", function()
    local max = "a duration of at most 2^53 milliseconds (about 285,000 years)"
    equal_typed(MAX / 1000, units.parse_duration("9007199254740992ms"))
    equal_typed(MAX / 1000, units.parse_duration("104249991d8h59m0.992s"))
    err(units.parse_duration, "9007199254740993ms", 1, max, "'9007199254740993ms'")
    err(units.parse_duration, "104249991d9h", 11, max, "'9h'")
    err(units.parse_duration, "104249991d8h59m0.993s", 16, max, "'0.993s'")
    err(units.parse_duration, ("9"):rep(100) .. "d", 1, max, "'" .. ("9"):rep(32) .. "...'")
  end)

  it("names the column, the expectation and what it found", function()
    local e = err(units.parse_duration, "30", 3, DUR_UNIT, "the end")
    assert.are.equal('invalid duration "30" at column 3: expected a duration unit ' ..
                     "(d, h, m, s, ms), found the end", e.message)
    err(units.parse_duration, "30sec", 3, DUR_UNIT, "'sec'")
    err(units.parse_duration, "2min", 2, DUR_UNIT, "'min'")
    err(units.parse_duration, "10us", 3, DUR_UNIT, "'us'")
    err(units.parse_duration, "10µs", 3, DUR_UNIT, "'µ' (U+00B5)")
    err(units.parse_duration, "1w", 2, DUR_UNIT, "'w'")
    err(units.parse_duration, "1h30", 5, DUR_UNIT, "the end")
    err(units.parse_duration, "1h30mx", 5, DUR_UNIT, "'mx'")
    err(units.parse_duration, "1h,30m", 3, "another number with its unit, or the end", "','")
    err(units.parse_duration, "1h 30m 5", 9, DUR_UNIT, "the end")
    err(units.parse_duration, "1h -5m", 4, "another number with its unit, or the end", "'-'")
    err(units.parse_duration, "-1s", 1,
        "a number (such as 512 or 1.5; a quantity is never negative)", "'-'")
    err(units.parse_duration, "", 1, NUMBER, "an empty string")
    err(units.parse_duration, "s", 1, NUMBER, "'s'")
    err(units.parse_duration, "1.s", 3, "a digit after the decimal point", "'s'")
    err(units.parse_duration, 30, 1, 'a string such as "30s"', "a number (30)")
  end)
end)

describe("parse_percent", function()
  it("reads whole and decimal percentages", function()
    equal_typed(50, units.parse_percent("50%"))
    equal_typed(12.5, units.parse_percent("12.5%"))
    equal_typed(0, units.parse_percent("0%"))
    equal_typed(100, units.parse_percent("100.000%"))
    equal_typed(250, units.parse_percent("250%"))        -- the policy decides what is too much
    equal_typed(0.000001, units.parse_percent("0.000001%"))
    equal_typed(50, units.parse_percent(" 50 % "))
  end)

  it("has six decimals and an upper bound", function()
    err(units.parse_percent, "12.1234567%", 1, "at most 6 decimal places", "'12.1234567%'")
    equal_typed(9007199254.740992, units.parse_percent("9007199254.740992%"))
    err(units.parse_percent, "9007199254.740993%", 1,
        "a percentage of at most 9007199254.740992%", "'9007199254.740993%'")
  end)

  it("names the column, the expectation and what it found", function()
    local e = err(units.parse_percent, "50", 3, "'%'", "the end")
    assert.are.equal('invalid percentage "50" at column 3: expected \'%\', found the end', e.message)
    err(units.parse_percent, "50 percent", 4, "'%'", "'percent'")
    err(units.parse_percent, "50%%", 4, "the end", "'%'")
    err(units.parse_percent, "%50", 1, NUMBER, "'%'")
    err(units.parse_percent, "-5%", 1,
        "a number (such as 512 or 1.5; a quantity is never negative)", "'-'")
    err(units.parse_percent, "0.5", 4, "'%'", "the end")
    err(units.parse_percent, 0.5, 1, 'a string such as "50%"', "a number (0.5)")
  end)
end)

describe("format", function()
  it("writes sizes in the largest binary unit with at most 3 decimals", function()
    local cases = {
      {0, "0B"}, {1, "1B"}, {512, "512B"}, {1000, "1000B"}, {1023, "1023B"}, {1024, "1KiB"},
      {1025, "1025B"}, {1536, "1.5KiB"}, {512 * MiB, "512MiB"}, {1610612736, "1.5GiB"},
      {GiB + GiB // 8, "1.125GiB"}, {GiB + MiB, "1025MiB"}, {5 * TiB, "5TiB"}, {MAX, "8PiB"},
      {MAX - 1, "9007199254740991B"}, {1024.0, "1KiB"},
    }
    for _, c in ipairs(cases) do
      assert.are.equal(c[2], units.format_size(c[1]), tostring(c[1]))
    end
  end)

  it("writes durations as d, h, m, then seconds with decimals or ms", function()
    local cases = {
      {0, "0s"}, {0.001, "1ms"}, {0.5, "500ms"}, {1, "1s"}, {1.5, "1.5s"}, {30, "30s"},
      {60, "1m"}, {90, "1m30s"}, {90.5, "1m30.5s"}, {3600, "1h"}, {5400, "1h30m"},
      {86400, "1d"}, {86400 * 2 + 0.001, "2d1ms"}, {93784.005, "1d2h3m4.005s"},
      {30.0, "30s"}, {MAX / 1000, "104249991d8h59m992ms"},
    }
    for _, c in ipairs(cases) do
      assert.are.equal(c[2], units.format_duration(c[1]), tostring(c[1]))
    end
  end)

  it("rounds durations to the millisecond and percentages to 6 decimals", function()
    assert.are.equal("333ms", units.format_duration(1 / 3))
    assert.are.equal("1ms", units.format_duration(0.0005))
    assert.are.equal("0s", units.format_duration(0.0004))
    assert.are.equal("33.333333%", units.format_percent(100 / 3))
  end)

  it("writes percentages with up to 6 decimals", function()
    local cases = {{0, "0%"}, {50, "50%"}, {12.5, "12.5%"}, {100, "100%"}, {0.000001, "0.000001%"},
                   {99.99, "99.99%"}, {9007199254.740992, "9007199254.740992%"}}
    for _, c in ipairs(cases) do
      assert.are.equal(c[2], units.format_percent(c[1]), tostring(c[1]))
    end
  end)

  it("raises UsageError for what it cannot write", function()
    local bad = {
      {units.format_size, {-1, 1.5, MAX + 1, 0 / 0, 1 / 0, -1 / 0, "512MB", true}},
      {units.format_duration, {-1, -0.5, 0 / 0, 1 / 0, MAX, MAX / 999, "30s", {}}},
      {units.format_percent, {-1, 0 / 0, 1 / 0, MAX, MAX / 999999, "50%"}},
    }
    for _, b in ipairs(bad) do
      for _, v in ipairs(b[2]) do
        local ok, e = pcall(b[1], v)
        assert.is_false(ok, tostring(v))
        assert.is_true(errors.is(e, "UsageError"), tostring(e))
      end
      local ok, e = pcall(b[1], nil)
      assert.is_false(ok)
      assert.is_true(errors.is(e, "UsageError"), tostring(e))
    end
    local _, e = pcall(units.format_size, -1)
    assert.are.equal("UsageError: format_size: expected a whole number of bytes from 0 to 2^53, " ..
                     "got a number (-1)", tostring(e))
  end)

  it("round-trips: format parses back to the same value, and is a fixed point", function()
    math.randomseed(20260101)
    local cases = {size = {}, duration = {}, percent = {}}
    for _ = 1, 3000 do
      local bits = math.random(0, 53)
      cases.size[#cases.size + 1] = math.random(0, 1 << bits)
      local u = ({1, KiB, MiB, GiB, TiB})[math.random(5)]
      cases.size[#cases.size + 1] = math.random(0, MAX // u) * u
      local ms = math.random(0, 1 << math.random(0, 53))
      cases.duration[#cases.duration + 1] = ms % 1000 == 0 and ms // 1000 or ms / 1000
      local micro = math.random(0, 1 << math.random(0, 53))
      cases.percent[#cases.percent + 1] = micro % 1000000 == 0 and micro // 1000000
                                          or micro / 1000000
    end
    for _, kind in ipairs{"size", "duration", "percent"} do
      local parse, format = units["parse_" .. kind], units["format_" .. kind]
      for _, v in ipairs(cases[kind]) do
        local text = format(v)
        local back, e = parse(text)
        assert(back == v, ("%s %.17g -> %q -> %s"):format(kind, v, text,
                                                          tostring(back or e.message)))
        assert(math.type(back) == math.type(v) or kind ~= "size")
        assert(format(back) == text, text)
      end
    end
  end)
end)

describe("hostile input", function()
  local parsers = {units.parse_size, units.parse_duration, units.parse_percent}

  it("turns megabyte strings and digit runs into errors, never raising", function()
    local M1 = 1 << 20
    local inputs = {
      ("1"):rep(M1) .. "MB", ("0"):rep(M1) .. "1MB", "1." .. ("0"):rep(M1) .. "1MB",
      "1." .. ("0"):rep(M1) .. "MB", ("9"):rep(M1), ("a"):rep(M1), ("1s"):rep(M1 // 2),
      ("1h "):rep(M1 // 3), (" "):rep(M1), "1" .. (" "):rep(M1) .. "x", ("\181"):rep(M1),
      "\194" .. ("\128"):rep(M1), ("\0"):rep(M1), ("."):rep(M1), ("%"):rep(M1),
    }
    for _, s in ipairs(inputs) do
      for _, parse in ipairs(parsers) do
        local ok, v, e = pcall(parse, s)
        assert.is_true(ok, "raised on a " .. #s .. "-byte input")
        if v == nil then
          assert.is_true(e.position >= 1 and e.position <= #s + 1)
          assert.is_true(#e.message < 400, "the message quotes a bounded part of the input")
        end
      end
    end
    -- Leading zeros and trailing fraction zeros cost nothing, even a megabyte of them.
    equal_typed(MiB, units.parse_size(("0"):rep(M1) .. "1MB"))
    equal_typed(MiB, units.parse_size("1." .. ("0"):rep(M1) .. "MB"))
  end)

  it("answers every short random string with a value or a well-formed error", function()
    math.randomseed(7)
    local alphabet = "0123456789.  \tbBkKmMgGiIpPtTsShHdD%%-+exµ\0\n"
    for _ = 1, 5000 do
      local t = {}
      for i = 1, math.random(0, 12) do
        local k = math.random(#alphabet)
        t[i] = alphabet:sub(k, k)
      end
      local s = table.concat(t)
      for _, parse in ipairs(parsers) do
        local v, e = parse(s)
        if v == nil then
          assert(e.position >= 1 and e.position <= #s + 1 and e.expected ~= "" and e.found ~= "",
                 s)
        else
          assert(type(v) == "number" and v >= 0 and v == v, s)
        end
      end
    end
  end)
end)
