-- Walk everything reachable from _ENV, the string metatable and the
-- metatables of the values found; report any forbidden capability.
local BAD = {debug = true, loadlib = true, popen = true, dump = true, getregistry = true,
             sethook = true, upvalueid = true, loadfile = true, dofile = true,
             execute = true, exit = true, setlocale = true}
return {run = function()
  local found, seen, queue = {}, {}, {}
  local function push(v, path)
    if (type(v) == "table" or type(v) == "function") and not seen[v] then
      seen[v] = true
      queue[#queue + 1] = {v, path}
    end
  end
  push(_ENV, "_ENV")
  push(getmetatable(""), "getmetatable('')")
  push(getmetatable(_ENV), "getmetatable(_ENV)")
  local i = 1
  while queue[i] do
    local v, path = queue[i][1], queue[i][2]
    i = i + 1
    if type(v) == "table" then
      for k, x in pairs(v) do
        if BAD[k] and x ~= nil then found[#found + 1] = path .. "." .. tostring(k) end
        push(x, path .. "." .. tostring(k))
      end
      push(getmetatable(v), "getmetatable(" .. path .. ")")
    end
  end
  -- string methods reach the string table: does it hold dump?
  if ("").dump then found[#found + 1] = "(''):dump" end
  table.sort(found)
  return found
end}
