-- truthound.units: quantities written as text in policy and manifest files.
--
-- Sizes ("512MB", "1.5GiB"), durations ("30s", "1m30s", "500ms") and
-- percentages ("50%", "12.5%"). Parsing returns the value or nil and an
-- error value (never raises on bad input), so that a loader can collect
-- every problem of a file in one pass. The grammar, the units and the
-- reasons behind them are in docs/units.md.
--
--   local units = require("truthound.units")
--   units.parse_size("512MB")          --> 536870912   (binary: MB = MiB)
--   units.parse_duration("1m30s")      --> 90          (seconds)
--   units.parse_percent("12.5%")       --> 12.5
--   units.parse_size("512 XB")         --> nil, {position = 5, expected = "a size unit
--                                           (B, K, KB, KiB, M, MB, MiB, ...)", found = "'XB'", ...}
--   units.format_size(1610612736)      --> "1.5GiB"
--
-- Every quantity is an exact whole number of its step (a byte, a
-- millisecond, a millionth of a percent) no larger than 2^53, computed
-- with integers from the digits: no rounding on the way in, and format_*
-- gives text that parses back to the same value.

local lpeg = require("lpeg")
local errors = require("truthound.errors")

local P, R, S, C, Cc, Cg, Cp, Ct, Cmt, Carg =
  lpeg.P, lpeg.R, lpeg.S, lpeg.C, lpeg.Cc, lpeg.Cg, lpeg.Cp, lpeg.Ct, lpeg.Cmt, lpeg.Carg

local units = {}

-- The largest count of steps: beyond 2^53 a Lua float (and a JSON number)
-- no longer holds every integer, and no limit needs more.
local MAX = 1 << 53
units.MAX_STEPS = MAX

--------------------------------------------------------------------------
-- Units. Sizes are binary (docs/units.md says why) and case-insensitive:
-- in a byte size no other reading of "mb" or "Mb" makes sense. Durations
-- are lowercase only, because "M" is a month to systemd.

local KiB, MiB, GiB, TiB, PiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40, 1 << 50

local SIZE = {   -- lowercase spelling -> bytes
  b = 1,
  k = KiB, kb = KiB, kib = KiB, ki = KiB,
  m = MiB, mb = MiB, mib = MiB, mi = MiB,
  g = GiB, gb = GiB, gib = GiB, gi = GiB,
  t = TiB, tb = TiB, tib = TiB, ti = TiB,
  p = PiB, pb = PiB, pib = PiB, pi = PiB,
}
units.SIZE_UNITS = SIZE

-- Durations count milliseconds; rank gives the required order.
local DURATION = {
  d  = {ms = 86400000, rank = 1},
  h  = {ms = 3600000,  rank = 2},
  m  = {ms = 60000,    rank = 3},
  s  = {ms = 1000,     rank = 4},
  ms = {ms = 1,        rank = 5},
}
local DURATION_ORDER = {"d", "h", "m", "s", "ms"}
units.DURATION_UNITS = DURATION

local PERCENT_STEP = 1000000    -- a percentage counts millionths of a percent

--------------------------------------------------------------------------
-- What the errors say was expected.

local X = {
  number       = "a number (such as 512 or 1.5)",
  negative     = "a number (such as 512 or 1.5; a quantity is never negative)",
  digit        = "a digit after the decimal point",
  size_unit    = "a size unit (B, K, KB, KiB, M, MB, MiB, ...)",
  dur_unit     = "a duration unit (d, h, m, s, ms)",
  dur_lower    = "a duration unit in lowercase (d, h, m, s, ms)",
  percent_sign = "'%'",
  the_end      = "the end",
  dur_more     = "another number with its unit, or the end",
  after_ms     = "the end (ms is the smallest unit and comes last)",
  whole_size   = "a whole number of bytes",
  whole_dur    = "a whole number of milliseconds",
  whole_pct    = "at most 6 decimal places",
  max_size     = "a size of at most 8PiB (2^53 bytes)",
  max_dur      = "a duration of at most 2^53 milliseconds (about 285,000 years)",
  max_pct      = "a percentage of at most 9007199254.740992%",
}

--------------------------------------------------------------------------
-- Describing what was found.

local function quote(text)
  if #text > 32 then text = text:sub(1, 32) .. "..." end
  return "'" .. text .. "'"
end

-- What the input holds at byte i: a word of letters (an unknown unit reads
-- better whole), one printable character, a UTF-8 character with its code
-- point (users do write "µs"), or a byte in hex.
local function found_at(s, i)
  if i > #s then return #s == 0 and "an empty string" or "the end" end
  local word = s:match("^[A-Za-z]+", i)
  if word then return quote(word) end
  local c = s:byte(i)
  if c > 0x20 and c < 0x7f then return "'" .. string.char(c) .. "'" end
  if c == 0x20 or c == 0x09 then return "a blank" end
  if c >= 0xc2 then
    local ch = s:match("^" .. utf8.charpattern, i)
    local cp = ch and #ch <= 4 and utf8.len(ch) == 1 and utf8.codepoint(ch)
    if cp then return ("'%s' (U+%04X)"):format(ch, cp) end
  end
  return ("byte 0x%02X"):format(c)
end

local function describe(v)
  local t = type(v)
  if t == "nil" then return "nil" end
  if t == "number" or t == "boolean" then return ("a %s (%s)"):format(t, tostring(v)) end
  return "a " .. t
end

-- The input as it appears in a message: quoted, escaped, cut at 60 bytes.
local function show(s)
  local cut = #s > 60
  local body = (cut and s:sub(1, 60) or s):gsub('[\\"]', "\\%0")
    :gsub("[^\32-\126]", function(c) return ("\\x%02X"):format(c:byte()) end)
  return '"' .. body .. '"' .. (cut and ("... (%d bytes)"):format(#s) or "")
end

--------------------------------------------------------------------------
-- The grammar. A failure anywhere raises a Failure value from inside
-- lpeg.match (a match-time capture), which parse() turns into the
-- returned error: so the first problem by position is the one reported,
-- and hostile input never builds more than one component's captures.

local Failure = {}

local function fail(position, expected, found)
  error(setmetatable({position = position, expected = expected, found = found}, Failure), 0)
end

-- expect(what): matches nothing; fails the parse here, expecting `what`.
local function expect(what)
  return Cmt(Cc(what), function(_, i, w) fail(i, w) end)
end

local digit  = R"09"
local blanks = S" \t"^0
local letter = R("az", "AZ")
local END    = P(-1)

-- number <- digit+ ("." digit+)?
-- Captured without the integer part's leading zeros ("int") and the
-- fraction's trailing zeros ("frac"), so that a run of a million zeros
-- costs one pass and nothing after it. "at" is where the number starts.
local int_part = P"0"^1 * C(digit^0) + C(R"19" * digit^0)
local number =
  Cg(Cp(), "at") * Cg(int_part, "int") *
  (P"." * (#digit * Cg(C((P"0"^0 * R"19")^0), "frac") * P"0"^0
           + expect(X.digit)))^-1

-- The first number of a quantity must be there.
local first_number = number + #P"-" * expect(X.negative) + expect(X.number)

-- A unit is a word of ASCII letters, checked against the tables after the
-- match, so that "30sec" is reported as the unknown unit 'sec'.
local unit = Cg(Cp(), "unit_at") * Cg(C(letter^1), "unit")
local stop = Cg(Cp(), "stop")

-- component(check, num, unit_or_fail): a number and its unit, handed to
-- check(subject, position, state, fields) as soon as they are read; state
-- is the table parse() passes to lpeg.match.
local function component(check, num, unit_or_fail)
  return Cmt(Carg(1) * Ct(num * blanks * unit_or_fail * stop), check)
end

--------------------------------------------------------------------------
-- Exact arithmetic on the captured digits.

-- steps(c, per) -> the whole number of steps in c.int "." c.frac units of
-- `per` steps each, or nil and "fraction" / "overflow" (overflow wins: a
-- quantity too large is reported as such even when it is not whole).
local function steps(c, per)
  local int, frac = c.int, c.frac or ""
  if #int > 16 then return nil, "overflow" end
  local n = #int > 0 and math.tointeger(tonumber(int)) or 0
  if n > MAX // per then return nil, "overflow" end
  n = n * per
  if #frac == 0 then return n end
  -- Long multiplication of 0.frac by per, from the last digit: every
  -- digit it leaves must be 0 for a whole result, and the carry out is the
  -- whole part. frac ends in a non-zero digit, so 10^#frac must divide
  -- per * frac: a whole result has at most as many digits as per has
  -- factors 2 or 5 (at most 53 below 2^53), and 60 digits decide whether
  -- the value overflows. t stays below 10 * per.
  local whole, carry = #frac <= 53, 0
  for i = math.min(#frac, 60), 1, -1 do
    local t = (frac:byte(i) - 48) * per + carry
    if t % 10 ~= 0 then whole = false end
    carry = t // 10
  end
  if carry > MAX - n or (not whole and carry == MAX - n) then return nil, "overflow" end
  if not whole then return nil, "fraction" end
  return n + carry
end

local function text_of(s, c)
  return quote(s:sub(c.at, c.stop - 1))
end

-- A count of steps as the value handed back: an integer when whole.
local function value_of(n, per)
  if n % per == 0 then return n // per end
  return n / per
end

--------------------------------------------------------------------------
-- Sizes.

local function check_size(s, i, state, c)
  local per = SIZE[c.unit:lower()]
  if not per then fail(c.unit_at, X.size_unit, quote(c.unit)) end
  local n, why = steps(c, per)
  if not n then fail(c.at, why == "overflow" and X.max_size or X.whole_size, text_of(s, c)) end
  state.value = n
  return true
end

local size_grammar = blanks *
  component(check_size, first_number, unit + expect(X.size_unit)) *
  blanks * (END + expect(X.the_end))

--------------------------------------------------------------------------
-- Durations: components in the order d, h, m, s, ms, each at most once.

local function check_duration(s, i, state, c)
  local u = DURATION[c.unit]
  if not u then
    fail(c.unit_at, DURATION[c.unit:lower()] and X.dur_lower or X.dur_unit, quote(c.unit))
  end
  if state.rank and u.rank <= state.rank then
    if state.rank == #DURATION_ORDER then fail(c.at, X.after_ms) end
    local after = {table.unpack(DURATION_ORDER, state.rank + 1)}
    fail(c.unit_at, ("a unit smaller than %s (%s): units go from d down to ms, each once")
                    :format(DURATION_ORDER[state.rank], table.concat(after, ", ")),
         quote(c.unit))
  end
  state.rank = u.rank
  local n, why = steps(c, u.ms)
  if n and n > MAX - state.ms then n, why = nil, "overflow" end
  if not n then fail(c.at, why == "overflow" and X.max_dur or X.whole_dur, text_of(s, c)) end
  state.ms = state.ms + n
  state.value = value_of(state.ms, 1000)
  return true
end

local dur_unit = unit + expect(X.dur_unit)
local duration_grammar = blanks *
  component(check_duration, first_number, dur_unit) *
  (blanks * component(check_duration, number, dur_unit))^0 *
  blanks * (END + expect(X.dur_more))

--------------------------------------------------------------------------
-- Percentages.

local function check_percent(s, i, state, c)
  local n, why = steps(c, PERCENT_STEP)
  if not n then fail(c.at, why == "overflow" and X.max_pct or X.whole_pct, text_of(s, c)) end
  state.value = value_of(n, PERCENT_STEP)
  return true
end

local percent_grammar = blanks *
  component(check_percent, first_number, P"%" + expect(X.percent_sign)) *
  blanks * (END + expect(X.the_end))

--------------------------------------------------------------------------
-- Parsing.

local EXAMPLE = {size = '"512MB"', duration = '"30s"', percentage = '"50%"'}

-- parse(grammar, what, v) -> value, or nil and an error value:
-- {position, expected, found, input, message}.
local function parse(grammar, what, v)
  if type(v) ~= "string" then
    local e = {position = 1, expected = "a string such as " .. EXAMPLE[what], found = describe(v)}
    e.message = ("invalid %s: expected %s, found %s"):format(what, e.expected, e.found)
    return nil, e
  end
  local state = {ms = 0}
  local ok, e = pcall(lpeg.match, grammar, v, 1, state)
  if ok and e and state.value then return state.value end
  if ok then e = setmetatable({position = 1, expected = X.number}, Failure) end
  if getmetatable(e) ~= Failure then error(e, 0) end   -- not ours (out of memory)
  setmetatable(e, nil)
  e.found = e.found or found_at(v, e.position)
  e.input = v
  e.message = ("invalid %s %s at column %d: expected %s, found %s")
              :format(what, show(v), e.position, e.expected, e.found)
  return nil, e
end

-- parse_size(v) -> bytes (an integer), or nil, err.
function units.parse_size(v) return parse(size_grammar, "size", v) end

-- parse_duration(v) -> seconds (an integer when whole, else a float), or nil, err.
function units.parse_duration(v) return parse(duration_grammar, "duration", v) end

-- parse_percent(v) -> the percentage (50 for "50%"), or nil, err.
function units.parse_percent(v) return parse(percent_grammar, "percentage", v) end

--------------------------------------------------------------------------
-- Formatting: the canonical text, which parses back to the same value.

-- q / 10^places as a decimal without trailing zeros.
local function decimal(q, places)
  local scale = math.tointeger(10 ^ places)
  local int, frac = q // scale, q % scale
  if frac == 0 then return tostring(int) end
  return (("%d.%0" .. places .. "d"):format(int, frac):gsub("0+$", ""))
end

local function misuse(fname, what, v)
  errors.raise("UsageError", ("%s: expected %s, got %s"):format(fname, what, describe(v)),
               {input = v}, 3)
end

-- The count of steps whose value (as parse returns it) is v; for a v that
-- no count gives exactly, the nearest count.
local function count_for(v, per, fname, what)
  if type(v) ~= "number" or v ~= v or v < 0 then misuse(fname, what, v) end
  if math.type(v) == "integer" then
    if v > MAX // per then misuse(fname, what, v) end
    return v * per
  end
  if v > MAX / per then misuse(fname, what, v) end
  local guess = math.floor(v * per + 0.5)
  for _, d in ipairs{0, -1, 1, -2, 2, -3, 3} do
    local n = guess + d
    if n >= 0 and n <= MAX and value_of(n, per) == v then return n end
  end
  return math.min(guess, MAX)
end

local SIZE_FORMATS = {{"PiB", PiB}, {"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}}

-- format_size(bytes) -> "1.5GiB": the largest binary unit that writes the
-- size with at most 3 decimals, else bytes ("1025B").
function units.format_size(bytes)
  local n = math.tointeger(bytes)
  if type(bytes) ~= "number" or not n or n < 0 or n > MAX then
    misuse("format_size", "a whole number of bytes from 0 to 2^53", bytes)
  end
  for _, u in ipairs(SIZE_FORMATS) do
    local name, size = u[1], u[2]
    if n >= size and (n * 1000) % size == 0 then   -- n * 1000 < 2^63
      return decimal(n * 1000 // size, 3) .. name
    end
  end
  return n .. "B"
end

-- format_duration(seconds) -> "1h30m", "1m30.5s", "500ms", "0s" (rounded
-- to the millisecond).
function units.format_duration(seconds)
  local ms = count_for(seconds, 1000, "format_duration",
                       "a number of seconds from 0 to 2^53 milliseconds")
  local out = {}
  for _, name in ipairs{"d", "h", "m"} do
    local per = DURATION[name].ms
    if ms >= per then
      out[#out + 1] = (ms // per) .. name
      ms = ms % per
    end
  end
  if ms > 0 then
    if ms % 1000 == 0 then out[#out + 1] = (ms // 1000) .. "s"
    elseif ms < 1000 then out[#out + 1] = ms .. "ms"
    else out[#out + 1] = decimal(ms, 3) .. "s" end
  end
  return #out > 0 and table.concat(out) or "0s"
end

-- format_percent(n) -> "12.5%" (rounded to 6 decimals).
function units.format_percent(n)
  local count = count_for(n, PERCENT_STEP, "format_percent",
                          "a number from 0 to 9007199254.740992")
  return decimal(count, 6) .. "%"
end

return units
