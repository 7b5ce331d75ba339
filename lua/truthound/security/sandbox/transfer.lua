-- truthound.security.sandbox.transfer: sending a host function into a
-- sandbox.
--
--   local t = transfer.prepare(function(a, b) return a + b end)
--   t.fn          --> bytecode (string.dump, made here, never by a worker)
--   t.upvalues    --> {n = 1}   (index 1 is _ENV: the sandbox binds its own)
--
-- A function crosses as its bytecode plus the values of its upvalues. The
-- sandbox loads the bytecode, binds _ENV to the plugin's environment and
-- sets every other upvalue to a copy of the host's value, so those must be
-- plain data: nil, booleans, numbers, strings, tables of them without
-- metatables or cycles. A function, userdata or coroutine in an upvalue is
-- refused with its name, before anything is sent. The sandbox works on
-- copies: assignments to upvalues inside it do not reach the host.

local errors = require("truthound.errors")

local M = {}

M.MAX_DEPTH = 64          -- as the wire's default

local dumps = setmetatable({}, {__mode = "k"})   -- function -> bytecode

local function refuse(msg, level)
  errors.raise("UsageError", msg, nil, level + 1)
end

-- Walk a value: plain data only. path names it in the message.
local function check_plain(v, path, seen, depth, level)
  local t = type(v)
  if t == "nil" or t == "boolean" or t == "number" or t == "string" then return end
  if t ~= "table" then
    refuse(("cannot send this function into the sandbox: %s is a %s; a function sent to a " ..
            "sandbox may only capture plain data (nil, booleans, numbers, strings, tables " ..
            "of them); pass it as an argument or compute it inside"):format(path, t), level + 1)
  end
  if getmetatable(v) ~= nil then
    refuse(("cannot send this function into the sandbox: %s is a table with a metatable; " ..
            "only plain tables cross"):format(path), level + 1)
  end
  if seen[v] then
    refuse(("cannot send this function into the sandbox: %s is a table that contains " ..
            "itself"):format(path), level + 1)
  end
  if depth > M.MAX_DEPTH then
    refuse(("cannot send this function into the sandbox: %s nests deeper than %d")
           :format(path, M.MAX_DEPTH), level + 1)
  end
  seen[v] = true
  for k, x in next, v do
    local kt = type(k)
    if kt ~= "string" and kt ~= "number" and kt ~= "boolean" then
      refuse(("cannot send this function into the sandbox: %s has a %s key")
             :format(path, kt), level + 1)
    end
    local kp = kt == "string" and k:match("^[%a_][%w_]*$") and (path .. "." .. k)
               or ("%s[%s]"):format(path, kt == "string" and ("%q"):format(k) or tostring(k))
    check_plain(x, kp, seen, depth + 1, level + 1)
  end
  seen[v] = nil
end

-- bytecode(fn) -> string.dump(fn), cached per function. Debug
-- information is kept: upvalue names (to find _ENV) and line numbers in
-- the plugin's error messages.
local function bytecode(fn, level)
  local b = dumps[fn]
  if b then return b end
  local ok, r = pcall(string.dump, fn)
  if not ok then
    refuse(("cannot send this function into the sandbox: %s (a C function cannot cross; " ..
            "wrap the call in a Lua function)"):format(tostring(r)), level + 1)
  end
  dumps[fn] = r
  return r
end

-- prepare(fn) -> {fn = bytecode, upvalues = {n = count, [i] = value}}.
-- The _ENV upvalue is left out (nil); the sandbox binds its own there.
function M.prepare(fn, level)
  level = (level or 1) + 1
  if type(fn) ~= "function" then
    refuse(("expected a function, got %s"):format(type(fn)), level)
  end
  local code = bytecode(fn, level)
  local ups, i = {}, 1
  while true do
    local name, value = debug.getupvalue(fn, i)
    if name == nil then break end
    if name ~= "_ENV" then
      check_plain(value, ("upvalue '%s'"):format(name ~= "" and name or ("#" .. i)), {}, 1, level)
      ups[i] = value
    end
    i = i + 1
  end
  ups.n = i - 1
  return {fn = code, upvalues = ups}
end

return M
