return {run = function()
  local t = {}
  t.self = t
  t.msg = string.rep("E", 8 << 20)
  error(t)
end}
