return {run = function(env)
  local f, err = io.open(env.data .. "/link.key", "r")
  if not f then error("open failed: " .. tostring(err)) end
  return f:read("a")
end}
