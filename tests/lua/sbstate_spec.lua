-- The sandboxed Lua runtime (core/lua/l_sbstate.c) through the NONE
-- binding core.sandbox.sbstate: limits a plugin cannot swallow, the
-- environment, the module gate. See docs/worker.md.
local core = require("truthound.core")

local sbstate = core.sandbox and core.sandbox.sbstate

describe("sandboxed runtime", function()
  local dir

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p '" .. dir .. "'"))
    local f = assert(io.open(dir .. "/mod.lua", "w"))
    f:write("local M = {} function M.add(a, b) return a + b end return M\n")
    f:close()
  end)

  teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

  local function new(extra)
    local setup_t = {plugin_dir = dir, memory_bytes = 8 << 20, instructions = 0,
                     modules = {allowed = {}, blocked = {}}}
    for k, v in pairs(extra or {}) do setup_t[k] = v end
    return assert(sbstate(setup_t))
  end

  -- call(st, fn, lim, ...) -> true, {n=, results...} | false, err
  local last_id = 0
  local function outcome(ok, ...)
    if ok then return true, table.pack(...) end
    return false, (...)
  end
  local function call(st, fn, lim, ...)
    lim = lim or {}
    last_id = last_id + 1
    return outcome(st:call(last_id, string.dump(fn), nil, lim.instructions, lim.timeout_ms, ...))
  end

  it("is offered by the binding", function()
    assert.is_function(sbstate)
  end)

  local loops = {
    plain = function() while true do end end,
    pcall = function() while true do pcall(function() while true do end end) end end,
    xpcall_handler = function()
      while true do xpcall(function() while true do end end, function() while true do end end) end
    end,
    coroutine = function()
      while true do pcall(coroutine.wrap(function() while true do pcall(error) end end)) end
    end,
    close = function()
      local function f()
        local x <close> = setmetatable({}, {__close = function() while true do end end})
        error("x")
      end
      while true do pcall(f) end
    end,
  }
  for name, fn in pairs(loops) do
    it("stops a loop that tries to swallow the limit (" .. name .. ")", function()
      local st = new()
      local ok, err = call(st, fn, {timeout_ms = 30})
      assert.is_false(ok)
      assert.equal("SandboxTimeoutError", err.kind)
      assert.equal(0.03, err.fields.timeout_seconds)
      assert.is_true(err.fields.execution_time > 0)
      ok, err = call(st, fn, {instructions = 100000})
      assert.is_false(ok)
      assert.equal("instructions", err.fields.reason)
      local ok2, res = call(st, function(a) return a * 2 end, {}, 21)
      assert.is_true(ok2)
      assert.equal(42, res[1])
      st:close()
    end)
  end

  it("caps memory and reports the refusal", function()
    local st = new()
    local ok, err = call(st, function()
      local t = {} for i = 1, 1e9 do t[i] = ("x"):rep(64) .. i end
    end)
    assert.is_false(ok)
    assert.equal("SandboxResourceError", err.kind)
    assert.equal("memory", err.fields.resource_type)
    assert.equal(8 << 20, err.fields.limit)
    assert.is_true(err.fields.actual > err.fields.limit)
    st:close()
  end)

  it("offers exactly the documented globals", function()
    local st = new()
    local ok, res = call(st, function()
      local names = {}
      for k in pairs(_G) do names[#names + 1] = k end
      table.sort(names)
      return table.concat(names, " "), string.dump == nil, getmetatable("") == nil,
             (pcall(collectgarbage, "collect")), (pcall(load, "\27Lua", "x", "b"))
    end)
    assert.is_true(ok)
    assert.equal("_G _VERSION assert collectgarbage coroutine error getmetatable ipairs load"
      .. " math next os pairs pcall print rawequal rawget rawlen rawset require select"
      .. " setmetatable string table tonumber tostring type utf8 xpcall", res[1])
    assert.is_true(res[2]); assert.is_true(res[3]); assert.is_false(res[4])
    st:close()
  end)

  it("gates require", function()
    local st = new({modules = {allowed = {}, blocked = {"mod.secret"}}})
    local ok, res = outcome(st:call_ref("mod.add", nil, nil, 2, 3))
    assert.is_true(ok)
    assert.equal(5, res[1])
    local ok2, err = call(st, function() return require("io") end)
    assert.is_false(ok2)
    assert.equal("SandboxSecurityViolation", err.kind)
    assert.equal("require 'io'", err.fields.attempted_action)
    ok2, err = call(st, function() return require("debug") end)
    assert.is_false(ok2)
    assert.equal("SandboxError", err.kind)
    ok2, err = outcome(st:call_ref("mod.nothing"))
    assert.is_false(ok2)
    assert.equal("not_found", err.fields.reason)
    st:close()
  end)
end)
