-- truthound.datafile: data files run in a state of their own, under a budget
-- and a memory cap, and only plain data comes back.

local datafile = require("truthound.datafile")
local errors = require("truthound.errors")

local function raised(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return e
end

local function eval_error(src, opts)
  return raised(datafile.eval, src, "test.lua", opts or {kind = "PolicyError"})
end

describe("datafile.eval", function()
  it("returns plain data, keeping shared tables shared", function()
    local v = datafile.eval("local a = {1, 2} return {x = a, y = a, s = 'str', n = 1.5, b = true}", "t")
    assert.are.same({1, 2}, v.x)
    assert.are.equal(v.x, v.y)
    assert.are.equal("str", v.s)
    assert.are.equal(1.5, v.n)
    assert.is_true(v.b)
    assert.are.equal("integer", math.type(v.x[1]))
  end)

  it("lets the file compute with locals and arithmetic", function()
    local v = datafile.eval("local mb = 256 return {max = mb * 2, s = 'a' .. 'b'}", "t")
    assert.are.same({max = 512, s = "ab"}, v)
  end)

  it("returns nil when the file returns nothing", function()
    assert.is_nil(datafile.eval("local x = 1", "t"))
  end)

  it("gives the file no globals and no libraries", function()
    for _, src in ipairs{"return print", "return _G", "return string", "return require",
                         "return load", "return getmetatable", "return os", "return io"} do
      assert.is_nil(datafile.eval(src, "t"), src)
    end
    for _, src in ipairs{"return ('x'):rep(1e9)", "return require('os')", "return load('x')()",
                         "return setmetatable({}, {})", "return os.execute('true')",
                         "return string.rep('x', 1e9)", "return _G.io"} do
      local e = eval_error(src)
      assert.is_true(errors.is(e, "PolicyError"), src)
      assert.are.equal(1, e.line, src)
      assert.matches("attempt to", e.message, 1, true)
    end
  end)

  it("stops an endless loop within its instruction budget", function()
    local e = eval_error("local n = 0\nwhile true do n = n + 1 end", {kind = "PolicyError", instructions = 10000})
    assert.are.equal("test.lua:2: ran past its budget of 10000 instructions (an endless loop?)", e.message)
    assert.are.equal(2, e.line)
  end)

  it("stops memory growth at its cap", function()
    local e = eval_error("local s = 'x' for i = 1, 64 do s = s .. s end return s",
                         {kind = "PolicyError", memory = 1024 * 1024})
    assert.are.equal("test.lua: needed more than its memory limit of 1048576 bytes", e.message)
    e = eval_error("local t = {} for i = 1, 1e7 do t[i] = i end return t",
                   {kind = "PolicyError", memory = 1024 * 1024, instructions = 1e8})
    assert.matches("memory limit", e.message, 1, true)
  end)

  it("refuses bytecode", function()
    local e = eval_error(string.dump(function() return {} end))
    assert.are.equal("test.lua: is precompiled bytecode; a data file must be Lua source text", e.message)
  end)

  it("reports syntax errors with their line", function()
    local e = eval_error("return {\n  a = 1\n  b = 2\n}")
    assert.are.equal(3, e.line)
    assert.matches("^test.lua:3: '}' expected", e.message)
  end)

  it("refuses values that are not data, naming where they are", function()
    local cases = {
      {"return {a = {b = function() end}}", "a.b", "is a function"},
      {"local t = {} t.self = t return t", "self", "a table that contains itself"},
      {"return {[1.5] = 1}", "[1.5]", "a key that is a fractional number"},
      {"return {x = {[true] = 1}}", "x[true]", "neither a string nor an integer"},
      {"return {list = {1, 2, function() end}}", "list[3]", "is a function"},
    }
    for _, c in ipairs(cases) do
      local e = eval_error(c[1])
      assert.are.equal(c[2], e.field, c[1])
      assert.matches(c[3], e.message, 1, true)
      assert.matches("a data file holds only tables, strings, numbers and booleans", e.message, 1, true)
    end
  end)

  it("keeps a hostile key on one line of the message", function()
    local e = eval_error('return {["a\\nb\\"] = 1"] = function() end}')
    assert.are.equal('["a\\nb\\"] = 1"]', e.field)
    assert.is_nil(e.message:find("\n"))
    assert.are.equal('["x\\ny"]', datafile.key_text("", "x\ny"))
    assert.are.equal('p[3]', datafile.key_text("p", 3))
    assert.are.equal('p.q', datafile.key_text("p", "q"))
  end)

  it("knows the line of a bad value when the constructor shows it", function()
    local e = eval_error("return {\n  ok = 1,\n  bad = function() end,\n}")
    assert.are.equal(3, e.line)
    assert.are.equal("test.lua:3: bad: is a function; a data file holds only tables, " ..
                     "strings, numbers and booleans", e.message)
  end)

  it("refuses deep nesting in the source and in the data", function()
    local e = eval_error("return " .. ("{"):rep(10000) .. ("}"):rep(10000))
    assert.matches("nests too deeply for the Lua parser (C stack overflow)", e.message, 1, true)
    e = eval_error("local t = {} for i = 1, 1000 do t = {t} end return t")
    assert.matches("nested more than 100 deep", e.message, 1, true)
  end)

  it("refuses sources over the size limit before running them", function()
    local e = eval_error("return {}" .. (" "):rep(2000), {kind = "PolicyError", max_size = 1000})
    assert.are.equal("test.lua: is 2009 bytes; a data file may have at most 1000", e.message)
  end)

  it("leaves the caller's state untouched", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    pcall(datafile.eval, "x = 1; string = nil; return {}", "t")
    for k in pairs(_G) do assert.is_true(before[k], k) end
    assert.is_table(string)
    assert.is_nil(rawget(_G, "x"))
  end)
end)

describe("datafile.load", function()
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir -p " .. dir)
  local function write(name, text)
    local f = assert(io.open(dir .. "/" .. name, "wb"))
    f:write(text)
    f:close()
    return dir .. "/" .. name
  end

  it("loads a file and names it in errors", function()
    local v, info = datafile.load(write("ok.lua", "return {a = 1}"))
    assert.are.same({a = 1}, v)
    assert.are.equal(dir .. "/ok.lua", info.source)
    local e = raised(datafile.load, write("bad.lua", "return {\n a = b.c }"), {kind = "ManifestError"})
    assert.is_true(errors.is(e, "ManifestError"))
    assert.are.equal(dir .. "/bad.lua:2: attempt to index a nil value (global 'b')", e.message)
  end)

  it("says why a path cannot be read", function()
    local e = raised(datafile.load, dir .. "/missing.lua", {kind = "PolicyError"})
    assert.are.equal(dir .. "/missing.lua: cannot open: No such file or directory", e.message)
    e = raised(datafile.load, dir, {kind = "PolicyError"})
    assert.are.equal(dir .. ": cannot read: Is a directory", e.message)
  end)

  it("refuses a large file without reading it", function()
    local e = raised(datafile.load, write("big.lua", ("-"):rep(2 * 1024 * 1024)))
    assert.matches("is 2097152 bytes; a data file may have at most 1048576", e.message, 1, true)
  end)
end)

describe("datafile.key_lines", function()
  it("maps the keys of the returned constructor to their lines", function()
    local src = table.concat({
      "-- header { not a brace",
      "local base = {ignored = 1}",
      "return {",
      "  isolation_level = \"process\", -- comment }",
      "  resource_limits = {",
      "    max_memory_mb = \"512MB\",",
      "    allowed_paths = {",
      "      \"/data/in\",",
      "      [[/data/{long}]],",
      "    },",
      "  },",
      "  [\"odd key\"] = 1e+3, [2] = true,",
      "  list = {'a'; 'b'},",
      "  call = f({x = 1}),",
      "  --[==[ long",
      "  comment ]==] after = 0x1F,",
      "}",
    }, "\n")
    local lines = datafile.key_lines(src)
    assert.are.same({
      [""] = 3, isolation_level = 4, resource_limits = 5,
      ["resource_limits.max_memory_mb"] = 6, ["resource_limits.allowed_paths"] = 7,
      ["resource_limits.allowed_paths[1]"] = 8, ["resource_limits.allowed_paths[2]"] = 9,
      ['["odd key"]'] = 12, ["[2]"] = 12, list = 13, ["list[1]"] = 13, ["list[2]"] = 13,
      call = 14, after = 16,
    }, lines)
  end)

  it("gives up quietly on sources it cannot lex", function()
    assert.are.same({}, datafile.key_lines("return { \"unterminated"))
    assert.are.same({}, datafile.key_lines(""))
  end)
end)

describe("datafile.problems", function()
  local _, info = datafile.eval("return {\n  a = 1,\n  b = {\n    c = 2,\n  },\n}", "p.lua")

  it("reports every problem at once, in file order, with lines from the longest known prefix", function()
    local p = datafile.problems(info, "PolicyError")
    p:add("b.c", "expected a string")
    p:add("a", "must be positive")
    p:add("b.unknown.deeper", "unknown key")
    p:add("", "missing field 'x'")
    assert.are.equal(4, p:count())
    local e = raised(p.raise_if_any, p)
    assert.is_true(errors.is(e, "PolicyError"))
    assert.are.equal(table.concat({
      "4 problems in p.lua:",
      "p.lua:1: missing field 'x'",
      "p.lua:2: a: must be positive",
      "p.lua:3: b.unknown.deeper: unknown key",
      "p.lua:4: b.c: expected a string",
    }, "\n"), e.message)
    assert.are.equal(4, #e.problems)
    assert.are.equal(1, e.line)
    assert.are.same({source = "p.lua", line = 4, field = "b.c", message = "expected a string"},
                    e.problems[4])
  end)

  it("says a single problem on one line", function()
    local p = datafile.problems({source = "SecurityPolicy.new"}, "PolicyError")
    p:add("max_memory_mb", "expected a positive number")
    local e = raised(p.raise_if_any, p)
    assert.are.equal("SecurityPolicy.new: max_memory_mb: expected a positive number", e.message)
    assert.is_nil(e.line)
  end)

  it("does nothing when there is no problem", function()
    assert.has_no.errors(function() datafile.problems(info, "PolicyError"):raise_if_any() end)
  end)
end)
