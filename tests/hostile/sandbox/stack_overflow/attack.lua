return {run = function()
  local function f(s) return (s:gsub(".", f)) end
  local function g() return 1 + g() end
  pcall(g)
  return f("ab")
end}
