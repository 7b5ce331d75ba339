return {run = function(env)
  local f, err = io.open(env.outside .. "/victim.txt", "w")
  if not f then error("open failed: " .. tostring(err)) end
  f:write("owned by a plugin\n")
  f:close()
  return "written"
end}
