return {run = function(env)
  local f, err = io.open(env.data .. "/data.txt", "a")
  if not f then error("open failed: " .. tostring(err)) end
  f:write("appended by a plugin\n")
  f:close()
  return "written"
end}
