-- truthound.security.signing.json: the strict JSON of signature envelopes
-- and trust stores, and the canonical form that signatures cover.
--
--   local json = require("truthound.security.signing.json")
--   local v, err = json.decode('{"a":[1,2],"b":"x"}')      -- nil, "at byte 7: ..." on bad input
--   json.is_array(v.a)                                       --> true
--   json.encode({b = 1, a = {true, "x"}})                    --> '{"a":[true,"x"],"b":1}'
--   json.encode(v, {indent = "  "})                          -- the same, one member per line
--
-- lua-cjson reads every number as a float and lets a repeated key win
-- silently; a signed format needs neither. This decoder is RFC 8259 with
-- these refusals, so that one text has one meaning:
--   * a key repeated in one object;
--   * a number with a fraction or an exponent, or outside +-(2^53-1)
--     (every value is an integer, exact in Lua and in JavaScript);
--   * null (Lua tables cannot hold it; a field that is absent is omitted);
--   * a string that is not valid UTF-8, a raw control character, a lone
--     surrogate escape;
--   * nesting deeper than max_depth (default 32), anything after the value.
-- Objects decode to plain tables, arrays to tables marked with json.ARRAY
-- (so that {} and [] stay apart). It returns nil and a message naming the
-- byte offset; it never raises on any input.
--
-- The canonical form (encode without indent) is what `jq -cS .` prints for
-- the same value: keys sorted bytewise, no blanks, integers in decimal,
-- strings with only '"', '\' and control characters escaped (\b \f \n \r
-- \t, others and DEL as \u00xx in lowercase hex), everything else as its
-- UTF-8 bytes. docs/formats.md ("Signature envelope") defines it byte for
-- byte.

local json = {}

json.ARRAY = {__name = "truthound.json.array"}
json.MAX_INTEGER = 9007199254740991      -- 2^53 - 1
json.MAX_DEPTH = 32

-- array(t) -> t marked as a JSON array (an empty table encodes as []).
function json.array(t)
  return setmetatable(t or {}, json.ARRAY)
end

function json.is_array(v)
  return type(v) == "table" and getmetatable(v) == json.ARRAY
end

---------------------------------------------------------------------------
-- Decoding

local byte, sub, find, char = string.byte, string.sub, string.find, string.char

local ESCAPES = {
  [0x22] = '"', [0x5C] = "\\", [0x2F] = "/", [0x62] = "\b", [0x66] = "\f",
  [0x6E] = "\n", [0x72] = "\r", [0x74] = "\t",
}

local function utf8_char(cp) return utf8.char(cp) end

-- Each reader takes (s, i) and returns value, next index, or nil, message.
local read_value

local function fail(i, msg) return nil, ("at byte %d: %s"):format(i, msg) end

local function skip(s, i)
  return (find(s, "[^ \t\r\n]", i)) or #s + 1
end

local function read_string(s, i)
  -- s[i] is the opening quote.
  local parts, n = {}, 0
  local j = i + 1
  while true do
    local k = find(s, '["\\%c]', j)
    if not k then return fail(i, "unterminated string") end
    if k > j then n = n + 1; parts[n] = sub(s, j, k - 1) end
    local c = byte(s, k)
    if c == 0x22 then
      local str = table.concat(parts)
      if not utf8.len(str) then return fail(i, "string is not valid UTF-8") end
      return str, k + 1
    elseif c == 0x5C then
      local e = byte(s, k + 1)
      if e == 0x75 then
        local hex = sub(s, k + 2, k + 5)
        if not hex:match("^%x%x%x%x$") then return fail(k, "bad \\u escape") end
        local cp = tonumber(hex, 16)
        j = k + 6
        if cp >= 0xD800 and cp <= 0xDBFF then
          local lo = sub(s, j, j + 5)
          if not lo:match("^\\u[dD][c-fC-F]%x%x$") then
            return fail(k, "lone surrogate in \\u escape")
          end
          cp = 0x10000 + (cp - 0xD800) * 0x400 + (tonumber(sub(lo, 3), 16) - 0xDC00)
          j = j + 6
        elseif cp >= 0xDC00 and cp <= 0xDFFF then
          return fail(k, "lone surrogate in \\u escape")
        end
        n = n + 1; parts[n] = utf8_char(cp)
      elseif e and ESCAPES[e] then
        n = n + 1; parts[n] = ESCAPES[e]
        j = k + 2
      else
        return fail(k, "bad escape in string")
      end
    else
      -- %c matched: a raw control character (0x00-0x1F or DEL). DEL is
      -- allowed raw by RFC 8259; the others are not.
      if c == 0x7F then
        n = n + 1; parts[n] = "\127"
        j = k + 1
      else
        return fail(k, "raw control character in string")
      end
    end
  end
end

local function read_number(s, i)
  local text = s:match("^-?%d+[%.eE]?", i)
  if not text then return fail(i, "expected a value") end
  local last = sub(text, -1)
  if last == "." or last == "e" or last == "E" then
    return fail(i, "only integers are allowed (no fraction or exponent)")
  end
  if text:match("^%-?0%d") then return fail(i, "leading zero in a number") end
  if text == "-0" then return fail(i, "-0 is not allowed (write 0)") end
  local after = byte(s, i + #text)
  if after == 0x2B or after == 0x2D then return fail(i, "bad number") end
  local digits = text:gsub("^%-", "")
  if #digits > 16 then return fail(i, "integer out of range (at most 2^53-1)") end
  local v = math.tointeger(tonumber(text))
  if not v or v > json.MAX_INTEGER or v < -json.MAX_INTEGER then
    return fail(i, "integer out of range (at most 2^53-1)")
  end
  return v, i + #text
end

local function read_literal(s, i)
  if sub(s, i, i + 3) == "true" then return true, i + 4 end
  if sub(s, i, i + 4) == "false" then return false, i + 5 end
  if sub(s, i, i + 3) == "null" then return fail(i, "null is not allowed (omit the field)") end
  return fail(i, "expected a value")
end

local function read_array(s, i, depth, max_depth)
  if depth > max_depth then return fail(i, "nested deeper than " .. max_depth) end
  local t, n = json.array({}), 0
  i = skip(s, i + 1)
  if byte(s, i) == 0x5D then return t, i + 1 end
  while true do
    local v, j = read_value(s, i, depth, max_depth)
    if v == nil then return nil, j end
    n = n + 1; t[n] = v
    i = skip(s, j)
    local c = byte(s, i)
    if c == 0x5D then return t, i + 1 end
    if c ~= 0x2C then return fail(i, "expected ',' or ']' in an array") end
    i = skip(s, i + 1)
  end
end

local function read_object(s, i, depth, max_depth)
  if depth > max_depth then return fail(i, "nested deeper than " .. max_depth) end
  local t = {}
  i = skip(s, i + 1)
  if byte(s, i) == 0x7D then return t, i + 1 end
  while true do
    if byte(s, i) ~= 0x22 then return fail(i, "expected a string key in an object") end
    local at = i
    local k, j = read_string(s, i)
    if k == nil then return nil, j end
    if t[k] ~= nil then return fail(at, ("key %q appears twice"):format(k)) end
    i = skip(s, j)
    if byte(s, i) ~= 0x3A then return fail(i, "expected ':' after a key") end
    local v
    v, j = read_value(s, skip(s, i + 1), depth, max_depth)
    if v == nil then return nil, j end
    t[k] = v
    i = skip(s, j)
    local c = byte(s, i)
    if c == 0x7D then return t, i + 1 end
    if c ~= 0x2C then return fail(i, "expected ',' or '}' in an object") end
    i = skip(s, i + 1)
  end
end

function read_value(s, i, depth, max_depth)
  local c = byte(s, i)
  if c == nil then return fail(i, "unexpected end of input") end
  if c == 0x7B then return read_object(s, i, depth + 1, max_depth) end
  if c == 0x5B then return read_array(s, i, depth + 1, max_depth) end
  if c == 0x22 then return read_string(s, i) end
  if c == 0x2D or (c >= 0x30 and c <= 0x39) then return read_number(s, i) end
  return read_literal(s, i)
end

-- decode(text [, {max_depth = n}]) -> value | nil, message
function json.decode(text, opts)
  if type(text) ~= "string" then return nil, "expected JSON text (a string), got " .. type(text) end
  local max_depth = opts and opts.max_depth or json.MAX_DEPTH
  local ok, v, j = pcall(read_value, text, skip(text, 1), 0, max_depth)
  if not ok then return nil, "invalid JSON: " .. tostring(v) end
  if v == nil then return nil, j end
  j = skip(text, j)
  if j <= #text then return fail(j, "unexpected text after the value") end
  return v
end

---------------------------------------------------------------------------
-- Encoding

local SHORT = {["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
               ['"'] = '\\"', ["\\"] = "\\\\"}

local function escape_char(c)
  return SHORT[c] or ("\\u%04x"):format(byte(c))
end

function json.quote(s)
  return '"' .. s:gsub('[%c"\\]', escape_char) .. '"'
end

-- bytewise(a, b): a < b comparing bytes, whatever the C locale says
-- (Lua's < on strings goes through strcoll).
local function bytewise(a, b)
  local n = math.min(#a, #b)
  local i = 1
  while i <= n do
    -- Compare 8 bytes at a time while equal.
    local j = math.min(i + 7, n)
    if sub(a, i, j) ~= sub(b, i, j) then
      for k = i, j do
        local x, y = byte(a, k), byte(b, k)
        if x ~= y then return x < y end
      end
    end
    i = j + 1
  end
  return #a < #b
end
json.bytewise = bytewise

-- sorted_keys(t) -> the string keys of t, bytewise.
function json.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, bytewise)
  return keys
end

-- A table is an array when marked, or when its keys are exactly 1..n
-- (n >= 1); any other table is an object, whose keys must be strings.
local function classify(t)
  if getmetatable(t) == json.ARRAY then return "array", #t end
  local n, count = #t, 0
  for _ in pairs(t) do count = count + 1 end
  if n > 0 and count == n then return "array", n end
  return "object"
end

local encode_value

local function encode_table(t, out, indent, level, seen, path)
  if seen[t] then error(("%s: a table that contains itself"):format(path), 0) end
  if level > json.MAX_DEPTH then
    error(("%s: nested deeper than %d"):format(path, json.MAX_DEPTH), 0)
  end
  seen[t] = true
  local kind, n = classify(t)
  local nl = indent and ("\n" .. indent:rep(level)) or ""
  local nl_in = indent and ("\n" .. indent:rep(level + 1)) or ""
  if kind == "array" then
    if n == 0 then out[#out + 1] = "[]"
    else
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = nl_in
        if t[i] == nil then error(("%s[%d]: a hole in an array"):format(path, i), 0) end
        encode_value(t[i], out, indent, level + 1, seen, ("%s[%d]"):format(path, i))
      end
      out[#out + 1] = nl .. "]"
    end
  else
    for k in pairs(t) do
      if type(k) ~= "string" then
        error(("%s: a key that is a %s; JSON object keys are strings"):format(path, type(k)), 0)
      end
    end
    local keys = json.sorted_keys(t)
    if #keys == 0 then out[#out + 1] = "{}"
    else
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = nl_in
        if not utf8.len(k) then error(("%s: a key that is not valid UTF-8"):format(path), 0) end
        out[#out + 1] = json.quote(k)
        out[#out + 1] = indent and ": " or ":"
        encode_value(t[k], out, indent, level + 1, seen, path .. "." .. k)
      end
      out[#out + 1] = nl .. "}"
    end
  end
  seen[t] = nil
end

function encode_value(v, out, indent, level, seen, path)
  local tv = type(v)
  if tv == "string" then
    if not utf8.len(v) then error(("%s: a string that is not valid UTF-8"):format(path), 0) end
    out[#out + 1] = json.quote(v)
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif tv == "number" then
    local i = math.tointeger(v)
    if math.type(v) ~= "integer" and not (i and v == i) then
      error(("%s: %s is not an integer; only integers are allowed"):format(path, tostring(v)), 0)
    end
    if i > json.MAX_INTEGER or i < -json.MAX_INTEGER then
      error(("%s: %d is out of range (at most 2^53-1)"):format(path, i), 0)
    end
    out[#out + 1] = ("%d"):format(i)
  elseif tv == "table" then
    encode_table(v, out, indent, level, seen, path)
  else
    error(("%s: a %s cannot be written as JSON"):format(path, tv), 0)
  end
end

-- encode(v [, {indent = "  "}]) -> text | nil, message. Without indent the
-- canonical form; with it the same order, one member per line.
function json.encode(v, opts)
  local out = {}
  local ok, err = pcall(encode_value, v, out, opts and opts.indent, 0, {}, "value")
  if not ok then return nil, tostring(err) end
  return table.concat(out)
end

return json
