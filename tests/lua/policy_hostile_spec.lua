-- Hostile policy files: each is refused with a PolicyError that says why,
-- within its budget (instructions and bytes, never seconds), and the host
-- keeps its memory. policies.LIMITS holds the budgets.

local policies = require("truthound.security.policies")
local errors = require("truthound.errors")

local function refused(src, name)
  name = name or "hostile.lua"
  local ok, e = pcall(policies.eval, src, name)
  assert.is_false(ok, "a hostile file loaded: " .. src:sub(1, 80))
  assert.is_true(errors.is(e, "PolicyError"), "not a PolicyError: " .. tostring(e))
  assert.are.equal(name, e.source)
  return e
end

-- The host's own heap, after a full collection, in KiB.
local function heap()
  collectgarbage("collect")
  collectgarbage("collect")
  return collectgarbage("count")
end

local CASES = {
  -- {what, source, text the message must contain (or a list of texts, one of which)}
  {"an endless loop", "while true do end",
   "ran past its budget of 1000000 instructions"},
  {"an endless loop behind a return", "local i = 0 repeat i = i + 1 until false return {}",
   "ran past its budget"},
  {"endless recursion", "local function f() return f() end return f()",
   "ran past its budget"},
  {"deep recursion", "local function f(n) return 1 + f(n + 1) end return {x = f(1)}",
   {"stack overflow", "memory limit"}},
  {"a string doubled until it is huge",
   "local s = 'x' for i = 1, 64 do s = s .. s end return {name = s}",
   "needed more than its memory limit of 8388608 bytes"},
  {"a table grown without end", "local t = {} local i = 0 while true do i = i + 1 t[i] = i end",
   {"ran past its budget", "memory limit"}},
  {"a loop that allocates nothing", "local i = 0 while true do i = i + 1 end",
   "ran past its budget"},
  {"a table grown until memory runs out",
   "local t = {} for i = 1, 1e7 do t[i] = {i} end return t",
   "memory limit"},
  {"string methods", "return {name = ('x'):rep(1e9)}", "attempt to index a string value"},
  {"the string library", "return {name = string.rep('x', 1e9)}", "global 'string'"},
  {"load", "return load('return {}')()", "global 'load'"},
  {"loadstring", "return loadstring('return {}')()", "global 'loadstring'"},
  {"dofile", "return dofile('/etc/passwd')", "global 'dofile'"},
  {"require", "return require('os')", "global 'require'"},
  {"getmetatable", "return {x = getmetatable('')}", "global 'getmetatable'"},
  {"setmetatable", "return setmetatable({}, {__index = function() end})",
   "global 'setmetatable'"},
  {"rawset", "local t = {} rawset(t, 'a', 1) return t", "global 'rawset'"},
  {"pcall to swallow the budget", "pcall(function() while true do end end) return {}",
   "global 'pcall'"},
  {"os", "os.execute('touch /tmp/pwned') return {}", "global 'os'"},
  {"io", "return {name = io.open('/etc/passwd'):read('a')}", "global 'io'"},
  {"_G", "return _G.os", "global '_G'"},
  {"debug", "debug.sethook() return {}", "global 'debug'"},
  {"collectgarbage", "collectgarbage('stop') return {}", "global 'collectgarbage'"},
  {"coroutines", "return {coroutine.wrap(function() end)}", "global 'coroutine'"},
  {"print", "print('hello') return {}", "global 'print'"},
  {"error", "error({})", "global 'error'"},
  {"a function as a value", "return {isolation_level = function() return 'NONE' end}",
   "isolation_level: is a function"},
  {"a function as the file", "return function() end", "is a function"},
  {"a table that contains itself", "local t = {} t.resource_limits = t return t",
   "contains itself"},
  {"a cycle through a list", "local t = {} t.allowed_modules = {t} return t",
   "contains itself"},
  {"nothing", "local x = 1", "expected the file to return a table of policy fields"},
  {"a number", "return 42", "got 42"},
  {"a list at the top", "return {'PROCESS', 'strict'}", "a policy is a table of named fields"},
  {"tables nested 10,000 deep in the source",
   "return {x = " .. ("{"):rep(10000) .. ("}"):rep(10000) .. "}", "overflow"},
  {"tables nested 10,000 deep at run time",
   "local t = {} for i = 1, 10000 do t = {t} end return {resource_limits = t}",
   "nested more than 100 deep"},
  {"a huge list of paths",
   "local t = {} for i = 1, 5000 do t[i] = '/p' .. i end return {allowed_paths = t}",
   "expected at most 1024 entries, got 5000"},
  {"an _ENV that is returned", "x = function() end return _ENV", "x: is a function"},
  {"a goto loop", "::top:: goto top", "ran past its budget"},
  {"a float key", "return {[1.5] = true}", "fractional number"},
  {"a boolean key", "return {[true] = 1}", "neither a string nor an integer"},
}

describe("a hostile policy file", function()
  local before

  setup(function() before = heap() end)

  for _, c in ipairs(CASES) do
    it("is refused: " .. c[1], function()
      local e = refused(c[2])
      local texts = type(c[3]) == "table" and c[3] or {c[3]}
      local found = false
      for _, t in ipairs(texts) do found = found or tostring(e):find(t, 1, true) ~= nil end
      assert.is_true(found, ("%q does not say %s"):format(tostring(e), table.concat(texts, " or ")))
    end)
  end

  it("is refused as bytecode (string.dump output)", function()
    local dump = string.dump(function() return {isolation_level = "NONE"} end)
    local e = refused(dump)
    assert.matches("is precompiled bytecode; a data file must be Lua source text", tostring(e),
                   1, true)
    -- after a blank, or stripped: still not source
    refused(string.dump(function() return {} end, true))
  end)

  it("is refused when it is many megabytes long, before it is read", function()
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    local f = assert(io.open(path, "wb"))
    f:write("return {\n")
    local line = ("  -- %s\n"):format(("x"):rep(1000))
    for _ = 1, 6 * 1024 do f:write(line) end     -- about 6 MiB
    f:write("}\n")
    f:close()
    local ok, e = pcall(policies.load, path)
    assert.is_false(ok)
    assert.is_true(errors.is(e, "PolicyError"))
    assert.matches(("a data file may have at most %d"):format(policies.LIMITS.max_size),
                   tostring(e), 1, true)
    assert.are.equal(path, e.source)
    -- and as text
    refused("return {} --" .. ("x"):rep(policies.LIMITS.max_size))
  end)

  it("cannot flood the message with problems", function()
    local e = refused("local t = {} for i = 1, 100000 do t['k' .. i] = i end return t")
    assert.are.equal(51, #e.problems)
    assert.are.equal("and 99950 more problems not listed", e.problems[51].message)
    assert.is_true(#tostring(e) < 64 * 1024)
  end)

  it("cannot make the host copy one big string many times", function()
    -- 4 MiB in the file's state, referred to 64 times (as values and as
    -- keys): the copy must share it, not hold 512 MiB. The collector is
    -- stopped so that the heap shows everything the copy allocated.
    local src = [[
      local s = "/x" for i = 1, 21 do s = s .. s end
      local t, u = {}, {}
      for i = 1, 64 do t[i] = s; u[i] = {[s] = true} end
      return {allowed_paths = t, keyed = u}
    ]]
    collectgarbage("collect")
    local base = collectgarbage("count")
    collectgarbage("stop")
    local ok, e = pcall(policies.eval, src, "hostile.lua")
    local grown = collectgarbage("count") - base
    collectgarbage("restart")
    assert.is_false(ok)
    assert.is_true(errors.is(e, "PolicyError"))
    assert.matches("expected a path of at most 4095 bytes, got 4194304 bytes", tostring(e), 1, true)
    assert.is_true(grown < 32 * 1024, ("the copy took %.0f KiB"):format(grown))
  end)

  it("cannot drive the terminal through the messages", function()
    local e = refused('return {["\\27[2J\\27]0;pwned\\7"] = 1, isolation_level = "\\27[31m"}')
    for _, p in ipairs(e.problems) do
      assert.is_nil(p.message:find("%c"), p.message)
      assert.is_nil((p.field or ""):find("%c"), p.field)
    end
  end)

  it("cannot extend a device, a directory or itself", function()
    local e = refused('return {extends = "/dev/zero"}', "/tmp/hostile.lua")
    assert.matches("not a regular file", tostring(e), 1, true)
    e = refused('return {extends = "/dev/urandom"}', "/tmp/hostile.lua")
    assert.matches("not a regular file", tostring(e), 1, true)
    e = refused('return {extends = "/proc"}', "/tmp/hostile.lua")
    assert.matches("not a regular file", tostring(e), 1, true)
  end)

  it("leaves the host's heap as it was", function()
    -- every case again, three times: nothing of a data state survives
    for _ = 1, 3 do
      for _, c in ipairs(CASES) do pcall(policies.eval, c[2], "hostile.lua") end
    end
    local grown = heap() - before
    assert.is_true(grown < 16 * 1024, ("the host's heap grew by %.0f KiB"):format(grown))
  end)
end)
