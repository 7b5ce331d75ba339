-- truthound.security.sandbox.transfer: sending a host function into a
-- sandbox.
--
--   local t = transfer.prepare(function(a, b) return a + b end)
--   t.fn          --> bytecode (string.dump, made here, never by a worker)
--   t.upvalues    --> {n = 1}   (index 1 is _ENV: the sandbox binds its own)
--   t.id          --> an integer naming this function for as long as the
--                     process lives (never reused), under which a sandbox
--                     may cache what it loaded
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

-- function -> {id, fn = bytecode, n = upvalue count, plain = {indices}
-- of the upvalues other than _ENV, or nil when there are none}
local records = setmetatable({}, {__mode = "k"})
local last_id = 0

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

-- record(fn) -> the function's record, made once per function. Debug
-- information is kept in the bytecode: upvalue names (to find _ENV) and
-- line numbers in the plugin's error messages.
function M.record(fn, level)
  level = (level or 1) + 1
  local r = records[fn]
  if r then return r end
  if type(fn) ~= "function" then
    refuse(("expected a function, got %s"):format(type(fn)), level)
  end
  local ok, code = pcall(string.dump, fn)
  if not ok then
    refuse(("cannot send this function into the sandbox: %s (a C function cannot cross; " ..
            "wrap the call in a Lua function)"):format(tostring(code)), level)
  end
  local plain, i = {}, 1
  while true do
    local name = debug.getupvalue(fn, i)
    if name == nil then break end
    if name ~= "_ENV" then plain[#plain + 1] = i end
    i = i + 1
  end
  last_id = last_id + 1
  r = {id = last_id, fn = code, n = i - 1, plain = plain[1] and plain or nil}
  records[fn] = r
  return r
end

-- upvalues(fn, record) -> {n = count, [i] = value} of the host's current
-- values (_ENV's slot left nil), each checked to be plain data; nil when
-- the function has no upvalue but _ENV.
function M.upvalues(fn, r, level)
  if not r.plain then return nil end
  level = (level or 1) + 1
  local ups = {n = r.n}
  for _, i in ipairs(r.plain) do
    local name, value = debug.getupvalue(fn, i)
    check_plain(value, ("upvalue '%s'"):format(name ~= "" and name or ("#" .. i)), {}, 1, level)
    ups[i] = value
  end
  return ups
end

-- prepare(fn) -> {id, fn = bytecode, upvalues = {n = count, [i] = value}}.
-- The _ENV upvalue is left out (nil); the sandbox binds its own there.
function M.prepare(fn, level)
  level = (level or 1) + 1
  local r = M.record(fn, level)
  return {id = r.id, fn = r.fn, upvalues = M.upvalues(fn, r, level) or {n = r.n}}
end

return M
