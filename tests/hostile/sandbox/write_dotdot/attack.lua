return {run = function(env)
  local f, err = io.open(env.work .. "/../outside/victim.txt", "w")
  if not f then error("open failed: " .. tostring(err)) end
  f:write("owned through ..\n")
  f:close()
  return "written"
end}
