-- A call under each isolation level returns what the same call returns
-- as plain Lua, for a range of argument and result shapes: the boundary
-- (the wire format for PROCESS and CONTAINER, the separate lua_State for
-- NONE) must not change a value -- not an integer into a float, not -0.0
-- into 0, not a trailing nil away, not a byte of a binary string.
--
-- A level whose engine is missing or does not work here fails its tests
-- (with the reason); it is not skipped.

local sandbox = require("truthound.security.sandbox")
local common = require("truthound.security.sandbox.common")

local LEVELS = {"NONE", "PROCESS", "CONTAINER"}

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "tests/lua"
local PLUGIN = here .. "/../hostile/sandbox/canary"

local function policy(level)
  local rl = {max_memory_mb = 128, max_execution_time_sec = 10}
  local p = {isolation_level = level, resource_limits = rl, required_signatures = 0,
             require_trusted_signer = false}
  if level == "NONE" then
    rl.denied_syscalls = {}
    p.enforcement = "best_effort"   -- max_cpu_percent, max_file_descriptors: nothing in-process
  else
    rl.max_cpu_percent = 100
    rl.max_file_descriptors = 64
  end
  return p
end

-- Deep equality that tells integers from floats, -0.0 from 0.0 and treats
-- NaN as equal to NaN. -> nil or the path where they differ.
local function differ(a, b, path)
  path = path or "value"
  if type(a) ~= type(b) then return ("%s: %s vs %s"):format(path, type(a), type(b)) end
  if type(a) == "number" then
    if math.type(a) ~= math.type(b) then
      return ("%s: %s %s vs %s %s"):format(path, math.type(a), a, math.type(b), b)
    end
    if a ~= a and b ~= b then return nil end
    if a ~= b or (a == 0 and 1 / a ~= 1 / b) then return ("%s: %s vs %s"):format(path, a, b) end
    return nil
  end
  if type(a) ~= "table" then
    if a ~= b then
      return ("%s: %s vs %s"):format(path, tostring(a):sub(1, 40), tostring(b):sub(1, 40))
    end
    return nil
  end
  for k, v in pairs(a) do
    local d = differ(v, rawget(b, k), ("%s[%s]"):format(path, tostring(k)))
    if d then return d end
  end
  for k in pairs(b) do
    if rawget(a, k) == nil then return ("%s[%s]: absent vs present"):format(path, tostring(k)) end
  end
  return nil
end

local binary = {}
for i = 0, 255 do binary[#binary + 1] = string.char(i) end
binary = table.concat(binary)

-- name, function, arguments (packed)
local SHAPES = {
  {"no arguments, no results", function() end, {n = 0}},
  {"nil", function(...) return ... end, {nil, n = 1}},
  {"booleans", function(...) return ... end, {true, false, n = 2}},
  {"integers at the edges", function(...) return ... end,
   {0, -1, 1, math.maxinteger, math.mininteger, 2 ^ 53 | 0, n = 6}},
  {"floats", function(...) return ... end, {0.5, -0.0, 0.0, 1e308, -1e-308, 2 ^ 53, 3.0, n = 7}},
  {"infinities and NaN", function(...) return ... end, {math.huge, -math.huge, 0 / 0, n = 3}},
  {"integer and float of the same value stay apart", function(a, b) return b, a, math.type(a), math.type(b) end,
   {1, 1.0, n = 2}},
  {"strings: empty, binary, UTF-8", function(...) return ... end,
   {"", binary, "h\0llo", "žluťoučký kůň 🐎", n = 4}},
  {"a 1 MiB string", function(s) return s, #s end, {string.rep("0123456789abcdef", 65536), n = 1}},
  {"trailing nils are kept", function(...) return ... end, {1, nil, nil, n = 3}},
  {"nils between values", function(...) return select("#", ...), ... end, {nil, 2, nil, 4, n = 4}},
  {"an array", function(t) return t, #t end, {{1, 2, 3, "four", 5.5, true}, n = 1}},
  {"a record", function(t) return t end, {{name = "x", size = 3, ratio = 0.25, ok = false}, n = 1}},
  {"mixed keys: integer, float, boolean, negative, string", function(t) return t end,
   {{[1] = "a", [2] = "b", [1.5] = "c", [true] = "d", [false] = "e", [-7] = "f", [0] = "g",
     ["1"] = "h", [math.maxinteger] = "i"}, n = 1}},
  {"a sparse array", function(t) return t end, {{[1] = 1, [2] = 2, [4] = 4, [100] = 100}, n = 1}},
  {"nested tables", function(t) return t end,
   {{a = {b = {c = {d = {e = {1, 2, {3, {4}}}}}}}, list = {{}, {{}}, {x = {}}}}, n = 1}},
  {"computation on the arguments", function(t, k)
    local out = {}
    for i, v in ipairs(t) do out[i] = v * k end
    table.sort(out, function(x, y) return x > y end)
    return out, #out, string.format("%d items", #out)
  end, {{3, 1, 2, 5, 4}, 10, n = 2}},
  {"string library", function(s)
    return s:upper(), s:rep(3, "-"), s:byte(1, -1), ("%q"):format(s), s:gsub("a", "b")
  end, {"banana", n = 1}},
  {"many results", function(n)
    local t = {}
    for i = 1, n do t[i] = i * i end
    return table.unpack(t, 1, n)
  end, {200, n = 1}},
}

-- A function with plain-data upvalues.
local base, names = 100, {"x", "y"}
SHAPES[#SHAPES + 1] = {"plain-data upvalues", function(i) return base + i, names[i] end, {2, n = 1}}

for _, level in ipairs(LEVELS) do
  describe(("sandbox %s equivalence"):format(level), function()
    local engine, ctx, setup_err

    setup(function()
      common.set_warn(function() end)
      local ok, e = pcall(function()
        engine = sandbox.SandboxFactory.create(level, {singleton = false})
        ctx = engine:create_sandbox("equivalence", policy(level), {plugin_dir = PLUGIN, entry = "canary"})
      end)
      if not ok then setup_err = e end
    end)

    teardown(function()
      if engine then
        if ctx then pcall(engine.terminate, engine, ctx) end
        pcall(engine.cleanup, engine)
      end
    end)

    local function run(fn, args)
      assert(setup_err == nil, ("the %s engine is not ready: %s"):format(level, tostring(setup_err)))
      local want = table.pack(fn(table.unpack(args, 1, args.n)))
      local got = table.pack(engine:execute(ctx, fn, table.unpack(args, 1, args.n)))
      return want, got
    end

    for _, shape in ipairs(SHAPES) do
      it(shape[1], function()
        local want, got = run(shape[2], shape[3])
        assert.is_nil(differ(want, got, "results"))
      end)
    end

    it("a reference \"module.function\" gives what the module gives in plain Lua", function()
      assert(setup_err == nil, ("the %s engine is not ready: %s"):format(level, tostring(setup_err)))
      local plain = dofile(PLUGIN .. "/canary.lua")
      for _, x in ipairs{0, 21, -3, 2.5, math.maxinteger // 2} do
        local want = table.pack(plain.ping(x))
        local got = table.pack(engine:execute(ctx, "canary.ping", x))
        assert.is_nil(differ(want, got, ("ping(%s)"):format(x)))
      end
    end)

    it("arguments are copies: the sandbox cannot change the caller's table", function()
      assert(setup_err == nil, ("the %s engine is not ready: %s"):format(level, tostring(setup_err)))
      local t = {1, 2, {3}}
      local got = table.pack(engine:execute(ctx, function(a)
        a[1] = "changed"; a[3][1] = "changed"; return a
      end, t))
      assert.are.equal("changed", got[1][1])
      assert.are.equal(1, t[1])
      assert.are.equal(3, t[3][1])
    end)
  end)
end
