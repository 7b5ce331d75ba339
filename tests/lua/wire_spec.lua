-- core.wire: the worker wire format (docs/formats.md, "Worker wire
-- format"). Round trips over many shapes (integers stay integers, floats
-- floats, -0.0, inf and NaN kept), canonical bytes (re-encoding what was
-- decoded gives the same bytes; a reference encoder written here in Lua
-- from the documented rules agrees byte for byte), every refusal with its
-- position (the malformed corpus tests/vectors/wire/, truncation at every
-- byte of valid payloads and frames), and encoder refusals naming the path.

local core = require("truthound.native")
local wire = core.wire

local VECTORS = "tests/vectors/wire"

-- ---- a reference encoder, from the documented rules -------------------

local ref

local function ref_key(k)
  if math.type(k) == "integer" then return string.pack("<Bi8", 3, k) end
  if type(k) == "number" then
    if k ~= k then return string.pack("<BI8", 4, 0x7ff8000000000000) end
    return string.pack("<Bd", 4, k)
  end
  if type(k) == "string" then return string.pack("<Bs4", 5, k) end
  if k == true then return "\2" end
  if k == false then return "\1" end
  error("bad key")
end

function ref(v)
  if v == nil then return "\0" end
  if type(v) ~= "table" then return ref_key(v) end
  local n = 0
  while rawget(v, n + 1) ~= nil do n = n + 1 end
  local parts, pairs_ = {}, {}
  for i = 1, n do parts[#parts + 1] = ref(v[i]) end
  for k, x in next, v do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      pairs_[#pairs_ + 1] = {ref_key(k), ref(x)}
    end
  end
  table.sort(pairs_, function(a, b) return a[1] < b[1] end)   -- bytewise, unsigned
  for _, p in ipairs(pairs_) do parts[#parts + 1] = p[1] .. p[2] end
  return string.pack("<BI4I4", 6, n, #pairs_) .. table.concat(parts)
end

-- ---- equality that sees integer/float and -0.0 ------------------------

local function same(a, b, path)
  path = path or "value"
  if type(a) ~= type(b) then return false, path .. ": type" end
  if type(a) == "number" then
    if math.type(a) ~= math.type(b) then return false, path .. ": number subtype" end
    if a ~= a then return b ~= b, path .. ": NaN" end
    if a ~= b then return false, path .. ": value" end
    if a == 0 and 1 / a ~= 1 / b then return false, path .. ": sign of zero" end
    return true
  end
  if type(a) ~= "table" then return a == b, path end
  for k, x in next, a do
    local ok, where = same(x, rawget(b, k), path .. "[" .. tostring(k) .. "]")
    if not ok then return false, where end
  end
  for k in next, b do
    if rawget(a, k) == nil then return false, path .. ": extra key " .. tostring(k) end
  end
  return true
end

-- ---- shapes -------------------------------------------------------------

local function lcg(seed)
  local s = seed
  return function(n)
    s = (s * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    return (s >> 20) % n
  end
end

local scalars = {
  true, false, 0, 1, -1, 255, 256, math.maxinteger, math.mininteger, 0.5, -0.0, 0.0, 1.0,
  1 / 0, -1 / 0, 2 ^ 53, 2 ^ 63, -2 ^ 63, 1e-300, "", "a", "\0", ("\255"):rep(300), "hello",
}

local function random_value(rnd, depth)
  local r = rnd(10)
  if depth > 5 or r < 5 then return scalars[rnd(#scalars) + 1] end
  local t = {}
  local shape = rnd(4)
  if shape == 0 or shape == 2 then
    for i = 1, rnd(8) do t[i] = random_value(rnd, depth + 1) end
  end
  if shape >= 1 then
    for _ = 1, rnd(8) do
      local k = scalars[rnd(#scalars) + 1]
      if k == k and not (type(k) == "number" and k == 0 and 1 / k < 0) then
        t[k] = random_value(rnd, depth + 1)
      end
    end
  end
  return t
end

local function deep(n)
  local t = {}
  for _ = 2, n do t = {t} end
  return t
end

local fixed_shapes = {
  ["nil"] = {nil}, ["empty table"] = {{}}, nested = {{{{{}}}}},
  array = {{1, 2, 3, "x", 4.5}},
  ["n-list with holes"] = {{n = 4, 1, nil, 3}},
  sparse = {{[1] = "a", [3] = "c", [100] = "z", [-5] = 1, [0] = 0}},
  ["mixed keys"] = {{[true] = 1, [false] = 2, [0.25] = 3, [1 / 0] = 4, [-1 / 0] = 5, x = 6,
                     [2 ^ 63] = 7, [math.mininteger] = 8}},
  ["big string"] = {("0123456789"):rep(200000)},
  ["long keys"] = {(function()
    local t = {}
    for i = 250, 260 do t[("k"):rep(i)] = i end
    return t
  end)()},
  ["floats"] = {{1.0, -0.0, 0 / 0, 1 / 0, 3.14}},
  ["depth 64"] = {deep(64)},
}

describe("core.wire round trips", function()
  for name, box in pairs(fixed_shapes) do
    it("keeps " .. name, function()
      local v = box[1]
      local b = assert(wire.encode(v))
      assert.are.equal(ref(v), b)
      local d = wire.decode(b)
      local ok, where = same(v, d)
      assert.is_true(ok, where)
      assert.are.equal(b, wire.encode(d))
    end)
  end

  it("keeps 500 random values, in the reference encoder's bytes", function()
    local rnd = lcg(12345)
    for i = 1, 500 do
      local v = random_value(rnd, 0)
      local b, msg = wire.encode(v)
      assert.is_truthy(b, msg)
      assert.are.equal(ref(v), b, "value " .. i)
      local d, dmsg = wire.decode(b)
      assert.is_true(d ~= nil or v == nil, dmsg)
      local ok, where = same(v, d)
      assert.is_true(ok, "value " .. i .. ": " .. tostring(where))
      assert.are.equal(b, wire.encode(d))
      assert.is_true(wire.validate(b))
    end
  end)

  it("keeps integers and floats apart", function()
    local d = wire.decode(wire.encode({1, 1.0, 2 ^ 53, -0.0, math.maxinteger}))
    assert.are.equal("integer", math.type(d[1]))
    assert.are.equal("float", math.type(d[2]))
    assert.are.equal("float", math.type(d[3]))
    assert.are.equal(-1 / 0, 1 / d[4])
    assert.are.equal(math.maxinteger, d[5])
  end)

  it("writes every NaN as the canonical one", function()
    assert.are.equal("\4\0\0\0\0\0\0\248\127", wire.encode(0 / 0))
    assert.are.equal("\4\0\0\0\0\0\0\248\127", wire.encode(-(0 / 0)))
  end)

  it("makes the documented example frame byte for byte", function()
    local f = wire.frame("CALL", {id = 1})
    assert.are.equal("TPW1\3\0\0\0\25\0\0\0" .. "\6\0\0\0\0\1\0\0\0" .. "\5\2\0\0\0id" ..
                     "\3\1\0\0\0\0\0\0\0", f)
    local ty, v, size = wire.unframe(f .. "TPW1")
    assert.are.equal("CALL", ty)
    assert.are.equal(1, v.id)
    assert.are.equal(37, size)
    assert.are.equal(wire.frame(wire.types.CALL, {id = 1}), f)
  end)

  it("orders keys as documented: id < kind < fields < message", function()
    local b = wire.encode({message = "m", fields = {}, kind = "k", id = 1})
    local at = {}
    for _, k in ipairs{"id", "kind", "fields", "message"} do
      at[#at + 1] = b:find(string.pack("<Bs4", 5, k), 1, true)
    end
    for i = 2, #at do assert.is_true(at[i - 1] < at[i]) end
  end)
end)

-- ---- refusals -------------------------------------------------------------

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

describe("core.wire refuses", function()
  local cases = {}
  for line in io.lines(VECTORS .. "/expect.txt") do
    if not line:match("^#") then
      local name, kind, code, off = line:match("^(%S+) (%S+) (%S+) (%d+)$")
      cases[#cases + 1] = {name = name, kind = kind, code = code, off = tonumber(off)}
    end
  end

  it("has a corpus", function() assert.is_true(#cases >= 40) end)

  for _, c in ipairs(cases) do
    it(("the corpus case %s (%s at %d)"):format(c.name, c.code, c.off), function()
      local bytes = read(VECTORS .. "/" .. c.name .. ".bin")
      local v, msg, pos, code
      if c.kind == "payload" then
        v, msg, pos, code = wire.decode(bytes)
        local ok, vmsg, vpos, vcode = wire.validate(bytes)
        assert.is_nil(ok)
        assert.are.same({msg, pos, code}, {vmsg, vpos, vcode})
      else
        v, msg, pos, code = wire.unframe(bytes)
      end
      assert.is_nil(v)
      assert.are.equal(c.code, code, msg)
      assert.are.equal(c.off + 1, pos, msg)
      assert.is_string(msg)
    end)
  end

  it("every truncation of valid payloads, at or before the cut", function()
    local rnd = lcg(777)
    for _ = 1, 40 do
      local b = wire.encode(random_value(rnd, 0))
      for cut = 0, #b - 1 do
        local v, msg, pos, code = wire.decode(b:sub(1, cut))
        assert.is_nil(v)
        assert.is_true(code == "truncated" or code == "count", msg)
        assert.is_true(pos >= 1 and pos <= cut + 1, msg)
      end
    end
  end)

  it("every truncation of a valid frame", function()
    local f = wire.frame("RESULT", {id = 7, results = {n = 2, "a", {x = 1.5}}, stats = {calls = 1}})
    for cut = 0, #f - 1 do
      local ty, msg, pos, code = wire.unframe(f:sub(1, cut))
      assert.is_nil(ty)
      assert.are.equal("truncated", code, msg)
      assert.are.equal(cut + 1, pos)
    end
    assert.are.equal("RESULT", (wire.unframe(f)))
  end)

  it("a flipped byte anywhere: refused, or a different valid value; never a crash", function()
    local b = wire.encode({a = {1, 2, 3}, b = "str", c = 1.5, [true] = false})
    for i = 1, #b do
      for _, x in ipairs{0, 1, 0x7f, 0xff} do
        local m = b:sub(1, i - 1) .. string.char(x) .. b:sub(i + 1)
        local v, msg = wire.decode(m)
        if v ~= nil then assert.are.equal(m, wire.encode(v)) else assert.is_string(msg) end
      end
    end
  end)

  it("depth and value limits", function()
    assert.is_truthy(wire.decode(wire.encode(deep(64))))
    local v, msg, path, code = wire.encode(deep(65))
    assert.is_nil(v)
    assert.are.equal("depth", code, msg)
    local b = wire.encode(deep(10))
    local _, _, pos, dcode = wire.decode(b, {max_depth = 9})
    assert.are.equal("depth", dcode)
    assert.are.equal(9 * 9 + 1, pos)
    local _, _, _, vcode = wire.decode(wire.encode({1, 2, 3}), {max_values = 3})
    assert.are.equal("values", vcode)
    assert.is_truthy(wire.decode(wire.encode({1, 2, 3}), {max_values = 4}))
    local _, _, _, bcode = wire.decode(wire.encode(("x"):rep(100)), {max_bytes = 100})
    assert.are.equal("bytes", bcode)
    local _, _, _, fcode = wire.frame("CALL", ("x"):rep(100), {max_bytes = 100})
    assert.are.equal("bytes", fcode)
    assert.has_error(function() wire.decode("\0", {max_dept = 1}) end)
    assert.has_error(function() wire.decode("\0", {max_depth = 1000}) end)
    assert.has_error(function() wire.frame("NOPE", nil) end)
    assert.has_error(function() wire.frame(9, nil) end)
  end)
end)

describe("core.wire encoding refuses", function()
  local function refuses(v, code, msg, path)
    local b, m, p, c = wire.encode(v)
    assert.is_nil(b)
    assert.are.equal(code, c, m)
    assert.are.equal(msg, m)
    assert.are.equal(path, p)
  end

  it("functions, threads and userdata, naming the path", function()
    refuses(print, "value", "cannot encode a function", "")
    refuses({args = {n = 2, 1, {f = print}}}, "value", "cannot encode a function at args[2].f",
            "args[2].f")
    refuses({co = coroutine.create(print)}, "value", "cannot encode a thread at co", "co")
    refuses({[1] = 1, [2] = io.stdout}, "value", "cannot encode a userdata at [2]", "[2]")
    refuses({["a b"] = {[true] = print}}, "value", 'cannot encode a function at ["a b"][true]',
            '["a b"][true]')
  end)

  it("cycles and metatables", function()
    local t = {}
    t.x = {y = {1, t}}
    refuses(t, "cycle", "a table that contains itself at x.y[2]", "x.y[2]")
    refuses({m = setmetatable({}, {})}, "metatable", "cannot encode a table with a metatable at m", "m")
    local s = {1}
    assert.is_truthy(wire.encode({s, s, {s}}))    -- shared, not a cycle
  end)

  it("keys that cannot cross", function()
    local _, m, _, c = wire.encode({[{}] = 1})
    assert.are.equal("key", c, m)
    local _, m2, _, c2 = wire.encode({[print] = 1})
    assert.are.equal("key", c2, m2)
  end)
end)
