return {run = function(env)
  local keep = {}
  for i = 1, 100000 do
    local f, err = io.open(env.data .. "/data.txt", "r")
    if not f then error(("fd limit after %d opens: %s"):format(i - 1, tostring(err))) end
    keep[i] = f
  end
  return "100000 files open"
end}
