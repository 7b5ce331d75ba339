return {run = function(env)
  local path = env.data .. "/../host/keys/host.key"
  local f, err = io.open(path, "r")
  if not f then error("open failed: " .. tostring(err)) end
  return f:read("a")
end}
