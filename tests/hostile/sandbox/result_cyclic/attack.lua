return {run = function()
  local t = {}
  t.self = t
  return t
end}
