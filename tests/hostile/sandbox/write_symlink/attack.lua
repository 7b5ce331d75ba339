return {run = function(env)
  local f, err = io.open(env.work .. "/evil", "w")
  if not f then error("open failed: " .. tostring(err)) end
  f:write("owned through a link\n")
  f:close()
  return "written"
end}
