return {run = function()
  local t = {}
  local top = t
  for _ = 1, 10000 do local n = {}; t[1] = n; t = n end
  return top
end}
