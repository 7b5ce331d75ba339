return {run = function(env)
  local f, err = io.open(env.host_key, "r")
  if not f then error("open failed: " .. tostring(err)) end
  return f:read("a")
end}
